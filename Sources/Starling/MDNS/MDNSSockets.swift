public import NIOCore
public import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The UDP sockets of an mDNS responder or browser: port 5353, IPv4 and IPv6, on the
/// interfaces the user names; raw bytes in and out, no DNS.
///
/// ### Purpose
/// An mDNS core (sans-I/O, in StarlingCore) decides what to send and when; these sockets
/// only carry its datagrams. For each named interface and chosen family there is one
/// socket, bound to `0.0.0.0:5353` or `[::]:5353` (`IPV6_V6ONLY`) with `SO_REUSEADDR` and
/// `SO_REUSEPORT` (so avahi-daemon and other responders keep working beside it), bound to
/// the interface with `SO_BINDTODEVICE`, and joined to `224.0.0.251` / `ff02::fb` on it
/// by interface index. Multicast leaves through the socket's interface with TTL / hop
/// limit 255 and loops back to this host's mDNS sockets (the core drops its own).
///
/// ### Receiving
/// Every datagram that arrives on a named interface (multicast or unicast to port 5353)
/// is handed to `onDatagram` on ``eventLoop``, with its source address and port, its
/// destination (group or unicast, from `IP_PKTINFO` / `IPV6_RECVPKTINFO`) and the
/// interface and family it came in on. Because each socket is bound to its interface,
/// the kernel never delivers traffic of an interface not named; a datagram whose packet
/// information still names another interface is dropped and counted in
/// ``foreignInterfaceDrops``. `onReadComplete` marks the end of each batch of reads
/// (NIO's `channelReadComplete`): the place to drain the core's transmit queue.
///
/// ### Usage
/// ```swift
/// let sockets = try await MDNSSockets.open(MDNSSocketsConfiguration(interfaces: ["enp3s0"]), on: group) { datagram in
///     core.handleDatagram(datagram.bytes, from: datagram.source, on: datagram.endpoint, now: now)
/// }
/// try await sockets.send(query, to: .multicast(interface: "enp3s0", family: .ipv4)).get()
/// await sockets.close()
/// ```
///
/// ### Sharing port 5353
/// Multicast reaches every mDNS socket on the host. A *unicast* datagram to port 5353
/// reaches only one socket (RFC 6762 §15): Linux prefers a socket bound to the arrival
/// device, so on the named interfaces these sockets take unicast (QU replies, direct
/// queries) that an avahi-daemon on the same host would otherwise get; two
/// `MDNSSockets` on one interface share it by `SO_REUSEPORT` hashing. Starling's
/// responder therefore defends its names against probes by multicast, which every
/// socket hears. Keep Starling's responder and avahi in different namespaces when
/// unicast matters.
///
/// ### Interfaces that change
/// The sockets are bound to interface indexes at ``open(_:on:onReadComplete:onDatagram:)``.
/// An interface that is deleted and re-created (a new index) or that gains its first
/// address of a family needs the sockets closed and opened again.
///
/// - Warning: multicast leaves the machine onto the named interfaces' networks.
public final class MDNSSockets: Sendable {
    /// The settings the sockets were opened with.
    public let configuration: MDNSSocketsConfiguration
    /// The event loop every socket runs on; `onDatagram` and `onReadComplete` run here.
    public let eventLoop: any EventLoop
    /// The sockets' interfaces and families, in the configuration's interface order.
    public let endpoints: [MDNSEndpoint]

    private let channels: [Key: any Channel]
    private let inbox: Inbox
    private let isClosed = Atomic<Bool>(false)

    /// A socket's key: an interface name and a family.
    private struct Key: Hashable {
        let interface: String
        let family: MDNSFamily
    }

    /// What the readers of all sockets share: the callbacks and the counters.
    fileprivate final class Inbox: Sendable {
        let onDatagram: @Sendable (MDNSDatagram) -> Void
        let onReadComplete: (@Sendable () -> Void)?
        let foreignDrops = Atomic<Int>(0)
        let readErrors = Atomic<Int>(0)

        init(onDatagram: @escaping @Sendable (MDNSDatagram) -> Void, onReadComplete: (@Sendable () -> Void)?) {
            self.onDatagram = onDatagram
            self.onReadComplete = onReadComplete
        }
    }

    private init(
        configuration: MDNSSocketsConfiguration, eventLoop: any EventLoop, channels: [(MDNSEndpoint, any Channel)],
        inbox: Inbox
    ) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.endpoints = channels.map(\.0)
        self.channels = Dictionary(
            uniqueKeysWithValues: channels.map { (Key(interface: $0.0.interface.name, family: $0.0.family), $0.1) })
        self.inbox = inbox
    }

    // MARK: Getters

    /// How many datagrams were dropped because their packet information named an
    /// interface other than their socket's (normally none: the kernel filters by device).
    public var foreignInterfaceDrops: Int { inbox.foreignDrops.load(ordering: .relaxed) }

    /// How many read errors the sockets reported (they stay open).
    public var readErrors: Int { inbox.readErrors.load(ordering: .relaxed) }

    /// The interfaces the sockets run on, in the configuration's order.
    public var interfaces: [MDNSInterface] {
        var seen: Set<MDNSInterface> = []
        return endpoints.map(\.interface).filter { seen.insert($0).inserted }
    }

    // MARK: Commands

    /// Looks the interfaces up, opens, binds and joins one socket per interface and
    /// family, and starts reading.
    ///
    /// - Parameters:
    ///   - configuration: the interfaces and families; checked here.
    ///   - group: the event loop group; all sockets run on one of its loops.
    ///   - onReadComplete: called on the event loop after each batch of datagrams.
    ///   - onDatagram: called on the event loop with every datagram that arrives on a
    ///     named interface, possibly before `open` returns; it must not block.
    /// - Returns: the open sockets.
    /// - Throws: ``MDNSSocketsError``: a bad configuration, an interface that does not
    ///   exist or lacks the MULTICAST flag or an address of a chosen family, or a failed
    ///   system call. Nothing stays open when it throws.
    public static func open(
        _ configuration: MDNSSocketsConfiguration,
        on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onReadComplete: (@Sendable () -> Void)? = nil,
        onDatagram: @escaping @Sendable (MDNSDatagram) -> Void
    ) async throws(MDNSSocketsError) -> MDNSSockets {
        try configuration.validate()
        let sockets = try await MDNSSocketOpener.open(configuration)
        let eventLoop = group.next()
        let inbox = Inbox(onDatagram: onDatagram, onReadComplete: onReadComplete)
        var channels: [(MDNSEndpoint, any Channel)] = []
        var handedToNIO = 0
        do {
            for socket in sockets {
                // From here on NIO owns the descriptor, whether adoption succeeds or not.
                handedToNIO += 1
                let channel = try await adopt(socket, on: eventLoop, inbox: inbox)
                channels.append((socket.endpoint, channel))
                try await configureMulticast(channel, socket, loopback: configuration.multicastLoopback)
            }
        } catch {
            for socket in sockets.dropFirst(handedToNIO) { _ = Glibc.close(socket.descriptor) }
            for (_, channel) in channels { try? await channel.close() }
            throw error
        }
        return MDNSSockets(configuration: configuration, eventLoop: eventLoop, channels: channels, inbox: inbox)
    }

    /// Sends one datagram from port 5353.
    ///
    /// - Parameters:
    ///   - bytes: the UDP payload (a DNS message of at most
    ///     ``MDNSSocketConstants/maximumMessageSize`` bytes with headers; not checked here).
    ///   - destination: the group on one interface, or one unicast address through one
    ///     interface's socket.
    /// - Returns: a future that succeeds once the kernel took the datagram, or fails with
    ///   ``MDNSSocketsError/closed``, ``MDNSSocketsError/notOpen(interface:family:)``,
    ///   ``MDNSSocketsError/familyMismatch(destination:family:)`` or NIO's error for a
    ///   refused send.
    @discardableResult
    public func send(_ bytes: ByteBuffer, to destination: MDNSDestination) -> EventLoopFuture<Void> {
        guard !isClosed.load(ordering: .acquiring) else { return eventLoop.makeFailedFuture(MDNSSocketsError.closed) }
        let key: Key
        let address: SocketAddress
        switch destination {
        case .multicast(let interface, let family):
            key = Key(interface: interface, family: family)
            address = family == .ipv4 ? Self.ipv4Group : Self.ipv6Group
        case .unicast(let unicast, let interface):
            switch unicast {
            case .v4: key = Key(interface: interface, family: .ipv4)
            case .v6: key = Key(interface: interface, family: .ipv6)
            case .unixDomainSocket:
                return eventLoop.makeFailedFuture(
                    MDNSSocketsError.familyMismatch(destination: "\(unicast)", family: .ipv4))
            }
            address = unicast
        }
        guard let channel = channels[key] else {
            return eventLoop.makeFailedFuture(MDNSSocketsError.notOpen(interface: key.interface, family: key.family))
        }
        return channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: bytes))
    }

    /// Closes every socket (which leaves the groups); sends fail with
    /// ``MDNSSocketsError/closed`` from the start of the call. Calling it again does no harm.
    public func close() async {
        isClosed.store(true, ordering: .releasing)
        for channel in channels.values {
            try? await channel.close()
            try? await channel.closeFuture.get()
        }
    }

    // MARK: Internals

    /// `224.0.0.251:5353`.
    static let ipv4Group: SocketAddress = {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = MDNSSocketConstants.port.bigEndian
        address.sin_addr = in_addr(s_addr: MDNSSocketConstants.ipv4Group.bigEndian)
        return SocketAddress(address, host: "224.0.0.251")
    }()

    /// `[ff02::fb]:5353`.
    static let ipv6Group: SocketAddress = {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = MDNSSocketConstants.port.bigEndian
        withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: MDNSSocketConstants.ipv6Group) }
        return SocketAddress(address, host: "ff02::fb")
    }()

    /// Hands `socket` to NIO on `eventLoop`, with packet information on and room for the
    /// largest mDNS message, reading into `inbox`.
    private static func adopt(
        _ socket: MDNSOpenedSocket, on eventLoop: any EventLoop, inbox: Inbox
    ) async throws(MDNSSocketsError) -> any Channel {
        let endpoint = socket.endpoint
        do {
            return try await DatagramBootstrap(group: eventLoop)
                .channelOption(.receivePacketInfo, value: true)
                .channelOption(
                    .recvAllocator,
                    value: FixedSizeRecvByteBufferAllocator(capacity: MDNSSocketConstants.receiveBufferSize)
                )
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(MDNSReader(endpoint: endpoint, inbox: inbox))
                    }
                }
                .withBoundSocket(socket.descriptor).get()
        } catch {
            throw .socket(operation: "adopting the \(endpoint) socket", reason: "\(error)")
        }
    }

    /// Sets the outgoing interface, TTL / hop limit 255 and the loop flag through NIO.
    private static func configureMulticast(
        _ channel: any Channel, _ socket: MDNSOpenedSocket, loopback: Bool
    ) async throws(MDNSSocketsError) {
        guard let provider = channel as? any SocketOptionProvider else {
            throw .socket(operation: "configuring the \(socket.endpoint) socket", reason: "no socket options")
        }
        do {
            switch socket.endpoint.family {
            case .ipv4:
                try await provider.setIPMulticastIF(in_addr(s_addr: socket.ipv4Address)).get()
                try await provider.setIPMulticastTTL(CUnsignedChar(MDNSSocketConstants.hopLimit)).get()
                try await provider.setIPMulticastLoop(loopback ? 1 : 0).get()
            case .ipv6:
                try await provider.setIPv6MulticastIF(CUnsignedInt(socket.endpoint.interface.index)).get()
                try await provider.setIPv6MulticastHops(CInt(MDNSSocketConstants.hopLimit)).get()
                try await provider.setIPv6MulticastLoop(loopback ? 1 : 0).get()
            }
        } catch {
            throw .socket(
                operation: "setting the multicast options of the \(socket.endpoint) socket", reason: "\(error)")
        }
    }

    /// Passes what one socket reads to the shared inbox; on the event loop.
    private final class MDNSReader: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>

        let endpoint: MDNSEndpoint
        let inbox: Inbox

        init(endpoint: MDNSEndpoint, inbox: Inbox) {
            self.endpoint = endpoint
            self.inbox = inbox
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            let information = envelope.metadata?.packetInfo
            if let information, information.interfaceIndex != endpoint.interface.index {
                inbox.foreignDrops.add(1, ordering: .relaxed)
                return
            }
            inbox.onDatagram(
                MDNSDatagram(
                    bytes: envelope.data, source: envelope.remoteAddress,
                    destination: information?.destinationAddress, endpoint: endpoint))
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            inbox.onReadComplete?()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A datagram socket survives a failed read; count it and keep reading.
            inbox.readErrors.add(1, ordering: .relaxed)
        }
    }
}
