public import NIOCore
public import NIOPosix
public import StarlingCore

/// An established, encrypted Starling stream over TCP, for messages too large for a
/// datagram.
///
/// ### Purpose
/// A connection is made by ``connect(to:identity:expecting:configuration:eventLoopGroup:)``
/// or accepted by a ``StreamListener``; either returns it only once the handshake has
/// proven ``remotePeer``. It carries whole messages of up to
/// ``StreamConfiguration/maximumMessageSize`` bytes each way, encrypted and
/// authenticated (see ``StarlingCore/StreamSession`` for the protocol).
///
/// ### Usage
/// ```swift
/// let connection = try await StreamConnection.connect(
///     to: address, identity: me, expecting: peer, configuration: .lan)
/// try await connection.send(bigPayload)
/// for try await message in connection.messages { … }
/// await connection.close()
/// ```
///
/// - Warning: ``messages`` can be iterated once. ``send(_:)`` may be called from several
///   tasks; messages then go out in the order their calls reached the event loop. A
///   connection stays open until either side closes it or it fails: call ``close()``
///   when done (dropping the object does not close the socket).
public final class StreamConnection: Sendable {
    /// The peer the handshake proved, by its identity key.
    public let remotePeer: PeerID
    /// The local address and port of the TCP connection.
    public let localAddress: SocketAddress?
    /// The remote address and port of the TCP connection.
    public let remoteAddress: SocketAddress?
    /// The received messages; see ``StreamMessages``.
    public let messages: StreamMessages

    private let channel: any Channel
    private let handler: NIOLoopBound<StreamSessionHandler>

    private init(_ attached: Attached, peer: PeerID) {
        channel = attached.channel
        handler = attached.handler
        remotePeer = peer
        messages = StreamMessages(base: attached.messages)
        localAddress = channel.localAddress
        remoteAddress = channel.remoteAddress
    }

    /// Connects to `address` and runs the handshake as initiator.
    ///
    /// - Parameters:
    ///   - address: the listener's address and port.
    ///   - identity: this peer's identity.
    ///   - peer: the peer expected to answer, if known; another peer fails the handshake
    ///     with ``StarlingCore/StreamError/unexpectedPeer(expected:actual:)``.
    ///   - configuration: swarm, limits and timeouts; the connect and handshake timeouts
    ///     apply one after the other.
    ///   - eventLoopGroup: the group to run on: the application's own, or the shared
    ///     singleton.
    /// - Returns: the established connection.
    /// - Throws: ``StreamConnectionError/connectFailed(reason:)`` (for example a refused
    ///   connection), ``StreamConnectionError/connectTimedOut``,
    ///   ``StreamConnectionError/handshakeTimedOut``, ``StreamConnectionError/stream(_:)``
    ///   for a failed handshake, or ``StreamConnectionError/invalidConfiguration(_:)``.
    public static func connect(
        to address: SocketAddress, identity: IdentityKeyPair, expecting peer: PeerID? = nil,
        configuration: StreamConfiguration = .lan,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(StreamConnectionError) -> StreamConnection {
        do {
            try configuration.validate()
        } catch {
            throw .invalidConfiguration(error)
        }
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: waterMark(configuration))
            .channelOption(.recvAllocator, value: receiveAllocator)
        let attached: Attached
        do {
            attached = try await bootstrap.connect(to: address) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try attach(
                        to: channel, role: .initiator(expecting: peer), identity: identity,
                        configuration: configuration)
                }
            }
        } catch {
            throw StreamConnectionError(connecting: error)
        }
        do {
            let peer = try await attached.established.get()
            return StreamConnection(attached, peer: peer)
        } catch {
            attached.channel.close(promise: nil)
            throw StreamConnectionError(lost: error)
        }
    }

    /// Sends one message and waits until its last byte is written to the socket.
    ///
    /// Waiting is the back-pressure: a slow peer or network slows the sender instead of
    /// growing memory.
    /// - Parameter message: the message, of up to ``StreamConfiguration/maximumMessageSize`` bytes.
    /// - Throws: ``StreamConnectionError/stream(_:)`` with
    ///   ``StarlingCore/StreamError/payloadTooLarge(size:maximum:)`` or
    ///   ``StarlingCore/StreamError/closed``, the error the connection failed with, or
    ///   ``StreamConnectionError/connectionLost(reason:)``.
    public func send(_ message: [UInt8]) async throws(StreamConnectionError) {
        let handler = self.handler
        do {
            try await channel.eventLoop.flatSubmit { handler.value.send(message) }.get()
        } catch {
            throw StreamConnectionError(lost: error)
        }
    }

    /// Closes the connection and waits until it is closed.
    ///
    /// Sends this side's close record after every message already passed to
    /// ``send(_:)``, then waits for the peer's close record (a Starling peer answers at
    /// once) for at most ``StreamConfiguration/closeTimeout``. ``messages`` then
    /// finishes; messages that arrive after this call are discarded. Calling it again,
    /// or after the peer closed, only waits.
    public func close() async {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.requestClose() }
        try? await channel.closeFuture.get()
    }

    // MARK: Shared with StreamListener

    /// A channel with its stream handler, as the bootstrap hands it over.
    struct Attached: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<StreamSessionHandler>
        let established: EventLoopFuture<PeerID>
        let messages: StreamSessionHandler.Producer
    }

    /// Adds a handler running a fresh session to `channel`; call on its event loop.
    /// - Returns: the channel and its handler.
    static func attach(
        to channel: any Channel, role: StreamSession.Role, identity: IdentityKeyPair,
        configuration: StreamConfiguration
    ) throws -> Attached {
        var random = SecureRandom()
        let session = try StreamSession(
            role: role, identity: identity, configuration: configuration.session,
            maximumMessageSize: configuration.maximumMessageSize, wallClock: SystemClock.wallNow(), random: &random)
        let handler = StreamSessionHandler(session: session, configuration: configuration, eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.addHandler(handler)
        return Attached(
            channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop),
            established: handler.established, messages: handler.messages)
    }

    /// Wraps an attached channel once its handshake has proven `peer`.
    static func wrap(_ attached: Attached, peer: PeerID) -> StreamConnection {
        StreamConnection(attached, peer: peer)
    }

    /// The write-buffer water marks: pause sealing above four write chunks, resume below one.
    static func waterMark(_ configuration: StreamConfiguration) -> ChannelOptions.Types.WriteBufferWaterMark {
        let chunk = max(configuration.writeChunkSize, StreamConstants.minimumTransmitBuffer)
        return .init(low: chunk, high: 4 * chunk)
    }

    /// Reads of up to 1 MiB, adapting down for slow streams.
    static var receiveAllocator: AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 64 * 1024, maximum: 1024 * 1024)
    }
}
