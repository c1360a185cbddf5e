internal import DequeModule

/// The sans-I/O session layer of one peer: Noise handshakes and encrypted transport
/// over UDP datagrams, modelled on WireGuard.
///
/// ### Purpose
/// A `SessionEndpoint` is both client and server: it starts handshakes
/// (``connect(to:expecting:now:)``), answers others', seals datagrams for its peers
/// (``send(_:to:now:)``) and opens theirs. It conforms to ``ProtocolCore``: drivers feed
/// it datagrams and time and drain what it wants to send, its next deadline and its
/// events, in that order (see ``ProtocolCore``). `now` must never go backwards.
///
/// ### Security rules it keeps
/// - Every initiation and response carries `mac1` (``HandshakeMAC``), keyed by the
///   swarm (and its secret) and for IK by the receiver's ID, checked before any other
///   work: without the swarm secret nobody gets a byte back from a private swarm.
/// - Admission (`SessionEndpoint+Admission.swift`): under load (more answered
///   handshakes half-done than ``SessionConfiguration/handshakeLoadThreshold``) or past
///   a source's allowance, an initiation without a valid cookie (`mac2`) is answered
///   with a ``CookieReply`` and nothing else: no Diffie-Hellman work, no state. With a
///   valid cookie it is admitted, rate-limited by its now verified source. This side's
///   own handshakes have their own table and are never refused for incoming ones.
/// - Unauthenticated input changes nothing but bounded tables of half-done
///   handshakes and unconfirmed peers (which are forgotten after
///   ``SessionConstants/unconfirmedPeerLifetime``).
/// - An IK initiation carries a timestamp (``HandshakeTimestamp``); one not newer than
///   the newest accepted from its peer is dropped as a replay. Still, until a packet on
///   its keys arrives it moves no address, answers no new-handshake timer and postpones
///   no key erasure.
/// - A byte-identical copy of an initiation (the network duplicated it) is answered
///   with the same response bytes, sent to the same address, while the handshake it
///   started waits for completion; otherwise it is dropped as a replay.
/// - At most ``SessionConfiguration/maximumSessions`` peers; see there for the
///   eviction policy.
/// - New keys are used for sending only once the other side has proven it holds them.
/// - A transport counter is checked against the replay window before decryption and
///   recorded only after the tag verifies.
/// - Every dropped datagram is counted by reason in ``drops``.
///
/// ### Timer rules
/// Each peer's timers live in one table driven by protocol events (WireGuard paper
/// 6.2–6.5); ``pollTimeout()`` reports the earliest deadline of every peer and
/// half-done handshake without scanning them.
/// - Keepalive: data received and nothing sent back for
///   ``SessionConstants/keepaliveTimeout`` (10 s) → an empty packet. Nothing is sent
///   when idle both ways, and a keepalive never answers a keepalive, with one
///   exception: for ``SessionConstants/rekeyAttemptTime`` after an IK handshake its
///   responder answers one, as it may be the initiator resending its first packet on
///   the new keys because the answer was lost.
/// - New handshake: data sent and nothing authenticated received for `keepaliveTimeout
///   + rekeyTimeout` (15 s) → a new handshake.
/// - Rekey: sending on keys this side initiated that are older than
///   ``SessionConstants/rekeyAfterTime`` (120 s), or on any keys after
///   ``SessionConstants/rekeyAfterMessages``, starts a handshake; so does receiving, on
///   either side, on keys older than ``SessionConstants/rekeyAfterTimeReceiving`` (165 s).
/// - Reject: keys older than ``SessionConstants/rejectAfterTime`` (180 s) neither send
///   nor receive; a payload sent then is queued and a handshake started.
/// - Previous session: after a rekey the replaced keys still receive for
///   ``SessionConstants/previousSessionGrace`` (15 s), then are erased.
/// - Expiry: ``SessionConstants/zeroKeyMaterialAfter`` (540 s) after the last session
///   was derived (for an IK responder: made current), every key of the peer is erased, its handshakes are forgotten and
///   `closed(peer:reason: .expired)` is reported. A peer that still sends derives new
///   sessions long before (keys receive nothing after 180 s, and receiving at 165 s
///   rekeys), so only a silent peer expires.
/// - Handshake retransmission backs off per ``HandshakeBackoff`` from the first
///   initiation until the responder proves it holds the keys (the IK initiator resends
///   an empty packet on them, the XX initiator message 3), for at most
///   ``SessionConstants/rekeyAttemptTime``.
///
/// ### Simultaneous initiation
/// When both peers initiate to each other and both handshakes are unfinished (neither
/// responder has yet proven it holds the keys), the handshake initiated by the peer
/// whose ID comes first in byte order wins at both ends:
/// - the higher peer abandons its own initiation and forgets any keys it made when it
///   completes the lower peer's handshake (answering an IK initiation, receiving an XX
///   message 3, or making the lower peer's keys current), and drops an XX initiation
///   when message 2 reveals it is with a lower peer whose handshake completed meanwhile;
/// - the lower peer never makes the keys of the higher peer's handshake current while
///   its own initiation is unfinished: it answers an IK initiation but keeps the keys
///   receive-only for good, and consumes an XX message 3 without installing anything.
///   Nor does it ever make current keys of the higher peer's handshake derived before
///   its own current ones, as the higher peer abandoned that handshake;
/// - a lower peer whose own keys are current and that completes an XX handshake the
///   higher peer initiated keeps the new keys waiting and asks with an empty packet on
///   them: only an answer on them, which a peer that abandoned them cannot send, makes
///   them current.
/// Whatever order the messages arrive in, both end with the lower peer's session.
///
/// ### Roaming
/// A transport packet that authenticates, or a handshake response or message 3 (both
/// bound to this side's fresh ephemeral key), moves the peer's address to its source.
/// Anything else, including a replayable IK initiation, leaves the address alone.
///
/// - Warning: not thread-safe; drive it from one event loop or thread.
public struct SessionEndpoint: ProtocolCore, Sendable {
    public typealias Event = SessionEvent

    /// This peer's identity.
    public let identity: IdentityKeyPair
    /// The configuration, validated at creation.
    public let configuration: SessionConfiguration
    /// Datagrams dropped, by reason.
    public internal(set) var drops = DropCounters()

    var random: InjectedRandom
    /// This peer's X25519 static key pair, derived once from ``identity``.
    let staticKeys: NoiseKeyPair
    /// X25519 forms of peers' Ed25519 IDs, so that a handshake with a known peer
    /// converts its ID once (bounded by ``SessionConstants/maximumCachedStaticKeys``).
    var staticKeyCache: [PeerID: Key32] = [:]
    var peers: [PeerID: PeerSessionState] = [:]
    /// Local index → the peer whose keys hold it (initiations and responders have
    /// their own tables, keyed by index too).
    var keyOwners: [UInt32: PeerID] = [:]
    var initiations: [UInt32: PendingInitiation] = [:]
    var responders: [UInt32: PendingResponder] = [:]
    /// The earliest deadline of every peer, initiation and responder.
    var deadlines = DeadlineSchedule<DeadlineOwner>()
    var rateLimiter: SourceRateLimiter<PeerAddress.Host>
    var outbox = Deque<(PeerAddress, [UInt8])>()
    var events = Deque<SessionEvent>()
    /// Reused plaintext buffer for opening transport data.
    var plaintext: [UInt8] = []
    /// Emptied datagram buffers to seal into: ``pollTransmit(now:into:)`` hands the
    /// driver the sealed buffer and keeps the driver's old one, so that steady sending
    /// allocates nothing (at most ``maximumSpareBuffers`` are kept).
    var spareBuffers: [[UInt8]] = []
    /// Key sets derived so far: the next one's ``TransportKeys/sequence``.
    var keysDerived: UInt64 = 0
    /// Most buffers kept in ``spareBuffers``.
    static let maximumSpareBuffers = 64
    /// Largest capacity of a buffer worth keeping in ``spareBuffers``.
    static let maximumSpareCapacity = 4096

    /// This side's mac1 and cookie keys.
    let admissionKeys: AdmissionKeys
    /// The secrets that make this side's cookies.
    var cookieSecrets = CookieSecrets()
    /// Cookies other responders gave this side, by their address.
    var receivedCookies: [PeerAddress: ReceivedCookie] = [:]
    /// Per-source allowance of initiations with a valid cookie (the one of those
    /// without is ``rateLimiter``).
    var verifiedRateLimiter: SourceRateLimiter<PeerAddress.Host>
    /// Peers that exist only because an IK initiation made keys for them, not yet
    /// confirmed by a packet on them; they count as answered half-done handshakes.
    var unconfirmedPeers: Set<PeerID> = []
    /// XX responders by the Noise message 1 they answered, to spot copies.
    var respondersByInitiation: [[UInt8]: UInt32] = [:]
    /// The wall-clock time at ``Instant/zero``, for initiation timestamps.
    public let wallClockAtZero: UnixTime
    /// The last initiation timestamp sent: the next one is later.
    var lastTimestampSent: HandshakeTimestamp?
    /// Sessions evicted to make room for new peers.
    public internal(set) var evictedSessions: UInt64 = 0

    /// Messages sent on one session before a new handshake starts. Always
    /// ``SessionConstants/rekeyAfterMessages``; tests lower it to reach the limit.
    var rekeyAfterMessages = SessionConstants.rekeyAfterMessages

    /// Creates an endpoint.
    ///
    /// - Parameters:
    ///   - identity: this peer's key pair.
    ///   - configuration: the session settings; see ``SessionConfiguration``.
    ///   - random: the randomness source for ephemeral keys and indices: pass
    ///     `SecureRandom()` for real use, a seeded generator in tests and the simulator.
    ///   - wallClockAtZero: the wall-clock time at ``Instant/zero``, from which IK
    ///     initiation timestamps are made. A real driver must pass the real one, so that
    ///     a restarted peer's initiations are newer than those it sent before.
    /// - Throws: ``SessionConfiguration/ValidationError`` for a bad configuration.
    public init(
        identity: IdentityKeyPair, configuration: SessionConfiguration,
        random: any RandomNumberGenerator & Sendable, wallClockAtZero: UnixTime = UnixTime(seconds: 0)
    ) throws(SessionConfiguration.ValidationError) {
        try configuration.validate()
        self.identity = identity
        self.configuration = configuration
        self.random = InjectedRandom(source: random)
        self.staticKeys = NoiseKeyPair(secret: identity.x25519SecretKey, trustedPublicKey: identity.x25519PublicKey)
        self.rateLimiter = SourceRateLimiter(
            perSecond: configuration.handshakesPerSourcePerSecond,
            burst: configuration.handshakeBurstPerSource,
            maximumSources: SessionConstants.maximumRateLimitedSources)
        self.verifiedRateLimiter = SourceRateLimiter(
            perSecond: configuration.handshakesPerSourcePerSecond,
            burst: configuration.handshakeBurstPerSource,
            maximumSources: SessionConstants.maximumRateLimitedSources)
        self.admissionKeys = AdmissionKeys(identity: identity.peerID, configuration: configuration)
        self.wallClockAtZero = wallClockAtZero
    }

    // MARK: Getters

    /// The peers with an established session.
    public var establishedPeers: [PeerID] {
        peers.filter { $0.value.current != nil && $0.value.reported }.map(\.key)
    }

    /// Whether a session with `peer` is established.
    public func isEstablished(with peer: PeerID) -> Bool {
        peers[peer].map { $0.current != nil && $0.reported } ?? false
    }

    /// Number of half-done handshakes held (initiated and answered).
    public var pendingHandshakeCount: Int { initiations.count + responders.count }

    /// Number of half-done handshakes this side answered: XX responders waiting for
    /// message 3, and peers whose IK keys wait for confirmation.
    public var answeredHandshakeCount: Int { responders.count + unconfirmedPeers.count }

    /// Number of peers with state: established, being connected, or unconfirmed.
    public var sessionCount: Int { peers.count }

    // MARK: Commands

    /// Starts a handshake with the peer at `address`.
    ///
    /// Uses IK when `expected` is given (its key is the Noise responder key) and XX
    /// otherwise, with the psk variants in a private swarm. Does nothing when a session
    /// with `expected` is already established or being made.
    /// - Parameters:
    ///   - address: where the peer listens.
    ///   - expected: the peer that must answer, if known.
    ///   - now: the current time.
    public mutating func connect(to address: PeerAddress, expecting expected: PeerID? = nil, now: Instant) {
        defer { settleDeadlines() }
        if let expected, isEstablished(with: expected) || isInitiating(with: expected) { return }
        if expected.map({ peers[$0] == nil }) ?? true, !roomForNewPeer(now: now) {
            events.append(.handshakeFailed(address: address, expected: expected, error: .tooManySessions))
            return
        }
        startInitiation(to: address, expecting: expected, started: now, attempt: 0, now: now)
    }

    /// Sends `payload` to `peer` as one encrypted datagram (unreliable, like UDP).
    ///
    /// Before the session is established, and while a new handshake replaces keys too
    /// old to send, the payload waits (up to 64 per peer, the oldest dropped first).
    /// - Parameters:
    ///   - payload: the bytes.
    ///   - leading: one byte the receiver sees before `payload` (a layer above's
    ///     channel), sealed with it without copying `payload` to join them.
    ///   - peer: the peer.
    ///   - now: the current time.
    /// - Throws: ``SessionError/payloadTooLarge(size:maximum:)`` when `leading` and
    ///   `payload` exceed ``SessionLimits/maximumTransportPayload`` less one byte of framing, or
    ///   ``SessionError/noSession(_:)`` when there is no session or handshake with `peer`.
    public mutating func send(
        _ payload: [UInt8], after leading: UInt8? = nil, to peer: PeerID, now: Instant
    ) throws(SessionError) {
        let size = payload.count + (leading == nil ? 0 : 1)
        let maximum = SessionLimits.maximumTransportPayload - 1
        guard size <= maximum else { throw .payloadTooLarge(size: size, maximum: maximum) }
        let prefix = InnerPrefix.datagram(leading: leading)
        defer { settleDeadlines() }
        guard let position = peers.index(forKey: peer) else {
            // A handshake with this peer is running: keep the payload until it completes.
            guard let pending = initiations.values.first(where: { $0.peer == peer }) else { throw .noSession(peer) }
            var waiting = PeerSessionState(address: pending.address, now: now)
            waiting.enqueue(Self.inner(prefix, payload))
            peers[peer] = waiting
            return
        }
        if peers.withValue(at: position, { $0.reported && $0.current?.canSend(now: now) == true }) {
            _ = payload.withUnsafeBytes {
                sealAndQueue(prefix: prefix, $0, to: peer, at: position, on: .current, now: now)
            }
            return
        }
        peers.values[position].enqueue(Self.inner(prefix, payload))
        // Keys too old to send: a new handshake carries the queue.
        if peers.values[position].current != nil { startRekey(with: peer, now: now) }
    }

    /// `prefix` and `payload` joined: a queued inner message (the rare path).
    private static func inner(_ prefix: InnerPrefix, _ payload: [UInt8]) -> [UInt8] {
        var inner: [UInt8] = []
        inner.reserveCapacity(prefix.count + payload.count)
        prefix.append(to: &inner)
        inner.append(contentsOf: payload)
        return inner
    }

    /// Closes the session with `peer`, forgetting its keys and its handshakes.
    public mutating func close(_ peer: PeerID) {
        defer { settleDeadlines() }
        guard let state = forget(peer) else { return }
        if state.reported { events.append(.closed(peer: peer, reason: .local)) }
    }

    // MARK: ProtocolCore

    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        defer { settleDeadlines() }
        guard datagram.count >= DatagramHeader.size else { return drop(.malformed) }
        guard datagram[0] == DatagramHeader.currentVersion else { return drop(.unsupportedVersion) }
        guard let type = MessageType(rawValue: datagram[1]) else { return drop(.unknownType) }
        guard datagram.count <= SessionLimits.maximumDatagram + 512 else { return drop(.tooLarge) }
        switch type {
        case .transportData:
            handleTransport(datagram, from: source, now: now)
        case .handshakeInitiation, .handshakeResponse, .handshakeCompletion, .cookieReply:
            let bytes = Array(datagram)
            var reader = ByteReader(bytes)
            reader.skipHeader()
            do {
                switch type {
                case .handshakeInitiation:
                    let initiation = try HandshakeInitiation.decode(body: &reader)
                    handleInitiation(initiation, datagram: bytes, from: source, now: now)
                case .handshakeResponse:
                    let response = try HandshakeResponse.decode(body: &reader)
                    handleResponse(response, datagram: bytes, from: source, now: now)
                case .cookieReply:
                    handleCookieReply(try CookieReply.decode(body: &reader), from: source, now: now)
                default:
                    handleCompletion(try HandshakeCompletion.decode(body: &reader), from: source, now: now)
                }
            } catch {
                drop(.malformed)
            }
        case .peerRecord, .beacon, .whoHas, .iHave, .overlay:
            drop(.unknownType)
        }
    }

    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        guard case (let destination, var bytes)? = outbox.popFirst() else { return nil }
        // Hand over the datagram's own buffer and keep the driver's for the next seal.
        swap(&buffer, &bytes)
        if spareBuffers.count < Self.maximumSpareBuffers, bytes.capacity <= Self.maximumSpareCapacity {
            bytes.removeAll(keepingCapacity: true)
            spareBuffers.append(bytes)
        }
        return destination
    }

    public mutating func pollEvent() -> SessionEvent? { events.popFirst() }

    // MARK: Helpers shared by the extensions

    mutating func drop(_ reason: DropReason) {
        drops.record(reason)
    }

    /// A fresh local index, unused by any table.
    mutating func newIndex() -> UInt32 {
        while true {
            let index = UInt32.random(in: 1...UInt32.max, using: &random)
            if keyOwners[index] == nil && initiations[index] == nil && responders[index] == nil { return index }
        }
    }

    /// Whether a handshake this side started with `peer` is unfinished.
    func isInitiating(with peer: PeerID) -> Bool {
        initiations.values.contains { $0.peer == peer }
    }

    /// Forgets `peer`: its keys, its timers and the handshakes this side started with it.
    /// - Returns: the state it had, if any.
    @discardableResult
    mutating func forget(_ peer: PeerID) -> PeerSessionState? {
        for (index, pending) in initiations where pending.peer == peer { initiations[index] = nil }
        unconfirmedPeers.remove(peer)
        guard let state = peers.removeValue(forKey: peer) else { return nil }
        for index in state.localIndices { keyOwners[index] = nil }
        return state
    }
}

/// The generator a caller injected, behind a concrete type so that it can be passed
/// `inout` to generic code (opening the existential there crashes Swift 6.3's IRGen).
struct InjectedRandom: RandomNumberGenerator, Sendable {
    var source: any RandomNumberGenerator & Sendable

    mutating func next() -> UInt64 { source.next() }
}

/// The first byte of every transport plaintext: what the rest is. An empty plaintext
/// is a keepalive.
///
/// ONLY APPEND — values are protocol.
enum InnerType: UInt8 {
    /// A user datagram.
    case datagram = 0x01
}

extension ByteReader {
    /// Skips the two header bytes that the caller has already checked.
    mutating func skipHeader() {
        _ = try? readBytes(DatagramHeader.size)
    }
}
