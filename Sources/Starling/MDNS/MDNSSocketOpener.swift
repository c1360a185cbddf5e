import NIOCore
import StarlingIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One socket ``MDNSSocketOpener`` opened: bound, device-bound, joined.
struct MDNSOpenedSocket: Sendable {
    /// The bound, non-blocking socket; owned by whoever holds this value until NIO takes it.
    let descriptor: Int32
    /// Its interface and family.
    let endpoint: MDNSEndpoint
    /// The interface's IPv4 address (network byte order) for an IPv4 socket, which
    /// `IP_MULTICAST_IF` names; 0 for IPv6.
    let ipv4Address: in_addr_t
}

/// Opens the sockets of an ``MDNSSocketsConfiguration``: one per named interface and
/// family, each bound to the wildcard address and port 5353, bound to its interface
/// (`SO_BINDTODEVICE`) and joined to the group on it by index.
///
/// ### Why one socket per interface
/// The kernel then delivers to each socket only what arrived on its interface (unicast
/// and multicast alike), so traffic of interfaces not named never reaches Starling, the
/// arrival interface is the socket's, and multicast sent through the socket leaves by
/// that interface without a per-datagram choice (NIO's writes cannot carry an
/// `IP_PKTINFO` interface). NIO's `receivePacketInfo` is still switched on, to learn each
/// datagram's destination (group or unicast) and to check the interface once more.
///
/// The sockets are opened with plain system calls, so that all of it (the interface
/// lookup too) can run on a thread that has entered another network namespace, and
/// because the options that must precede `bind` (reuse, device) and the joins by
/// interface index (`ip_mreqn`) have no NIO equivalent; NIO then adopts the descriptors
/// and sets the remaining multicast options.
enum MDNSSocketOpener {
    /// Opens the sockets in the configured namespace when one is set (on a short-lived
    /// thread that enters it), else in the caller's.
    static func open(_ configuration: MDNSSocketsConfiguration) async throws(MDNSSocketsError) -> [MDNSOpenedSocket] {
        try await NamespaceThread.run(in: configuration.networkNamespace, failure: socketFailure) {
            () throws(MDNSSocketsError) in try openHere(configuration)
        }
    }

    /// Looks every interface up, checks them all, then opens the sockets in the calling
    /// thread's namespace; on any failure closes what it opened.
    static func openHere(_ configuration: MDNSSocketsConfiguration) throws(MDNSSocketsError) -> [MDNSOpenedSocket] {
        try configuration.validate()
        var interfaces: [NetworkInterface] = []
        for name in configuration.interfaces {
            interfaces.append(try check(try lookUp(name), families: configuration.families))
        }
        var sockets: [MDNSOpenedSocket] = []
        do throws(MDNSSocketsError) {
            for interface in interfaces {
                for family in MDNSFamily.allCases where configuration.families.contains(family) {
                    sockets.append(try openSocket(family, on: interface))
                }
            }
        } catch {
            for socket in sockets { close(socket.descriptor) }
            throw error
        }
        return sockets
    }

    /// The interface called `name` in this thread's namespace.
    static func lookUp(_ name: String) throws(MDNSSocketsError) -> NetworkInterface {
        try LinkSocketCalls.interface(
            named: name, notFound: { .interfaceNotFound(name: $0, available: $1) }, failure: socketFailure)
    }

    /// `interface`, when it has the MULTICAST flag and an address of every family.
    static func check(_ interface: NetworkInterface, families: Set<MDNSFamily>) throws(MDNSSocketsError)
        -> NetworkInterface
    {
        guard interface.supportsMulticast else {
            throw .interfaceUnsuitable(
                interface: interface.name, reason: "it does not support multicast (no MULTICAST flag)")
        }
        if families.contains(.ipv4), interface.ipv4 == nil {
            throw .interfaceUnsuitable(interface: interface.name, reason: "it has no IPv4 address")
        }
        if families.contains(.ipv6), interface.ipv6 == nil {
            throw .interfaceUnsuitable(interface: interface.name, reason: "it has no IPv6 address")
        }
        return interface
    }

    /// One socket of `family` on `interface`: reusable, bound to the interface and to
    /// the wildcard address and port 5353, non-blocking, joined to the group by index.
    private static func openSocket(
        _ family: MDNSFamily, on interface: NetworkInterface
    ) throws(MDNSSocketsError) -> MDNSOpenedSocket {
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let socket = Glibc.socket(domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw systemError("socket") }
        let endpoint = MDNSEndpoint(
            interface: MDNSInterface(name: interface.name, index: interface.index), family: family)
        var ipv4Address: in_addr_t = 0
        do throws(MDNSSocketsError) {
            // Both, so that avahi-daemon and other responders (which set both) share the port.
            try setOption(socket, SOL_SOCKET, SO_REUSEADDR, Int32(1), "SO_REUSEADDR")
            try setOption(socket, SOL_SOCKET, SO_REUSEPORT, Int32(1), "SO_REUSEPORT")
            // Before bind: the kernel then groups and looks sockets up per device.
            let status = interface.name.withCString { name in
                setsockopt(socket, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(strlen(name) + 1))
            }
            guard status == 0 else { throw systemError("setsockopt(SO_BINDTODEVICE, \(interface.name))") }
            switch family {
            case .ipv4:
                guard case .v4(let local) = interface.ipv4?.address else {
                    throw .interfaceUnsuitable(interface: interface.name, reason: "it has no IPv4 address")
                }
                ipv4Address = local.address.sin_addr.s_addr
                // Only the groups this socket joined, not every group any socket joined.
                _ = try? setOption(
                    socket, Int32(IPPROTO_IP), MDNSSocketConstants.ipMulticastAll, Int32(0), "IP_MULTICAST_ALL")
                try bindWildcard(socket, family: family)
                var request = ip_mreqn()
                request.imr_multiaddr = in_addr(s_addr: MDNSSocketConstants.ipv4Group.bigEndian)
                request.imr_address = in_addr(s_addr: ipv4Address)
                request.imr_ifindex = Int32(interface.index)
                try setOption(socket, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, request, "IP_ADD_MEMBERSHIP")
            case .ipv6:
                try setOption(socket, Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(1), "IPV6_V6ONLY")
                _ = try? setOption(
                    socket, Int32(IPPROTO_IPV6), MDNSSocketConstants.ipv6MulticastAll, Int32(0),
                    "IPV6_MULTICAST_ALL")
                try bindWildcard(socket, family: family)
                var request = ipv6_mreq()
                withUnsafeMutableBytes(of: &request.ipv6mr_multiaddr) {
                    $0.copyBytes(from: MDNSSocketConstants.ipv6Group)
                }
                request.ipv6mr_interface = UInt32(interface.index)
                try setOption(socket, Int32(IPPROTO_IPV6), IPV6_ADD_MEMBERSHIP, request, "IPV6_ADD_MEMBERSHIP")
            }
            try LinkSocketCalls.setNonBlocking(socket, failure: socketFailure)
        } catch {
            close(socket)
            throw error
        }
        return MDNSOpenedSocket(descriptor: socket, endpoint: endpoint, ipv4Address: ipv4Address)
    }

    /// Binds `socket` to `0.0.0.0:5353` or `[::]:5353`.
    private static func bindWildcard(_ socket: Int32, family: MDNSFamily) throws(MDNSSocketsError) {
        try LinkSocketCalls.bind(
            socket, to: LinkSocketCalls.wildcard(ipv6: family == .ipv6, port: MDNSSocketConstants.port),
            failure: socketFailure)
    }

    /// Sets one socket option to `value`.
    private static func setOption<Value>(
        _ socket: Int32, _ level: Int32, _ name: Int32, _ value: Value, _ label: String
    ) throws(MDNSSocketsError) {
        try LinkSocketCalls.setOption(socket, level, name, value, label, failure: socketFailure)
    }

    /// The error for a failed system call, with `errno`'s text.
    private static func systemError(_ operation: String) -> MDNSSocketsError {
        LinkSocketCalls.lastError(operation, socketFailure)
    }

    /// The error of a socket operation that failed for `reason`.
    @Sendable static func socketFailure(_ operation: String, _ reason: String) -> MDNSSocketsError {
        .socket(operation: operation, reason: reason)
    }
}
