public import NIOCore

/// An IP version an mDNS socket runs on.
public enum MDNSFamily: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// IPv4: group `224.0.0.251`.
    case ipv4
    /// IPv6: group `ff02::fb`.
    case ipv6

    public var description: String { rawValue }
}

/// A network interface ``MDNSSockets`` runs on: its name and the kernel's index for it.
public struct MDNSInterface: Hashable, Sendable, CustomStringConvertible {
    /// The interface's name, for example `enp3s0`.
    public let name: String
    /// The kernel's index of the interface (as `if_nametoindex` returns it).
    public let index: Int

    /// Creates an interface value.
    ///
    /// - Parameters:
    ///   - name: the interface's name.
    ///   - index: its kernel index.
    public init(name: String, index: Int) {
        self.name = name
        self.index = index
    }

    public var description: String { "\(name)#\(index)" }
}

/// One socket of ``MDNSSockets``: an interface and a family.
public struct MDNSEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// The interface the socket is bound to.
    public let interface: MDNSInterface
    /// The socket's address family.
    public let family: MDNSFamily

    /// Creates an endpoint value.
    ///
    /// - Parameters:
    ///   - interface: the interface.
    ///   - family: the address family.
    public init(interface: MDNSInterface, family: MDNSFamily) {
        self.interface = interface
        self.family = family
    }

    public var description: String { "\(family) on \(interface.name)" }
}

/// A datagram that arrived on one of the named interfaces, to or from port 5353.
///
/// The sockets deliver every datagram as it came: multicast and unicast, queries and
/// responses, this host's own looped-back multicast included. Checking the source port
/// (responses must come from 5353), the source's link, the size and the content is the
/// mDNS core's job.
public struct MDNSDatagram: Sendable {
    /// The datagram's UDP payload (the DNS message), unread.
    public var bytes: ByteBuffer
    /// The sender's address and UDP port. An IPv6 link-local source carries its scope
    /// (the arrival interface), so a unicast reply to it can be sent as is.
    public var source: SocketAddress
    /// The address the datagram was sent to: the group for multicast, one of this host's
    /// addresses for unicast; nil when the system did not report it.
    public var destination: SocketAddress?
    /// The interface and family it arrived on.
    public var endpoint: MDNSEndpoint

    /// Whether it was sent to a multicast group, as opposed to unicast to this host; nil when
    /// the destination is unknown.
    public var isMulticast: Bool? {
        guard let destination else { return nil }
        switch destination {
        case .v4(let address):
            return UInt32(bigEndian: address.address.sin_addr.s_addr) >> 28 == 0xE
        case .v6(let address):
            return withUnsafeBytes(of: address.address.sin6_addr) { $0[0] == 0xFF }
        case .unixDomainSocket:
            return nil
        }
    }

    /// Creates a datagram value (the sockets make these; tests may too).
    ///
    /// - Parameters:
    ///   - bytes: the UDP payload.
    ///   - source: the sender's address and port.
    ///   - destination: the address it was sent to, if known.
    ///   - endpoint: the interface and family it arrived on.
    public init(bytes: ByteBuffer, source: SocketAddress, destination: SocketAddress?, endpoint: MDNSEndpoint) {
        self.bytes = bytes
        self.source = source
        self.destination = destination
        self.endpoint = endpoint
    }
}

/// Where ``MDNSSockets/send(_:to:)`` sends a datagram.
public enum MDNSDestination: Sendable, Hashable {
    /// The mDNS group of `family` (`224.0.0.251:5353` or `[ff02::fb]:5353`), out of
    /// the named interface only.
    case multicast(interface: String, family: MDNSFamily)
    /// One address and port (a unicast reply, RFC 6762 §5.4 and §6.7), sent from port
    /// 5353 through the socket of the named interface and of the address's family.
    case unicast(SocketAddress, interface: String)
}
