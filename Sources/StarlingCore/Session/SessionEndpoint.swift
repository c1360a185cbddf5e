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
/// - Unauthenticated input changes nothing but a bounded table of half-done
///   handshakes, and initiations are rate-limited per source address.
/// - New keys are used for sending only once the other side has proven it holds them.
/// - A transport counter is checked against the replay window before decryption and
///   recorded only after the tag verifies.
/// - Every dropped datagram is counted by reason in ``drops``.
///
/// - Warning: not thread-safe; drive it from one event loop or thread.
public struct SessionEndpoint: ProtocolCore {
    public typealias Event = SessionEvent

    /// This peer's identity.
    public let identity: IdentityKeyPair
    /// The configuration, validated at creation.
    public let configuration: SessionConfiguration
    /// Datagrams dropped, by reason.
    public internal(set) var drops = DropCounters()

    var random: InjectedRandom
    let staticSecret: [UInt8]
    let staticPublic: Key32
    var peers: [PeerID: PeerSessionState] = [:]
    /// Local index → the peer whose keys hold it (initiations and responders have
    /// their own tables, keyed by index too).
    var keyOwners: [UInt32: PeerID] = [:]
    var initiations: [UInt32: PendingInitiation] = [:]
    var responders: [UInt32: PendingResponder] = [:]
    var rateLimiter: SourceRateLimiter<PeerAddress.Host>
    var outbox = Deque<(PeerAddress, [UInt8])>()
    var events = Deque<SessionEvent>()
    /// Reused plaintext buffer for opening transport data.
    var plaintext: [UInt8] = []

    /// Creates an endpoint.
    ///
    /// - Parameters:
    ///   - identity: this peer's key pair.
    ///   - configuration: the session settings; see ``SessionConfiguration``.
    ///   - random: the randomness source for ephemeral keys and indices: pass
    ///     `SecureRandom()` for real use, a seeded generator in tests and the simulator.
    /// - Throws: ``SessionConfiguration/ValidationError`` for a bad configuration.
    public init(
        identity: IdentityKeyPair, configuration: SessionConfiguration,
        random: any RandomNumberGenerator & Sendable
    ) throws(SessionConfiguration.ValidationError) {
        try configuration.validate()
        self.identity = identity
        self.configuration = configuration
        self.random = InjectedRandom(source: random)
        self.staticSecret = identity.x25519SecretKey
        self.staticPublic = identity.x25519PublicKey
        self.rateLimiter = SourceRateLimiter(
            perSecond: configuration.handshakesPerSourcePerSecond,
            burst: configuration.handshakeBurstPerSource,
            maximumSources: SessionConstants.maximumRateLimitedSources)
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
        if let expected {
            if isEstablished(with: expected) { return }
            if initiations.values.contains(where: { $0.expected == expected }) { return }
        }
        startInitiation(to: address, expecting: expected, started: now, attempt: 0, now: now)
    }

    /// Sends `payload` to `peer` as one encrypted datagram (unreliable, like UDP).
    ///
    /// Before the session is established the payload waits (up to 64 per peer).
    /// - Throws: ``SessionError/payloadTooLarge(size:maximum:)`` above
    ///   ``SessionLimits/maximumTransportPayload`` less one byte of framing, or
    ///   ``SessionError/noSession(_:)`` when there is no session or handshake with `peer`.
    public mutating func send(_ payload: [UInt8], to peer: PeerID, now: Instant) throws(SessionError) {
        let maximum = SessionLimits.maximumTransportPayload - 1
        guard payload.count <= maximum else { throw .payloadTooLarge(size: payload.count, maximum: maximum) }
        guard var state = peers[peer] else {
            guard initiations.values.contains(where: { $0.expected == peer }) else { throw .noSession(peer) }
            // A handshake with this peer is running: keep the payload until it completes.
            var waiting = PeerSessionState(
                address: initiations.values.first { $0.expected == peer }!.address,
                lastReceived: now, lastSent: now)
            waiting.queued.append([InnerType.datagram.rawValue] + payload)
            peers[peer] = waiting
            return
        }
        guard state.reported, state.current?.canSend(now: now) == true else {
            if state.queued.count >= PeerSessionState.maximumQueued { state.queued.removeFirst() }
            state.queued.append([InnerType.datagram.rawValue] + payload)
            peers[peer] = state
            return
        }
        peers[peer] = state
        sealAndQueue([InnerType.datagram.rawValue] + payload, to: peer, now: now)
    }

    /// Closes the session with `peer`, forgetting its keys.
    public mutating func close(_ peer: PeerID) {
        guard let state = peers.removeValue(forKey: peer) else { return }
        for keys in [state.current, state.next, state.previous].compactMap({ $0 }) {
            keyOwners[keys.localIndex] = nil
        }
        if state.reported { events.append(.closed(peer: peer, reason: .local)) }
    }

    // MARK: ProtocolCore

    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        guard datagram.count >= DatagramHeader.size else { return drop(.malformed) }
        guard datagram[0] == DatagramHeader.currentVersion else { return drop(.unsupportedVersion) }
        guard let type = MessageType(rawValue: datagram[1]) else { return drop(.unknownType) }
        guard datagram.count <= SessionLimits.maximumDatagram + 512 else { return drop(.tooLarge) }
        switch type {
        case .transportData:
            handleTransport(datagram, from: source, now: now)
        case .handshakeInitiation, .handshakeResponse, .handshakeCompletion:
            var reader = ByteReader(Array(datagram))
            reader.skipHeader()
            do {
                switch type {
                case .handshakeInitiation:
                    handleInitiation(try HandshakeInitiation.decode(body: &reader), from: source, now: now)
                case .handshakeResponse:
                    handleResponse(try HandshakeResponse.decode(body: &reader), from: source, now: now)
                default:
                    handleCompletion(try HandshakeCompletion.decode(body: &reader), from: source, now: now)
                }
            } catch {
                drop(.malformed)
            }
        case .peerRecord:
            drop(.unknownType)
        }
    }

    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        guard let (destination, bytes) = outbox.popFirst() else { return nil }
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: bytes)
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

    /// Seals `inner` on `peer`'s current keys and queues the datagram.
    mutating func sealAndQueue(_ inner: [UInt8], to peer: PeerID, now: Instant) {
        guard var state = peers[peer], var keys = state.current else { return }
        var datagram: [UInt8] = []
        datagram.reserveCapacity(TransportHeader.size + inner.count + TransportHeader.tagSize)
        inner.withUnsafeBytes { keys.seal($0, into: &datagram) }
        state.current = keys
        state.lastSent = now
        if keys.wantsRekey(now: now), !initiations.values.contains(where: { $0.expected == peer }) {
            peers[peer] = state
            startInitiation(to: state.address, expecting: peer, started: now, attempt: 0, now: now)
        } else {
            peers[peer] = state
        }
        outbox.append((state.address, datagram))
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
