internal import DequeModule

/// The sans-I/O message spreading of one peer: epidemic broadcast, flooded search and
/// ICMP-style control messages over a neighbour set given from outside.
///
/// ### Purpose
/// - **Authenticated origins**: the origin signs each gossip message and query, and the
///   responder each hit (``SpreadingSignature``), with ``identity``, bound to
///   ``swarmID``. A receiver checks its seen-cache first and verifies only a message it
///   has not seen; one that fails is dropped, counted in
///   ``SpreadingStatistics/forgedOrigin`` and remembered by digest, so that copies of it
///   cost no second verification.
/// - **Gossip** (``broadcast(_:now:)``): infect-and-die push gossip. Each message has a
///   random 128-bit ``SpreadingID``; on first receipt a peer reports
///   ``SpreadingEvent/delivered(id:origin:hops:payload:)`` and pushes it to
///   ``SpreadingConfiguration/fanout`` random neighbours. A seen-cache bounded in count
///   and age suppresses duplicates.
/// - **Search** (``query(_:ttl:wantsNotices:now:)``): a Gnutella flood to every
///   neighbour but the sender while the TTL lasts, duplicates suppressed by query ID.
///   Each peer remembers query ID → previous hop (bounded, expiring); the application
///   answers a ``SpreadingEvent/query(id:origin:hops:payload:)`` with
///   ``answer(_:payload:now:)`` and the hit travels back along that reverse path to the
///   originator's ``SpreadingEvent/queryHit(id:responder:hops:payload:)``.
/// - **Super-peer topology** (``setNeighbours(_:position:)``): a leaf
///   (``SpreadingPosition/leaf``) sends what it originates to its super-peers and
///   forwards nothing; a super-peer floods queries to the other super-peers with the TTL
///   and to only those leaves whose ``SpreadingNeighbour/queryFilter`` might match the
///   query's keywords, and pushes gossip to `fanout` super-peers and to every leaf it
///   holds. See ``SpreadingNeighbour`` for the keyword rule.
/// - **Control** (``sendEcho(to:now:)``): echo request and reply with an identifier and
///   a timestamp echo; each sample feeds an RFC 6298 estimate, ``rtt(of:)``.
///   ``SpreadingNotice/unreachable(id:subject:reporter:)`` and
///   ``SpreadingNotice/ttlExceeded(id:reporter:hops:)`` travel back to the peer they
///   concern. See ``SpreadingMessage`` for the bytes.
///
/// ### Driving
/// - Getters: ``localID``, ``swarmID``, ``configuration``, ``statistics``, ``neighbours``,
///   ``queryFilters``, ``position``, ``rtt(of:)``.
/// - Inputs: ``handleMessage(_:from:now:)`` (or ``handleDatagram(_:from:now:)``) and
///   ``handleTimeout(now:)``.
/// - Commands: ``setNeighbours(_:)``, ``setNeighbours(_:position:)``, ``broadcast(_:now:)``,
///   ``query(_:ttl:wantsNotices:now:)``, ``answer(_:payload:now:)``,
///   ``sendEcho(to:now:)``.
/// - Outputs, polled in this order after every input: ``pollTransmit(now:into:)``
///   (or ``pollTransmit()``) until `nil`, then ``pollTimeout()``, then ``pollEvent()``
///   until `nil`.
///
/// `now` must never go backwards; an earlier `now` is treated as the latest seen.
/// Malformed input is dropped and counted in ``statistics``; it never traps.
///
/// - Warning: not thread-safe; drive it from one task or event loop at a time.
public struct SpreadingCore: ProtocolCore, Sendable {
    /// What the core reports.
    public typealias Event = SpreadingEvent

    /// This peer's identity.
    public let localID: PeerID
    /// The swarm every signature made and checked here is bound to (32 bytes).
    public let swarmID: [UInt8]
    /// The validated configuration.
    public let configuration: SpreadingConfiguration
    /// Traffic and drop counters.
    public internal(set) var statistics = SpreadingStatistics()
    /// The current neighbours and their addresses, as last set.
    public private(set) var neighbours: [PeerID: PeerAddress] = [:]
    /// The query routing filters of the neighbours that are leaves this super-peer
    /// holds, as last set; empty in a flat overlay.
    public private(set) var queryFilters: [PeerID: QueryRoutingFilter] = [:]
    /// Whether this peer passes on what it receives, as last set.
    public private(set) var position = SpreadingPosition.relay

    /// The neighbours sorted by ID bytes: the deterministic iteration order.
    var neighbourOrder: [PeerID] = []
    var random: InjectedRandom
    var seenGossip: SpreadingCache<Bool>
    var seenQueries: SpreadingCache<Bool>
    /// Verdicts on signed messages by digest (``SpreadingConstants/verdictDigestSize``):
    /// `false` for a forgery, `true` for a query hit already passed on.
    var verdicts: SpreadingCache<Bool>
    var routes: SpreadingCache<QueryRoute>
    /// The key pair that signs what this peer originates.
    let identity: IdentityKeyPair
    var pendingEchoes: [UInt32: PendingEcho] = [:]
    /// Outstanding echo identifiers in sending order; the first is always pending.
    var echoOrder = Deque<UInt32>()
    var nextEchoIdentifier: UInt32
    var estimates: [PeerID: RTTEstimate] = [:]
    var latestNow = Instant.zero
    var outbox = DatagramOutbox()
    var events = Deque<SpreadingEvent>()

    /// Creates the spreading core of one peer, with no neighbours yet.
    ///
    /// - Parameters:
    ///   - identity: this peer's key pair: its peer ID is ``localID``, and it signs the
    ///     gossip, queries and hits this peer originates.
    ///   - swarmID: the 32-byte swarm ID the signatures are bound to.
    ///   - configuration: the tunables.
    ///   - random: the source of every random choice (message IDs, fanout targets).
    /// - Throws: ``SpreadingConfigurationError`` for an invalid configuration or a swarm
    ///   ID of another size.
    public init(
        identity: IdentityKeyPair, swarmID: [UInt8], configuration: SpreadingConfiguration = .lan,
        random: any RandomNumberGenerator & Sendable
    ) throws(SpreadingConfigurationError) {
        try configuration.validate()
        guard swarmID.count == SpreadingConstants.swarmIDSize else { throw .swarmIDLength(swarmID.count) }
        self.identity = identity
        self.localID = identity.peerID
        self.swarmID = swarmID
        self.configuration = configuration
        self.random = InjectedRandom(source: random)
        seenGossip = SpreadingCache(capacity: configuration.seenCapacity, lifetime: configuration.seenLifetime)
        seenQueries = SpreadingCache(capacity: configuration.seenCapacity, lifetime: configuration.seenLifetime)
        verdicts = SpreadingCache(capacity: configuration.seenCapacity, lifetime: configuration.seenLifetime)
        routes = SpreadingCache(capacity: configuration.routeCapacity, lifetime: configuration.routeLifetime)
        nextEchoIdentifier = UInt32.random(in: 0...UInt32.max, using: &self.random)
    }

    // MARK: Getters

    /// The smoothed round-trip estimate of neighbour `peer`, once an echo reply came back.
    public func rtt(of peer: PeerID) -> RTTEstimate? { estimates[peer] }

    // MARK: Commands

    /// Replaces the neighbour set of a flat overlay: where gossip, queries and echoes go,
    /// none of them filtered, this peer a ``SpreadingPosition/relay``. This peer's own ID
    /// is ignored; RTT estimates of peers no longer neighbours are forgotten.
    /// - Parameter neighbours: every neighbour and its address.
    public mutating func setNeighbours(_ neighbours: [PeerID: PeerAddress]) {
        setNeighbours(neighbours.mapValues { SpreadingNeighbour(address: $0) }, position: .relay)
    }

    /// Replaces the neighbour set and this peer's position in it: the super-peer
    /// topology's form of ``setNeighbours(_:)``.
    ///
    /// A leaf gives its super-peers (no filters) and ``SpreadingPosition/leaf``; a
    /// super-peer gives other super-peers (no filters) and the leaves it holds (each
    /// with its filter), and ``SpreadingPosition/relay``. This peer's own ID is ignored;
    /// RTT estimates of peers no longer neighbours are forgotten.
    /// - Parameters:
    ///   - neighbours: every neighbour, its address and its filter if it is a leaf.
    ///   - position: whether this peer forwards what it receives.
    public mutating func setNeighbours(_ neighbours: [PeerID: SpreadingNeighbour], position: SpreadingPosition) {
        var kept = neighbours
        kept[localID] = nil
        self.neighbours = kept.mapValues(\.address)
        queryFilters = kept.compactMapValues(\.queryFilter)
        self.position = position
        neighbourOrder = kept.keys.sorted()
        for peer in estimates.keys.sorted()
        where kept[peer] == nil {
            estimates[peer] = nil
        }
    }

    // MARK: Inputs

    /// Feeds one received spreading message.
    ///
    /// - Parameters:
    ///   - bytes: the message, exactly.
    ///   - source: where it came from; floods skip it and answers go back there.
    ///   - now: the current time.
    public mutating func handleMessage(_ bytes: ArraySlice<UInt8>, from source: PeerAddress, now: Instant) {
        let now = advance(now)
        let message: SpreadingMessage
        do {
            message = try SpreadingMessage.decode(bytes)
        } catch {
            statistics.malformedDropped += 1
            statistics.lastDecodeError = error
            return
        }
        statistics.messagesReceived += 1
        switch message {
        case .gossip(let id, let origin, let hops, let payload, let signature):
            handleGossip(
                id: id, origin: origin, hops: hops, payload: payload, signature: signature, from: source, now: now)
        case .query(let id, let origin, let ttl, let hops, let wantsNotices, let payload, let signature):
            statistics.queriesReceived += 1
            handleQuery(
                id: id, origin: origin, ttl: ttl, hops: hops, wantsNotices: wantsNotices, payload: payload,
                signature: signature, from: source, now: now)
        case .queryHit(let id, let responder, let hops, let payload, let signature):
            handleQueryHit(
                id: id, responder: responder, hops: hops, payload: payload, signature: signature, from: source,
                now: now)
        case .echoRequest(let identifier, let timestamp, _):
            // Unsigned: the reply goes to the datagram's source, whatever the sender claims.
            send(.echoReply(identifier: identifier, timestamp: timestamp, sender: localID), to: source)
        case .echoReply(let identifier, let timestamp, let sender):
            handleEchoReply(identifier: identifier, timestamp: timestamp, sender: sender, from: source, now: now)
        case .unreachable(let id, let subject, let target, let reporter):
            handleUnreachable(id: id, subject: subject, target: target, reporter: reporter, now: now)
        case .ttlExceeded(let id, let origin, let reporter, let hops):
            handleTTLExceeded(id: id, origin: origin, reporter: reporter, hops: hops, now: now)
        }
    }

    /// Feeds one received datagram holding a spreading message (``ProtocolCore``).
    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        handleMessage([UInt8](datagram)[...], from: source, now: now)
    }

    /// Times out echo requests due at `now` and frees expired cache and route entries.
    public mutating func handleTimeout(now: Instant) {
        let now = advance(now)
        expireEchoes(now: now)
        seenGossip.prune(now: now)
        seenQueries.prune(now: now)
        verdicts.prune(now: now)
        routes.prune(now: now)
    }

    // MARK: Outputs

    /// The next message to send and its destination, or `nil`.
    public mutating func pollTransmit() -> (destination: PeerAddress, bytes: [UInt8])? {
        outbox.popFirst()
    }

    /// Writes the next message into `buffer` and returns its destination (``ProtocolCore``).
    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        outbox.popFirst(into: &buffer)
    }

    /// The earliest deadline of any ``SpreadingTimer``, or `nil` when idle.
    public func pollTimeout() -> Instant? {
        var earliest: Instant?
        func consider(_ instant: Instant?) {
            guard let instant else { return }
            if earliest.map({ instant < $0 }) ?? true { earliest = instant }
        }
        for timer in SpreadingTimer.allCases {
            switch timer {
            case .echoTimeout: consider(echoOrder.first.flatMap { pendingEchoes[$0]?.deadline })
            case .expiry:
                consider(seenGossip.nextExpiry)
                consider(seenQueries.nextExpiry)
                consider(verdicts.nextExpiry)
                consider(routes.nextExpiry)
            }
        }
        return earliest
    }

    /// The next event, or `nil`.
    public mutating func pollEvent() -> SpreadingEvent? { events.popFirst() }

    // MARK: Internals

    /// Clamps `now` to the latest time seen.
    mutating func advance(_ now: Instant) -> Instant {
        if now > latestNow { latestNow = now }
        return latestNow
    }

    /// Encodes and queues `message` for `destination`.
    mutating func send(_ message: SpreadingMessage, to destination: PeerAddress) {
        guard let bytes = try? message.encoded() else { return }
        statistics.messagesSent += 1
        outbox.append(bytes, to: destination)
    }

    /// Refuses payloads above the configured maximum.
    func checkPayload(_ payload: [UInt8]) throws(SpreadingError) {
        guard payload.count <= configuration.maximumPayloadSize else {
            throw .payloadTooLarge(size: payload.count, maximum: configuration.maximumPayloadSize)
        }
    }
}

/// What a peer remembers about a query it has seen: the reverse path.
struct QueryRoute: Sendable {
    /// Where the query came from, or `nil` when this peer sent it.
    var previousHop: PeerAddress?
    /// Who sent the query first.
    var origin: PeerID
    /// Peers whose hits came through here, and the neighbour each came from, so that an
    /// unreachable notice can go back toward the responder.
    var hitSources: [(responder: PeerID, from: PeerAddress)] = []
    /// Whether a TTL-exceeded notice for this query already went back (or, at the
    /// originator, was reported).
    var noticeSent = false
}

/// An echo request waiting for its reply.
struct PendingEcho: Sendable {
    /// The neighbour asked.
    var peer: PeerID
    /// Where the request went; the reply must come from there.
    var address: PeerAddress
    /// When the request was sent (also its timestamp on the wire).
    var sentAt: Instant
    /// When it times out.
    var deadline: Instant
}
