internal import DequeModule

/// The incoming requests a peer remembers, so that a handler runs at most once per
/// request and a retransmitted request gets the same answer again.
///
/// ### Purpose
/// Requests are remembered per *requester*: one incarnation of one peer. Each request
/// is remembered from its first copy, first as ``State/running`` (reported to the
/// handler, not yet answered) and then as ``State/answered(_:)`` with the encoded
/// response. Copies that arrive meanwhile are ignored while running and answered from
/// the cache once answered.
///
/// Each request carries the requester's *floor*: the smallest ID it may still send.
/// The cache keeps the highest floor seen per requester and forgets that requester's
/// entries below it at once; a request below it is a stale copy nobody waits for
/// (``Admission/stale``). A requester with `n` requests outstanding so pins about `n`
/// entries. As a backstop, an entry is also forgotten ``lifetime`` after its first
/// copy, and a requester (its floor included) ``lifetime`` after its last new request,
/// when no copy of its requests can arrive any more.
///
/// At most ``capacity`` requests in all, ``peerCapacity`` per requester and
/// ``requesterLimit`` requesters are remembered; beyond that, new requests are turned
/// away (``Admission/full``) rather than forgetting one early, which could let its
/// handler run twice. Expired entries are dropped as requests arrive, so the cache
/// needs no timer.
///
/// - Warning: `now` must never go backwards between calls.
struct ResponseCache: Sendable {
    /// What is known of one request.
    enum State: Equatable, Sendable {
        /// Handed to the handler, not yet answered.
        case running
        /// Answered with this encoded response message.
        case answered([UInt8])
    }

    /// What to do with an arriving request.
    enum Admission: Equatable, Sendable {
        /// First copy: hand it to the handler.
        case new
        /// A copy of a request the handler has not answered yet: ignore it.
        case running
        /// A copy of an answered request: send this response again.
        case answered([UInt8])
        /// Below its requester's floor: a stale copy nobody waits for; drop it.
        case stale
        /// The cache is full: turn the request away without remembering it.
        case full
    }

    /// One remembered request.
    struct Entry: Sendable {
        /// The requester's ID for it.
        let id: UInt64
        /// Running or answered.
        var state: State
        /// When it is forgotten even if no floor passes it.
        let expires: Instant
    }

    /// What is remembered of one incarnation of one peer.
    struct Requester: Sendable {
        /// The incarnation, from its requests.
        let incarnation: UInt32
        /// The highest floor seen: no request below it is served.
        var floor: UInt64
        /// Its requests at or above ``floor``, in ID order.
        var entries = Deque<Entry>()
        /// When it is forgotten: ``lifetime`` after its last new request.
        var expires: Instant

        /// The index of the entry with `id`, or where it would go.
        func position(of id: UInt64) -> (index: Int, found: Bool) {
            var low = 0
            var high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if entries[middle].id < id { low = middle + 1 } else { high = middle }
            }
            return (low, low < entries.count && entries[low].id == id)
        }
    }

    /// Most requests remembered at once, from all requesters.
    let capacity: Int
    /// Most requests remembered from one requester.
    let peerCapacity: Int
    /// Most requesters remembered at once.
    let requesterLimit: Int
    /// How long a request is remembered after its first copy, unless a floor passes it.
    let lifetime: Duration

    /// The requesters of each peer, one per incarnation remembered (nearly always one).
    private var requesters: [PeerID: [Requester]] = [:]
    /// Number of requests remembered (some may have expired and not yet been dropped).
    private(set) var count = 0
    /// Number of requesters remembered.
    private(set) var requesterCount = 0
    /// No full sweep finds anything to drop before this instant.
    private var nextSweep: Instant?

    /// Creates an empty cache.
    /// - Precondition: every bound is positive, and `lifetime > 0`.
    init(
        capacity: Int = RPCConstants.responseCacheCapacity,
        peerCapacity: Int = RPCConstants.responseCachePeerCapacity,
        requesterLimit: Int = RPCConstants.responseCacheRequesterLimit,
        lifetime: Duration = RPCConstants.responseCacheLifetime
    ) {
        precondition(
            capacity > 0 && peerCapacity > 0 && requesterLimit > 0 && lifetime > .zero,
            "the response cache needs room and time")
        self.capacity = capacity
        self.peerCapacity = peerCapacity
        self.requesterLimit = requesterLimit
        self.lifetime = lifetime
    }

    /// The floor remembered for `incarnation` of `peer`, if it is remembered at `now`.
    func floor(of peer: PeerID, incarnation: UInt32, now: Instant) -> UInt64? {
        requesters[peer]?.first { $0.incarnation == incarnation && $0.expires > now }?.floor
    }

    /// What is known of `key` (in any incarnation of its peer), if remembered and not
    /// expired at `now`.
    func state(of key: IncomingRequestID, now: Instant) -> State? {
        for requester in requesters[key.peer] ?? [] {
            let (index, found) = requester.position(of: key.requestID.rawValue)
            if found, requester.entries[index].expires > now { return requester.entries[index].state }
        }
        return nil
    }

    /// Looks up an arriving request, raises its requester's floor to `floor`, and
    /// remembers the request as running when it is new.
    /// - Parameters:
    ///   - key: the requesting peer and the request ID.
    ///   - floor: the request's floor; at most its ID.
    ///   - incarnation: the request's incarnation.
    ///   - now: the current time.
    mutating func admit(_ key: IncomingRequestID, floor: UInt64, incarnation: UInt32, now: Instant) -> Admission {
        let id = key.requestID.rawValue
        let floor = min(floor, id)
        var list = requesters.removeValue(forKey: key.peer) ?? []
        defer { if !list.isEmpty { requesters[key.peer] = list } }
        dropExpired(from: &list, now: now)
        let slot: Int
        if let found = list.firstIndex(where: { $0.incarnation == incarnation }) {
            slot = found
        } else {
            if requesterCount >= requesterLimit { sweep(now: now) }
            guard requesterCount < requesterLimit, count < capacity else { return .full }
            list.append(Requester(incarnation: incarnation, floor: floor, expires: now))
            requesterCount += 1
            slot = list.count - 1
        }
        if id < list[slot].floor { return .stale }
        if floor > list[slot].floor {
            list[slot].floor = floor
            while let first = list[slot].entries.first, first.id < floor {
                list[slot].entries.removeFirst()
                count -= 1
            }
        }
        let (index, found) = list[slot].position(of: id)
        if found {
            let entry = list[slot].entries[index]
            if entry.expires > now {
                switch entry.state {
                case .running: return .running
                case .answered(let response): return .answered(response)
                }
            }
            list[slot].entries.remove(at: index)
            count -= 1
        }
        if count >= capacity { sweep(now: now) }
        guard list[slot].entries.count < peerCapacity, count < capacity else {
            if list[slot].entries.isEmpty, list[slot].expires <= now {
                // Made for this request alone: nothing to remember it for.
                list.remove(at: slot)
                requesterCount -= 1
            }
            return .full
        }
        let expires = now + lifetime
        list[slot].entries.insert(Entry(id: id, state: .running, expires: expires), at: index)
        list[slot].expires = expires
        count += 1
        return .new
    }

    /// Records the answer to a running request.
    /// - Returns: `false` when `key` is not remembered (it expired, a floor passed it,
    ///   or it never came) or is already answered; then nothing changes.
    @discardableResult
    mutating func answer(_ key: IncomingRequestID, with response: [UInt8]) -> Bool {
        guard var list = requesters[key.peer] else { return false }
        for slot in list.indices {
            let (index, found) = list[slot].position(of: key.requestID.rawValue)
            guard found, list[slot].entries[index].state == .running else { continue }
            list[slot].entries[index].state = .answered(response)
            requesters[key.peer] = list
            return true
        }
        return false
    }

    // MARK: Expiry

    /// Drops from `list` the requesters whose time is up, and the expired entries at
    /// the front of the others.
    private mutating func dropExpired(from list: inout [Requester], now: Instant) {
        list.removeAll { requester in
            guard requester.expires <= now else { return false }
            count -= requester.entries.count
            requesterCount -= 1
            return true
        }
        for slot in list.indices {
            while let first = list[slot].entries.first, first.expires <= now {
                list[slot].entries.removeFirst()
                count -= 1
            }
        }
    }

    /// Drops every expired requester and entry; does nothing before the earliest
    /// expiry the previous sweep left. O(entries), run only when a bound is reached.
    private mutating func sweep(now: Instant) {
        if let nextSweep, now < nextSweep { return }
        var earliest: Instant?
        for peer in Array(requesters.keys) {
            var list = requesters.removeValue(forKey: peer) ?? []
            dropExpired(from: &list, now: now)
            for slot in list.indices {
                let before = list[slot].entries.count
                list[slot].entries.removeAll { $0.expires <= now }
                count -= before - list[slot].entries.count
                let soonest = list[slot].entries.lazy.map(\.expires).min() ?? list[slot].expires
                earliest = min(earliest ?? soonest, soonest)
            }
            if !list.isEmpty { requesters[peer] = list }
        }
        nextSweep = earliest
    }
}
