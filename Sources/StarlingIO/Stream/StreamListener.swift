public import NIOCore
public import NIOPosix
public import StarlingCore
import Synchronization

/// Listens for Starling streams on a TCP address and hands out each connection once its
/// handshake has completed.
///
/// ### Purpose
/// The listener accepts TCP connections, runs each one's handshake as responder (at
/// most ``StreamConfiguration/maximumPendingHandshakes`` at once; more are closed at
/// once), and delivers the established ones through ``connections``. A connection
/// whose handshake fails is closed and its error reported through ``rejections`` and
/// counted in ``statistics``. In a private swarm a connection whose first frame lacks a
/// valid swarm MAC, or carries a time too far from the listener's, gets no byte back
/// (``StarlingCore/StreamError/invalidMAC``, ``StarlingCore/StreamError/staleOpening``).
///
/// ### Usage
/// ```swift
/// let listener = try await StreamListener.bind(
///     to: try SocketAddress(ipAddress: "127.0.0.1", port: 0), identity: me)
/// print("listening on", listener.localAddress)
/// for await connection in listener.connections {
///     Task { for try await message in connection.messages { … } }
/// }
/// ```
///
/// - Warning: ``connections`` and ``rejections`` can each be iterated once. Closing the
///   listener leaves connections already handed out open.
public final class StreamListener: Sendable {
    /// The address and port the listener is bound to (the real port when bound to port 0).
    public let localAddress: SocketAddress
    /// Established inbound connections, in the order their handshakes completed; finishes
    /// when the listener closes. At most ``StreamConfiguration/acceptQueueLength`` wait
    /// here; further ones are closed.
    public let connections: AsyncStream<StreamConnection>
    /// Why inbound handshakes failed (wrong swarm, timeout, …), newest 16 kept; finishes
    /// when the listener closes.
    public let rejections: AsyncStream<StreamConnectionError>

    /// How many inbound handshakes completed and failed so far, with the connections a
    /// private swarm refused without answering (``StreamListenerStatistics/invalidMAC``,
    /// ``StreamListenerStatistics/staleOpening``) counted apart.
    public var statistics: StreamListenerStatistics { counters.snapshot }

    private let channel: any Channel
    private let counters: StreamListenerCounters

    private init(
        channel: any Channel, localAddress: SocketAddress, connections: AsyncStream<StreamConnection>,
        rejections: AsyncStream<StreamConnectionError>, counters: StreamListenerCounters
    ) {
        self.channel = channel
        self.counters = counters
        self.localAddress = localAddress
        self.connections = connections
        self.rejections = rejections
    }

    /// Binds a listening socket to `address` and starts accepting.
    ///
    /// - Parameters:
    ///   - address: the local address, for example `127.0.0.1` with port 0 for an
    ///     ephemeral port.
    ///   - identity: this peer's identity, proven to every connecting peer.
    ///   - configuration: swarm, limits, timeouts, the backlog and the queue bounds.
    ///   - eventLoopGroup: the group to run on: the application's own, or the shared
    ///     singleton. Each connection runs on one of its loops.
    /// - Returns: the listener, already accepting.
    /// - Throws: ``StreamConnectionError/bindFailed(reason:)`` when the address cannot
    ///   be bound, or ``StreamConnectionError/invalidConfiguration(_:)``.
    public static func bind(
        to address: SocketAddress, identity: IdentityKeyPair, configuration: StreamConfiguration = .lan,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(StreamConnectionError) -> StreamListener {
        do {
            try configuration.validate()
        } catch {
            throw .invalidConfiguration(error)
        }
        let (connections, accepted) = AsyncStream.makeStream(
            of: StreamConnection.self, bufferingPolicy: .bufferingOldest(configuration.acceptQueueLength))
        let (rejections, rejected) = AsyncStream.makeStream(
            of: StreamConnectionError.self, bufferingPolicy: .bufferingNewest(16))
        let slots = HandshakeSlots(limit: configuration.maximumPendingHandshakes)
        let counters = StreamListenerCounters()
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: configuration.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: StreamConnection.waterMark(configuration))
            .childChannelOption(.recvAllocator, value: StreamConnection.receiveAllocator)
            .childChannelInitializer { channel in
                guard slots.take() else {
                    return channel.eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
                }
                let attached: StreamConnection.Attached
                do {
                    attached = try StreamConnection.attach(
                        to: channel, role: .responder, identity: identity, configuration: configuration)
                } catch {
                    slots.release()
                    return channel.eventLoop.makeFailedFuture(error)
                }
                attached.established.whenComplete { result in
                    slots.release()
                    switch result {
                    case .success(let peer):
                        counters.count(nil)
                        let connection = StreamConnection.wrap(attached, peer: peer)
                        // A full queue: the application is not keeping up; refuse this one.
                        if case .enqueued = accepted.yield(connection) { return }
                        channel.close(promise: nil)
                    case .failure(let error):
                        let rejection = StreamConnectionError(lost: error)
                        counters.count(rejection)
                        rejected.yield(rejection)
                    }
                }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(to: address).get()
        } catch {
            accepted.finish()
            rejected.finish()
            throw .bindFailed(reason: "\(error)")
        }
        channel.closeFuture.whenComplete { _ in
            accepted.finish()
            rejected.finish()
        }
        return StreamListener(
            channel: channel, localAddress: channel.localAddress ?? address, connections: connections,
            rejections: rejections, counters: counters)
    }

    /// The backlog the listening socket was given, read back from its channel.
    /// - Returns: the backlog passed to `listen(2)` (the kernel may cap it further at
    ///   `net.core.somaxconn`).
    /// - Throws: NIO's `ChannelError` when the listener is closed.
    public func backlog() async throws -> Int32 {
        try await channel.getOption(.backlog).get()
    }

    /// Stops accepting and closes the listening socket; ``connections`` and
    /// ``rejections`` finish. Connections already handed out stay open.
    public func close() async {
        try? await channel.close()
    }
}

/// Counts the inbound connections in their handshake, up to a limit.
final class HandshakeSlots: Sendable {
    private let count = Mutex(0)
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot; false when all are taken.
    func take() -> Bool {
        count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    /// Gives back a slot taken by ``take()``.
    func release() {
        count.withLock { $0 -= 1 }
    }
}
