internal import DequeModule
internal import HeapModule
internal import OrderedCollections

/// The hybrid topology of one peer: an index server's store and answers (when the peer
/// is one) and the client side every hybrid peer runs — finding index servers,
/// registering its record with the ones that hold its keys, and asking them.
///
/// ### Purpose
/// Index servers share the key space by rendezvous hashing (``IndexPlacement``): a
/// client registers its signed record with the ``HybridConfiguration/replication``
/// servers that hold its peer ID and with those that hold each of its services, and
/// sends a lookup to the holders of its key, best first, trying the next one when a
/// holder times out or does not have it. Registrations are refreshed after a third of
/// their lifetime and at once when the record changes or a holder comes back (it may
/// have restarted empty); an index server that is lost moves its keys to the next
/// servers by the same rule, and the clients register there.
///
/// When no index server is up, lookups are handed back (``HybridEvent/fallback(_:_:requests:timeouts:)``)
/// for the Kademlia overlay, and ``TopologyEvent/fallbackStarted`` tells the overlay to
/// provide this peer's services there too, until an index server answers again.
///
/// Index servers find each other: each asks the ones it knows for their lists
/// (flagged as coming from an index), and one asked so asks back.
///
/// ### Driving
/// Messages in (``handleMessage(_:from:now:)``), timers (``handleTimeout(now:)``),
/// membership news (``memberAlive(_:address:now:)``, ``memberSuspected(_:now:)``,
/// ``memberGone(_:left:now:)``), commands (``start(now:)``, ``findPeer(_:now:)``,
/// ``findProviders(service:now:)``, ``provide(service:now:)``,
/// ``updateLocalRecord(_:now:)``); outputs ``pollTransmit(now:into:)`` (message bytes,
/// without the overlay envelope), ``pollTimeout()``, ``pollEvent()``.
///
/// - Warning: not thread-safe; drive it from one event loop or task at a time.
public struct HybridCore: Sendable {
    /// The validated configuration.
    public let configuration: HybridConfiguration
    /// This peer's ID.
    public let localID: PeerID
    /// Where this peer receives overlay datagrams.
    public let localAddress: PeerAddress
    /// The registrations held, when this peer is an index server.
    public internal(set) var store: IndexStore?
    /// The index servers known, in the order first learned.
    var indexes: OrderedDictionary<PeerID, IndexServerState> = [:]
    /// Client-side counters.
    public internal(set) var statistics = HybridStatistics()

    let wallClockAtZero: UnixTime
    var random: ForkedRandom
    var record: SignedPeerRecord
    var outbox = DatagramOutbox()
    /// Messages to this peer itself (an index server asking itself), handled in order.
    var loopback = Deque<[UInt8]>()
    var events = Deque<HybridEvent>()
    var pending: [UInt32: IndexRequest] = [:]
    var deadlines = Heap<RequestDeadline>()
    var lookups: OrderedDictionary<LookupID, HybridLookup> = [:]
    var registrations: [PeerID: Registration] = [:]
    var bootstrap: OrderedDictionary<PeerAddress, Instant> = [:]
    /// The members among ``bootstrap`` (``HybridConstants/bootstrapMembers``), dropped
    /// from it once an index server is known.
    var bootstrapMembers: [PeerAddress] = []
    var bootstrapBackoff = HybridConstants.firstIndexRetry
    var nextRequest: UInt32 = 0
    var nextLookup: UInt64 = 0
    var nextListAt: Instant?
    /// The wait before the next index list request: from 1 s after start, doubling to
    /// ``HybridConfiguration/indexListInterval``, so that index servers that start
    /// together are all found within seconds.
    var listInterval: Duration = .seconds(1)
    var nextRefreshAt: Instant?
    var nextSweepAt: Instant?
    /// When an index server next asks its fellows for their lists (``probeFellows(now:)``).
    var nextFellowProbeAt: Instant?
    var isFallingBack = false
    /// The members membership holds, this peer included (``setHeldMembers(_:)``).
    var heldMembers = 1
    /// The median of the member counts the index servers reported (0 before any did).
    var reportedMembers = 0
    /// The members a partial view holds (see ``prefersPartialView``).
    public internal(set) var featuredMembers: Set<PeerID> = []
    /// Raised whenever ``featuredMembers`` changes.
    public internal(set) var featuredVersion: UInt64 = 0
    /// Whether this peer should hold a partial membership view (see
    /// ``HybridConfiguration/clientViewThreshold``).
    public internal(set) var prefersPartialView = false
    var started = false
    var latestNow = Instant.zero
    /// A message being encoded; reused.
    var writer = ByteWriter(capacity: 1_400)

    /// Creates the hybrid part of a peer.
    /// - Parameters:
    ///   - configuration: validated by the caller (``HybridConfiguration/validate()``).
    ///   - record: this peer's signed record, as registered.
    ///   - address: where this peer receives overlay datagrams.
    ///   - wallClockAtZero: the wall-clock time at ``Instant/zero`` (records' expiry).
    ///   - seed: seeds the random choices.
    public init(
        configuration: HybridConfiguration, record: SignedPeerRecord, address: PeerAddress,
        wallClockAtZero: UnixTime, seed: UInt64
    ) {
        self.configuration = configuration
        self.localID = record.record.peerID
        self.localAddress = address
        self.record = record
        self.wallClockAtZero = wallClockAtZero
        self.random = ForkedRandom(seed: seed)
        if configuration.role == .index {
            store = IndexStore(limits: configuration.limits)
            indexes[localID] = IndexServerState(address: address)
        }
    }

    /// The role of this peer.
    public var role: TopologyRole { configuration.role == .index ? .index : .client }

    /// The index servers known (this one among them, when it is one), in the order first learned.
    public var knownIndexes: [IndexEntry] { indexes.map { IndexEntry(id: $0.key, address: $0.value.address) } }

    /// What this peer knows of index server `id`.
    public func indexState(_ id: PeerID) -> IndexServerState? { indexes[id] }

    /// The index servers that count as up.
    public var upIndexes: [PeerID] { indexes.filter { $0.value.isUp }.map(\.key) }

    /// On an index server, where the fellow index servers that are up receive (none on
    /// a client): the overlay keeps them proven, so that the records handed to them when
    /// a fellow is lost (``HybridStatistics/handoffsSent``) go out at once, however many.
    var upFellowAddresses: [PeerAddress] {
        guard store != nil else { return [] }
        return indexes.filter { $0.key != localID && $0.value.isUp }.map(\.value.address)
    }

    /// Whether lookups currently go to the Kademlia overlay because no index server is up.
    public var isFallbackActive: Bool { isFallingBack }

    /// The ID the next lookup gets: hybrid lookups count from 2⁶³ + 1, apart from the
    /// routing core's own.
    mutating func makeLookupID() -> LookupID {
        nextLookup += 1
        return LookupID(rawValue: HybridCore.lookupIDBase | nextLookup)
    }

    /// Lookup IDs of hybrid lookups have this bit set.
    public static let lookupIDBase: UInt64 = 1 << 63

    /// Starts: reports the role, asks the configured index servers for their lists
    /// and registers this peer's record where it belongs.
    /// Until then ``pollTimeout()`` asks for a timeout at the latest time seen, which
    /// starts it (``OverlayCore`` starts it when it is created).
    public mutating func start(now: Instant) {
        guard !started else { return }
        started = true
        let now = advance(now)
        events.append(.topology(.role(role)))
        for address in configuration.indexes where address != localAddress {
            bootstrap[address] = now
        }
        askBootstrapAddresses(now: now)
        listInterval = min(HybridConstants.firstIndexRetry, configuration.indexListInterval)
        nextListAt = now + listInterval
        if store != nil {
            nextSweepAt = now + HybridConstants.sweepInterval
            nextFellowProbeAt = now + configuration.fellowProbeInterval
        }
        refreshRegistrations(now: now)
        drainLoopback(now: now)
    }

    // MARK: Outputs

    /// Writes the next message to send into `buffer`.
    /// - Returns: its destination, or nil when nothing waits.
    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        outbox.popFirst(into: &buffer)
    }

    /// The earliest time the core wants ``handleTimeout(now:)``.
    public func pollTimeout() -> Instant? {
        guard started else { return latestNow }
        // Called after every drain of the overlay: compared in place, nothing allocated.
        var earliest: Instant? = deadlines.min?.at
        func consider(_ candidate: Instant?) {
            guard let candidate else { return }
            if earliest == nil || candidate < earliest! { earliest = candidate }
        }
        consider(nextListAt)
        consider(nextRefreshAt)
        consider(nextSweepAt)
        consider(nextFellowProbeAt)
        for due in bootstrap.values { consider(due) }
        for state in indexes.values { consider(state.retryAt) }
        return earliest
    }

    /// The next event, oldest first.
    public mutating func pollEvent() -> HybridEvent? { events.popFirst() }

    // MARK: Inputs

    /// Handles one index message from `source`.
    public mutating func handleMessage(_ bytes: ArraySlice<UInt8>, from source: PeerAddress, now: Instant) {
        let now = advance(now)
        receive(bytes, from: source, now: now)
        drainLoopback(now: now)
    }

    /// Runs what is due: request timeouts, retries, list refreshes, registration
    /// refreshes and the store's sweep.
    public mutating func handleTimeout(now: Instant) {
        guard started else { return start(now: now) }
        let now = advance(now)
        expireRequests(now: now)
        if bootstrap.values.contains(where: { $0 <= now }) { askBootstrapAddresses(now: now) }
        for (id, state) in indexes where state.retryAt.map({ $0 <= now }) ?? false {
            indexes[id]!.backOff(now: now)
            send(.listIndexes(request: 0, fromIndex: role == .index), to: state.address, as: .list(index: id), now: now)
        }
        if let due = nextListAt, due <= now {
            listInterval = min(listInterval * 2, configuration.indexListInterval)
            nextListAt = now + listInterval
            if let id = upIndexes.filter({ $0 != localID }).randomElement(using: &random) {
                send(
                    .listIndexes(request: 0, fromIndex: role == .index), to: indexes[id]!.address,
                    as: .list(index: id), now: now)
            }
        }
        if let due = nextFellowProbeAt, due <= now { probeFellows(now: now) }
        if let due = nextSweepAt, due <= now {
            nextSweepAt = now + HybridConstants.sweepInterval
            store?.sweep(now: now)
        }
        if let due = nextRefreshAt, due <= now { refreshRegistrations(now: now) }
        drainLoopback(now: now)
    }

    /// Membership found `peer` alive at `address` (joined, came back, or moved).
    public mutating func memberAlive(_ peer: PeerID, address: PeerAddress, now: Instant) {
        let now = advance(now)
        if indexes.isEmpty { keepMemberForIndexes(at: address) }
        guard peer != localID, var state = indexes[peer] else { return }
        let wasUp = state.isUp
        state.noteAliveByMembership()
        state.address = address
        indexes[peer] = state
        indexStatusChanged(peer, wasUp: wasUp, now: now)
        drainLoopback(now: now)
    }

    /// Membership suspects `peer`: an index server suspected is passed over until it
    /// refutes (its keys' next holders get the registrations meanwhile).
    public mutating func memberSuspected(_ peer: PeerID, now: Instant) {
        memberDown(peer, now: now)
    }

    /// Membership found `peer` failed or (`left`) departed: an index server is passed
    /// over; an index server forgets a peer that left.
    public mutating func memberGone(_ peer: PeerID, left: Bool, now: Instant) {
        if left { store?.remove(peer) }
        memberDown(peer, now: now)
    }

    private mutating func memberDown(_ peer: PeerID, now: Instant) {
        let now = advance(now)
        guard peer != localID, var state = indexes[peer] else { return }
        let wasUp = state.isUp
        state.noteDownByMembership(now: now)
        indexes[peer] = state
        indexStatusChanged(peer, wasUp: wasUp, now: now)
        drainLoopback(now: now)
    }

    /// Takes this peer's new signed record (new services, or renewed) and registers it.
    public mutating func updateLocalRecord(_ record: SignedPeerRecord, now: Instant) {
        let now = advance(now)
        self.record = record
        refreshRegistrations(now: now)
        drainLoopback(now: now)
    }

    // MARK: Helpers

    mutating func advance(_ now: Instant) -> Instant {
        if now > latestNow { latestNow = now }
        return latestNow
    }

    func wallClock(at now: Instant) -> UnixTime { wallClockAtZero + (now - .zero) }

    /// Reports an index server's change of state, re-places registrations (an index
    /// server hands over the records whose keys moved), and starts or ends the fallback.
    mutating func indexStatusChanged(_ peer: PeerID, wasUp: Bool, now: Instant) {
        guard let state = indexes[peer] else { return }
        if state.isUp != wasUp {
            events.append(.topology(state.isUp ? .indexUp(peer, state.address) : .indexDown(peer)))
            // Back after being down, it may have restarted empty: register with it again.
            if state.isUp { registrations[peer] = nil }
            if store != nil {
                let previouslyUp = state.isUp ? upIndexes.filter { $0 != peer } : upIndexes + [peer]
                handOff(previouslyUp: previouslyUp, now: now)
            }
        }
        let anyUp = indexes.values.contains(where: \.isUp)
        if anyUp, isFallingBack {
            isFallingBack = false
            events.append(.topology(.fallbackEnded))
        } else if !anyUp, !isFallingBack {
            isFallingBack = true
            events.append(.topology(.fallbackStarted))
        }
        if state.isUp != wasUp { refreshRegistrations(now: now) }
    }

    /// Encodes `message` (with a fresh request ID when it is a request) and queues it for
    /// `destination`, waiting for its answer as `request` when given.
    mutating func send(
        _ message: IndexMessage, to destination: PeerAddress, as request: IndexRequest.Kind?, now: Instant
    ) {
        var message = message
        if let request {
            guard pending.count < HybridConstants.maximumPendingRequests else {
                statistics.requestsRefused += 1
                return
            }
            nextRequest &+= 1
            if nextRequest == 0 { nextRequest = 1 }
            message = message.withRequest(nextRequest)
            let pendingRequest = IndexRequest(kind: request, destination: destination, sentAt: now)
            let timeout =
                pendingRequest.index.flatMap { indexes[$0]?.requestTimeout(configuration) }
                ?? configuration.maximumRequestTimeout
            pending[nextRequest] = pendingRequest
            deadlines.insert(RequestDeadline(at: now + timeout, request: nextRequest))
            statistics.requestsSent += 1
        }
        writer.reset()
        // Valid by construction: records' services were checked when signed, lists capped.
        try? message.encode(into: &writer)
        if destination == localAddress {
            loopback.append(writer.bytes)
        } else {
            outbox.append(writer.bytes, to: destination)
            switch message {
            case .findPeer, .findService, .records:
                statistics.lookupMessagesSent += 1
                statistics.lookupBytesSent += writer.bytes.count
            default:
                break
            }
        }
    }

    /// Handles the messages this peer sent itself.
    mutating func drainLoopback(now: Instant) {
        while let bytes = loopback.popFirst() {
            receive(bytes[...], from: localAddress, now: now)
        }
    }

    /// Decodes and dispatches one message.
    mutating func receive(_ bytes: ArraySlice<UInt8>, from source: PeerAddress, now: Instant) {
        let message: IndexMessage
        do {
            message = try IndexMessage.decode(bytes)
        } catch {
            statistics.malformed += 1
            return
        }
        switch message {
        case .register, .findPeer, .findService:
            serve(message, from: source, now: now)
        case .listIndexes(let request, let fromIndex):
            answerIndexList(request: request, fromIndex: fromIndex, to: source, now: now)
        case .handoff(_, let records):
            takeHandoff(records, from: source, now: now)
        case .registered, .records, .indexes:
            guard let request = pending[message.request], request.destination == source else {
                statistics.unexpectedAnswers += 1
                return
            }
            pending[message.request] = nil
            handleAnswer(message, to: request, now: now)
        }
    }
}

/// A request a hybrid peer waits an answer for.
struct IndexRequest: Hashable, Sendable {
    /// What it asked.
    enum Kind: Hashable, Sendable {
        /// A list of index servers, from a known server or (nil) a configured address.
        case list(index: PeerID?)
        /// A registration of the record with `sequence` at `index`.
        case register(index: PeerID, sequence: UInt64)
        /// A query of `lookup` sent to `index`.
        case lookup(LookupID, index: PeerID)
    }

    var kind: Kind
    var destination: PeerAddress
    var sentAt: Instant

    /// The index server asked, when it is a known one.
    var index: PeerID? {
        switch kind {
        case .list(let index): index
        case .register(let index, _), .lookup(_, let index): index
        }
    }
}

/// When a request's wait ends.
struct RequestDeadline: Comparable, Sendable {
    var at: Instant
    var request: UInt32

    static func < (lhs: RequestDeadline, rhs: RequestDeadline) -> Bool {
        lhs.at != rhs.at ? lhs.at < rhs.at : lhs.request < rhs.request
    }
}

/// A registration of this peer's record at one index server.
struct Registration: Hashable, Sendable {
    /// The record sequence registered (or being registered).
    var sequence: UInt64
    /// Whether the index server stored it (false while waiting or after a refusal).
    var stored: Bool
    /// When to register again.
    var refreshAt: Instant
    /// Attempts made at this sequence.
    var attempts: Int
}

/// A hybrid peer's client-side counters.
public struct HybridStatistics: Equatable, Sendable {
    /// Requests sent to index servers.
    public internal(set) var requestsSent = 0
    /// Requests that timed out.
    public internal(set) var requestTimeouts = 0
    /// Requests not sent because too many were waiting.
    public internal(set) var requestsRefused = 0
    /// Registrations an index server stored.
    public internal(set) var registrationsStored = 0
    /// Registrations an index server refused.
    public internal(set) var registrationsRefused = 0
    /// Lookups answered by index servers.
    public internal(set) var lookupsAnswered = 0
    /// Lookups handed to the Kademlia overlay.
    public internal(set) var lookupsFallenBack = 0
    /// Lookup requests (`findPeer`, `findService`) and their `records` answers this peer
    /// sent to others.
    public internal(set) var lookupMessagesSent = 0
    /// The bytes of those messages (without the overlay's envelope).
    public internal(set) var lookupBytesSent = 0
    /// Records an index server handed to fellows that took over their keys.
    public internal(set) var handoffsSent = 0
    /// Records from index servers that did not verify.
    public internal(set) var invalidRecords = 0
    /// Messages that did not decode.
    public internal(set) var malformed = 0
    /// Answers that matched no waiting request (late, repeated, forged, or from
    /// another address than asked).
    public internal(set) var unexpectedAnswers = 0
}

extension IndexMessage {
    /// The message with request ID `request`.
    func withRequest(_ request: UInt32) -> IndexMessage {
        switch self {
        case .register(_, let lifetime, let record): .register(request: request, lifetime: lifetime, record: record)
        case .registered(_, let status, let lifetime): .registered(request: request, status: status, lifetime: lifetime)
        case .findPeer(_, let peer): .findPeer(request: request, peer: peer)
        case .findService(_, let service): .findService(request: request, service: service)
        case .records(_, let records): .records(request: request, records: records)
        case .listIndexes(_, let fromIndex): .listIndexes(request: request, fromIndex: fromIndex)
        case .indexes(_, let members, let entries): .indexes(request: request, members: members, entries: entries)
        case .handoff(_, let records): .handoff(request: request, records: records)
        }
    }
}
