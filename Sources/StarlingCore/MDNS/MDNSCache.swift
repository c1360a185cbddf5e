/// One cached record and its timers.
struct MDNSCacheEntry: Sendable {
    /// The record, TTL clamped to ``MDNSConstants/maximumCachedTTL``.
    var record: DNSRecord
    /// When it was last received.
    var receivedAt: Instant
    /// When it expires.
    var expiresAt: Instant
    /// Who sent it (for the per-source cap).
    var source: PeerAddress.Host
    /// Refresh query times still ahead (80, 85, 90, 95 % of the TTL plus jitter).
    var refreshes: [Instant]

    /// Whether more than half of the original TTL remains at `now` (RFC 6762 §7.1).
    func isFresh(at now: Instant) -> Bool {
        let total = expiresAt - receivedAt
        return expiresAt - now > total / 2
    }

    /// The record with its TTL as remaining at `now`, for known-answer lists.
    func remaining(at now: Instant) -> DNSRecord {
        var copy = record
        let left = max(.zero, expiresAt - now)
        copy.ttl = UInt32(clamping: left.components.seconds)
        copy.cacheFlush = false
        return copy
    }
}

/// The bounded record cache of an mDNS querier (RFC 6762 §10).
///
/// ### Purpose
/// Holds at most ``maximumEntries`` records, at most ``maximumPerSource`` from one
/// source address, each with a TTL clamped to 75 minutes so that a hostile TTL cannot
/// pin an entry. When full it evicts the entry expiring soonest (of the same source
/// when that source is at its cap) and counts it in ``evictions``. Goodbyes (TTL 0)
/// and cache-flush set entries to expire one second later (§10.1, §10.2).
struct MDNSCache: Sendable {
    let maximumEntries: Int
    let maximumPerSource: Int
    private(set) var entries: [RecordKey: MDNSCacheEntry] = [:]
    private(set) var perSource: [PeerAddress.Host: Int] = [:]
    /// Entries evicted to make room.
    private(set) var evictions = 0

    init(maximumEntries: Int, maximumPerSource: Int) {
        self.maximumEntries = maximumEntries
        self.maximumPerSource = maximumPerSource
    }

    var count: Int { entries.count }

    /// The entries whose record has `name` and (unless `nil`) `type`.
    func entries(named name: DNSName, type: DNSRecordType? = nil) -> [MDNSCacheEntry] {
        entries.values.filter { $0.record.name == name && (type == nil || $0.record.type == type) }
            .sorted { $0.receivedAt < $1.receivedAt }
    }

    /// Adds or refreshes `record`; a TTL of 0 is a goodbye that expires a held record in 1 s.
    /// - Returns: whether the cache changed in a way a browser reports (a new record or a
    ///   goodbye for a held one).
    @discardableResult
    mutating func insert(
        _ record: DNSRecord, from source: PeerAddress.Host, now: Instant, using random: inout some RandomNumberGenerator
    ) -> Bool {
        let key = RecordKey(record)
        if record.ttl == 0 {
            guard var entry = entries[key] else { return false }
            entry.expiresAt = min(entry.expiresAt, now + MDNSConstants.flushDelay)
            entry.refreshes = []
            entries[key] = entry
            return true
        }
        var clamped = record
        clamped.ttl = min(record.ttl, MDNSConstants.maximumCachedTTL)
        let lifetime = Duration.seconds(Int64(clamped.ttl))
        let refreshes = MDNSConstants.refreshFractions.map { fraction in
            let jitter = Double(random.next() >> 11) / Double(UInt64(1) << 53) * MDNSConstants.refreshJitter
            return now + lifetime * (fraction + jitter)
        }
        let entry = MDNSCacheEntry(
            record: clamped, receivedAt: now, expiresAt: now + lifetime, source: source, refreshes: refreshes)
        if let old = entries[key] {
            perSource[old.source, default: 1] -= 1
            if perSource[old.source] == 0 { perSource[old.source] = nil }
            entries[key] = entry
            perSource[source, default: 0] += 1
            return false
        }
        if perSource[source, default: 0] >= maximumPerSource {
            evictSoonest { $0.source == source }
        } else if entries.count >= maximumEntries {
            evictSoonest { _ in true }
        }
        entries[key] = entry
        perSource[source, default: 0] += 1
        return true
    }

    /// Applies a cache-flush record (RFC 6762 §10.2): every entry with the same name,
    /// type and class received more than one second ago and not in `packet` expires in 1 s.
    mutating func flush(like record: DNSRecord, keeping packet: Set<RecordKey>, now: Instant) {
        for (key, entry) in entries
        where entry.record.name == record.name && entry.record.type == record.type
            && entry.record.recordClass == record.recordClass && !packet.contains(key)
            && now - entry.receivedAt > MDNSConstants.flushDelay
        {
            entries[key]!.expiresAt = min(entry.expiresAt, now + MDNSConstants.flushDelay)
            entries[key]!.refreshes = []
        }
    }

    /// Removes expired entries.
    /// - Returns: the removed records.
    mutating func removeExpired(now: Instant) -> [DNSRecord] {
        let expired = entries.filter { $0.value.expiresAt <= now }
        for (key, entry) in expired { remove(key, source: entry.source) }
        return expired.values.map(\.record)
    }

    /// Empties the cache.
    mutating func removeAll() {
        entries.removeAll()
        perSource.removeAll()
    }

    /// Takes the refresh times that are due.
    /// - Returns: the records whose refresh is due.
    mutating func takeDueRefreshes(now: Instant) -> [DNSRecord] {
        var due: [DNSRecord] = []
        for (key, entry) in entries where entry.refreshes.first.map({ $0 <= now }) ?? false {
            entries[key]!.refreshes.removeAll { $0 <= now }
            due.append(entry.record)
        }
        return due
    }

    /// The earliest expiry or refresh time.
    var nextDeadline: Instant? {
        entries.values.map { min($0.expiresAt, $0.refreshes.first ?? $0.expiresAt) }.min()
    }

    private mutating func evictSoonest(where matches: (MDNSCacheEntry) -> Bool) {
        guard
            let (key, entry) = entries.filter({ matches($0.value) }).min(by: { $0.value.expiresAt < $1.value.expiresAt }
            )
        else { return }
        remove(key, source: entry.source)
        evictions += 1
    }

    private mutating func remove(_ key: RecordKey, source: PeerAddress.Host) {
        entries[key] = nil
        perSource[source, default: 1] -= 1
        if perSource[source] == 0 { perSource[source] = nil }
    }
}
