import NIOCore
import StarlingCore
import StarlingIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One socket ``LANSockets`` opened: bound, joined, with the beacon destinations it serves.
struct LANSocket: Sendable {
    /// The bound, non-blocking socket; owned by whoever holds this value until NIO takes it.
    let descriptor: Int32
    /// Where the discovery core on this socket sends its beacons.
    let destinations: [PeerAddress]
}

/// Opens the sockets of a ``LANDiscoveryConfiguration``: one IPv4 socket for IPv4
/// multicast and broadcast, one IPv6 socket for IPv6 multicast.
///
/// The sockets are opened with plain system calls, so that all of it (the interface
/// lookup too) can run on a thread that has entered another network namespace; NIO then
/// adopts the descriptors. Every option is set before NIO sees the socket.
enum LANSockets {
    /// Opens the sockets in `namespace` when given (on a short-lived thread that enters
    /// it), else in the caller's.
    static func open(_ configuration: LANDiscoveryConfiguration) async throws(LANDiscoveryError) -> [LANSocket] {
        try await NamespaceThread.run(in: configuration.networkNamespace, failure: socketFailure) {
            () throws(LANDiscoveryError) in try openHere(configuration)
        }
    }

    /// Looks the interface up and opens the sockets in the calling thread's namespace.
    static func openHere(_ configuration: LANDiscoveryConfiguration) throws(LANDiscoveryError) -> [LANSocket] {
        let interface = try lookUp(configuration.interface)
        let transports = configuration.transports
        let name = interface.name
        if !transports.isDisjoint(with: [.ipv4Multicast, .ipv6Multicast]), !interface.supportsMulticast {
            throw .interfaceUnsuitable(interface: name, reason: "it does not support multicast (no MULTICAST flag)")
        }
        var sockets: [LANSocket] = []
        do throws(LANDiscoveryError) {
            if !transports.isDisjoint(with: [.ipv4Multicast, .broadcast, .limitedBroadcast]) {
                sockets.append(try openIPv4(configuration, interface: interface))
            }
            if transports.contains(.ipv6Multicast) {
                sockets.append(try openIPv6(configuration, interface: interface))
            }
        } catch {
            for socket in sockets { close(socket.descriptor) }
            throw error
        }
        return sockets
    }

    /// The interface called `name` in this thread's namespace.
    static func lookUp(_ name: String) throws(LANDiscoveryError) -> NetworkInterface {
        try LinkSocketCalls.interface(
            named: name, notFound: { .interfaceNotFound(name: $0, available: $1) }, failure: socketFailure)
    }

    /// The IPv4 socket: bound to `0.0.0.0:port`, broadcast allowed when chosen, the group
    /// joined on the interface and multicast leaving through it when chosen.
    private static func openIPv4(
        _ configuration: LANDiscoveryConfiguration, interface: NetworkInterface
    ) throws(LANDiscoveryError) -> LANSocket {
        guard let local = interface.ipv4, case .v4(let localAddress) = local.address else {
            throw .interfaceUnsuitable(interface: interface.name, reason: "it has no IPv4 address")
        }
        var destinations: [PeerAddress] = []
        let socket = try makeSocket(family: AF_INET, configuration: configuration)
        do throws(LANDiscoveryError) {
            if configuration.transports.contains(.broadcast) {
                guard let broadcast = try? interface.directedBroadcast(port: Int(configuration.port)),
                    let address = PeerAddress(broadcast)
                else {
                    throw .interfaceUnsuitable(
                        interface: interface.name, reason: "its IPv4 subnet has no directed broadcast address")
                }
                try setOption(socket, SOL_SOCKET, SO_BROADCAST, Int32(1), "SO_BROADCAST")
                destinations.append(address)
            }
            if configuration.transports.contains(.limitedBroadcast) {
                try setOption(socket, SOL_SOCKET, SO_BROADCAST, Int32(1), "SO_BROADCAST")
                // Bound to the interface, the limited broadcast leaves on that link only.
                let status = interface.name.withCString { name in
                    setsockopt(socket, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(strlen(name) + 1))
                }
                guard status == 0 else { throw systemError("setsockopt(SO_BINDTODEVICE)") }
                destinations.append(.ipv4(255, 255, 255, 255, port: configuration.port))
            }
            if configuration.transports.contains(.ipv4Multicast) {
                guard case .ipv4(let group) = configuration.ipv4Group else {
                    throw .invalidGroup("\(configuration.ipv4Group)")
                }
                var request = ip_mreqn()
                request.imr_multiaddr = in_addr(s_addr: group.bigEndian)
                request.imr_address = localAddress.address.sin_addr
                request.imr_ifindex = Int32(interface.index)
                let level = Int32(IPPROTO_IP)
                try setOption(socket, level, IP_MULTICAST_IF, request, "IP_MULTICAST_IF")
                try setOption(
                    socket, level, IP_MULTICAST_TTL, Int32(configuration.multicastHopLimit), "IP_MULTICAST_TTL")
                try setOption(
                    socket, level, IP_MULTICAST_LOOP, Int32(configuration.multicastLoopback ? 1 : 0),
                    "IP_MULTICAST_LOOP")
                try setOption(socket, level, IP_ADD_MEMBERSHIP, request, "IP_ADD_MEMBERSHIP")
                destinations.append(PeerAddress(host: configuration.ipv4Group, port: configuration.port))
            }
        } catch {
            close(socket)
            throw error
        }
        return LANSocket(descriptor: socket, destinations: destinations)
    }

    /// The IPv6 socket: IPv6 only, bound to `[::]:port`, the group joined on the interface
    /// and multicast leaving through it.
    private static func openIPv6(
        _ configuration: LANDiscoveryConfiguration, interface: NetworkInterface
    ) throws(LANDiscoveryError) -> LANSocket {
        guard case .ipv6(let high, let low) = configuration.ipv6Group else {
            throw .invalidGroup("\(configuration.ipv6Group)")
        }
        let socket = try makeSocket(family: AF_INET6, configuration: configuration)
        do throws(LANDiscoveryError) {
            var request = ipv6_mreq()
            withUnsafeMutableBytes(of: &request.ipv6mr_multiaddr) { bytes in
                for index in 0..<8 {
                    bytes[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * index))
                    bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * index))
                }
            }
            request.ipv6mr_interface = UInt32(interface.index)
            let level = Int32(IPPROTO_IPV6)
            try setOption(socket, level, IPV6_MULTICAST_IF, Int32(interface.index), "IPV6_MULTICAST_IF")
            try setOption(
                socket, level, IPV6_MULTICAST_HOPS, Int32(configuration.multicastHopLimit), "IPV6_MULTICAST_HOPS")
            try setOption(
                socket, level, IPV6_MULTICAST_LOOP, UInt32(configuration.multicastLoopback ? 1 : 0),
                "IPV6_MULTICAST_LOOP")
            try setOption(socket, level, IPV6_ADD_MEMBERSHIP, request, "IPV6_ADD_MEMBERSHIP")
        } catch {
            close(socket)
            throw error
        }
        let group = PeerAddress(host: configuration.ipv6Group, port: configuration.port)
        return LANSocket(descriptor: socket, destinations: [group])
    }

    /// A non-blocking UDP socket of `family`, bound to the wildcard address and the port.
    private static func makeSocket(
        family: Int32, configuration: LANDiscoveryConfiguration
    ) throws(LANDiscoveryError) -> Int32 {
        let socket = Glibc.socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw systemError("socket") }
        do throws(LANDiscoveryError) {
            if configuration.reuseAddress {
                try setOption(socket, SOL_SOCKET, SO_REUSEADDR, Int32(1), "SO_REUSEADDR")
            }
            if family == AF_INET6 {
                try setOption(socket, Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(1), "IPV6_V6ONLY")
            }
            try LinkSocketCalls.bind(
                socket, to: LinkSocketCalls.wildcard(ipv6: family == AF_INET6, port: configuration.port),
                failure: socketFailure)
            try LinkSocketCalls.setNonBlocking(socket, failure: socketFailure)
        } catch {
            close(socket)
            throw error
        }
        return socket
    }

    /// Sets one socket option to `value`.
    static func setOption<Value>(
        _ socket: Int32, _ level: Int32, _ name: Int32, _ value: Value, _ label: String
    ) throws(LANDiscoveryError) {
        try LinkSocketCalls.setOption(socket, level, name, value, label, failure: socketFailure)
    }

    /// The error for a failed system call, with `errno`'s text.
    static func systemError(_ operation: String) -> LANDiscoveryError {
        LinkSocketCalls.lastError(operation, socketFailure)
    }

    /// The error of a socket operation that failed for `reason`.
    @Sendable static func socketFailure(_ operation: String, _ reason: String) -> LANDiscoveryError {
        .socket(operation: operation, reason: reason)
    }
}
