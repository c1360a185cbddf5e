import ArgumentParser
import Starling
import StarlingCore
import StarlingIO

/// `starling lan`: finds the other Starling peers on a LAN by multicast and/or broadcast
/// beacons (``LANDiscovery``), and joins them into one overlay.
struct LANCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lan",
        abstract: "Discover peers on a LAN by multicast and/or broadcast, and join them into an overlay.",
        discussion: """
            Beacons this peer's signed record on --interface and prints one line per peer it \
            discovers: `discovered ID ADDRESSES`. Unless --no-overlay, it also runs a peer with an \
            overlay listening on the interface's IPv4 address, joins every discovered peer, and \
            prints `members N` once the overlay has as many members as peers found.

            Choose the transports: --multicast (IPv4 group 239.255.77.77), --ipv6 (IPv6 group \
            ff02::7777) and/or --broadcast (the interface's directed broadcast address). \
            Starling never picks an interface for you: beacons reach the whole network behind it.

            Exits 0 once --expect peers were discovered (after beaconing two seconds more, so \
            that peers started later hear this one), 1 when --duration passes first. Without \
            --expect it runs for --duration and exits 0.

            With --json each line is a JSON object instead, with an `event` field: `started` \
            (id, interface, transports, address), `discovered` (id, addresses), `found` (peers) \
            or `members` (members).
            """
    )

    @Option(help: ArgumentHelp("The network interface to discover on (required).", valueName: "name"))
    var interface: String

    @Flag(help: "Beacon to the IPv4 multicast group.")
    var multicast = false

    @Flag(help: "Beacon to the interface's directed IPv4 broadcast address.")
    var broadcast = false

    @Flag(help: "Beacon to the limited broadcast 255.255.255.255, on --interface only.")
    var limitedBroadcast = false

    @Flag(help: "Beacon to the IPv6 link-local multicast group.")
    var ipv6 = false

    @Option(help: ArgumentHelp("Give up after this many seconds (0.1 to 3600).", valueName: "seconds"))
    var duration: Double = 10

    @Option(help: ArgumentHelp("Succeed once this many other peers are discovered.", valueName: "n"))
    var expect: Int?

    @Option(help: ArgumentHelp("The discovery port; every peer of the LAN must use the same.", valueName: "port"))
    var port: UInt16 = DiscoveryConstants.defaultPort

    @Option(help: ArgumentHelp("Mean seconds between beacons (0.1 to 60).", valueName: "seconds"))
    var interval: Double = 1

    @Option(
        name: .customLong("secret-file"),
        help: ArgumentHelp("A file with the swarm secret as 64 hex digits, mode 0600.", valueName: "file"))
    var secretFile: String?

    @Flag(inversion: .prefixedNo, help: "Run a peer with an overlay and join the discovered peers.")
    var overlay = true

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    @OptionGroup var log: LogOptions

    /// A `--json` line.
    struct Line: Encodable {
        let event: String
        var id: String?
        var interface: String?
        var transports: [String]?
        var address: String?
        var addresses: [String]?
        var peers: Int?
        var members: Int?

        init(_ event: String) { self.event = event }
    }

    /// How long a successful run keeps beaconing, so that later starters still hear it.
    static let linger: Duration = .seconds(2)

    func validate() throws {
        guard multicast || broadcast || limitedBroadcast || ipv6 else {
            throw ValidationError(
                "choose at least one transport: --multicast, --broadcast, --limited-broadcast and/or --ipv6")
        }
        guard !interface.isEmpty else { throw ValidationError("--interface must name an interface") }
        guard (0.1...3600).contains(duration) else { throw ValidationError("--duration must be 0.1 to 3600 seconds") }
        guard (0.1...60).contains(interval) else { throw ValidationError("--interval must be 0.1 to 60 seconds") }
        if let expect, expect < 1 { throw ValidationError("--expect must be at least 1") }
    }

    func run() async throws {
        var random = SecureRandom()
        let identity = IdentityKeyPair.generate(using: &random)
        var transports: Set<LANDiscoveryConfiguration.Transport> = []
        if multicast { transports.insert(.ipv4Multicast) }
        if broadcast { transports.insert(.broadcast) }
        if limitedBroadcast { transports.insert(.limitedBroadcast) }
        if ipv6 { transports.insert(.ipv6Multicast) }
        var configuration = LANDiscoveryConfiguration(interface: interface, transports: transports)
        configuration.logger = log.makeLogger()
        configuration.port = port
        configuration.core.beaconInterval = .milliseconds(Int64(interval * 1000))
        configuration.core.minimumBeaconInterval = min(.seconds(1), configuration.core.beaconInterval)
        do {
            if let secretFile { configuration.core.swarmSecret = try SwarmSecretFile.load(from: secretFile) }
        } catch {
            throw CLIError("--secret-file: \(error)")
        }

        let peer = try await overlay ? startPeer(identity, secret: configuration.core.swarmSecret) : nil
        let addresses = peer.map { [$0.address] } ?? []
        let discovery: LANDiscovery
        do {
            discovery = try LANDiscovery(configuration: configuration, identity: identity, addresses: addresses)
            try await discovery.start()
        } catch {
            await peer?.shutdown()
            throw CLIError("\(error)")
        }
        let names = transports.map(\.rawValue).sorted()
        var started = Line("started")
        started.id = identity.peerID.description
        started.interface = interface
        started.transports = names
        started.address = peer?.address.description
        emit(
            text: "peer \(identity.peerID) on \(interface) via \(names.joined(separator: ","))"
                + (peer.map { " listening \($0.address)" } ?? ""),
            started)

        let failure = await report(discovery, peer: peer)
        await discovery.shutdown()
        await peer?.shutdown()
        if let failure { throw CLIError(failure) }
    }

    /// Prints `text`, or `line` with --json, and writes it out at once.
    private func emit(text: String, _ line: Line) {
        JSONText.emit(json: json, text: text, line)
    }

    /// Starts the overlay peer on the interface's IPv4 address.
    private func startPeer(_ identity: IdentityKeyPair, secret: [UInt8]?) async throws -> Peer {
        let listen: PeerAddress
        do {
            let found = try InterfaceSelection.interface(named: interface)
            guard let ipv4 = found.ipv4, let address = PeerAddress(ipv4.address) else {
                throw CLIError("interface '\(interface)' has no IPv4 address for the overlay (use --no-overlay)")
            }
            listen = PeerAddress(host: address.host, port: 0)
        } catch let error as UDPError {
            throw CLIError("\(error)")
        }
        var peerConfiguration = PeerConfiguration()
        peerConfiguration.logger = log.makeLogger()
        peerConfiguration.identity = identity
        peerConfiguration.listenAddress = listen
        peerConfiguration.overlay = .lan
        peerConfiguration.swarmSecret = secret
        do {
            return try await Peer.start(peerConfiguration)
        } catch {
            throw CLIError("the overlay peer did not start: \(error)")
        }
    }

    /// Prints discoveries (and joins them) until `--expect` peers are found and the
    /// linger has passed, or `--duration` ends.
    /// - Returns: why the run failed, or nil when it succeeded.
    private func report(_ discovery: LANDiscovery, peer: Peer?) async -> String? {
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int64(duration * 1000))
        let found = await withTaskGroup(of: Int?.self) { group in
            group.addTask {
                var seen: Set<PeerID> = []
                for await event in discovery.events {
                    guard case .discovered(let record) = event else { continue }
                    seen.insert(record.record.peerID)
                    let addresses = record.record.addresses.map(\.description)
                    var line = Line("discovered")
                    line.id = record.record.peerID.description
                    line.addresses = addresses
                    let list = addresses.isEmpty ? "-" : addresses.joined(separator: ",")
                    emit(text: "discovered \(record.record.peerID) \(list)", line)
                    if let peer, !record.record.addresses.isEmpty {
                        do {
                            try await peer.join(record.record.addresses)
                        } catch {
                            printError("join \(record.record.peerID.shortDescription) failed: \(error)")
                        }
                    }
                    if let expect, seen.count >= expect { return seen.count }
                }
                return seen.count
            }
            group.addTask {
                try? await Task.sleep(until: end, clock: clock)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let expect else {
            await printMembers(peer, wanted: nil, until: end)
            return nil
        }
        guard let found, found >= expect else {
            await printMembers(peer, wanted: nil, until: end)
            return "found \(discovery.records().count) of \(expect) peers within \(duration) s"
        }
        var line = Line("found")
        line.peers = found
        emit(text: "found \(found) peers", line)
        let lingerEnd = min(end, clock.now + Self.linger)
        await printMembers(peer, wanted: expect, until: lingerEnd)
        try? await Task.sleep(until: lingerEnd, clock: clock)
        return nil
    }

    /// Prints the overlay's member count once it reaches `wanted`, or at `deadline`.
    private func printMembers(_ peer: Peer?, wanted: Int?, until deadline: ContinuousClock.Instant) async {
        guard let peer else { return }
        let clock = ContinuousClock()
        var count = (try? await peer.members().count) ?? 0
        while let wanted, count < wanted, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            count = (try? await peer.members().count) ?? 0
        }
        var line = Line("members")
        line.members = count
        emit(text: "members \(count)", line)
    }
}
