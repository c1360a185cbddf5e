import Logging
import NIOCore
import StarlingCore
import StarlingIO
import Synchronization

/// The TCP side of a ``Peer``: one listener on the peer's port, at most one stream in
/// use per remote peer, and the bytes that move on them.
///
/// ### Purpose
/// The hub does only I/O: it dials and accepts stream connections, names each with a
/// ``StarlingCore/StreamID``, and tells the peer's core (on the peer's event loop,
/// through ``PeerLoop``) when a stream opens, what messages arrive on it and when it
/// ends. What to send, which requests wait until when, and what the messages mean is
/// decided by the core's ``StarlingCore/StreamCalls``; the loop hands the core's stream
/// transmits back to ``enqueue(_:)``, and one writer task per stream sends them in order.
///
/// Streams are made on demand (the first message or large request to a peer) and kept
/// until the core closes them (idle, or the peer does not read its answers; see
/// ``StarlingCore/StreamLimits``) or shutdown; a stream the other side opened is used in
/// both directions. A stream whose write fails is closed, which fails the requests
/// waiting on it as unreachable. Each write the core queued is reported back once
/// written (or dropped), so the core counts what is still unsent.
actor StreamHub {
    let identity: IdentityKeyPair
    let configuration: StreamConfiguration
    let group: any EventLoopGroup
    /// The listener, or nil when the peer does not accept streams.
    let listener: StreamListener?
    /// The peer's loop-side state, whose core the hub tells what happens on the streams.
    let loop: NIOLoopBound<PeerLoop>
    /// The peer's logger: streams that open, fail or are refused, at `debug`.
    let logger: Logger

    private var byPeer: [PeerID: StreamID] = [:]
    private var dialing: [PeerID: Task<Result<StreamConnection, PeerError>, Never>] = [:]
    private var open: [StreamID: StreamConnection] = [:]
    /// The ID of each open connection, to adopt a dialled connection once however many
    /// callers waited for it.
    private var adopted: [ObjectIdentifier: StreamID] = [:]
    private var readers: [StreamID: Task<Void, Never>] = [:]
    private var writerTasks: [StreamID: Task<Void, Never>] = [:]
    /// Each open stream's queue of messages to send; written from the event loop.
    private nonisolated let writers = Mutex<[StreamID: AsyncStream<[UInt8]>.Continuation]>([:])
    private var nextStreamID: UInt64 = 0
    private var acceptor: Task<Void, Never>?
    private var isClosed = false

    init(
        identity: IdentityKeyPair, configuration: StreamConfiguration, group: any EventLoopGroup,
        listener: StreamListener?, loop: NIOLoopBound<PeerLoop>, logger: Logger
    ) {
        self.logger = logger
        self.identity = identity
        self.configuration = configuration
        self.group = group
        self.listener = listener
        self.loop = loop
    }

    /// Starts taking the listener's connections.
    func start() {
        guard let listener else { return }
        let logger = self.logger
        acceptor = Task {
            await withTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    for await rejection in listener.rejections {
                        logger.debug("incoming stream refused", metadata: ["reason": "\(rejection)"])
                    }
                }
                for await connection in listener.connections { self.adopt(connection) }
                tasks.cancelAll()
            }
        }
    }

    // MARK: Sending

    /// Sends `payload` to `peer` as one reliable message, waiting until the stream took it.
    /// - Throws: ``PeerError/payloadTooLarge(size:maximum:)``, ``PeerError/stream(_:)``,
    ///   ``PeerError/session(_:)`` (no session and no stream), ``PeerError/shutDown``.
    func send(_ payload: [UInt8], to peer: PeerID, at address: PeerAddress?) async throws(PeerError) {
        let message: [UInt8]
        do throws(RPCError) {
            message = try StreamCalls.message(payload, maximumMessageSize: configuration.maximumMessageSize)
        } catch {
            guard case .payloadTooLarge(let size, let maximum) = error else { throw .request(error) }
            throw .payloadTooLarge(size: size, maximum: maximum)
        }
        let stream = try await stream(to: peer, at: address)
        guard let connection = open[stream] else { throw .request(.unreachable) }
        do throws(StreamConnectionError) {
            try await connection.send(message)
        } catch {
            throw .stream(error)
        }
    }

    /// Queues a message the core wants sent; dropped when its stream has ended.
    ///
    /// Called on the peer's event loop; never blocks.
    nonisolated func enqueue(_ transmit: StreamTransmit) {
        _ = writers.withLock { $0[transmit.stream]?.yield(transmit.bytes) }
    }

    /// The stream in use with `peer`, made (to `address`) when there is none.
    /// - Throws: ``PeerError/session(_:)`` when there is neither a stream nor an
    ///   address, ``PeerError/stream(_:)`` when dialling fails, ``PeerError/shutDown``.
    func stream(to peer: PeerID, at address: PeerAddress?) async throws(PeerError) -> StreamID {
        guard !isClosed else { throw .shutDown }
        if let existing = byPeer[peer] { return existing }
        let task: Task<Result<StreamConnection, PeerError>, Never>
        if let running = dialing[peer] {
            task = running
        } else {
            guard let address else { throw .session(.noSession(peer)) }
            let (identity, configuration, group) = (self.identity, self.configuration, self.group)
            task = Task {
                do throws(StreamConnectionError) {
                    return .success(
                        try await StreamConnection.connect(
                            to: SocketAddress(address), identity: identity, expecting: peer,
                            configuration: configuration, eventLoopGroup: group))
                } catch {
                    return .failure(.stream(error))
                }
            }
            dialing[peer] = task
        }
        let result = await task.value
        dialing[peer] = nil
        let connection = try result.get()
        guard !isClosed else { throw .shutDown }
        // Callers that waited for the same dial adopt it once.
        return adopted[ObjectIdentifier(connection)] ?? adopt(connection)
    }

    // MARK: Receiving

    /// Names a new stream, tells the core, makes it the one used with its peer, and
    /// starts reading and writing it.
    @discardableResult
    private func adopt(_ connection: StreamConnection) -> StreamID {
        let id = StreamID(rawValue: nextStreamID)
        nextStreamID += 1
        guard !isClosed else {
            Task { await connection.close() }
            return id
        }
        let peer = connection.remotePeer
        let logger = self.logger
        logger.debug("stream open", metadata: ["starling.remote": "\(peer)", "stream": "\(id.rawValue)"])
        open[id] = connection
        adopted[ObjectIdentifier(connection)] = id
        byPeer[peer] = id
        let loop = self.loop
        // Before anything else of this stream reaches the loop (its tasks run in order).
        loop.eventLoop.execute { loop.value.streamOpened(id, with: peer) }
        let (outgoing, continuation) = AsyncStream<[UInt8]>.makeStream()
        writers.withLock { $0[id] = continuation }
        writerTasks[id] = Task {
            for await message in outgoing {
                do throws(StreamConnectionError) {
                    try await connection.send(message)
                } catch {
                    logger.debug(
                        "stream write failed", metadata: ["starling.remote": "\(peer)", "error": "\(error)"])
                    // Its reader ends too, and the stream ends below.
                    await connection.close()
                    return
                }
                let count = message.count
                loop.eventLoop.execute { loop.value.streamWritten(id, count: count) }
            }
        }
        readers[id] = Task {
            do {
                for try await message in connection.messages {
                    // One message at a time: a slow loop slows the reader, not memory.
                    try? await loop.eventLoop.submit { loop.value.streamMessage(message, on: id) }.get()
                }
            } catch {
                // The stream failed; it ends below like a closed one.
                logger.debug("stream failed", metadata: ["starling.remote": "\(peer)", "error": "\(error)"])
            }
            loop.eventLoop.execute { loop.value.streamEnded(id) }
            self.ended(id)
        }
        return id
    }

    /// Closes a stream the core refused (too many open) or asked to close (idle, or
    /// its peer does not read its answers).
    func refuse(_ id: StreamID) async {
        await open[id]?.close()
    }

    /// Forgets a stream that ended.
    private func ended(_ id: StreamID) {
        guard let connection = open.removeValue(forKey: id) else { return }
        adopted[ObjectIdentifier(connection)] = nil
        readers[id] = nil
        if byPeer[connection.remotePeer] == id { byPeer[connection.remotePeer] = nil }
        writers.withLock { $0.removeValue(forKey: id) }?.finish()
        writerTasks.removeValue(forKey: id)?.cancel()
        Task { await connection.close() }
    }

    // MARK: Shutdown

    /// Closes the listener and every stream. (The peer's loop fails the waiting
    /// requests itself.)
    func close() async {
        guard !isClosed else { return }
        isClosed = true
        acceptor?.cancel()
        await listener?.close()
        for connection in open.values { await connection.close() }
        for reader in readers.values { await reader.value }
    }
}
