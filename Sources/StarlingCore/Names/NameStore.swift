/// The name chains a peer stores for others, bounded in size and dropped on expiry.
///
/// ### Purpose
/// Each entry is a verified ``NameChain`` under its own key, stored as received and
/// handed out unchanged. A chain replaces the one held only when it is newer
/// (``NameChain/compare(to:)``), so a store that saw a record never hands out an older
/// one. Slots cannot be captured: entries are kept over newcomers until they expire (a
/// full store refuses new keys), and one root zone holds at most
/// ``capacityPerZone`` of them, so no single key can fill the store.
public struct NameStore: Sendable {
    /// One stored chain.
    public struct Entry: Hashable, Sendable {
        /// The chain.
        public var chain: NameChain
        /// When the storer forgets it.
        public var expiresAt: Instant
    }

    /// What ``insert(_:expiresAt:now:)`` did.
    public enum InsertOutcome: Hashable, Sendable {
        /// A new entry was stored.
        case stored
        /// The held chain was replaced by a newer one.
        case updated
        /// The same chain was held; its lifetime was extended.
        case refreshed
        /// The chain is older than the one held (a rollback); nothing changed.
        case stale
        /// The store, or the root zone's share of it, is full.
        case full

        /// Whether the chain is held afterwards.
        public var isHeld: Bool { self == .stored || self == .updated || self == .refreshed }
    }

    /// The most entries in all.
    public let capacity: Int
    /// The most entries per root zone.
    public let capacityPerZone: Int
    /// Entries by key.
    public private(set) var entries: [RoutingKey: Entry] = [:]
    /// Entries per root zone.
    private var perZone: [PeerID: Int] = [:]

    /// Creates an empty store.
    public init(capacity: Int, capacityPerZone: Int) {
        self.capacity = max(0, capacity)
        self.capacityPerZone = max(0, capacityPerZone)
    }

    /// The number of entries.
    public var count: Int { entries.count }

    /// Stores a verified chain under its key until `expiresAt`.
    public mutating func insert(_ chain: NameChain, expiresAt: Instant, now: Instant) -> InsertOutcome {
        guard let key = chain.key, let zone = chain.rootZone else { return .full }
        if let held = entries[key], held.expiresAt > now {
            switch chain.compare(to: held.chain) {
            case .older: return .stale
            case .newer: entries[key] = Entry(chain: chain, expiresAt: expiresAt)
            case .same:
                entries[key]?.expiresAt = max(held.expiresAt, expiresAt)
                return .refreshed
            }
            return .updated
        }
        if entries[key] != nil { remove(key) }
        if entries.count >= capacity { removeExpired(now: now) }
        guard entries.count < capacity, perZone[zone, default: 0] < capacityPerZone else { return .full }
        entries[key] = Entry(chain: chain, expiresAt: expiresAt)
        perZone[zone, default: 0] += 1
        return .stored
    }

    /// The unexpired chain under `key`, if any.
    public func chain(at key: RoutingKey, now: Instant) -> NameChain? {
        guard let entry = entries[key], entry.expiresAt > now else { return nil }
        return entry.chain
    }

    /// Drops every entry that expired at or before `now`.
    /// - Returns: how many were dropped.
    @discardableResult
    public mutating func removeExpired(now: Instant) -> Int {
        let expired = entries.filter { $0.value.expiresAt <= now }.map(\.key)
        for key in expired { remove(key) }
        return expired.count
    }

    private mutating func remove(_ key: RoutingKey) {
        guard let entry = entries.removeValue(forKey: key), let zone = entry.chain.rootZone else { return }
        perZone[zone, default: 1] -= 1
        if perZone[zone] == 0 { perZone[zone] = nil }
    }
}
