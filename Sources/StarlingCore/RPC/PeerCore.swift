internal import DequeModule

/// One peer's sans-I/O protocol core: encrypted sessions, plain datagrams, and
/// request/response (RPC), both as client and as server.
///
/// ### Purpose
/// A `PeerCore` owns a ``SessionEndpoint`` and layers two things on its datagrams:
/// a channel byte (``RPCChannel``) that tells plain datagrams from RPC messages, and
/// the RPC state — outgoing requests that are retransmitted until answered or timed
/// out, and incoming requests remembered so that a handler runs at most once per
/// request however often the request arrives. It conforms to ``ProtocolCore``, so the
/// real driver and the simulator drive it like any other core.
///
/// ### Members
/// - Getters: ``identity``, ``establishedPeers``, ``isEstablished(with:)``,
///   ``servedMethods``, ``pendingRequestCount``, ``pendingConnectCount``, ``sessionDrops``,
///   ``droppedMessages``, ``staleRequests``, ``incarnation``.
/// - Inputs: ``handleDatagram(_:from:now:)`` and ``handleTimeout(now:)``.
/// - Commands: ``connect(to:expecting:now:)``, ``connect(to:expecting:timeout:now:)``,
///   ``cancelConnect(_:)``, ``close(_:)``, ``sendDatagram(_:to:now:)``,
///   ``serve(_:)``, ``stopServing(_:)``, ``request(_:_:to:address:timeout:now:)``,
///   ``respond(to:payload:now:)`` and ``reject(_:reason:now:)``; on streams (see
///   ``StreamCalls``) ``streamOpened(_:with:)``, ``streamEnded(_:)``,
///   ``handleStreamMessage(_:on:)``, ``streamRequest(_:_:on:timeout:now:)``,
///   ``cancelStreamRequest(_:)``, ``respond(toStream:payload:)`` and
///   ``reject(onStream:reason:)``.
/// - Outputs: ``pollTransmit(now:into:)``, ``pollStreamTransmit()``, ``pollTimeout()``
///   and ``pollEvent()``.
///
/// After every input or command, drain ``pollTransmit(now:into:)`` (and, after a stream
/// command, ``pollStreamTransmit()``), then re-arm the timer to ``pollTimeout()``, then
/// drain ``pollEvent()``, in that order. `now` must never go backwards between calls.
///
/// ### Serving
/// Call ``serve(_:)`` for each method. A request for a served method is reported once
/// as ``PeerEvent/request(_:)``; answer it with ``respond(to:payload:now:)`` or
/// ``reject(_:reason:now:)``. A request for any other method is answered
/// ``RPCStatus/noHandler`` by the core itself.
///
/// - Warning: not thread-safe; drive it from one event loop or thread. It is a
///   `Sendable` value, so a driver may hand it to another task or thread, but only one
///   may drive it at a time.
public struct PeerCore: ProtocolCore, Sendable {
    /// What the core reports: session changes, datagrams, requests and responses.
    public typealias Event = PeerEvent

    /// The session layer underneath: read it for session state and counters.
    public internal(set) var endpoint: SessionEndpoint
    /// The methods this peer answers; requests for others get ``RPCStatus/noHandler``.
    public internal(set) var servedMethods: Set<String> = []
    /// Authenticated payloads that were not valid RPC or datagram messages.
    public internal(set) var droppedMessages = 0
    /// Incoming requests dropped unrun because their ID was below their requester's
    /// floor: stale copies of requests the requester no longer waits for.
    public internal(set) var staleRequests = 0
    /// This core's run, chosen at random when it is made and sent in every request, so
    /// that responders tell a restarted peer's requests from its previous run's.
    public let incarnation: UInt32
    /// Messages, requests and responses on this peer's streams.
    public internal(set) var streamCalls: StreamCalls

    var tracker = RequestTracker()
    var cache = ResponseCache()
    var random: InjectedRandom
    var nextRequestID: UInt64
    /// Peers this core started a handshake with, and where: cleared when it completes or fails.
    var connecting: [PeerID: PeerAddress] = [:]
    /// Connects a caller waits on, with their deadlines.
    var connects = ConnectWaits()
    var events = Deque<PeerEvent>()

    /// Creates a core over `endpoint`.
    ///
    /// - Parameters:
    ///   - endpoint: the session layer, already configured; the core owns it from now on.
    ///   - random: the randomness for the incarnation, request IDs and retransmit jitter. Pass a
    ///     generator of its own (not the endpoint's): `SecureRandom()` for real use, a
    ///     seeded generator in tests and the simulator.
    ///   - maximumStreamMessageSize: the largest message on this peer's streams, as
    ///     their configuration allows.
    public init(
        endpoint: SessionEndpoint, random: any RandomNumberGenerator & Sendable,
        maximumStreamMessageSize: Int = StreamConstants.defaultMaximumMessageSize
    ) {
        self.endpoint = endpoint
        self.random = InjectedRandom(source: random)
        self.incarnation = UInt32(truncatingIfNeeded: self.random.next())
        // The lower half of the range: counting up from there never wraps in practice,
        // so a peer's request IDs, and the floors it sends, only grow.
        self.nextRequestID = self.random.next() >> 1
        // Stream request IDs need no floor: a stream delivers each request once. They
        // start from the incarnation so that a restarted peer's differ from its last run's.
        self.streamCalls = StreamCalls(
            maximumMessageSize: maximumStreamMessageSize, firstRequestID: UInt64(incarnation) << 32)
    }

    // MARK: Getters

    /// This peer's identity.
    public var identity: IdentityKeyPair { endpoint.identity }

    /// The peers with an established session.
    public var establishedPeers: [PeerID] { endpoint.establishedPeers }

    /// Whether a session with `peer` is established.
    public func isEstablished(with peer: PeerID) -> Bool { endpoint.isEstablished(with: peer) }

    /// Where `peer` was last heard from on an authenticated packet, while a session
    /// with it exists.
    public func address(of peer: PeerID) -> PeerAddress? {
        endpoint.isEstablished(with: peer) ? endpoint.peers[peer]?.address : nil
    }

    /// Outgoing requests not yet completed.
    public var pendingRequestCount: Int { tracker.count }

    /// Datagrams the session layer dropped, by reason.
    public var sessionDrops: DropCounters { endpoint.drops }

    // MARK: Session commands

    /// Starts a handshake with the peer at `address`; see
    /// ``SessionEndpoint/connect(to:expecting:now:)``.
    ///
    /// Requests to `expected` made without an address wait for this handshake.
    public mutating func connect(to address: PeerAddress, expecting expected: PeerID? = nil, now: Instant) {
        if let expected, !endpoint.isEstablished(with: expected) { connecting[expected] = address }
        endpoint.connect(to: address, expecting: expected, now: now)
        absorbSessionEvents(now: now)
    }

    /// Retransmits the unanswered handshakes to `address` at once; see
    /// ``SessionEndpoint/retryHandshakes(to:now:)``.
    public mutating func retryHandshakes(to address: PeerAddress, now: Instant) {
        endpoint.retryHandshakes(to: address, now: now)
        absorbSessionEvents(now: now)
    }

    /// Closes the session with `peer`. Its pending requests fail with
    /// ``RPCError/unreachable``.
    public mutating func close(_ peer: PeerID) {
        connecting[peer] = nil
        endpoint.close(peer)
        // The session's own events (`closed`) first, as for a failed handshake.
        while let event = endpoint.pollEvent() { events.append(PeerEvent(event)) }
        for (id, _) in tracker.removeAll(to: peer) { events.append(.response(id, .failure(.unreachable))) }
    }

    /// Sends `payload` to `peer` as one encrypted, unreliable datagram; it arrives as
    /// ``PeerEvent/datagram(peer:payload:)``.
    ///
    /// - Throws: ``SessionError/payloadTooLarge(size:maximum:)`` above
    ///   `RPCConstants.maximumMessageSize - 1` bytes, or ``SessionError/noSession(_:)``
    ///   when there is no session or handshake with `peer`.
    public mutating func sendDatagram(_ payload: [UInt8], to peer: PeerID, now: Instant) throws(SessionError) {
        let maximum = RPCConstants.maximumMessageSize - 1
        guard payload.count <= maximum else { throw .payloadTooLarge(size: payload.count, maximum: maximum) }
        defer { absorbSessionEvents(now: now) }
        try endpoint.send(payload, after: RPCChannel.datagram.rawValue, to: peer, now: now)
    }

    // MARK: ProtocolCore

    /// Feeds one received datagram to the session layer, then acts on what it
    /// decrypted: datagrams are reported, requests admitted, responses matched.
    ///
    /// Authenticated payloads that are not valid messages are counted in
    /// ``droppedMessages`` and change nothing else.
    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        endpoint.handleDatagram(datagram, from: source, now: now)
        absorbSessionEvents(now: now)
    }

    /// Runs what is due at `now`: the session layer's timers, then request
    /// retransmissions and timeouts, then connect and stream request timeouts.
    public mutating func handleTimeout(now: Instant) {
        if let deadline = endpoint.pollTimeout(), deadline <= now {
            endpoint.handleTimeout(now: now)
            absorbSessionEvents(now: now)
        }
        if let deadline = tracker.earliestDeadline, deadline <= now {
            runRequestTimers(now: now)
            absorbSessionEvents(now: now)
        }
        if let deadline = connects.earliestDeadline, deadline <= now {
            expiredConnects(now: now)
        }
        if let deadline = streamCalls.earliestDeadline, deadline <= now {
            streamCalls.handleTimeout(now: now)
        }
    }

    /// Writes the next datagram to send into `buffer`; see
    /// ``ProtocolCore/pollTransmit(now:into:)``.
    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        endpoint.pollTransmit(now: now, into: &buffer)
    }

    /// The earliest of the session layer's deadline, the next request retransmission
    /// or timeout, and the next connect or stream request timeout; O(1) beyond the
    /// session layer's own cost.
    public func pollTimeout() -> Instant? {
        let calls = earliest(connects.earliestDeadline, streamCalls.earliestDeadline)
        return earliest(earliest(endpoint.pollTimeout(), tracker.earliestDeadline), calls)
    }

    /// The next event, or `nil` when there is none: the session and RPC events oldest
    /// first, then the stream calls' events oldest first.
    public mutating func pollEvent() -> PeerEvent? {
        if let event = events.popFirst() { return event }
        return streamCalls.pollEvent().map { .stream($0) }
    }

    // MARK: Session events

    /// Takes the session layer's events, reports them, and acts on them for the RPC state.
    mutating func absorbSessionEvents(now: Instant) {
        while let event = endpoint.pollEvent() {
            switch event {
            case .established(let peer, let address):
                connecting[peer] = nil
                events.append(PeerEvent(event))
                connectsEstablished(peer, at: address)
                for id in tracker.awaitingSession(to: peer) { transmit(id, now: now) }
            case .datagram(let peer, let payload):
                handlePayload(payload, from: peer, now: now)
            case .closed:
                events.append(PeerEvent(event))
            case .handshakeFailed(let address, let expected, let error):
                events.append(PeerEvent(event))
                connectsFailed(at: address, expecting: expected, error: error)
                if let expected, !endpoint.isEstablished(with: expected) {
                    connecting[expected] = nil
                    for (id, _) in tracker.removeAll(to: expected) {
                        events.append(.response(id, .failure(.unreachable)))
                    }
                }
            }
        }
    }
}

/// The earlier of two optional deadlines; `nil` only when both are.
func earliest(_ first: Instant?, _ second: Instant?) -> Instant? {
    switch (first, second) {
    case (let first?, let second?): min(first, second)
    case (let first, nil): first
    case (nil, let second): second
    }
}

extension PeerEvent {
    /// The event that reports a session event unchanged (datagrams without their
    /// channel byte are made elsewhere).
    init(_ event: SessionEvent) {
        switch event {
        case .established(let peer, let address): self = .established(peer: peer, address: address)
        case .datagram(let peer, let payload): self = .datagram(peer: peer, payload: payload)
        case .closed(let peer, let reason): self = .closed(peer: peer, reason: reason)
        case .handshakeFailed(let address, let expected, let error):
            self = .handshakeFailed(address: address, expected: expected, error: error)
        }
    }
}
