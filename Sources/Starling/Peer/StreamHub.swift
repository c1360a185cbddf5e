import NIOCore
import StarlingCore
import StarlingIO

/// The TCP side of a ``Peer``: one listener on the peer's port, at most one stream in
/// use per remote peer, and messages and requests too large for a datagram.
///
/// ### Protocol
/// A stream message is an RPC-channel message (see docs/PROTOCOL.md, "Request/response"
/// and "Streams"): channel `0x00` carries a message (the rest is its payload), `0x01` a
/// request and `0x02` a response, in the datagram encodings, limited by the stream's
/// maximum message size instead of a datagram's. A stream is reliable and ordered, so a
/// request is sent once and its handler runs once; a stream that ends fails the
/// requests waiting on it as unreachable.
///
/// Streams are made on demand (the first message or large request to a peer) and kept
/// until shutdown; a stream the other side opened is used in both directions.
actor StreamHub {
    typealias Handler = PeerLoop.Handler

    /// A request sent on a stream, waiting for its response.
    struct Waiting {
        let connection: ObjectIdentifier
        let method: String
        let continuation: CheckedContinuation<Result<[UInt8], PeerError>, Never>
        let timer: Task<Void, Never>
    }

    let identity: IdentityKeyPair
    let configuration: StreamConfiguration
    let group: any EventLoopGroup
    /// The listener, or nil when the peer does not accept streams.
    let listener: StreamListener?
    let events: AsyncStream<Peer.Event>.Continuation
    let lookup: @Sendable (String) async -> Handler?

    private var byPeer: [PeerID: StreamConnection] = [:]
    private var dialing: [PeerID: Task<Result<StreamConnection, PeerError>, Never>] = [:]
    private var open: [ObjectIdentifier: StreamConnection] = [:]
    private var readers: [ObjectIdentifier: Task<Void, Never>] = [:]
    private var waiting: [UInt64: Waiting] = [:]
    private var nextRequestID: UInt64
    private var acceptor: Task<Void, Never>?
    private var isClosed = false
    /// Authenticated stream messages that were not valid messages, requests or responses.
    private(set) var droppedMessages = 0

    init(
        identity: IdentityKeyPair, configuration: StreamConfiguration, group: any EventLoopGroup,
        listener: StreamListener?, events: AsyncStream<Peer.Event>.Continuation,
        lookup: @escaping @Sendable (String) async -> Handler?
    ) {
        self.identity = identity
        self.configuration = configuration
        self.group = group
        self.listener = listener
        self.events = events
        self.lookup = lookup
        let random = SecureRandom()
        nextRequestID = random.next()
    }

    /// Starts taking the listener's connections.
    func start() {
        guard let connections = listener?.connections else { return }
        acceptor = Task {
            for await connection in connections { self.adopt(connection) }
        }
    }

    // MARK: Sending

    /// Sends `payload` to `peer` as one reliable message.
    /// - Throws: ``PeerError/payloadTooLarge(size:maximum:)``, ``PeerError/stream(_:)``,
    ///   ``PeerError/session(_:)`` (no session and no stream), ``PeerError/shutDown``.
    func send(_ payload: [UInt8], to peer: PeerID, at address: PeerAddress?) async throws(PeerError) {
        let maximum = configuration.maximumMessageSize - 1
        guard payload.count <= maximum else { throw .payloadTooLarge(size: payload.count, maximum: maximum) }
        let connection = try await connection(to: peer, at: address)
        do throws(StreamConnectionError) {
            try await connection.send([RPCChannel.datagram.rawValue] + payload)
        } catch {
            throw .stream(error)
        }
    }

    /// Sends a request on the stream to `peer` and waits for its response.
    func request(
        _ method: String, _ payload: [UInt8], to peer: PeerID, at address: PeerAddress?, timeout: Duration
    ) async throws(PeerError) -> [UInt8] {
        guard RPCRequest.isValidMethod(method) else { throw .request(.invalidMethod(method)) }
        let maximum = configuration.maximumMessageSize - RPCConstants.requestFixedSize - method.utf8.count
        guard payload.count <= maximum else {
            throw .request(.payloadTooLarge(size: payload.count, maximum: maximum))
        }
        let connection = try await connection(to: peer, at: address)
        let id = nextRequestID
        nextRequestID &+= 1
        let message: [UInt8]
        do {
            message = try RPCRequest(id: id, method: method, payload: payload)
                .encoded(maximumSize: configuration.maximumMessageSize)
        } catch {
            preconditionFailure("a checked request failed to encode: \(error)")
        }
        let key = ObjectIdentifier(connection)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let timer = Task {
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    self.finish(id, .failure(.request(.timedOut)))
                }
                waiting[id] = Waiting(connection: key, method: method, continuation: continuation, timer: timer)
                Task {
                    do throws(StreamConnectionError) {
                        try await connection.send(message)
                    } catch {
                        self.finish(id, .failure(.stream(error)))
                    }
                }
            }
        } onCancel: {
            Task { await self.finish(id, .failure(.cancelled)) }
        }
        return try result.get()
    }

    private func finish(_ id: UInt64, _ result: Result<[UInt8], PeerError>) {
        guard let request = waiting.removeValue(forKey: id) else { return }
        request.timer.cancel()
        request.continuation.resume(returning: result)
    }

    /// The stream in use with `peer`, made (to `address`) when there is none.
    private func connection(to peer: PeerID, at address: PeerAddress?) async throws(PeerError) -> StreamConnection {
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
        // Callers that waited for the same dial adopt it once.
        if open[ObjectIdentifier(connection)] == nil { adopt(connection) }
        guard !isClosed else { throw .shutDown }
        return connection
    }

    // MARK: Receiving

    /// Starts reading a new stream and makes it the one used with its peer.
    private func adopt(_ connection: StreamConnection) {
        guard !isClosed else {
            Task { await connection.close() }
            return
        }
        let key = ObjectIdentifier(connection)
        open[key] = connection
        byPeer[connection.remotePeer] = connection
        readers[key] = Task {
            do {
                for try await message in connection.messages { self.handle(message, on: connection) }
            } catch {
                // The stream failed; it ends below like a closed one.
            }
            self.ended(connection)
        }
    }

    private func handle(_ message: [UInt8], on connection: StreamConnection) {
        let peer = connection.remotePeer
        switch message.first.flatMap(RPCChannel.init(rawValue:)) {
        case .datagram:
            events.yield(.message(peer: peer, payload: Array(message.dropFirst())))
        case .request:
            guard let request = try? RPCRequest.decode(message[...], maximumSize: configuration.maximumMessageSize)
            else { return droppedMessages += 1 }
            serve(request, from: peer, on: connection)
        case .response:
            guard let response = try? RPCResponse.decode(message[...], maximumSize: configuration.maximumMessageSize),
                let request = waiting[response.id], request.connection == ObjectIdentifier(connection)
            else { return droppedMessages += 1 }
            finish(response.id, response.outcome.result(method: request.method).mapError { .request($0) })
        case nil:
            droppedMessages += 1
        }
    }

    /// Runs the handler of a stream request in a task of its own and sends the answer.
    private func serve(_ request: RPCRequest, from peer: PeerID, on connection: StreamConnection) {
        let lookup = self.lookup
        let maximumSize = configuration.maximumMessageSize
        Task {
            let outcome: RPCResponse.Outcome
            if let handler = await lookup(request.method) {
                do {
                    let payload = try await handler(
                        Peer.Request(peer: peer, method: request.method, payload: request.payload))
                    let maximum = maximumSize - RPCConstants.responseHeaderSize
                    outcome = payload.count <= maximum ? .ok(payload) : .tooLarge(size: payload.count, maximum: maximum)
                } catch {
                    outcome = .rejected(RPCResponse.truncatedReason(String(describing: error)))
                }
            } else {
                outcome = .noHandler
            }
            guard let answer = try? RPCResponse(id: request.id, outcome: outcome).encoded(maximumSize: maximumSize)
            else { return }
            try? await connection.send(answer)
        }
    }

    /// Forgets a stream that ended; its waiting requests fail as unreachable.
    private func ended(_ connection: StreamConnection) {
        let key = ObjectIdentifier(connection)
        open[key] = nil
        readers[key] = nil
        if byPeer[connection.remotePeer] === connection { byPeer[connection.remotePeer] = nil }
        for (id, request) in waiting where request.connection == key {
            finish(id, .failure(.request(.unreachable)))
        }
        Task { await connection.close() }
    }

    // MARK: Shutdown

    /// Closes the listener and every stream, and fails every waiting request.
    func close() async {
        guard !isClosed else { return }
        isClosed = true
        acceptor?.cancel()
        await listener?.close()
        for id in waiting.keys { finish(id, .failure(.shutDown)) }
        for connection in open.values { await connection.close() }
        for reader in readers.values { await reader.value }
    }
}
