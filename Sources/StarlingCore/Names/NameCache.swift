internal import DequeModule

/// A resolver's cache of verified name records, of names known not to exist, and of the
/// highest sequence number seen for each name, each bounded in size.
///
/// ### Purpose
/// Keyed by zone and label (``NameCache/Key``): one record holds every type of data of
/// its name (peer, addresses, services, text), as one DNS name's record sets would, so
/// the key names the type too. A record is kept for its ``NameRecord/ttl`` (at most
/// ``NameConstants/maximumCacheTTL``) and never past its expiry; a name that does not
/// exist is remembered for ``NameConstants/negativeTTL``. The sequence numbers outlive
/// the records, so that a rolled-back record is refused even after its newer one left
/// the cache. When full, the oldest entries go first.
public struct NameCache: Sendable {
    /// A zone and a label in it (empty for the zone's apex).
    public struct Key: Hashable, Sendable {
        /// The zone.
        public var zone: PeerID
        /// The label.
        public var label: String

        /// Creates a key.
        public init(zone: PeerID, label: String) {
            self.zone = zone
            self.label = label
        }
    }

    /// What the cache knows of a key.
    public enum Lookup: Hashable, Sendable {
        /// A verified record, still fresh.
        case record(SignedNameRecord)
        /// The name does not exist (as of a recent answer).
        case missing
    }

    /// The most entries of each kind.
    public let capacity: Int
    private var entries: [Key: (lookup: Lookup, until: Instant, stamp: UInt64)] = [:]
    /// Keys in the order they were stored, each with the stamp of that store: a key
    /// stored again, or dropped and stored again, is pushed out by its latest stamp only.
    private var order: Deque<(key: Key, stamp: UInt64)> = []
    private var nextStamp: UInt64 = 0
    private var sequences: [Key: UInt64] = [:]
    private var sequenceOrder: Deque<Key> = []

    /// Creates an empty cache.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The number of records and negative entries held (expired ones included until
    /// they are pushed out or looked up).
    public var count: Int { entries.count }

    /// What the cache holds for `key` at `now`, if anything fresh.
    public mutating func lookup(_ key: Key, now: Instant) -> Lookup? {
        guard let entry = entries[key] else { return nil }
        guard entry.until > now else {
            entries[key] = nil
            return nil
        }
        return entry.lookup
    }

    /// The highest sequence number seen for `key`, if any.
    public func highestSequence(_ key: Key) -> UInt64? { sequences[key] }

    /// Caches a verified record until its TTL ends (or it expires, if sooner) and notes
    /// its sequence number.
    public mutating func insert(_ signed: SignedNameRecord, now: Instant, wallClock: UnixTime) {
        let record = signed.record
        let key = Key(zone: record.zone, label: record.label)
        noteSequence(record.sequence, for: key)
        let left = Duration.seconds(
            Int64(clamping: record.expiresAt.seconds &- min(wallClock.seconds, record.expiresAt.seconds)))
        let keep = min(.seconds(Int64(record.ttl)), NameConstants.maximumCacheTTL, left)
        guard keep > .zero else { return }
        store(.record(signed), for: key, until: now + keep)
    }

    /// Remembers that `key` does not exist, for ``NameConstants/negativeTTL``.
    public mutating func insertMissing(_ key: Key, now: Instant) {
        store(.missing, for: key, until: now + NameConstants.negativeTTL)
    }

    /// Forgets what is cached for `key` (not its sequence number).
    public mutating func remove(_ key: Key) {
        entries[key] = nil
    }

    private mutating func store(_ lookup: Lookup, for key: Key, until: Instant) {
        nextStamp += 1
        entries[key] = (lookup, until, nextStamp)
        order.append((key, nextStamp))
        while entries.count > capacity, let oldest = order.popFirst() {
            if entries[oldest.key]?.stamp == oldest.stamp { entries[oldest.key] = nil }
        }
        if order.count > 2 * capacity { order = Deque(order.filter { entries[$0.key]?.stamp == $0.stamp }) }
    }

    private mutating func noteSequence(_ sequence: UInt64, for key: Key) {
        if let seen = sequences[key] {
            sequences[key] = max(seen, sequence)
            return
        }
        sequences[key] = sequence
        sequenceOrder.append(key)
        while sequences.count > 4 * capacity, let oldest = sequenceOrder.popFirst() { sequences[oldest] = nil }
    }
}
