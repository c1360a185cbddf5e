import ArgumentParser
import NIOCore
import StarlingCore
import StarlingIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `starling udp`: send and receive UDP datagrams, including IP multicast and broadcast.
struct UDPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udp",
        abstract: "Send and receive UDP datagrams: unicast, IP multicast groups and broadcast.",
        discussion: """
            Run group experiments on a LAN you control: start listeners that join a group, then \
            send to the group and see which hosts receive it.

              starling udp listen --port 47001 --join 239.255.77.1 --interface eth0
              starling udp send --to 239.255.77.1:47001 --message hello --interface eth0
              starling udp send --to 192.0.2.255:47001 --message hello --broadcast
              starling udp send --broadcast-interface eth0 --port 47001 --message hello

            Multicast and broadcast need a named interface: Starling never picks one for you, \
            because traffic on the wrong interface reaches a network you did not mean. Multicast \
            leaves with TTL 1 (the local link) unless you pass --ttl. Use the administratively \
            scoped groups 239.255.0.0/16 (IPv4) or ff02::/16 (IPv6, link-local) for experiments.
            """,
        subcommands: [Listen.self, Send.self]
    )
}

// MARK: - Shared helpers

extension UDPCommand {
    /// Parses `ADDR:PORT` (`[ADDR]:PORT` for IPv6) into a socket address, for `--to`.
    static func endpoint(_ text: String, option: String) throws -> SocketAddress {
        let address: PeerAddress
        do {
            address = try PeerAddress(text)
        } catch {
            throw ValidationError("\(option) '\(text)' is not ADDR:PORT (IPv6: [ADDR]:PORT): \(error)")
        }
        return try socketAddress(host: address.host, port: Int(address.port))
    }

    /// Parses a bare IPv4 or IPv6 address (no port), for `--bind` and `--join`.
    static func host(_ text: String, option: String) throws -> PeerAddress.Host {
        guard let host = PeerAddress.Host(text) else {
            throw ValidationError("\(option) '\(text)' is not an IPv4 or IPv6 address")
        }
        return host
    }

    /// The socket address for `host` and `port`.
    static func socketAddress(host: PeerAddress.Host, port: Int) throws -> SocketAddress {
        try SocketAddress(ipAddress: host.description, port: port)
    }

    /// Checks that `port` is a UDP port number.
    static func checkPort(_ port: Int, option: String, allowZero: Bool) throws {
        let lowest = allowZero ? 0 : 1
        guard (lowest...65535).contains(port) else {
            throw ValidationError("\(option) must be from \(lowest) to 65535, not \(port)")
        }
    }

    /// Looks up the interface the user named, turning a failure into a one-line error.
    static func interface(named name: String) throws -> NetworkInterface {
        do {
            return try InterfaceSelection.interface(named: name)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// Runs `body` with a socket bound to `address`.
    ///
    /// - Throws: ``CLIError`` naming the address when the bind fails; what `body` throws.
    static func withSocket<Result: Sendable>(
        boundTo address: SocketAddress, reuseAddress: Bool = false, _ body: (GroupSocket) async throws -> Result
    ) async throws -> Result {
        var bound = false
        do {
            return try await GroupSocket.withBound(to: address, reuseAddress: reuseAddress) { socket in
                bound = true
                return try await body(socket)
            }
        } catch let error as IOError where !bound {
            let reason = String(cString: strerror(error.errnoCode))
            throw CLIError("cannot bind \(describe(address)): \(reason) (errno \(error.errnoCode))")
        } catch let error where !bound {
            throw CLIError("cannot bind \(describe(address)): \(error)")
        }
    }

    /// `ADDR:PORT` (or `[ADDR]:PORT`) for a received datagram's sender.
    static func describe(_ address: SocketAddress) -> String {
        PeerAddress(address)?.description ?? "\(address)"
    }

    /// Writes one line to standard output at once, so a program reading the pipe sees it immediately.
    static func emit(_ line: String) {
        write(line + "\n", to: STDOUT_FILENO)
    }

    /// Writes one line to standard error.
    static func note(_ line: String) {
        write(line + "\n", to: STDERR_FILENO)
    }

    private static func write(_ text: String, to descriptor: Int32) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                #if canImport(Glibc)
                    let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                #else
                    let written = Darwin.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                #endif
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
