internal import DequeModule

/// The incoming requests a peer remembers, so that a handler runs at most once per
/// request and a retransmitted request gets the same answer again.
///
/// ### Purpose
/// Each request is remembered from its first copy for ``lifetime``, first as
/// ``State/running`` (reported to the handler, not yet answered) and then as
/// ``State/answered(_:)`` with the encoded response. Copies that arrive meanwhile are
/// ignored while running and answered from the cache once answered. At most
/// ``capacity`` requests are remembered; when full, new requests are turned away
/// (``Admission/full``) rather than forgetting one early, which could let its handler
/// run twice. Expired entries are dropped as requests arrive, so the cache needs no timer.
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
        /// The cache is full: turn the request away without remembering it.
        case full
    }

    /// Most requests remembered at once.
    let capacity: Int
    /// How long a request is remembered after its first copy.
    let lifetime: Duration

    private var entries: [IncomingRequestID: (state: State, expires: Instant)] = [:]
    /// Keys in arrival order, which is also expiry order.
    private var order = Deque<(key: IncomingRequestID, expires: Instant)>()

    /// Creates an empty cache.
    /// - Precondition: `capacity > 0` and `lifetime > 0`.
    init(
        capacity: Int = RPCConstants.responseCacheCapacity, lifetime: Duration = RPCConstants.responseCacheLifetime
    ) {
        precondition(capacity > 0 && lifetime > .zero, "the response cache needs room and time")
        self.capacity = capacity
        self.lifetime = lifetime
    }

    /// Number of requests remembered (some may have expired and not yet been dropped).
    var count: Int { entries.count }

    /// What is known of `key`, if remembered and not expired at `now`.
    func state(of key: IncomingRequestID, now: Instant) -> State? {
        guard let entry = entries[key], entry.expires > now else { return nil }
        return entry.state
    }

    /// Looks up an arriving request and remembers it as running when it is new.
    mutating func admit(_ key: IncomingRequestID, now: Instant) -> Admission {
        removeExpired(now: now)
        switch entries[key]?.state {
        case .running?:
            return .running
        case .answered(let response)?:
            return .answered(response)
        case nil:
            guard entries.count < capacity else { return .full }
            let expires = now + lifetime
            entries[key] = (.running, expires)
            order.append((key, expires))
            return .new
        }
    }

    /// Records the answer to a running request.
    /// - Returns: `false` when `key` is not remembered (it expired, or never came) or
    ///   is already answered; then nothing changes.
    @discardableResult
    mutating func answer(_ key: IncomingRequestID, with response: [UInt8]) -> Bool {
        guard let entry = entries[key], entry.state == .running else { return false }
        entries[key] = (.answered(response), entry.expires)
        return true
    }

    /// Forgets the requests whose lifetime ended at or before `now`.
    mutating func removeExpired(now: Instant) {
        while let oldest = order.first, oldest.expires <= now {
            order.removeFirst()
            entries[oldest.key] = nil
        }
    }
}
