import ArgumentParser
import NIOCore
import StarlingCore
import StarlingIO
import Synchronization

extension UDPCommand {
    /// `starling udp listen`: print the datagrams that arrive on a port.
    struct Listen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive datagrams on a port, optionally as a member of multicast groups.",
            discussion: """
                Prints `ready` once the socket is bound and the groups are joined, then one line \
                per datagram: `from ADDR:PORT <payload as text>`. Stops after --count datagrams, \
                when a datagram whose payload is `stop` arrives, or after --timeout seconds, and \
                then prints a summary and exits with status 0.

                Broadcasts to the port arrive whenever the bind address is the wildcard (the \
                default). Group datagrams arrive only for groups joined with --join, on the \
                interface named by --interface.

                With --json each line is a JSON object instead, with an `event` field: `ready` \
                (address, groups, interface), `datagram` (from, bytes, text) or `done` \
                (datagrams, reason).
                """
        )

        @Option(help: "The UDP port to receive on (0 picks a free port).")
        var port: Int

        @Option(
            help: ArgumentHelp(
                "The local address to bind: 0.0.0.0 by default, or :: when joining IPv6 groups.",
                valueName: "address"
            )
        )
        var bind: String?

        @Option(
            help: ArgumentHelp(
                "A multicast group to join, such as 239.255.77.1 or ff02::77 (repeatable; needs --interface).",
                valueName: "group"
            )
        )
        var join: [String] = []

        @Option(help: ArgumentHelp("The interface to join the groups on, such as eth0.", valueName: "name"))
        var interface: String?

        @Option(help: "Exit after receiving this many datagrams.")
        var count: Int?

        @Option(help: ArgumentHelp("Exit after this many seconds (0.1 to 86400).", valueName: "seconds"))
        var timeout: Double?

        @Flag(help: "Print one JSON object per line instead of text.")
        var json = false

        /// A `--json` line.
        struct Line: Encodable {
            let event: String
            var address: String?
            var groups: [String]?
            var interface: String?
            var from: String?
            var bytes: Int?
            var text: String?
            var datagrams: Int?
            var reason: String?

            init(_ event: String) { self.event = event }
        }

        func validate() throws {
            try UDPCommand.checkPort(port, option: "--port", allowZero: true)
            let groups = try join.map { try UDPCommand.host($0, option: "--join") }
            for (text, group) in zip(join, groups) {
                guard try UDPCommand.socketAddress(host: group, port: 0).isMulticast else {
                    throw ValidationError("--join \(text) is not a multicast group (224.0.0.0/4 or ff00::/8)")
                }
            }
            if !groups.isEmpty, interface == nil {
                throw ValidationError(
                    "--join needs --interface NAME: Starling never picks the interface to join on"
                )
            }
            if groups.isEmpty, interface != nil {
                throw ValidationError("--interface is only used with --join GROUP")
            }
            let families = Set(groups.map(\.isIPv4))
            if families.count > 1 {
                throw ValidationError("--join mixes IPv4 and IPv6 groups; one socket has one address family")
            }
            if let bind {
                let bound = try UDPCommand.host(bind, option: "--bind")
                if let family = families.first, family != bound.isIPv4 {
                    throw ValidationError("--bind \(bind) and the --join groups are of different address families")
                }
            }
            if let count, count < 1 { throw ValidationError("--count must be at least 1, not \(count)") }
            if let timeout, !(0.1...86400).contains(timeout) {
                throw ValidationError("--timeout must be from 0.1 to 86400 seconds, not \(timeout)")
            }
        }

        func run() async throws {
            let groups = try join.map {
                try UDPCommand.socketAddress(host: UDPCommand.host($0, option: "--join"), port: 0)
            }
            let wantsIPv6 = groups.first.map { $0.protocol == .inet6 } ?? false
            let bindHost = try UDPCommand.host(bind ?? (wantsIPv6 ? "::" : "0.0.0.0"), option: "--bind")
            let address = try UDPCommand.socketAddress(host: bindHost, port: port)
            let device = try interface.map { try UDPCommand.interface(named: $0) }

            try await UDPCommand.withSocket(boundTo: address, reuseAddress: true) { socket in
                var joined: [String] = []
                for group in groups {
                    guard let device else { break }
                    do {
                        try await socket.join(group, on: device)
                    } catch {
                        throw CLIError("cannot join \(group.ipAddress ?? "\(group)") on \(device.name): \(error)")
                    }
                    joined.append("\(group.ipAddress ?? "\(group)") on \(device.name)")
                }
                let local = UDPCommand.describe(socket.localAddress)
                if json {
                    var ready = Line("ready")
                    ready.address = local
                    ready.groups = groups.map { $0.ipAddress ?? "\($0)" }
                    ready.interface = device?.name
                    McastOutput.emitJSON(ready)
                } else {
                    let membership = joined.isEmpty ? "" : "; joined \(joined.joined(separator: ", "))"
                    UDPCommand.note("listening on \(local)\(membership)")
                    UDPCommand.emit("ready")
                }
                let received = Tally()
                let ending = try await receive(on: socket, counting: received)
                let total = received.value
                if json {
                    var done = Line("done")
                    done.datagrams = total
                    done.reason = ending
                    McastOutput.emitJSON(done)
                } else {
                    UDPCommand.emit("done: \(total) datagram\(total == 1 ? "" : "s") received; \(ending)")
                }
            }
        }

        /// Prints datagrams until one of the stop conditions; returns why it stopped.
        private func receive(on socket: GroupSocket, counting received: Tally) async throws -> String {
            let limit = count
            let timeout = timeout
            let json = json
            return try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask {
                    for try await datagram in socket.datagrams {
                        let text = Self.printable(datagram.payload)
                        let from = UDPCommand.describe(datagram.source)
                        if json {
                            var line = Line("datagram")
                            line.from = from
                            line.bytes = datagram.payload.readableBytes
                            line.text = text
                            McastOutput.emitJSON(line)
                        } else {
                            UDPCommand.emit("from \(from) \(text)")
                        }
                        let total = received.increment()
                        if text == "stop" { return "stopped by a `stop` datagram" }
                        if let limit, total >= limit { return "reached --count \(limit)" }
                    }
                    return "the socket closed"
                }
                if let timeout {
                    group.addTask {
                        try await Task.sleep(for: .seconds(timeout))
                        return "timed out after \(timeout) seconds"
                    }
                }
                let ending = try await group.next() ?? "the socket closed"
                group.cancelAll()
                return ending
            }
        }

        /// The payload as one line of text: UTF-8, with control characters escaped
        /// and one trailing newline dropped (so `echo stop | nc -u` also stops a listener).
        static func printable(_ payload: ByteBuffer) -> String {
            var text = String(buffer: payload)
            if text.hasSuffix("\n") { text.removeLast() }
            return text.unicodeScalars.map { scalar in
                scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
            }.joined()
        }
    }
}

/// A count shared between the receiving task and the one that reports the summary.
private final class Tally: Sendable {
    private let count = Mutex(0)

    /// The current count.
    var value: Int { count.withLock { $0 } }

    /// Adds one and returns the new count.
    func increment() -> Int {
        count.withLock { value in
            value += 1
            return value
        }
    }
}

extension PeerAddress.Host {
    /// Whether this is an IPv4 address.
    fileprivate var isIPv4: Bool {
        if case .ipv4 = self { true } else { false }
    }
}
