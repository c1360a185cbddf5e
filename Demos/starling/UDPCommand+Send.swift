import ArgumentParser
import NIOCore
import StarlingCore
import StarlingIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension UDPCommand {
    /// `starling udp send`: send one datagram to a unicast, multicast or broadcast address.
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send one datagram to a unicast address, a multicast group or a broadcast address.",
            discussion: """
                Give the destination with --to ADDR:PORT, or with --broadcast-interface NAME and \
                --port PORT to send to the directed broadcast address of that interface's IPv4 \
                subnet (192.0.2.255 for 192.0.2.10/24).

                A multicast group needs --interface, the interface to send from. A broadcast \
                address needs --broadcast; the limited broadcast 255.255.255.255 also needs \
                --interface. With a unicast destination, --interface sends from that interface's \
                address.

                Prints `sent N bytes to ADDR:PORT` on standard error; with --json, one JSON \
                object on standard output instead: {"event":"sent","to":…,"bytes":…}.
                """
        )

        @Option(help: ArgumentHelp("The destination, ADDR:PORT (IPv6: [ADDR]:PORT).", valueName: "address:port"))
        var to: String?

        @Option(help: ArgumentHelp("The payload, sent as UTF-8 text.", valueName: "text"))
        var message: String

        @Option(help: ArgumentHelp("The interface to send from, such as eth0.", valueName: "name"))
        var interface: String?

        @Option(help: "Multicast TTL (IPv6: hop limit), 0 to 255; 1, the default, stays on the local link.")
        var ttl: Int?

        @Flag(help: "Allow sending to a broadcast address (SO_BROADCAST).")
        var broadcast = false

        @Option(
            help: ArgumentHelp(
                "Send to the directed broadcast address of this interface's IPv4 subnet (implies --broadcast; needs --port).",
                valueName: "name"
            )
        )
        var broadcastInterface: String?

        @Option(help: "The destination port, with --broadcast-interface.")
        var port: Int?

        @Flag(help: "Print one JSON object on standard output instead of a note on standard error.")
        var json = false

        /// The `--json` object.
        struct Sent: Encodable {
            var event = "sent"
            let to: String
            let bytes: Int
        }

        func validate() throws {
            switch (to, broadcastInterface) {
            case (nil, nil):
                throw ValidationError("give a destination: --to ADDR:PORT, or --broadcast-interface NAME --port PORT")
            case (.some, .some):
                throw ValidationError("give either --to or --broadcast-interface, not both")
            case (nil, .some):
                guard let port else { throw ValidationError("--broadcast-interface needs --port PORT") }
                try UDPCommand.checkPort(port, option: "--port", allowZero: false)
                if ttl != nil { throw ValidationError("--ttl applies to multicast destinations only") }
            case (.some(let to), nil):
                if port != nil { throw ValidationError("--port goes with --broadcast-interface; put the port in --to") }
                let destination = try UDPCommand.endpoint(to, option: "--to")
                try UDPCommand.checkPort(destination.port ?? 0, option: "the --to port", allowZero: false)
                try Self.validate(destination: destination, interface: interface, ttl: ttl, broadcast: broadcast)
            }
        }

        /// The rules for an explicit destination.
        private static func validate(destination: SocketAddress, interface: String?, ttl: Int?, broadcast: Bool) throws
        {
            if destination.isMulticast {
                guard interface != nil else {
                    throw ValidationError(
                        "a multicast destination needs --interface NAME: Starling never picks the interface to send on"
                    )
                }
                if let ttl, !(0...255).contains(ttl) {
                    throw ValidationError("--ttl must be from 0 to 255, not \(ttl)")
                }
                if broadcast { throw ValidationError("--broadcast is for broadcast addresses, not multicast groups") }
                return
            }
            if ttl != nil { throw ValidationError("--ttl applies to multicast destinations only") }
            if destination.protocol == .inet6, broadcast {
                throw ValidationError("IPv6 has no broadcast; send to a multicast group such as ff02::1 instead")
            }
            if destination.ipAddress == "255.255.255.255" {
                guard broadcast else {
                    throw ValidationError("255.255.255.255 is the limited broadcast; add --broadcast")
                }
                guard interface != nil else {
                    throw ValidationError("the limited broadcast needs --interface NAME to say which link it goes on")
                }
            }
        }

        func run() async throws {
            let destination: SocketAddress
            let source: NetworkInterface?
            if let broadcastInterface, let port {
                let device = try UDPCommand.interface(named: broadcastInterface)
                do {
                    destination = try device.directedBroadcast(port: port)
                } catch {
                    throw CLIError("\(error)")
                }
                source = nil
            } else {
                destination = try UDPCommand.endpoint(to ?? "", option: "--to")
                source = try interface.map { try UDPCommand.interface(named: $0) }
            }
            let allowBroadcast = broadcast || broadcastInterface != nil
            let local = try localAddress(for: destination, from: source)
            let payload = ByteBuffer(string: message)

            try await UDPCommand.withSocket(boundTo: local) { socket in
                if destination.isMulticast, let source {
                    do {
                        try await socket.setMulticastInterface(source)
                        try await socket.setMulticastHopLimit(UInt8(ttl ?? 1))
                    } catch {
                        throw CLIError("cannot send multicast on \(source.name): \(error)")
                    }
                }
                if allowBroadcast { try await socket.setBroadcast(true) }
                do {
                    try await socket.send(payload, to: destination)
                } catch let error as IOError where error.errnoCode == EACCES {
                    throw CLIError(
                        "the kernel refused to send to \(UDPCommand.describe(destination)) (EACCES): "
                            + "if it is a broadcast address, add --broadcast"
                    )
                } catch {
                    throw CLIError("cannot send to \(UDPCommand.describe(destination)): \(error)")
                }
            }
            if json {
                McastOutput.emitJSON(Sent(to: UDPCommand.describe(destination), bytes: payload.readableBytes))
            } else {
                UDPCommand.note("sent \(payload.readableBytes) bytes to \(UDPCommand.describe(destination))")
            }
        }

        /// Where to bind: the wildcard of the destination's family, or, for a
        /// unicast or limited-broadcast destination with --interface, that
        /// interface's address (the kernel then sends from that interface).
        private func localAddress(for destination: SocketAddress, from source: NetworkInterface?) throws
            -> SocketAddress
        {
            let isIPv6 = destination.protocol == .inet6
            if let source, !destination.isMulticast {
                if isIPv6, let ipv6 = source.ipv6 { return ipv6.address }
                if !isIPv6, let ipv4 = source.ipv4 { return ipv4.address }
                let missing: UDPError =
                    isIPv6
                    ? .interfaceHasNoIPv6Address(interface: source.name)
                    : .interfaceHasNoIPv4Address(interface: source.name)
                throw CLIError("\(missing)")
            }
            return try SocketAddress(ipAddress: isIPv6 ? "::" : "0.0.0.0", port: 0)
        }
    }
}
