public import NIOCore
public import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A datagram that a ``GroupSocket`` received.
public struct ReceivedDatagram: Sendable {
    /// The sender's address and port.
    public let source: SocketAddress
    /// The datagram's bytes.
    public let payload: ByteBuffer
}

/// A UDP socket for unicast, IP multicast and broadcast experiments.
///
/// ### Purpose
/// `GroupSocket` is the small, explicit form of every UDP feature Starling's
/// LAN discovery and group experiments need: bind, join and leave IPv4 and
/// IPv6 multicast groups on a named interface, for any source or for one
/// (``join(_:source:on:)``), choose the outgoing multicast interface, its TTL
/// (hop limit) and loopback, allow broadcast, send, and receive. It runs on a
/// SwiftNIO event loop.
///
/// ### Usage
/// ```swift
/// let eth0 = try InterfaceSelection.interface(named: "eth0")
/// let group = try SocketAddress(ipAddress: "239.255.77.1", port: 47001)
/// try await GroupSocket.withBound(to: try SocketAddress(ipAddress: "0.0.0.0", port: 47001)) { socket in
///     try await socket.join(group, on: eth0)
///     for try await datagram in socket.datagrams {
///         print(datagram.source, String(buffer: datagram.payload))
///     }
/// }
/// ```
///
/// The socket lives for the duration of the closure and is closed when it
/// returns or throws. Options apply to the socket's address family, which is
/// that of the bound address.
///
/// - Warning: ``datagrams`` can be iterated once. A multicast or broadcast
///   sent from the machine's own network namespace leaves the machine; tests
///   run them inside network namespaces only.
public struct GroupSocket: Sendable {
    /// The received datagrams, in arrival order; the sequence ends when the socket closes.
    public let datagrams: Datagrams

    /// The address and port the socket is bound to (the real port when bound to port 0).
    public let localAddress: SocketAddress

    private let channel: any Channel

    /// Binds a socket to `address`, runs `body` with it, then closes it.
    ///
    /// - Parameters:
    ///   - address: the local address, for example `0.0.0.0:47001` to receive
    ///     group datagrams and broadcasts for any address of this host, or `:0`
    ///     for an ephemeral port.
    ///   - reuseAddress: sets SO_REUSEADDR, so several sockets on this host can
    ///     bind the same group port.
    ///   - eventLoopGroup: the NIO event loop group to run on.
    ///   - body: the code that uses the socket.
    /// - Returns: what `body` returns.
    /// - Throws: NIO's `IOError` when the bind fails, or what `body` throws.
    @discardableResult
    public static func withBound<Result: Sendable>(
        to address: SocketAddress,
        reuseAddress: Bool = false,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (GroupSocket) async throws -> Result
    ) async throws -> Result {
        let asyncChannel = try await DatagramBootstrap(group: eventLoopGroup)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: reuseAddress ? 1 : 0)
            .bind(to: address) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, Never>(wrappingChannelSynchronously: channel)
                }
            }
        let channel = asyncChannel.channel
        return try await asyncChannel.executeThenClose { inbound in
            let socket = GroupSocket(
                datagrams: Datagrams(inbound: inbound),
                localAddress: channel.localAddress ?? address,
                channel: channel
            )
            return try await body(socket)
        }
    }

    /// Joins the multicast `group` on `interface`, so datagrams sent to it there are received.
    ///
    /// The kernel announces the join with IGMP (IPv4) or MLD (IPv6) on that interface.
    /// - Parameters:
    ///   - group: the group address (its port is ignored).
    ///   - interface: the interface to join on; see ``InterfaceSelection/interface(named:)``.
    /// - Throws: ``UDPError`` for a non-group address, an address family that differs
    ///   from the socket's, or an interface without multicast or without an address
    ///   of the group's family; NIO's errors when the kernel refuses.
    public func join(_ group: SocketAddress, on interface: NetworkInterface) async throws {
        let device = try groupDevice(group, on: interface)
        try await multicastChannel().joinGroup(group, device: device).get()
    }

    /// Leaves the multicast `group` on `interface`.
    ///
    /// - Parameters:
    ///   - group: a group joined earlier with ``join(_:on:)``.
    ///   - interface: the interface it was joined on.
    /// - Throws: as ``join(_:on:)``; the kernel refuses to leave a group not joined.
    public func leave(_ group: SocketAddress, on interface: NetworkInterface) async throws {
        let device = try groupDevice(group, on: interface)
        try await multicastChannel().leaveGroup(group, device: device).get()
    }

    /// Sends multicast datagrams out of `interface` (IP_MULTICAST_IF / IPV6_MULTICAST_IF).
    ///
    /// Without it the kernel picks the interface from its routing table.
    /// - Parameter interface: the outgoing interface.
    /// - Throws: ``UDPError/interfaceHasNoIPv4Address(interface:)`` for an IPv4 socket
    ///   on an interface without one; NIO's errors when the kernel refuses.
    public func setMulticastInterface(_ interface: NetworkInterface) async throws {
        let options = try optionProvider()
        switch localAddress {
        case .v6:
            try await options.setIPv6MulticastIF(CUnsignedInt(interface.index)).get()
        default:
            guard let ipv4 = interface.ipv4, case .v4(let address) = ipv4.address else {
                throw UDPError.interfaceHasNoIPv4Address(interface: interface.name)
            }
            try await options.setIPMulticastIF(address.address.sin_addr).get()
        }
    }

    /// Sets how many routers a multicast datagram may cross (IPv4 TTL, IPv6 hop limit).
    ///
    /// The default, 1, keeps datagrams on the local link; raising it lets routers
    /// forward them further, which is what a LAN experiment usually must avoid.
    /// - Parameter hops: the TTL or hop limit, 0 to 255.
    /// - Throws: NIO's errors when the kernel refuses.
    public func setMulticastHopLimit(_ hops: UInt8) async throws {
        let options = try optionProvider()
        switch localAddress {
        case .v6: try await options.setIPv6MulticastHops(CInt(hops)).get()
        default: try await options.setIPMulticastTTL(CUnsignedChar(hops)).get()
        }
    }

    /// Sets whether this host's own group members receive the multicast datagrams it sends.
    ///
    /// - Parameter enabled: true (the kernel's default) to loop them back.
    /// - Throws: NIO's errors when the kernel refuses.
    public func setMulticastLoopback(_ enabled: Bool) async throws {
        let options = try optionProvider()
        switch localAddress {
        case .v6: try await options.setIPv6MulticastLoop(enabled ? 1 : 0).get()
        default: try await options.setIPMulticastLoop(enabled ? 1 : 0).get()
        }
    }

    /// Sets whether the socket receives datagrams for every group joined on this host,
    /// or only for the groups (and sources) it joined itself.
    ///
    /// Linux delivers a group datagram to every socket bound to the port whose address
    /// matches, including the wildcard, once any socket of the host has joined the group
    /// (IP_MULTICAST_ALL / IPV6_MULTICAST_ALL, on by default). Turned off, a socket sees
    /// only its own memberships, and a source-specific join filters by source as it says.
    /// - Parameter enabled: false to receive only the socket's own groups.
    /// - Throws: NIO's errors when the kernel refuses (a kernel older than 4.20 has no
    ///   IPV6_MULTICAST_ALL).
    public func setReceivesAllGroups(_ enabled: Bool) async throws {
        let options = try optionProvider()
        let value: CInt = enabled ? 1 : 0
        switch localAddress {
        case .v6:
            try await options.unsafeSetSocketOption(
                level: .ipv6, name: NIOBSDSocket.Option(rawValue: CInt(IPV6_MULTICAST_ALL)), value: value
            ).get()
        default:
            try await options.unsafeSetSocketOption(
                level: .ip, name: NIOBSDSocket.Option(rawValue: CInt(IP_MULTICAST_ALL)), value: value
            ).get()
        }
    }

    /// Allows or forbids sending to broadcast addresses (SO_BROADCAST, IPv4 only).
    ///
    /// Without it the kernel refuses sends to a broadcast address with EACCES.
    /// - Parameter enabled: whether broadcasts may be sent.
    /// - Throws: NIO's errors when the kernel refuses.
    public func setBroadcast(_ enabled: Bool) async throws {
        try await channel.setOption(ChannelOptions.socketOption(.so_broadcast), value: enabled ? 1 : 0).get()
    }

    /// Sends one datagram to `destination`: a unicast address, a multicast group or a broadcast address.
    ///
    /// - Parameters:
    ///   - payload: the datagram's bytes.
    ///   - destination: where to send it.
    /// - Throws: NIO's `IOError` when the kernel refuses the send (EACCES for a
    ///   broadcast without ``setBroadcast(_:)``, ENETUNREACH without a route).
    public func send(_ payload: ByteBuffer, to destination: SocketAddress) async throws {
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: payload)).get()
    }

    // MARK: - Internals

    private func groupDevice(_ group: SocketAddress, on interface: NetworkInterface) throws -> NIONetworkDevice {
        guard group.isMulticast else { throw UDPError.notMulticastAddress(group) }
        guard group.protocol == localAddress.protocol else {
            throw UDPError.addressFamilyMismatch(socket: localAddress, other: group)
        }
        guard interface.supportsMulticast else {
            throw UDPError.interfaceNotMulticastCapable(interface: interface.name)
        }
        if case .v6 = group {
            guard let ipv6 = interface.ipv6 else { throw UDPError.interfaceHasNoIPv6Address(interface: interface.name) }
            return ipv6.device
        }
        guard let ipv4 = interface.ipv4 else { throw UDPError.interfaceHasNoIPv4Address(interface: interface.name) }
        return ipv4.device
    }

    private func multicastChannel() throws -> any MulticastChannel {
        guard let multicast = channel as? any MulticastChannel else { throw ChannelError.operationUnsupported }
        return multicast
    }

    /// The channel's socket options, for the option setters here and in extensions.
    func optionProvider() throws -> any SocketOptionProvider {
        guard let options = channel as? any SocketOptionProvider else { throw ChannelError.operationUnsupported }
        return options
    }
}

extension GroupSocket {
    /// The datagrams a ``GroupSocket`` receives, as an asynchronous sequence.
    public struct Datagrams: AsyncSequence, Sendable {
        public typealias Element = ReceivedDatagram

        fileprivate let inbound: NIOAsyncChannelInboundStream<AddressedEnvelope<ByteBuffer>>

        /// Creates the iterator; only one may be created.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: inbound.makeAsyncIterator())
        }

        /// Iterates the received datagrams.
        public struct AsyncIterator: AsyncIteratorProtocol {
            fileprivate var base: NIOAsyncChannelInboundStream<AddressedEnvelope<ByteBuffer>>.AsyncIterator

            /// The next datagram, or nil when the socket has closed.
            /// - Throws: an error the socket reported while reading.
            public mutating func next() async throws -> ReceivedDatagram? {
                guard let envelope = try await base.next() else { return nil }
                return ReceivedDatagram(source: envelope.remoteAddress, payload: envelope.data)
            }
        }
    }
}
