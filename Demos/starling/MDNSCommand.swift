import ArgumentParser
import Foundation
import Starling
import StarlingCore
import StarlingIO

/// `starling mdns`: advertises and browses DNS-SD services over multicast DNS
/// (``MDNSDiscovery``) on the interfaces the user names.
struct MDNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mdns",
        abstract: "Advertise and browse DNS-SD services over multicast DNS (mDNS).",
        discussion: """
            mDNS runs only on the interfaces named with --interface (repeat it for several); \
            Starling never picks one for you: queries and answers reach the whole link behind it.
            """,
        subcommands: [MDNSAdvertiseCommand.self, MDNSBrowseCommand.self]
    )
}

/// The options `advertise` and `browse` share.
struct MDNSCommonOptions: ParsableArguments {
    @Option(
        name: .customLong("interface"),
        help: ArgumentHelp("A network interface to run mDNS on (required; repeat for more).", valueName: "name"))
    var interfaces: [String] = []

    @Option(help: ArgumentHelp("Run this many seconds, then exit 0 (default: until interrupted).", valueName: "n"))
    var seconds: Double?

    @Option(help: ArgumentHelp("The host label to publish as NAME.local (default: the system's).", valueName: "name"))
    var hostName: String?

    @Flag(help: "Use IPv4 only.")
    var ipv4Only = false

    @Flag(help: "Use IPv6 only.")
    var ipv6Only = false

    @OptionGroup var log: LogOptions

    func validate() throws {
        guard !interfaces.isEmpty else { throw ValidationError("name an interface with --interface") }
        if let seconds {
            guard (0.1...86_400).contains(seconds) else { throw ValidationError("--seconds must be from 0.1 to 86400") }
        }
        guard !(ipv4Only && ipv6Only) else {
            throw ValidationError("choose at most one of --ipv4-only and --ipv6-only")
        }
    }

    /// Starts a discovery on the named interfaces.
    /// - Throws: ``CLIError`` saying why it did not start.
    func start() async throws -> MDNSDiscovery {
        var configuration = MDNSDiscoveryConfiguration(interfaces: interfaces)
        configuration.logger = log.makeLogger()
        configuration.hostName = hostName
        if ipv4Only { configuration.families = [.ipv4] }
        if ipv6Only { configuration.families = [.ipv6] }
        do {
            let discovery = try MDNSDiscovery(configuration: configuration)
            try await discovery.start()
            return discovery
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// Waits for `--seconds`, a signal, or `stop` firing.
    func wait(for stop: StopSignal) async {
        guard let seconds else {
            await stop.wait()
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await stop.wait() }
            group.addTask { try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) }
            await group.next()
            group.cancelAll()
            stop.fire()
        }
    }
}

/// `starling mdns advertise`: advertises a Starling peer, or any other service.
struct MDNSAdvertiseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advertise",
        abstract: "Advertise a service until interrupted or --seconds pass.",
        discussion: """
            Without --type it advertises a Starling peer (a new identity, or --key): \
            _starling._udp with TXT id=<peer ID>, swarm=<swarm ID> and v=1. With --type it \
            advertises any service: --type _x._tcp --name NAME --port P [--txt k=v]...

            Prints `advertised NAME` once the name is won on the link, and \
            `renamed OLD -> NEW` when another host owns it. On exit it sends goodbyes. With \
            --json: one JSON object per line, {"event":"advertised","name":…} or \
            {"event":"renamed","from":…,"to":…}.
            """
    )

    @OptionGroup var common: MDNSCommonOptions

    @Option(
        help: ArgumentHelp("The service type, _name._udp or _name._tcp (default: a Starling peer).", valueName: "type"))
    var type: String?

    @Option(help: ArgumentHelp("The instance name (default for a peer: 'Starling <ID>').", valueName: "name"))
    var name: String?

    @Option(help: ArgumentHelp("The service's port (a peer's default: 4000).", valueName: "port"))
    var port: UInt16?

    @Option(help: ArgumentHelp("A TXT string key=value (repeat for more).", valueName: "k=v"))
    var txt: [String] = []

    @Option(help: ArgumentHelp("The swarm ID of the peer, 64 hex digits (default: all zero).", valueName: "hex"))
    var swarm: String?

    @Option(help: ArgumentHelp("The peer's identity key file (default: a new identity).", valueName: "file"))
    var key: String?

    @Flag(help: "Print one JSON object per line.")
    var json = false

    /// A `--json` line.
    struct Line: Encodable {
        let event: String
        let name: String?
        let from: String?
        let to: String?
    }

    func validate() throws {
        if type != nil {
            guard name != nil else { throw ValidationError("--type needs --name") }
            guard port != nil else { throw ValidationError("--type needs --port") }
            guard swarm == nil, key == nil else {
                throw ValidationError("--swarm and --key are for a Starling peer, not with --type")
            }
        } else {
            guard txt.isEmpty else { throw ValidationError("--txt needs --type (a peer's TXT is fixed)") }
        }
        if let port, port == 0 { throw ValidationError("--port must be from 1 to 65535") }
        if let swarm, Self.swarmID(swarm) == nil { throw ValidationError("--swarm must be 64 hex digits") }
        if txt.contains(where: { $0.utf8.count > 255 }) { throw ValidationError("a --txt string is over 255 bytes") }
    }

    func run() async throws {
        let service: MDNSService
        if let type, let name, let port {
            service = MDNSService(instance: name, type: type, port: port, txt: txt.map { Array($0.utf8) })
        } else {
            let identity: IdentityKeyPair
            if let key {
                do {
                    identity = try KeyFile.load(from: key)
                } catch {
                    throw CLIError("--key: \(error)")
                }
            } else {
                var random = SecureRandom()
                identity = IdentityKeyPair.generate(using: &random)
            }
            service = MDNSStarlingPeer.service(
                instance: name ?? MDNSStarlingPeer.defaultInstance(for: identity.peerID), peerID: identity.peerID,
                swarmID: swarm.flatMap(Self.swarmID) ?? [UInt8](repeating: 0, count: 32), port: port ?? 4000)
        }
        do {
            try service.validate()
        } catch {
            throw CLIError("\(MDNSDiscoveryError.invalidService(error))")
        }
        let discovery = try await common.start()
        let stop = StopSignal()
        let json = json
        let reader = Task {
            var printed: Set<String> = []
            for await event in discovery.events {
                switch event {
                case .advertised(_, let name, _):
                    guard printed.insert("+" + name.firstLabel).inserted else { continue }
                    if json {
                        JSONText.print(Line(event: "advertised", name: name.firstLabel, from: nil, to: nil))
                    } else {
                        print("advertised \(name.firstLabel)")
                    }
                case .renamed(_, let from, let to, _):
                    guard printed.insert(from.firstLabel + ">" + to.firstLabel).inserted else { continue }
                    if json {
                        JSONText.print(Line(event: "renamed", name: nil, from: from.firstLabel, to: to.firstLabel))
                    } else {
                        print("renamed \(from.firstLabel) -> \(to.firstLabel)")
                    }
                case .hostNameRegistered, .hostRenamed, .withdrawn:
                    continue
                }
                flushOutput()
            }
        }
        do {
            _ = try await discovery.advertise(service)
        } catch {
            await discovery.shutdown()
            throw CLIError("\(error)")
        }
        await common.wait(for: stop)
        await discovery.shutdown()
        await reader.value
    }

    /// 32 bytes from 64 hex digits.
    static func swarmID(_ text: String) -> [UInt8]? {
        guard text.utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

/// `starling mdns browse`: prints the instances of a service type as they are resolved.
struct MDNSBrowseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "browse",
        abstract: "Print the instances of a service type as they are resolved and removed.",
        discussion: """
            One line per instance resolved: `+ NAME TYPE HOST PORT ADDRS TXT` (a later `+` line \
            for the same NAME replaces it), and `- NAME` when it goes away. NAME and each TXT \
            string escape space as \\032, comma as \\044 and backslash as \\092; ADDRS and TXT \
            are comma-separated (`-` when empty). With --json: one JSON object per line, \
            {"event":"added"|"updated"|"removed","name":…,"type":…,"host":…,"port":…,"addresses":[…],"txt":[…],"interface":…}.
            """
    )

    @Argument(help: ArgumentHelp("The service type, for example _starling._udp or _ipp._tcp.", valueName: "type"))
    var type: String

    @OptionGroup var common: MDNSCommonOptions

    @Flag(help: "Print one JSON object per line.")
    var json = false

    /// A `--json` line.
    struct Line: Encodable {
        let event: String
        let name: String
        let type: String?
        let host: String?
        let port: UInt16?
        let addresses: [String]?
        let txt: [String]?
        let interface: String
    }

    func validate() throws {
        do {
            _ = try MDNSService(instance: "x", type: Self.bareType(type), port: 1).typeName()
        } catch {
            throw ValidationError("'\(type)' is not a service type: use _name._udp or _name._tcp")
        }
    }

    func run() async throws {
        let discovery = try await common.start()
        let stream: AsyncStream<MDNSDiscovery.BrowseEvent>
        do {
            stream = try await discovery.browse(type)
        } catch {
            await discovery.shutdown()
            throw CLIError("\(error)")
        }
        let stop = StopSignal()
        let json = json
        let reader = Task {
            // The interfaces each instance is resolved on: `-` once it is gone from all.
            var seen: [DNSName: Set<String>] = [:]
            var lastLine: [DNSName: String] = [:]
            for await event in stream {
                switch event {
                case .added(let service, let interface), .updated(let service, let interface):
                    seen[service.name, default: []].insert(interface)
                    let line = Self.format(service, interface: interface, updated: false, json: false)
                    guard lastLine[service.name] != line else { continue }
                    let isNew = lastLine[service.name] == nil
                    lastLine[service.name] = line
                    print(json ? Self.format(service, interface: interface, updated: !isNew, json: true) : line)
                case .removed(let name, let interface):
                    seen[name]?.remove(interface)
                    guard seen[name]?.isEmpty ?? false else { continue }
                    seen[name] = nil
                    lastLine[name] = nil
                    print(
                        json
                            ? JSONText.encode(
                                Line(
                                    event: "removed", name: name.firstLabel, type: nil, host: nil, port: nil,
                                    addresses: nil, txt: nil, interface: interface))
                            : "- \(Self.escape(name.firstLabel))")
                case .serviceTypeAdded, .serviceTypeRemoved:
                    continue
                }
                flushOutput()
            }
        }
        await common.wait(for: stop)
        await discovery.shutdown()
        await reader.value
    }

    /// `_x._udp` from `_x._udp.local.` and the like.
    static func bareType(_ type: String) -> String {
        var text = type.hasSuffix(".") ? String(type.dropLast()) : type
        if text.lowercased().hasSuffix(".local") { text = String(text.dropLast(".local".count)) }
        return text
    }

    static func format(_ service: MDNSResolvedService, interface: String, updated: Bool, json: Bool) -> String {
        let type = service.type.labels.prefix(2).map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".")
        let txt = service.txt.map { String(decoding: $0, as: UTF8.self) }
        let addresses = service.addresses.map(\.description)
        if json {
            return JSONText.encode(
                Line(
                    event: updated ? "updated" : "added", name: service.instance, type: type,
                    host: service.host.description, port: service.port, addresses: addresses, txt: txt,
                    interface: interface))
        }
        let txtText = txt.filter { !$0.isEmpty }.map(escape).joined(separator: ",")
        return [
            "+", escape(service.instance), type, service.host.description, "\(service.port)",
            addresses.isEmpty ? "-" : addresses.joined(separator: ","), txtText.isEmpty ? "-" : txtText,
        ].joined(separator: " ")
    }

    /// Escapes space, comma and backslash as `\032`, `\044`, `\092`, and other control
    /// characters the same way.
    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar == " " || scalar == "," || scalar == "\\" || scalar.value < 0x20 || scalar.value == 0x7F {
                let code = String(scalar.value)
                result += "\\" + String(repeating: "0", count: max(0, 3 - code.count)) + code
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
