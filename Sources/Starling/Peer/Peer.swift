public import NIOCore
public import NIOPosix
public import StarlingCore
import StarlingIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A Starling peer: client and server at once, over authenticated, encrypted sessions.
///
/// ### Purpose
/// A peer binds one UDP socket, makes Noise sessions with other peers
/// (``connect(to:expecting:timeout:)`` or ``connect(resolving:timeout:)``, or when
/// they connect to it), sends them unreliable datagrams (``send(_:to:)``), serves
/// requests (``handle(_:_:)``) and makes them (``request(_:_:to:timeout:via:)``). What
/// happens arrives in ``events``.
///
/// Every peer of a process shares one SwiftNIO event loop group
/// (`MultiThreadedEventLoopGroup.singleton` unless the application passes its own) and
/// is pinned to one of its loops, where its protocol core runs without locks.
///
/// ```swift
/// let server = try await Peer.start()
/// try await server.handle("echo") { request in request.payload }
/// let client = try await Peer.start()
/// try await client.connect(to: server.address, expecting: server.id)
/// let reply = try await client.request("echo", Array("hi".utf8), to: server.id)
/// await client.shutdown()
/// await server.shutdown()
/// ```
///
/// Call ``shutdown(leavingOverlay:)`` when done: it closes the sessions and the socket.
public final class Peer: Sendable {
    /// A request this peer is asked to serve.
    public struct Request: Sendable {
        /// The peer that asked.
        public let peer: PeerID
        /// The method name.
        public let method: String
        /// The request's bytes.
        public let payload: [UInt8]

        init(peer: PeerID, method: String, payload: [UInt8]) {
            self.peer = peer
            self.method = method
            self.payload = payload
        }

        init(_ incoming: IncomingRequest) {
            self.init(peer: incoming.peer, method: incoming.method, payload: incoming.payload)
        }
    }

    /// This peer's ID (its Ed25519 public key).
    public let id: PeerID
    /// The address the peer's socket is bound to (with the port the system picked).
    public let address: PeerAddress
    /// What happens to this peer, in order; see ``Events``.
    public let events: Events
    /// The event loop the peer runs on.
    public let eventLoop: any EventLoop
    /// Runs tasks on ``eventLoop``: for readers of the peer's events in the same
    /// process (a ``Swarm``), whose wake-ups then cost no thread switch.
    let taskExecutor: EventLoopTaskExecutor

    private let channel: any Channel
    let loop: NIOLoopBound<PeerLoop>
    private let streams: StreamHub
    private let backlog: EventBacklog
    private let connectTimeout: Duration
    /// Runs ``shutdown(leavingOverlay:)`` once; ``run()`` waits on it.
    let gate = ShutdownGate()

    /// The LAN discovery this peer runs, if configured.
    private let discovery: LANDiscovery?
    /// The mDNS advertising and joining this peer runs, if configured (``PeerConfiguration/mdns``).
    private let mdns: PeerMDNS?
    /// The socket of the LAN group channel, if configured (``PeerConfiguration/groupLAN``).
    private let groupChannel: (any Channel)?

    private init(
        id: PeerID, address: PeerAddress, events: Events, channel: any Channel, loop: NIOLoopBound<PeerLoop>,
        streams: StreamHub, discovery: LANDiscovery?, mdns: PeerMDNS?, groupChannel: (any Channel)?,
        connectTimeout: Duration
    ) {
        self.streams = streams
        self.discovery = discovery
        self.mdns = mdns
        self.groupChannel = groupChannel
        self.id = id
        self.address = address
        self.events = events
        self.eventLoop = channel.eventLoop
        self.taskExecutor = EventLoopTaskExecutor(eventLoop: channel.eventLoop)
        self.channel = channel
        self.loop = loop
        self.backlog = events.backlog
        self.connectTimeout = connectTimeout
    }

    /// Starts a peer.
    ///
    /// - Parameters:
    ///   - configuration: where to listen, the identity and the swarm; see ``PeerConfiguration``.
    ///   - group: the event loop group to run on; default `MultiThreadedEventLoopGroup.singleton`.
    /// - Returns: the running peer.
    /// - Throws: ``PeerError/invalidConfiguration(_:)`` or ``PeerError/bindFailed(address:reason:)``.
    public static func start(
        _ configuration: PeerConfiguration = PeerConfiguration(),
        on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(PeerError) -> Peer {
        try configuration.validate()
        var random = SecureRandom()
        let identity = configuration.identity ?? IdentityKeyPair.generate(using: &random)
        let core: NodeCore
        do {
            // Initiation timestamps come from the wall clock, so that a restarted peer's
            // are newer than those it sent before.
            let wallNow = SystemClock.wallNow()
            let elapsed = UInt64((SystemClock.monotonicNow() - .zero).components.seconds)
            let endpoint = try SessionEndpoint(
                identity: identity, configuration: configuration.session, random: SecureRandom(),
                wallClockAtZero: UnixTime(seconds: wallNow.seconds &- elapsed))
            let peer = PeerCore(
                endpoint: endpoint, random: SecureRandom(),
                maximumStreamMessageSize: configuration.streams.maximumMessageSize)
            core = NodeCore(peer: peer, overlay: nil)
        } catch {
            throw .invalidConfiguration(error.description)
        }
        let eventLoop = group.next()
        let (sink, events) = EventSink.make(limits: configuration.eventLimits)
        let metricsFactory = configuration.metricsFactory
        // Discovery and mDNS log through the peer's logger, with its ID.
        var configuration = configuration
        configuration.logger[metadataKey: "starling.peer"] = "\(identity.peerID)"
        let logger = configuration.logger
        let loop: NIOLoopBound<PeerLoop>
        do {
            loop = try await eventLoop.submit { [logger] in
                let state = PeerLoop(eventLoop: eventLoop, events: sink, metricsFactory: metricsFactory, logger: logger)
                return NIOLoopBound(state, eventLoop: eventLoop)
            }.get()
        } catch {
            throw .shutDown
        }
        // The LAN group channel first: a missing or unsuitable interface is a configuration
        // error, reported before any socket of the peer is bound.
        var lanSocket: GroupLANSockets.Opened?
        if let lan = configuration.groupLAN {
            lanSocket = try await GroupLANSockets.open(
                lan, listenAddress: configuration.listenAddress, namespace: configuration.networkNamespace)
        }
        let (channel, address, listener): (any Channel, PeerAddress, StreamListener?)
        do {
            (channel, address, listener) = try await bindSockets(configuration, identity, core, eventLoop, group, loop)
        } catch {
            if let lanSocket { close(lanSocket.descriptor) }
            throw error
        }
        let streams = StreamHub(
            identity: identity, configuration: configuration.streams, group: group, listener: listener, loop: loop,
            logger: logger)
        try? await eventLoop.submit { loop.value.streams = streams }.get()
        await streams.start()
        var discovery: LANDiscovery?
        let mdns: PeerMDNS?
        var groupChannel: (any Channel)?
        do {
            groupChannel = try await startGroupLAN(configuration, lanSocket, at: address, on: channel, loop)
            discovery = try await startDiscovery(configuration, identity, address, group, loop)
            mdns = try await startMDNS(configuration, identity, address, group, loop)
        } catch {
            await discovery?.shutdown()
            await streams.close()
            try? await eventLoop.submit { loop.value.shutDown() }.get()
            try? await groupChannel?.close()
            try? await channel.close()
            throw error
        }
        logger.info(
            "peer started",
            metadata: [
                "address": "\(address)",
                "overlay": "\(configuration.effectiveOverlay.map { "\($0.topology)" } ?? "none")",
            ])
        return Peer(
            id: identity.peerID, address: address, events: events,
            channel: channel, loop: loop, streams: streams, discovery: discovery, mdns: mdns,
            groupChannel: groupChannel,
            connectTimeout: configuration.connectTimeout)
    }

    /// Starts LAN discovery when configured: every peer it discovers is joined into the
    /// overlay through the addresses of its record.
    private static func startDiscovery(
        _ configuration: PeerConfiguration, _ identity: IdentityKeyPair, _ address: PeerAddress,
        _ group: any EventLoopGroup, _ loop: NIOLoopBound<PeerLoop>
    ) async throws(PeerError) -> LANDiscovery? {
        guard var lan = configuration.lanDiscovery else { return nil }
        lan.logger = configuration.logger
        let eventLoop = loop.eventLoop
        do throws(LANDiscoveryError) {
            let discovery = try LANDiscovery(configuration: lan, identity: identity, addresses: [address], on: group) {
                event in
                guard case .discovered(let record) = event else { return }
                eventLoop.execute {
                    _ = try? loop.value.performOverlay { overlay, now throws(PeerError) in
                        overlay.join(record.record.addresses, now: now)
                    }
                }
            }
            try await discovery.start()
            return discovery
        } catch {
            throw .invalidConfiguration("LAN discovery: \(error)")
        }
    }

    /// Binds the UDP socket and the TCP listener on the same address and port. With
    /// port 0, the system picks the UDP port and the listener takes the same number;
    /// if that TCP port is taken, both are tried again on another (up to 16 times).
    private static func bindSockets(
        _ configuration: PeerConfiguration, _ identity: IdentityKeyPair, _ core: NodeCore,
        _ eventLoop: any EventLoop, _ group: any EventLoopGroup, _ loop: NIOLoopBound<PeerLoop>
    ) async throws(PeerError) -> (any Channel, PeerAddress, StreamListener?) {
        let requested = configuration.listenAddress
        var attempts = 0
        while true {
            attempts += 1
            let bound: (channel: any Channel, driver: NIOLoopBound<CoreDriver<NodeCore>>)
            do {
                if let namespace = configuration.networkNamespace {
                    let descriptor = try await NamespaceThread.run(
                        in: namespace, failure: GroupLANSockets.namespaceFailure
                    ) { () throws(PeerError) in
                        do throws(LANDiscoveryError) {
                            return try GroupLANSockets.bind(requested, reuseAddress: false)
                        } catch {
                            throw .bindFailed(address: requested, reason: error.description)
                        }
                    }
                    bound = try await DatagramBinding.bind(
                        core: core, adopting: descriptor, group: eventLoop, options: configuration.datagrams
                    ) { event in loop.value.handle(event) }
                } else {
                    bound = try await DatagramBinding.bind(
                        core: core, to: SocketAddress(requested), group: eventLoop, options: configuration.datagrams
                    ) { event in loop.value.handle(event) }
                }
            } catch let error as PeerError {
                throw error
            } catch {
                throw .bindFailed(address: requested, reason: String(describing: error))
            }
            let channel = bound.channel
            guard let local = channel.localAddress, let address = PeerAddress(local) else {
                try? await channel.close()
                throw .bindFailed(address: requested, reason: "the socket has no local address")
            }
            do {
                let listener =
                    configuration.acceptsStreams
                    ? try await StreamListener.bind(
                        to: SocketAddress(address), identity: identity, configuration: configuration.streams,
                        eventLoopGroup: group) : nil
                let driver = bound.driver
                let overlay = configuration.effectiveOverlay
                let seeds = configuration.seeds
                try? await eventLoop.submit {
                    driver.value.logger = loop.value.logger
                    loop.value.driver = driver.value
                    loop.value.startReportingMetrics(every: .seconds(1))
                    if let overlay {
                        try? loop.value.startOverlay(overlay, identity: identity, at: address, seeds: seeds)
                    }
                }.get()
                return (channel, address, listener)
            } catch {
                try? await channel.close()
                guard requested.port == 0, attempts < 16 else {
                    throw .bindFailed(address: address, reason: "TCP: \(error)")
                }
            }
        }
    }

    // MARK: Sessions

    /// Makes a session with the peer at `address`, or returns at once when one with
    /// `expected` is already up.
    ///
    /// One of the two ways to connect, which return the same thing: this one dials an
    /// address you know; ``connect(resolving:timeout:)`` takes only a peer's ID and finds
    /// its address through the overlay.
    ///
    /// With `expected`, the handshake is Noise IK and only that peer can complete it;
    /// without, it is Noise XX and whoever answers is returned.
    /// - Parameters:
    ///   - address: where the peer listens.
    ///   - expected: the peer that must answer, if known.
    ///   - timeout: how long to wait; default ``PeerConfiguration/connectTimeout``.
    /// - Returns: the ID of the peer the session is with.
    /// - Throws: ``PeerError/connectTimedOut(address:after:)``,
    ///   ``PeerError/handshakeFailed(_:)``, ``PeerError/cancelled`` when the calling
    ///   task is cancelled first (the handshake may still complete, and its session then
    ///   stays up), or ``PeerError/shutDown``.
    @discardableResult
    public func connect(
        to address: PeerAddress, expecting expected: PeerID? = nil, timeout: Duration? = nil
    ) async throws(PeerError) -> PeerID {
        let timeout = timeout ?? connectTimeout
        return try await waitOnLoop { loop, continuation in
            loop.connect(to: address, expecting: expected, timeout: timeout, continuation: continuation)
        } cancel: { loop, token in
            loop.cancelConnect(token)
        }
    }

    /// The peers this peer has a session with.
    public func connectedPeers() async -> [PeerID] {
        (try? await onLoop { loop throws(PeerError) in loop.withCore(\.peer.establishedPeers) ?? [] }) ?? []
    }

    /// Closes the session with `peer`; its pending requests fail with
    /// `RPCError.unreachable`.
    public func disconnect(_ peer: PeerID) async {
        try? await onLoop { loop throws(PeerError) in try loop.perform { core, _ in core.close(peer) } }
    }

    // MARK: Datagrams

    /// Sends `payload` to `peer` as one encrypted, unreliable datagram; it arrives as
    /// ``Event/datagram(peer:payload:)``, at most once, or not at all.
    ///
    /// - Throws: ``PeerError/session(_:)`` with
    ///   `SessionError.payloadTooLarge(size:maximum:)` above
    ///   ``maximumDatagramPayload`` bytes, or `SessionError.noSession(_:)`
    ///   without a session or handshake with `peer`; ``PeerError/shutDown``.
    public func send(_ payload: [UInt8], to peer: PeerID) async throws(PeerError) {
        try await onLoop { loop throws(PeerError) in
            try loop.perform { core, now throws(PeerError) in
                do throws(SessionError) {
                    try core.sendDatagram(payload, to: peer, now: now)
                } catch {
                    throw .session(error)
                }
            }
        }
    }

    /// The largest payload of ``send(_:to:)``.
    public static let maximumDatagramPayload = RPCConstants.maximumMessageSize - 1

    // MARK: Requests

    /// Serves `method`: each request for it runs `handler` once, in a task of its own,
    /// and its result is the answer; an error it throws rejects the request with the
    /// error's description. Replaces an earlier handler of the method.
    ///
    /// - Throws: ``PeerError/request(_:)`` with `RPCError.invalidMethod(_:)`;
    ///   ``PeerError/shutDown``.
    public func handle(
        _ method: String, _ handler: @escaping @Sendable (Request) async throws -> [UInt8]
    ) async throws(PeerError) {
        try await onLoop { loop throws(PeerError) in
            try loop.perform { core, _ throws(PeerError) in
                do throws(RPCError) {
                    try core.serve(method)
                } catch {
                    throw .request(error)
                }
            }
            loop.handlers[method] = handler
        }
    }

    /// Stops serving `method`; later requests for it fail with
    /// `RPCError.noHandler(method:)`.
    public func stopHandling(_ method: String) async {
        try? await onLoop { loop throws(PeerError) in
            try loop.perform { core, _ in core.stopServing(method) }
            loop.handlers[method] = nil
        }
    }

    /// How a request travels.
    public enum Transport: Sendable {
        /// In datagrams when the request fits one, else over a TCP stream.
        case automatic
        /// In datagrams: retransmitted until answered; request and response each fit
        /// one datagram.
        case datagram
        /// Over the TCP stream to the peer (made when needed): request and response up
        /// to ``PeerConfiguration/maximumMessageSize`` each.
        case stream
    }

    /// Asks `peer` to run `method` on `payload` and waits for the answer.
    ///
    /// In datagrams the request is retransmitted until answered; over a stream it is
    /// sent once. Either way the other side runs its handler at most once per request.
    /// Use `.stream` when the answer may not fit one datagram
    /// (`RPCConstants.maximumResponsePayload` bytes).
    /// - Parameters:
    ///   - method: the method name: 1 to 64 of `a`–`z`, `0`–`9`, `.`, `_`, `/`, `-`.
    ///   - payload: the bytes: at most
    ///     `RPCConstants.maximumRequestPayload(methodLength:)` in a
    ///     datagram, or about ``PeerConfiguration/maximumMessageSize`` over a stream.
    ///   - peer: a peer with a session (see ``connect(to:expecting:timeout:)``).
    ///   - timeout: how long to wait for the answer.
    ///   - transport: datagram, stream, or (the default) whichever the payload needs.
    /// - Returns: the handler's answer.
    /// - Throws: ``PeerError/request(_:)`` with `RPCError.timedOut`,
    ///   `RPCError.unreachable`, `RPCError.rejected(reason:)`,
    ///   `RPCError.payloadTooLarge(size:maximum:)`,
    ///   `RPCError.noHandler(method:)`,
    ///   `RPCError.invalidMethod(_:)` or (over a stream)
    ///   `RPCError.tooManyRequests(maximum:)`; ``PeerError/stream(_:)``
    ///   when a stream cannot be made; ``PeerError/cancelled`` or ``PeerError/shutDown``.
    public func request(
        _ method: String, _ payload: [UInt8], to peer: PeerID, timeout: Duration = RPCConstants.defaultTimeout,
        via transport: Transport = .automatic
    ) async throws(PeerError) -> [UInt8] {
        let fits = payload.count <= RPCConstants.maximumRequestPayload(methodLength: method.utf8.count)
        switch transport {
        case .stream:
            return try await streamRequest(method, payload, to: peer, timeout: timeout)
        case .automatic where !fits && RPCRequest.isValidMethod(method):
            return try await streamRequest(method, payload, to: peer, timeout: timeout)
        case .automatic, .datagram:
            return try await datagramRequest(method, payload, to: peer, timeout: timeout)
        }
    }

    /// Sends `payload` to `peer` as one reliable message over a TCP stream (made when
    /// needed, to the address of the session with `peer`); it arrives whole and in
    /// order as ``Event/message(peer:payload:)``.
    ///
    /// - Throws: ``PeerError/payloadTooLarge(size:maximum:)`` above
    ///   ``PeerConfiguration/maximumMessageSize`` less one byte;
    ///   ``PeerError/session(_:)`` with `SessionError.noSession(_:)` when
    ///   there is neither a session nor a stream with `peer`; ``PeerError/stream(_:)``
    ///   when the stream cannot be made or fails; ``PeerError/shutDown``.
    public func sendMessage(_ payload: [UInt8], to peer: PeerID) async throws(PeerError) {
        try await streams.send(payload, to: peer, at: await sessionAddress(of: peer))
    }

    /// Where the session with `peer` reaches it, if there is one.
    private func sessionAddress(of peer: PeerID) async -> PeerAddress? {
        try? await onLoop { loop throws(PeerError) in loop.withCore { $0.peer.address(of: peer) } ?? nil }
    }

    /// A request over the stream to `peer` (made when needed), through the core.
    private func streamRequest(
        _ method: String, _ payload: [UInt8], to peer: PeerID, timeout: Duration
    ) async throws(PeerError) -> [UInt8] {
        do throws(RPCError) {
            try StreamCalls.check(
                method: method, payloadCount: payload.count,
                maximumMessageSize: streams.configuration.maximumMessageSize)
        } catch {
            throw .request(error)
        }
        let stream = try await streams.stream(to: peer, at: await sessionAddress(of: peer))
        return try await waitOnLoop { loop, continuation in
            loop.streamRequest(method, payload, on: stream, timeout: timeout, continuation: continuation)
        } cancel: { loop, id in
            loop.cancelStreamRequest(id)
        }
    }

    /// A request in datagrams, through the core.
    private func datagramRequest(
        _ method: String, _ payload: [UInt8], to peer: PeerID, timeout: Duration
    ) async throws(PeerError) -> [UInt8] {
        try await waitOnLoop { loop, continuation in
            loop.request(method, payload, to: peer, timeout: timeout, continuation: continuation)
        } cancel: { loop, id in
            loop.cancelRequest(id)
        }
    }

    // MARK: Counters

    /// Datagrams dropped by the session layer so far, by reason. Also brings the
    /// swift-metrics counters up to date.
    public func drops() async -> DropCounters {
        (try? await onLoop { loop throws(PeerError) in
            loop.reportMetrics()
            return loop.withCore(\.peer.sessionDrops) ?? DropCounters()
        }) ?? DropCounters()
    }

    /// Events dropped because ``events`` was not read fast enough, by kind; see
    /// ``EventLimits`` for the bounds and the policy of each kind.
    public var droppedEvents: DroppedEvents { backlog.dropped }

    /// Datagram and broadcast events dropped because ``events`` was not read fast
    /// enough: ``DroppedEvents/datagrams`` plus ``DroppedEvents/broadcasts`` of
    /// ``droppedEvents``, which also counts the other kinds.
    public var droppedEventCount: UInt64 {
        let dropped = droppedEvents
        return dropped.datagrams + dropped.broadcasts
    }

    // MARK: Shutdown

    /// Closes every session and the socket, fails every waiting call with
    /// ``PeerError/shutDown``, and finishes ``events``. A second call does nothing but
    /// wait until the first has finished.
    ///
    /// - Parameter leavingOverlay: whether to tell the overlay's members that this peer
    ///   leaves (the default), so that they drop it at once. `false` vanishes silently, as
    ///   a crashed peer would, and the members find out by failure detection: for tests
    ///   and benchmarks of just that.
    public func shutdown(leavingOverlay: Bool = true) async {
        let loop = self.loop
        await gate.close {
            // Goodbyes first, so that nobody joins this peer on its way out.
            await mdns?.shutdown()
            try? await eventLoop.submit { loop.value.shutDown(leavingOverlay: leavingOverlay) }.get()
            await discovery?.shutdown()
            await streams.close()
            try? await groupChannel?.close()
            try? await channel.close()
        }
    }

    // MARK: Helpers

    /// Runs `body` on the event loop with the loop-side state.
    func onLoop<Result: Sendable>(
        _ body: @escaping @Sendable (PeerLoop) throws(PeerError) -> Result
    ) async throws(PeerError) -> Result {
        let loop = self.loop
        let result: Swift.Result<Result, PeerError> = await withCheckedContinuation { continuation in
            eventLoop.execute {
                do throws(PeerError) {
                    continuation.resume(returning: .success(try body(loop.value)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Waits on the event loop for an answer that comes later (a session, a lookup's
    /// end, a reply), ending the wait when the calling task is cancelled.
    ///
    /// - Parameters:
    ///   - issue: runs on the loop: starts the call and registers `continuation` as its
    ///     waiter, returning the waiter's ID, or resumes it at once and returns `nil`. It
    ///     does not run when the caller was cancelled first.
    ///   - cancel: runs on the loop when the caller is cancelled after `issue`: forgets
    ///     the waiter with that ID and resumes it with ``PeerError/cancelled``, or does
    ///     nothing when it has already been answered.
    /// - Returns: the answer.
    /// - Throws: ``PeerError/cancelled``, or what the call fails with.
    func waitOnLoop<ID, Value: Sendable>(
        issue: @escaping @Sendable (PeerLoop, CheckedContinuation<Result<Value, PeerError>, Never>) -> ID?,
        cancel: @escaping @Sendable (PeerLoop, ID) -> Void
    ) async throws(PeerError) -> Value {
        let loop = self.loop
        let eventLoop = self.eventLoop
        let issued = IssuedCall<ID>()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, PeerError>, Never>) in
                eventLoop.execute {
                    guard !issued.cancelled else { return continuation.resume(returning: .failure(.cancelled)) }
                    issued.id = issue(loop.value, continuation)
                }
            }
        } onCancel: {
            eventLoop.execute {
                issued.cancelled = true
                if let id = issued.id { cancel(loop.value, id) }
            }
        }
        return try result.get()
    }

    /// How many callers wait on the loop for an answer (sessions, requests, lookups,
    /// echoes): for tests that check a cancelled call leaves nothing behind.
    func pendingCallCount() async -> Int {
        (try? await onLoop { loop throws(PeerError) in loop.pendingCallCount }) ?? 0
    }
}

/// The ID of a call's waiter once the loop has registered it, and whether its caller
/// was cancelled first; touched only on the peer's event loop.
private final class IssuedCall<ID>: @unchecked Sendable {
    var id: ID?
    var cancelled = false
}
