import NIOCore
import StarlingCore
import StarlingIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The LAN group channel's socket of a ``GroupLANConfiguration``, opened with plain
/// system calls (as ``LANSockets`` opens discovery's), so that all of it, the interface
/// lookup too, can run on a thread that has entered another network namespace; NIO
/// then adopts the descriptor.
enum GroupLANSockets {
    /// The opened channel socket and what the peer's own socket needs to multicast.
    struct Opened: Sendable {
        /// Bound to the channel (group and port), joined on the interface, non-blocking;
        /// owned by whoever holds this value until NIO takes it.
        let descriptor: Int32
        /// The interface's index (IPv6 multicast leaves by it).
        let interfaceIndex: Int
    }

    /// Opens the channel socket in `namespace` when given (on a short-lived thread that
    /// enters it), else in the caller's.
    /// - Throws: ``PeerError/invalidConfiguration(_:)`` for a missing or unsuitable
    ///   interface or a listen address not on it; ``PeerError/bindFailed(address:reason:)``
    ///   when a system call fails.
    static func open(
        _ configuration: GroupLANConfiguration, listenAddress: PeerAddress, namespace: String?
    ) async throws(PeerError) -> Opened {
        try await NamespaceThread.run(in: namespace, failure: namespaceFailure) { () throws(PeerError) in
            try openHere(configuration, listenAddress: listenAddress)
        }
    }

    /// Looks the interface up, checks it, and opens the socket in the calling thread's
    /// namespace.
    static func openHere(
        _ configuration: GroupLANConfiguration, listenAddress: PeerAddress
    ) throws(PeerError) -> Opened {
        let interface: NetworkInterface
        do {
            interface = try LANSockets.lookUp(configuration.interface)
        } catch {
            throw .invalidConfiguration("groupLAN: \(error)")
        }
        guard interface.supportsMulticast else {
            throw .invalidConfiguration(
                "groupLAN: interface '\(interface.name)' cannot be used: it does not support multicast "
                    + "(no MULTICAST flag)")
        }
        let own = interface.addresses.compactMap { PeerAddress($0.address)?.host }
        guard own.contains(listenAddress.host) else {
            throw .invalidConfiguration(
                "groupLAN: the listen address \(listenAddress.host) is not an address of interface "
                    + "'\(interface.name)' (it has \(own.map { "\($0)" }.joined(separator: ", ")))")
        }
        let channel = configuration.channel
        do throws(LANDiscoveryError) {
            let socket = try bind(channel, reuseAddress: true)
            do throws(LANDiscoveryError) {
                switch channel.host {
                case .ipv4(let group):
                    var request = ip_mreqn()
                    request.imr_multiaddr = in_addr(s_addr: group.bigEndian)
                    if case .ipv4(let local) = listenAddress.host {
                        request.imr_address = in_addr(s_addr: local.bigEndian)
                    }
                    request.imr_ifindex = Int32(interface.index)
                    try LANSockets.setOption(socket, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, request, "IP_ADD_MEMBERSHIP")
                case .ipv6:
                    var request = ipv6_mreq()
                    let bytes = channel.hostBytes
                    withUnsafeMutableBytes(of: &request.ipv6mr_multiaddr) { $0.copyBytes(from: bytes) }
                    request.ipv6mr_interface = UInt32(interface.index)
                    try LANSockets.setOption(
                        socket, Int32(IPPROTO_IPV6), IPV6_ADD_MEMBERSHIP, request, "IPV6_ADD_MEMBERSHIP")
                }
            } catch {
                close(socket)
                throw error
            }
            return Opened(descriptor: socket, interfaceIndex: interface.index)
        } catch {
            throw .bindFailed(address: channel, reason: error.description)
        }
    }

    /// A non-blocking UDP socket bound to `address` (on Linux, binding the group address
    /// keeps datagrams to other groups on the port out).
    static func bind(_ address: PeerAddress, reuseAddress: Bool) throws(LANDiscoveryError) -> Int32 {
        let family = address.isIPv4 ? AF_INET : AF_INET6
        let socket = Glibc.socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw LANSockets.systemError("socket") }
        do throws(LANDiscoveryError) {
            if reuseAddress {
                try LANSockets.setOption(socket, SOL_SOCKET, SO_REUSEADDR, Int32(1), "SO_REUSEADDR")
            }
            if family == AF_INET6 {
                try LANSockets.setOption(socket, Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(1), "IPV6_V6ONLY")
            }
            try LinkSocketCalls.bind(socket, to: address, failure: LANSockets.socketFailure)
            try LinkSocketCalls.setNonBlocking(socket, failure: LANSockets.socketFailure)
        } catch {
            close(socket)
            throw error
        }
        return socket
    }

    /// The error of a thread that could not be made or a namespace that could not be
    /// entered (no address was bound yet).
    @Sendable static func namespaceFailure(_ operation: String, _ reason: String) -> PeerError {
        .bindFailed(address: .ipv4(0, 0, 0, 0, port: 0), reason: "\(operation) failed: \(reason)")
    }
}
