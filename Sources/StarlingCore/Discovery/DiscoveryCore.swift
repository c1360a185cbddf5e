/// LAN discovery as a sans-I/O state machine: signed beacons to multicast groups or
/// broadcast addresses, and ARP-like "who has peer X" queries.
///
/// ### Purpose
/// The core beacons this peer's signed record to every configured destination (at
/// once on start, then every ``DiscoveryConfiguration/beaconInterval`` with jitter),
/// keeps the newest verified record of every other peer it hears (a bounded table),
/// and answers queries for itself or for any peer whose valid record it holds. Records
/// are passed on exactly as their owners signed them, never vouched for. With a swarm
/// secret every message is sealed (``DiscoveryEnvelope``).
///
/// ### Members
/// - Getters: ``isEnabled``, ``localPeer``, ``peerCount``, ``record(for:)``, ``drops``.
/// - Inputs: ``handleDatagram(_:from:now:)``, ``handleTimeout(now:)``.
/// - Commands: ``updateRecord(_:now:)``, ``renewRecord(signingWith:lifetime:now:)``,
///   ``whoHas(_:now:)``, ``setWallClock(_:now:)``.
/// - Outputs: ``pollTransmit(now:into:)``, ``pollTimeout()``, ``pollEvent()``.
///
/// After any input or command, drain ``pollTransmit(now:into:)``, re-arm the timer to
/// ``pollTimeout()``, then drain ``pollEvent()``. `now` must never go backwards.
///
/// - Warning: not thread-safe; drive it from one thread or event loop at a time.
public struct DiscoveryCore: ProtocolCore, Sendable {
    /// The settings this core was created with.
    public let configuration: DiscoveryConfiguration
    let envelope: DiscoveryEnvelope
    /// This peer's record, as beaconed.
    public private(set) var ownRecord: SignedPeerRecord
    var random: InjectedRandom
    /// Wall-clock time at ``instantOrigin``; wall time at `now` is derived from it.
    var wallOrigin: UnixTime
    var instantOrigin: Instant
    var book: RecordBook
    var sourceLimiter: SourceRateLimiter<PeerAddress.Host>
    var globalLimiter: SourceRateLimiter<Int>
    var answerLimiter: SourceRateLimiter<Int>
    /// Queries awaiting an answer, with their deadlines.
    var pendingQueries: [PeerID: Instant] = [:]
    var nextBeacon: Instant?
    var lastBeacon: Instant?
    /// How the core re-signs this peer's record, when it does
    /// (``renewRecord(signingWith:lifetime:now:)``).
    var renewal: RecordRenewal?
    /// When to re-sign this peer's record next; `nil` without ``renewal``.
    var nextRenewal: Instant?
    var nextHousekeeping: Instant
    var outbox = DatagramOutbox()
    var events: [DiscoveryEvent] = []
    /// Datagrams ignored, by reason.
    public private(set) var drops: [DiscoveryDrop: Int] = [:]

    /// Creates a core and schedules its first beacon for `now`.
    ///
    /// - Parameters:
    ///   - record: this peer's signed record, which the beacons carry.
    ///   - configuration: destinations, swarm and limits; see ``DiscoveryConfiguration``.
    ///   - random: randomness for jitter and nonces: `SecureRandom()` for real use, a
    ///     seeded generator in tests and the simulator.
    ///   - now: the current monotonic time.
    ///   - wallClock: the current wall-clock time, for record expiry and the replay window.
    /// - Throws: ``DiscoveryConfiguration/ValidationError`` for a bad configuration.
    public init(
        record: SignedPeerRecord, configuration: DiscoveryConfiguration,
        random: any RandomNumberGenerator & Sendable, now: Instant, wallClock: UnixTime
    ) throws(DiscoveryConfiguration.ValidationError) {
        try configuration.validate()
        self.configuration = configuration
        self.envelope = DiscoveryEnvelope(swarmID: configuration.swarmID, swarmSecret: configuration.swarmSecret)
        self.ownRecord = record
        self.random = InjectedRandom(source: random)
        self.wallOrigin = wallClock
        self.instantOrigin = now
        self.book = RecordBook(capacity: configuration.maximumPeers)
        self.sourceLimiter = SourceRateLimiter(
            perSecond: configuration.messagesPerSourcePerSecond, burst: configuration.burstPerSource)
        self.globalLimiter = SourceRateLimiter(
            perSecond: configuration.messagesPerSecond, burst: configuration.burst, maximumSources: 1)
        self.answerLimiter = SourceRateLimiter(
            perSecond: configuration.answersPerSecond, burst: configuration.answerBurst, maximumSources: 1)
        self.nextHousekeeping = now + DiscoveryConstants.housekeepingInterval
        self.nextBeacon = configuration.destinations.isEmpty ? nil : now
    }

    // MARK: Getters

    /// Whether discovery runs: true when at least one destination is configured.
    public var isEnabled: Bool { !configuration.destinations.isEmpty }

    /// This peer's ID.
    public var localPeer: PeerID { ownRecord.record.peerID }

    /// Number of other peers whose records are held.
    public var peerCount: Int { book.count }

    /// The newest verified record held for `peer`, if any.
    public func record(for peer: PeerID) -> SignedPeerRecord? { book[peer] }

    /// The wall-clock time at `now`, from the mapping given at creation or by ``setWallClock(_:now:)``.
    public func wallClock(at now: Instant) -> UnixTime { wallOrigin + (now - instantOrigin) }

    // MARK: Commands

    /// Replaces this peer's record and beacons it as soon as the minimum interval allows.
    ///
    /// - Parameters:
    ///   - record: the new record, signed by this peer.
    ///   - now: the current time.
    /// - Throws: ``RecordError/wrongSigner(expected:actual:)`` for another peer's record.
    public mutating func updateRecord(_ record: SignedPeerRecord, now: Instant) throws(RecordError) {
        guard record.record.peerID == localPeer else {
            throw .wrongSigner(expected: localPeer, actual: record.record.peerID)
        }
        ownRecord = record
        guard isEnabled else { return }
        let earliest = lastBeacon.map { $0 + configuration.minimumBeaconInterval } ?? now
        nextBeacon = max(now, earliest)
    }

    /// Asks every destination who holds `peer`'s record; the answer arrives as
    /// ``DiscoveryEvent/answered(_:)``, or ``DiscoveryEvent/queryTimedOut(_:)`` comes instead.
    ///
    /// - Parameters:
    ///   - peer: the wanted peer.
    ///   - now: the current time.
    /// - Returns: `true` when a query is now pending (sent now or already pending);
    ///   `false` when discovery is off, `peer` is this peer, or too many queries are pending.
    @discardableResult
    public mutating func whoHas(_ peer: PeerID, now: Instant) -> Bool {
        guard isEnabled, peer != localPeer else { return false }
        if pendingQueries[peer] != nil { return true }
        guard pendingQueries.count < configuration.maximumPendingQueries else { return false }
        pendingQueries[peer] = now + configuration.queryTimeout
        broadcast(.whoHas(wanted: peer, asker: ownRecord), now: now)
        return true
    }

    /// Resets the wall-clock mapping, for example after the system clock was corrected.
    /// - Parameters:
    ///   - wallClock: the wall-clock time at `now`.
    ///   - now: the current monotonic time.
    public mutating func setWallClock(_ wallClock: UnixTime, now: Instant) {
        wallOrigin = wallClock
        instantOrigin = now
    }

    // MARK: Outputs

    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        outbox.popFirst(into: &buffer)
    }

    public func pollTimeout() -> Instant? {
        guard isEnabled else { return nil }
        return ([nextBeacon, nextHousekeeping, nextRenewal] + pendingQueries.values.map { Optional($0) }).compactMap {
            $0
        }.min()
    }

    public mutating func pollEvent() -> DiscoveryEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    // MARK: Helpers shared by the extensions

    /// Counts a dropped datagram.
    mutating func drop(_ reason: DiscoveryDrop) {
        drops[reason, default: 0] += 1
    }

    /// Queues `message` for `destination`, dropping the oldest datagram when the outbox is full.
    mutating func send(_ message: DiscoveryMessage, to destination: PeerAddress, now: Instant) {
        let bytes = envelope.encode(message, sentAt: wallClock(at: now), using: &random)
        if outbox.count >= DiscoveryConstants.maximumOutbox { _ = outbox.popFirst() }
        outbox.append(bytes, to: destination)
    }

    /// Queues one copy of `message` for every configured destination.
    mutating func broadcast(_ message: DiscoveryMessage, now: Instant) {
        for destination in configuration.destinations { send(message, to: destination, now: now) }
    }
}
