internal import DequeModule

/// A sans-I/O Kademlia node: routing table, iterative lookups, and provider records.
///
/// ### Purpose
/// The core finds the peers closest to any 256-bit key in `O(log n)` request rounds,
/// finds a peer's signed record by its ID (``findPeer(_:now:)``), and stores and finds
/// provider records for services (``provide(service:now:)``,
/// ``findProviders(service:now:)``). Messages are ``RoutingMessage``s; records are
/// verified before use and passed on exactly as their owners signed them.
///
/// ### Members
/// - Getters: ``localID``, ``table``, ``providerStore``, ``drops``, ``activeLookups``.
/// - Inputs: ``handleMessage(_:from:now:)`` (or ``handleDatagram(_:from:now:)``),
///   ``handleTimeout(now:)``, and the liveness hooks ``markAlive(peer:address:now:)``
///   and ``markFailed(peer:now:)`` for membership to feed.
/// - Commands: ``bootstrap(seeds:now:)``, ``findNode(_:now:)``, ``findPeer(_:now:)``,
///   ``findProviders(service:now:)``, ``provide(service:now:)``,
///   ``stopProviding(service:)``, ``updateLocalRecord(_:)``; each lookup command returns
///   a ``LookupID`` that its ``RoutingEvent/lookupFinished(_:_:)`` event carries.
/// - Outputs, polled in this order after every input: ``pollTransmit(now:into:)`` until
///   `nil`, then ``pollTimeout()``, then ``pollEvent()`` until `nil`.
///
/// `now` must never go backwards. Wall-clock time, needed to check record expiry, is
/// ``wallClockAtZero`` plus `now`.
///
/// ### Admission
/// A contact met in routing traffic (a request's sender, a reply's sender) enters the
/// table only once it proved, by answering a `PROVE` challenge (``RoutingProof``), that
/// it receives at its address and owns its peer ID; until then it is answered but not
/// kept, and contacts named in replies are only candidates for the lookup that got
/// them. Contacts from ``markAlive(peer:address:now:)`` (membership, whose alive claims
/// are signed by their owners) and the user's bootstrap seeds count as proven. Each
/// bucket holds at most ``RoutingConfiguration/diversity`` contacts per subnet. A
/// contact leaves the table only after its own requests (eviction pings included)
/// failed ``RoutingConfiguration/failureThreshold`` times in a row, or when membership
/// (``markFailed(peer:now:)``) found it dead: newcomers never displace a live contact. A core made without an identity (``init(localID:record:configuration:wallClockAtZero:random:now:)``)
/// cannot answer challenges, so others admit it only through their membership.
///
/// Malformed or unexpected input is dropped and counted in ``drops``; it never traps.
/// Every loop is bounded by a table, a lookup or a message size.
public struct RoutingCore: ProtocolCore, Sendable {
    /// The local peer.
    public let localID: PeerID
    /// The local peer's routing key.
    public let localKey: RoutingKey
    /// The settings.
    public let configuration: RoutingConfiguration
    /// The wall-clock time at ``Instant/zero``; set it when the driver's clocks drift.
    public var wallClockAtZero: UnixTime
    /// The routing table.
    public internal(set) var table: RoutingTable
    /// Provider records stored for other peers.
    public internal(set) var providerStore: ProviderStore
    /// Name chains stored for other peers.
    public internal(set) var nameStore: NameStore
    /// The topology's authorities for names (none in a pure overlay):
    /// ``setNameAuthorities(_:now:)``.
    public internal(set) var nameAuthorities = NameAuthorities.none
    /// Chains this peer handed to new holders when the authorities changed.
    public internal(set) var namesHandedOff = 0
    /// The local peer's own signed record, handed out to `FIND_VALUE` for its ID and
    /// stored as its provider record.
    public internal(set) var localRecord: SignedPeerRecord?
    /// Dropped incoming messages by reason.
    public internal(set) var drops: [RoutingDropReason: Int] = [:]

    /// An `ADD_PROVIDER` from a contact not yet proven, stored and acknowledged once
    /// its proof arrives.
    struct DeferredProvider: Sendable, Equatable {
        var service: String
        var record: SignedPeerRecord
        var requestID: UInt64
    }

    /// A request awaiting its reply.
    struct PendingRequest: Sendable {
        enum Purpose: Sendable, Equatable {
            case lookup(LookupID)
            case evictionPing
            case addProvider
            /// A `STORE_NAME` whose acknowledgement nobody waits for (a Kademlia store's
            /// second phase, a chain passed on or handed over).
            case storeName
            /// A `PROVE` challenge with its nonce.
            case proof(nonce: [UInt8], deferred: DeferredProvider?)
        }
        var peer: PeerID
        /// Where the request went: only a reply from there counts.
        var address: PeerAddress
        var deadline: Instant
        var purpose: Purpose
        /// When it was sent: its reply measures the round trip.
        var sentAt: Instant
    }

    /// Peers dropped because their requests timed out, for ``takeTimeoutEvictions()``.
    var timeoutEvictions: [PeerID] = []

    /// The smoothed round trip of replies (late ones included), once one was measured.
    var replyRTT: RTTEstimate?
    /// Requests that timed out recently, with when they were sent: a reply that comes
    /// after all still measures the round trip, so timeouts grow on a slow machine.
    var expiredRequests: [(requestID: UInt64, sentAt: Instant)] = []

    /// The timeout of a request sent now: the configured one or the measured
    /// retransmission timeout of replies, whichever is longer (at most 10 times the
    /// configured one), so that a busy machine's slow answers are not taken for failures.
    var requestTimeout: Duration {
        guard let replyRTT else { return configuration.requestTimeout }
        let measured = replyRTT.retransmissionTimeout(minimum: configuration.requestTimeout)
        return min(measured, configuration.requestTimeout * RoutingConstants.maximumTimeoutStretch)
    }

    /// Adds a reply's round trip to ``replyRTT``.
    mutating func addReplySample(_ sample: Duration) {
        replyRTT = replyRTT.map { $0.updated(with: sample) } ?? RTTEstimate(firstSample: sample)
    }

    /// The identity that signs this peer's proofs; `nil` when the core cannot prove itself.
    let identity: IdentityKeyPair?
    /// Contacts that proved themselves (or came from membership), by peer, at the
    /// address proven; at most ``RoutingConstants/maximumProvenContacts``, oldest
    /// forgotten first. The table's contacts count as proven too.
    var proven: [PeerID: PeerAddress] = [:]
    var provenOrder: Deque<PeerID> = []
    /// The pending `PROVE` challenge of each peer being challenged.
    var proving: [PeerID: UInt64] = [:]

    var random: InjectedRandom
    var lookups: [LookupID: Lookup] = [:]
    var pending: [UInt64: PendingRequest] = [:]
    var outgoing = DatagramOutbox()
    var events: Deque<RoutingEvent> = []
    var nextLookupNumber: UInt64 = 1
    var nextMaintenance: Instant
    /// Services this peer provides, with the time of the next republish.
    var provided: [String: Instant] = [:]
    var latestNow: Instant

    /// Creates a core with an empty table that proves its ID with `identity` when
    /// challenged.
    ///
    /// - Parameters:
    ///   - identity: the local peer's key pair; it signs the core's proofs.
    ///   - record: the local peer's signed record, if it has one yet. While it has one,
    ///     the core proves only the addresses it lists.
    ///   - configuration: the settings.
    ///   - wallClockAtZero: the wall-clock time at ``Instant/zero``.
    ///   - random: the source of request IDs, nonces and refresh keys.
    ///   - now: the current time.
    public init(
        identity: IdentityKeyPair, record: SignedPeerRecord? = nil, configuration: RoutingConfiguration = .lan,
        wallClockAtZero: UnixTime, random: any RandomNumberGenerator & Sendable, now: Instant = .zero
    ) {
        self.init(
            localID: identity.peerID, identity: identity, record: record, configuration: configuration,
            wallClockAtZero: wallClockAtZero, random: random, now: now)
    }

    /// Creates a core with an empty table that cannot prove its ID: others admit it
    /// to their tables only through a better source (membership).
    ///
    /// - Parameters:
    ///   - localID: the local peer.
    ///   - record: the local peer's signed record, if it has one yet.
    ///   - configuration: the settings.
    ///   - wallClockAtZero: the wall-clock time at ``Instant/zero``.
    ///   - random: the source of request IDs and refresh keys.
    ///   - now: the current time.
    public init(
        localID: PeerID, record: SignedPeerRecord? = nil, configuration: RoutingConfiguration = .lan,
        wallClockAtZero: UnixTime, random: any RandomNumberGenerator & Sendable, now: Instant = .zero
    ) {
        self.init(
            localID: localID, identity: nil, record: record, configuration: configuration,
            wallClockAtZero: wallClockAtZero, random: random, now: now)
    }

    private init(
        localID: PeerID, identity: IdentityKeyPair?, record: SignedPeerRecord?, configuration: RoutingConfiguration,
        wallClockAtZero: UnixTime, random: any RandomNumberGenerator & Sendable, now: Instant
    ) {
        self.identity = identity
        self.localID = localID
        self.localKey = RoutingKey(peer: localID)
        self.configuration = configuration
        self.wallClockAtZero = wallClockAtZero
        self.table = RoutingTable(
            localKey: localKey, bucketSize: configuration.bucketSize,
            replacementCacheSize: configuration.replacementCacheSize, failureThreshold: configuration.failureThreshold,
            diversity: configuration.diversity, now: now)
        self.providerStore = ProviderStore(
            capacity: configuration.maximumProviderRecords, capacityPerService: configuration.maximumProvidersPerService
        )
        self.nameStore = NameStore(
            capacity: configuration.maximumNameChains, capacityPerZone: configuration.maximumNameChainsPerZone)
        self.localRecord = record
        self.random = InjectedRandom(source: random)
        self.nextMaintenance = now + configuration.maintenanceInterval
        self.latestNow = now
    }

    /// The number of lookups in progress, including refreshes.
    public var activeLookups: Int { lookups.count }

    /// The wall-clock time at `now`.
    public func wallClock(at now: Instant) -> UnixTime {
        wallClockAtZero + (now - .zero)
    }

    // MARK: Liveness

    /// Tells the core that `peer` is alive at `address` by a better source of liveness
    /// than routing's own (membership, which probes every member, and whose alive
    /// claims are signed by their owners): the contact counts as proven. Adds it to the
    /// table or refreshes it; when its bucket is full it waits in the replacement cache
    /// without the eviction ping a contact heard by routing would cost: a slot frees
    /// when an entry's own requests fail. A membership of 1,000 fed through eviction
    /// pings cost each peer some 800 pings at join, more datagrams than the whole
    /// membership protocol sent. The bucket's subnet limit applies.
    public mutating func markAlive(peer: PeerID, address: PeerAddress, now: Instant) {
        guard peer != localID else { return }
        let contact = RoutingContact(peerID: peer, address: address)
        markProven(contact)
        if table.insert(contact, now: clamp(now)) == .refusedSubnetFull { drops[.subnetFull, default: 0] += 1 }
    }

    /// Takes the peers dropped from the table since the last call because their
    /// requests timed out (at most the last ``RoutingConstants/expiredRequestMemory``).
    /// A user with a better source of liveness (the overlay's membership) puts back
    /// those it knows to be alive: on a busy machine a slow answer is not a death.
    public mutating func takeTimeoutEvictions() -> [PeerID] {
        defer { timeoutEvictions.removeAll() }
        return timeoutEvictions
    }

    /// Tells the core that `peer` has failed, by a source of liveness as trusted as
    /// ``markAlive(peer:address:now:)``'s: membership, whose verdict rests on its own
    /// probes of the peer (routing itself never acts on one peer's report about
    /// another). Removes it from the table at once; a replacement takes its slot.
    public mutating func markFailed(peer: PeerID, now: Instant) {
        table.recordFailure(of: peer, now: clamp(now), immediately: true)
    }

    // MARK: Commands

    /// Adds `seeds` to the table and looks up the local key, which fills the table
    /// with the local peer's neighbours and announces it to them; then, when
    /// ``RoutingConfiguration/refreshAfterBootstrap`` is set, refreshes every bucket
    /// farther than the closest neighbour. Reports ``LookupResult/Outcome/nodes(_:)``
    /// when the first lookup ends.
    @discardableResult
    public mutating func bootstrap(seeds: [RoutingContact], now: Instant) -> LookupID {
        let now = clamp(now)
        for seed in seeds where seed.peerID != localID { _ = table.insert(seed, now: now) }
        return startLookup(.bootstrap, target: localKey, reports: true, now: now)
    }

    /// Finds the `k` peers closest to `key`; reports ``LookupResult/Outcome/nodes(_:)``.
    @discardableResult
    public mutating func findNode(_ key: RoutingKey, now: Instant) -> LookupID {
        startLookup(.findNode, target: key, reports: true, now: clamp(now))
    }

    /// Finds `peer`'s signed record; reports ``LookupResult/Outcome/peer(_:)``.
    @discardableResult
    public mutating func findPeer(_ peer: PeerID, now: Instant) -> LookupID {
        startLookup(.findPeer(peer), target: RoutingKey(peer: peer), reports: true, now: clamp(now))
    }

    /// Finds valid provider records for `service`; reports
    /// ``LookupResult/Outcome/providers(_:)``.
    @discardableResult
    public mutating func findProviders(service: String, now: Instant) -> LookupID {
        startLookup(.findProviders(service), target: RoutingKey(service: service), reports: true, now: clamp(now))
    }

    /// Stores the local record as a provider of `service` at the `k` peers closest to
    /// the service's key, and again every ``RoutingConfiguration/republishInterval``
    /// until ``stopProviding(service:)``; reports ``LookupResult/Outcome/provided(storedAt:)``.
    ///
    /// - Throws: ``RoutingError`` when there is no local record, it does not list
    ///   `service`, or the name is invalid.
    @discardableResult
    public mutating func provide(service: String, now: Instant) throws(RoutingError) -> LookupID {
        guard PeerRecord.isValidServiceName(service) else { throw .invalidServiceName(service) }
        guard let localRecord else { throw .noLocalRecord }
        guard localRecord.record.services.contains(service) else { throw .serviceNotInRecord(service) }
        let now = clamp(now)
        provided[service] = now + configuration.republishInterval
        return startLookup(.provide(service), target: RoutingKey(service: service), reports: true, now: now)
    }

    /// Finds the name chain stored at `key`; reports ``LookupResult/Outcome/name(_:refused:)``.
    /// The lookup ends at the first chain that verifies and is stored at `key`; chains
    /// that do not are counted as ``RoutingDropReason/invalidRecord`` and passed over.
    @discardableResult
    public mutating func findName(_ key: RoutingKey, now: Instant) -> LookupID {
        startLookup(.findName, target: key, reports: true, now: clamp(now))
    }

    /// Stores `chain` at the `k` peers closest to its key (once: its owner republishes);
    /// reports ``LookupResult/Outcome/nameStored(storedAt:)`` with how many it was sent
    /// to.
    /// - Throws: ``NameError`` when the chain does not verify.
    @discardableResult
    public mutating func storeName(_ chain: NameChain, now: Instant) throws(NameError) -> LookupID {
        let now = clamp(now)
        try chain.verify(now: wallClock(at: now))
        guard let key = chain.key else { throw .forged("empty chain") }
        return startLookup(.storeName(chain), target: key, reports: true, now: now)
    }

    /// Stops republishing `service`; stored copies lapse after their lifetime.
    public mutating func stopProviding(service: String) {
        provided[service] = nil
    }

    /// Replaces the local record (for example, after an address change).
    public mutating func updateLocalRecord(_ record: SignedPeerRecord) {
        localRecord = record
    }

    // MARK: ProtocolCore

    /// Feeds one received datagram holding a ``RoutingMessage``.
    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        handleMessage(Array(datagram)[...], from: source, now: now)
    }

    /// Writes the next message to send into `buffer` and returns its destination.
    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        outgoing.popFirst(into: &buffer)
    }

    /// The earliest request (or challenge) deadline, lookup deadline or maintenance tick.
    public func pollTimeout() -> Instant? {
        var earliest = nextMaintenance
        for request in pending.values where request.deadline < earliest { earliest = request.deadline }
        for lookup in lookups.values where lookup.deadline < earliest { earliest = lookup.deadline }
        return earliest
    }

    /// The next event, or `nil`.
    public mutating func pollEvent() -> RoutingEvent? {
        events.popFirst()
    }

    // MARK: Helpers

    /// `now`, or the latest time seen if `now` went backwards.
    mutating func clamp(_ now: Instant) -> Instant {
        if now > latestNow { latestNow = now }
        return latestNow
    }

    /// Adds a live, proven contact; pings the bucket's oldest entry when the bucket is full.
    mutating func noteAlive(_ contact: RoutingContact, now: Instant) {
        switch table.insert(contact, now: now) {
        case .cached(let oldest?): send(.ping, to: oldest, purpose: .evictionPing, now: now)
        case .refusedSubnetFull: drops[.subnetFull, default: 0] += 1
        default: break
        }
    }

    /// Whether `contact` proved itself at its address (or the table holds it there).
    func isProven(_ contact: RoutingContact) -> Bool {
        proven[contact.peerID] == contact.address || table.holds(contact.peerID, at: contact.address)
    }

    /// Remembers that `contact` proved itself at its address.
    mutating func markProven(_ contact: RoutingContact) {
        if proven.updateValue(contact.address, forKey: contact.peerID) == nil { provenOrder.append(contact.peerID) }
        while proven.count > RoutingConstants.maximumProvenContacts, let oldest = provenOrder.popFirst() {
            proven[oldest] = nil
        }
    }

    /// A contact met in routing traffic: refreshed when proven, otherwise challenged
    /// when it could take a place in the table.
    mutating func met(_ contact: RoutingContact, now: Instant) {
        if isProven(contact) {
            noteAlive(contact, now: now)
        } else if proving[contact.peerID] == nil, table.wouldAdmit(contact) {
            challenge(contact, deferring: nil, now: now)
        }
    }

    /// Sends `contact` a `PROVE` challenge, or adds `deferred` to the one pending.
    /// - Returns: whether a challenge is pending for the contact at its address.
    @discardableResult
    mutating func challenge(_ contact: RoutingContact, deferring deferred: DeferredProvider?, now: Instant) -> Bool {
        if let requestID = proving[contact.peerID], let request = pending[requestID] {
            guard request.address == contact.address, case .proof(let nonce, nil) = request.purpose else {
                return false
            }
            pending[requestID]?.purpose = .proof(nonce: nonce, deferred: deferred)
            return true
        }
        guard proving.count < RoutingConstants.maximumPendingProofs else {
            drops[.overloaded, default: 0] += 1
            return false
        }
        var nonce: [UInt8] = []
        nonce.reserveCapacity(RoutingConstants.proofNonceSize)
        while nonce.count < RoutingConstants.proofNonceSize {
            withUnsafeBytes(of: random.next().littleEndian) { nonce.append(contentsOf: $0) }
        }
        guard
            let requestID = send(
                .prove(nonce: nonce, address: contact.address), to: contact,
                purpose: .proof(nonce: nonce, deferred: deferred), now: now)
        else { return false }
        proving[contact.peerID] = requestID
        return true
    }

    /// Queues a request and remembers it until its reply or timeout.
    /// - Returns: the request ID, or `nil` when too many requests are pending.
    @discardableResult
    mutating func send(
        _ body: RoutingMessage.Body, to contact: RoutingContact, purpose: PendingRequest.Purpose, now: Instant,
        requestID chosen: UInt64? = nil
    ) -> UInt64? {
        guard pending.count < RoutingConstants.maximumPendingRequests else {
            drops[.overloaded, default: 0] += 1
            return nil
        }
        let requestID = chosen ?? makeRequestID()
        pending[requestID] = PendingRequest(
            peer: contact.peerID, address: contact.address, deadline: now + requestTimeout, purpose: purpose,
            sentAt: now)
        enqueue(RoutingMessage(requestID: requestID, sender: localID, body: body), to: contact.address)
        return requestID
    }

    /// Encodes and queues a message; one that cannot be encoded is not sent.
    mutating func enqueue(_ message: RoutingMessage, to address: PeerAddress) {
        guard let bytes = try? message.encode() else { return }
        outgoing.append(bytes, to: address)
    }

    /// A fresh, unpredictable request ID not currently pending.
    mutating func makeRequestID() -> UInt64 {
        var candidate = random.next()
        var attempts = 0
        while pending[candidate] != nil, attempts < 16 {
            candidate = random.next()
            attempts += 1
        }
        return candidate
    }
}

/// Why a ``RoutingCore`` command was refused.
public enum RoutingError: Error, Equatable, Sendable {
    /// ``RoutingCore/provide(service:now:)`` needs ``RoutingCore/localRecord``.
    case noLocalRecord
    /// The local record does not list the service, so it cannot serve as its provider record.
    case serviceNotInRecord(String)
    /// The name breaks ``PeerRecord/isValidServiceName(_:)``.
    case invalidServiceName(String)
}
