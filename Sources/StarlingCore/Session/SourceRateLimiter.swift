/// A token bucket per source that limits how often each source may start a handshake,
/// in a table of bounded size.
///
/// ### Purpose
/// Handshake initiations cost the responder Diffie-Hellman work, and they arrive
/// before anything is authenticated. Each source gets `burst` tokens that refill at one
/// per `refillInterval`; an initiation spends one, and with none left it is dropped
/// (as wireguard-go `ratelimiter/ratelimiter.go`: 20 per second, burst 5).
///
/// Tokens are counted in nanoseconds of refill time, so all arithmetic is exact
/// integers. An entry whose bucket has refilled behaves exactly as an absent one, so
/// ``collectGarbage(now:)`` forgets such entries without changing any answer. When the
/// table is full and a new source arrives, refilled entries go first and then the least
/// recently seen: forgetting a source only gives it a full bucket again, so a flood
/// from many addresses can never block a source, and a flood from one address spends
/// only that address's tokens.
///
/// - Warning: `now` must never go backwards; if it does, no tokens refill until it
///   catches up.
struct SourceRateLimiter<Key: Hashable & Sendable>: Sendable {
    /// One source's bucket.
    private struct Bucket: Sendable {
        /// Refill time banked, in nanoseconds; one token is `tokenCost`.
        var tokens: Int64
        /// When the source was last seen (and `tokens` last brought up to date).
        var lastSeen: Instant
    }

    /// Nanoseconds of refill time per token (the refill interval).
    let tokenCost: Int64
    /// Nanoseconds of refill time in a full bucket: `tokenCost × burst`.
    let bucketSize: Int64
    /// Most sources tracked at once.
    let maximumSources: Int

    private var buckets: [Key: Bucket] = [:]

    /// Creates an empty limiter.
    /// - Parameters:
    ///   - refillInterval: time for one token to refill.
    ///   - burst: tokens in a full bucket, the most a quiet source may spend at once.
    ///   - maximumSources: most sources tracked; bounds the memory of the table.
    /// - Precondition: all three are positive.
    init(refillInterval: Duration, burst: Int, maximumSources: Int = SessionConstants.maximumRateLimitedSources) {
        precondition(refillInterval > .zero && burst > 0 && maximumSources > 0, "rate limits must be positive")
        tokenCost = refillInterval.nanosecondsClamped
        let (size, overflow) = tokenCost.multipliedReportingOverflow(by: Int64(burst))
        bucketSize = overflow ? .max : size
        self.maximumSources = maximumSources
    }

    /// Creates an empty limiter from a rate, as ``SessionConfiguration`` states it.
    /// - Parameters:
    ///   - perSecond: tokens refilled per second.
    ///   - burst: tokens in a full bucket.
    ///   - maximumSources: most sources tracked.
    init(perSecond: Double, burst: Int, maximumSources: Int = SessionConstants.maximumRateLimitedSources) {
        precondition(perSecond > 0, "rate limits must be positive")
        let interval = (1_000_000_000 / perSecond).rounded()
        self.init(
            refillInterval: .nanoseconds(Int64(max(1, min(interval, Double(Int64.max / 2))))), burst: burst,
            maximumSources: maximumSources)
    }

    /// Number of sources tracked.
    var trackedSources: Int { buckets.count }

    /// Spends one of `source`'s tokens if it has one.
    ///
    /// - Parameters:
    ///   - source: who sent the packet.
    ///   - now: the current time.
    /// - Returns: `true` when the packet may be processed, `false` to drop it.
    mutating func allow(_ source: Key, now: Instant) -> Bool {
        if var bucket = buckets[source] {
            bucket.tokens = refilled(bucket, now: now)
            bucket.lastSeen = max(bucket.lastSeen, now)
            let allowed = bucket.tokens >= tokenCost
            if allowed { bucket.tokens -= tokenCost }
            buckets[source] = bucket
            return allowed
        }
        if buckets.count >= maximumSources { makeRoom(now: now) }
        buckets[source] = Bucket(tokens: bucketSize - tokenCost, lastSeen: now)
        return true
    }

    /// Forgets every source whose bucket has refilled by `now`; answers are unchanged.
    /// Call it every ``SessionConstants/rateLimiterCollectionInterval`` or so.
    mutating func collectGarbage(now: Instant) {
        buckets = buckets.filter { refilled($0.value, now: now) < bucketSize }
    }

    /// The bucket's tokens brought up to `now`, capped at a full bucket.
    private func refilled(_ bucket: Bucket, now: Instant) -> Int64 {
        let elapsed = max((now - bucket.lastSeen).nanosecondsClamped, 0)
        let (sum, overflow) = bucket.tokens.addingReportingOverflow(elapsed)
        return overflow ? bucketSize : min(sum, bucketSize)
    }

    /// Frees an eighth of the table (at least one slot): refilled entries first, then
    /// the least recently seen. Freeing a fixed share keeps a flood of new sources to
    /// one scan and one sort per `maximumSources / 8` insertions.
    private mutating func makeRoom(now: Instant) {
        collectGarbage(now: now)
        let target = maximumSources - max(1, maximumSources / 8)
        guard buckets.count > target else { return }
        let oldest = buckets.sorted { $0.value.lastSeen < $1.value.lastSeen }.prefix(buckets.count - target)
        for (key, _) in oldest { buckets[key] = nil }
    }
}

extension SourceRateLimiter where Key == PeerAddress.Host {
    /// The key a handshake from `address` is counted under: the IPv4 address, or the
    /// IPv6 /64 prefix (one host usually holds a whole /64, as wireguard-go assumes).
    static func key(for address: PeerAddress) -> PeerAddress.Host {
        switch address.host {
        case .ipv4: address.host
        case .ipv6(let high, _): .ipv6(high: high, low: 0)
        }
    }

    /// Spends one token of the source host of `address` (any port).
    /// - Returns: `true` when the packet may be processed.
    mutating func allow(_ address: PeerAddress, now: Instant) -> Bool {
        allow(Self.key(for: address), now: now)
    }
}
