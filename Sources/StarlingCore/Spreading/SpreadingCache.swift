internal import DequeModule

/// A map from ``SpreadingID`` to a value, bounded in count and age: the seen-cache of
/// gossip and queries and the reverse-path table.
typealias SpreadingCache<Value: Sendable> = ExpiringCache<SpreadingID, Value>

/// A map that holds at most `capacity` entries, each for at most `lifetime`: spreading's
/// caches, and the group messages kept to answer grafts.
///
/// Entries leave in insertion order, when the map is full or when they grow too old;
/// an entry older than `lifetime` is never returned even before it is pruned.
struct ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// The most entries kept.
    let capacity: Int
    /// How long an entry lives.
    let lifetime: Duration
    private var entries: [Key: (value: Value, insertedAt: Instant)] = [:]
    private var order = Deque<(id: Key, insertedAt: Instant)>()

    init(capacity: Int, lifetime: Duration) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    /// Live entries (expired ones count until pruned).
    var count: Int { entries.count }

    /// The value under `id`, unless absent or expired at `now`.
    func value(_ id: Key, now: Instant) -> Value? {
        guard let entry = entries[id], entry.insertedAt + lifetime > now else { return nil }
        return entry.value
    }

    /// Whether `id` is present and unexpired at `now`.
    func contains(_ id: Key, now: Instant) -> Bool { value(id, now: now) != nil }

    /// Stores `value` under `id` as new at `now`, evicting the oldest entries over capacity.
    mutating func insert(_ id: Key, _ value: Value, now: Instant) {
        prune(now: now)
        entries[id] = (value, now)
        order.append((id, now))
        var bound = order.count
        while entries.count > capacity, bound > 0, let oldest = order.popFirst() {
            bound -= 1
            if entries[oldest.id]?.insertedAt == oldest.insertedAt { entries[oldest.id] = nil }
        }
    }

    /// Replaces the value under a live `id`, keeping its age.
    mutating func update(_ id: Key, now: Instant, _ body: (inout Value) -> Void) {
        guard var entry = entries[id], entry.insertedAt + lifetime > now else { return }
        body(&entry.value)
        entries[id] = entry
    }

    /// Forgets every entry expired at `now`.
    mutating func prune(now: Instant) {
        var bound = order.count
        while bound > 0, let oldest = order.first, oldest.insertedAt + lifetime <= now {
            bound -= 1
            order.removeFirst()
            if entries[oldest.id]?.insertedAt == oldest.insertedAt { entries[oldest.id] = nil }
        }
    }

    /// When the oldest entry expires, if any.
    var nextExpiry: Instant? { order.first.map { $0.insertedAt + lifetime } }
}
