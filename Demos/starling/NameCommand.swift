import ArgumentParser
import Foundation
import Starling
import StarlingCore

/// `starling name`: publish, resolve and show overlay names from the command line.
struct NameCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "name",
        abstract: "Publish and resolve overlay names (signed records, delegated as DNS names are).",
        discussion: """
            Every name is rooted in a key: `www.<peer ID>` is in that peer's zone, and a human \
            top-level name must be pinned to a key with --pin NAME=ID (every peer of the swarm \
            the same). The owner of a zone publishes names in it and can delegate a label to \
            another key (--delegate-to), whose owner then publishes the names below it.
            """,
        subcommands: [Publish.self, Resolve.self, Show.self]
    )

    /// The options every name subcommand shares: where the peer listens, how it joins the
    /// swarm, and the pins.
    struct Swarm: ParsableArguments {
        @Option(help: ArgumentHelp("The UDP address to listen on (port 0 picks one).", valueName: "addr:port"))
        var listen = "127.0.0.1:0"

        @Option(
            name: .customLong("seed"),
            help: ArgumentHelp("A member's overlay address to join through (repeatable).", valueName: "addr:port"))
        var seeds: [String] = []

        @Option(
            name: .customLong("pin"),
            help: ArgumentHelp("A human top-level name and its key (repeatable).", valueName: "name=id"))
        var pins: [String] = []

        @Option(
            name: .customLong("secret-file"),
            help: ArgumentHelp("A file with the swarm secret as 64 hex digits, mode 0600.", valueName: "file"))
        var secretFile: String?

        @Option(help: ArgumentHelp("Give up after this many seconds (0.1 to 600).", valueName: "seconds"))
        var timeout: Double = 10

        @Flag(help: "Print JSON instead of text.")
        var json = false

        @OptionGroup var log: LogOptions

        func validate() throws {
            _ = try PeerCommand.address(listen, option: "--listen")
            for seed in seeds { _ = try PeerCommand.address(seed, option: "--seed") }
            _ = try pinTable()
            guard (0.1...600).contains(timeout) else {
                throw ValidationError("--timeout must be from 0.1 to 600 seconds, not \(timeout)")
            }
        }

        func pinTable() throws -> [String: PeerID] {
            var table: [String: PeerID] = [:]
            for pin in pins {
                let parts = pin.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let key = try? PeerID(parts[1]) else {
                    throw ValidationError("--pin '\(pin)' is not NAME=PEER-ID")
                }
                table[parts[0]] = key
            }
            var check = OverlayConfiguration.local
            check.namePins = table
            do {
                try check.validate()
            } catch {
                throw ValidationError("--pin: \(error)")
            }
            return table
        }

        /// Starts a peer with these options (and `key`), joined through the seeds, waiting
        /// until it sees a member when it has seeds.
        func start(key: String?) async throws -> Peer {
            var configuration = PeerConfiguration()
            configuration.logger = log.makeLogger()
            configuration.listenAddress = try PeerCommand.address(listen, option: "--listen")
            var overlay = OverlayConfiguration.local
            overlay.namePins = try pinTable()
            configuration.overlay = overlay
            configuration.seeds = try seeds.map { try PeerCommand.address($0, option: "--seed") }
            configuration.acceptsStreams = false
            let peer = try await PeerCommand.start(configuration, key: key, secretFile: secretFile)
            guard !seeds.isEmpty else { return peer }
            let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1_000))
            while (try? await peer.members().contains { $0.state == .alive }) != true {
                guard ContinuousClock.now < deadline else {
                    await peer.shutdown()
                    throw CLIError("no member answered at \(seeds.joined(separator: ", ")) within \(timeout) s")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            return peer
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a name and keep it published until interrupted (or for --seconds).",
            discussion: """
                Prints `published NAME sequence N chains C stored S` and `listening ADDR:PORT` (an \
                address other peers can join through), then stays up, republishing, until \
                interrupted (Ctrl-C or SIGTERM) or --seconds pass.
                """
        )

        @Argument(help: "The name, such as www.<peer ID> or printer.lab.alice.")
        var name: String

        @Option(help: ArgumentHelp("The identity key file of the zone's owner (see `starling identity new`)."))
        var key: String?

        @Option(help: ArgumentHelp("The peer the name stands for.", valueName: "id"))
        var peer: String?

        @Option(
            name: .customLong("address"),
            help: ArgumentHelp("An address the name stands for (repeatable, at most 4).", valueName: "addr:port"))
        var addresses: [String] = []

        @Option(
            name: .customLong("service"),
            help: ArgumentHelp("A service name the name offers (repeatable, at most 4).", valueName: "name"))
        var services: [String] = []

        @Option(
            name: .customLong("text"),
            help: ArgumentHelp("A key=value text entry (repeatable, at most 4).", valueName: "key=value"))
        var text: [String] = []

        @Option(help: ArgumentHelp("Delegate the name to this key instead of publishing data.", valueName: "id"))
        var delegateTo: String?

        @Option(help: ArgumentHelp("How long resolvers may cache it (0 to 3,600).", valueName: "seconds"))
        var ttl: Int = 300

        @Option(
            help: ArgumentHelp(
                "Stay up this many seconds, then exit (default: until interrupted).", valueName: "seconds"))
        var seconds: Double?

        @OptionGroup var swarm: Swarm

        func validate() throws {
            _ = try content()
            guard (0...3_600).contains(ttl) else { throw ValidationError("--ttl must be from 0 to 3,600, not \(ttl)") }
            if let seconds, !(0...86_400).contains(seconds) {
                throw ValidationError("--seconds must be from 0 to 86,400, not \(seconds)")
            }
            do {
                _ = try OverlayName(name)
            } catch {
                throw ValidationError("'\(name)': \(error)")
            }
        }

        func content() throws -> NameRecord.Content {
            if let delegateTo {
                guard peer == nil, addresses.isEmpty, services.isEmpty, text.isEmpty else {
                    throw ValidationError("--delegate-to publishes a delegation: it takes no data options")
                }
                guard let zone = try? PeerID(delegateTo) else {
                    throw ValidationError("--delegate-to '\(delegateTo)' is not a peer ID")
                }
                return .delegation(zone)
            }
            var data = NameData()
            if let peer {
                guard let id = try? PeerID(peer) else { throw ValidationError("--peer '\(peer)' is not a peer ID") }
                data.peer = id
            }
            data.addresses = try addresses.map { try PeerCommand.address($0, option: "--address") }
            data.services = services
            data.text = try text.map { entry in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw ValidationError("--text '\(entry)' is not KEY=VALUE")
                }
                return NameText(key: parts[0], value: parts[1])
            }
            do {
                try data.validate()
            } catch {
                throw ValidationError("\(error)")
            }
            return .data(data)
        }

        func run() async throws {
            let peer = try await swarm.start(key: key)
            let publication: NamePublication
            do {
                publication = try await publishing(peer)
            } catch {
                await peer.shutdown()
                throw CLIError(error.description)
            }
            if swarm.json {
                JSONText.print(object: [
                    "event": "published", "name": publication.name.description, "sequence": publication.sequence,
                    "chains": publication.chains, "stored": publication.storedAt, "address": peer.address.description,
                    "id": peer.id.description,
                ])
            } else {
                print(
                    "published \(publication.name) sequence \(publication.sequence) chains \(publication.chains) "
                        + "stored \(publication.storedAt)")
                print("listening \(peer.address)")
            }
            flushOutput()
            let stop = StopSignal()
            if let seconds {
                let timer = Task {
                    try? await Task.sleep(for: .milliseconds(Int64(seconds * 1_000)))
                    stop.fire()
                }
                await stop.wait()
                timer.cancel()
            } else {
                await stop.wait()
            }
            await peer.shutdown()
        }

        private func publishing(_ peer: Peer) async throws(PeerError) -> NamePublication {
            switch try? content() {
            case .delegation(let zone)?: return try await peer.delegateName(name, to: zone, ttl: .seconds(ttl))
            case .data(let data)?: return try await peer.publishName(name, data: data, ttl: .seconds(ttl))
            case nil: throw .name(.invalidName(name))
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve a name and print what it stands for, then each link of its chain.",
            discussion: """
                Prints `NAME peer ID addresses A,B services S,T text k=v ...`, then one line per \
                record of the chain from the root zone down: `  zone ZONE label LABEL sequence N \
                -> delegation ID` or `-> data`. Exits 1 with a one-line reason when the name does \
                not resolve (no such name, expired, forged, rolled back, delegation loop, too deep).
                """
        )

        @Argument(help: "The name to resolve.")
        var name: String

        @OptionGroup var swarm: Swarm

        func run() async throws { try await NameCommand.resolve(name, swarm: swarm, verbose: false) }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve a name and print every field of every record of its chain.",
            discussion: """
                As `resolve`, with each record's expiry (Unix seconds), TTL and data in full.
                """
        )

        @Argument(help: "The name to show.")
        var name: String

        @OptionGroup var swarm: Swarm

        func run() async throws { try await NameCommand.resolve(name, swarm: swarm, verbose: true) }
    }

    static func resolve(_ name: String, swarm: Swarm, verbose: Bool) async throws {
        do {
            _ = try OverlayName(name)
        } catch {
            throw CLIError("'\(name)': \(error)")
        }
        let peer = try await swarm.start(key: nil)
        let resolved: ResolvedName
        do {
            resolved = try await peer.resolveName(name)
        } catch {
            await peer.shutdown()
            throw CLIError(error.description)
        }
        await peer.shutdown()
        if swarm.json {
            JSONText.print(object: NameOutput.object(resolved))
            return
        }
        print("\(resolved.name) \(NameOutput.describe(resolved.record.record.content))")
        for link in resolved.chain {
            let record = link.record
            var line =
                "  zone \(record.zone) label \(record.label.isEmpty ? "@" : record.label) sequence \(record.sequence)"
            if verbose { line += " expires \(record.expiresAt.seconds) ttl \(record.ttl)" }
            switch record.content {
            case .delegation(let child): line += " -> delegation \(child)"
            case .data(let data): line += verbose ? " -> data \(NameOutput.describe(.data(data)))" : " -> data"
            }
            print(line)
        }
    }
}

/// How `starling name` prints records.
enum NameOutput {
    static func describe(_ content: NameRecord.Content) -> String {
        switch content {
        case .delegation(let zone): return "delegated to \(zone)"
        case .data(let data):
            var parts: [String] = []
            if let peer = data.peer { parts.append("peer \(peer)") }
            if !data.addresses.isEmpty {
                parts.append("addresses " + data.addresses.map(\.description).joined(separator: ","))
            }
            if !data.services.isEmpty { parts.append("services " + data.services.joined(separator: ",")) }
            if !data.text.isEmpty {
                parts.append("text " + data.text.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
            return parts.isEmpty ? "(no data)" : parts.joined(separator: " ")
        }
    }

    static func object(_ resolved: ResolvedName) -> [String: Any] {
        let chain: [[String: Any]] = resolved.chain.map { link in
            let record = link.record
            var object: [String: Any] = [
                "zone": record.zone.description, "label": record.label, "sequence": record.sequence,
                "expires": record.expiresAt.seconds, "ttl": record.ttl,
            ]
            switch record.content {
            case .delegation(let child): object["delegation"] = child.description
            case .data(let data):
                object["peer"] = data.peer?.description ?? NSNull()
                object["addresses"] = data.addresses.map(\.description)
                object["services"] = data.services
                object["text"] = Dictionary(
                    data.text.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            }
            return object
        }
        var object: [String: Any] = ["name": resolved.name.description, "chain": chain, "lookups": resolved.lookups]
        object["record"] = chain.last
        return object
    }

}
