/// The provider records a peer holds for others, bounded in size and dropped on expiry.
///
/// ### Purpose
/// Each entry is a provider's own ``SignedPeerRecord``, stored exactly as received and
/// handed out unchanged: the store never vouches for a record. The caller verifies a
/// record, and that its provider proved it receives at `address`, before
/// ``insert(service:record:address:expiresAt:now:diversity:)``. An entry expires at the
/// earlier of the storer's lifetime and the record's own expiry.
///
/// Slots cannot be captured: a service's unexpired entries are kept over newcomers
/// (a full service refuses new providers until one expires), and at most
/// ``AddressDiversity/maximumPerSubnet`` of them share one subnet.
public struct ProviderStore: Sendable {
    /// One stored record.
    public struct Entry: Hashable, Sendable {
        /// The provider's signed record.
        public var record: SignedPeerRecord
        /// When the storer forgets it.
        public var expiresAt: Instant
        /// Where the provider proved it receives.
        public var address: PeerAddress
    }

    /// What ``insert(service:record:address:expiresAt:now:diversity:)`` did.
    public enum InsertOutcome: Equatable, Sendable {
        /// A new entry was stored.
        case stored
        /// The provider's entry was replaced or its lifetime extended.
        case updated
        /// The record is older than the one held; nothing changed.
        case stale
        /// The store or the service's share of it is full.
        case full
        /// The service already has the most providers `diversity` allows in the
        /// provider's subnet.
        case subnetFull
    }

    /// The most entries in all.
    public let capacity: Int
    /// The most entries per service.
    public let capacityPerService: Int
    /// Entries by service, then by provider.
    public private(set) var entries: [String: [PeerID: Entry]] = [:]
    /// The number of entries.
    public private(set) var count = 0

    /// Creates an empty store.
    public init(capacity: Int, capacityPerService: Int) {
        self.capacity = max(0, capacity)
        self.capacityPerService = max(0, capacityPerService)
    }

    /// Stores `record` as a provider of `service` until `expiresAt`; the provider
    /// proved it receives at `address`. The service's entries that expired by `now`
    /// are dropped first.
    public mutating func insert(
        service: String, record: SignedPeerRecord, address: PeerAddress, expiresAt: Instant, now: Instant,
        diversity: AddressDiversity = .unlimited
    ) -> InsertOutcome {
        let provider = record.record.peerID
        if let held = entries[service] {
            let live = held.filter { $0.value.expiresAt > now }
            if live.count < held.count {
                count -= held.count - live.count
                entries[service] = live.isEmpty ? nil : live
            }
        }
        if let existing = entries[service]?[provider] {
            if existing.record.record.sequence > record.record.sequence { return .stale }
            let others = entries[service, default: [:]].values.filter { $0.record.record.peerID != provider }
            if existing.address != address, !diversity.admits(address, among: others.map(\.address)) {
                return .subnetFull
            }
            entries[service]?[provider] = Entry(
                record: record, expiresAt: max(expiresAt, existing.expiresAt), address: address)
            return .updated
        }
        guard count < capacity, entries[service, default: [:]].count < capacityPerService else { return .full }
        guard diversity.admits(address, among: entries[service, default: [:]].values.map(\.address)) else {
            return .subnetFull
        }
        entries[service, default: [:]][provider] = Entry(record: record, expiresAt: expiresAt, address: address)
        count += 1
        return .stored
    }

    /// Up to `limit` unexpired records for `service`: all of them, soonest to expire
    /// last, when there are no more; else a random sample. Every holder of a service
    /// answering with the same `limit` would hide the rest from a lookup, which collects
    /// the union of the answers of the `k` closest holders (with 10 providers and
    /// answers of 8, the same 2 were never found).
    public func providers(
        of service: String, now: Instant, limit: Int, using generator: inout some RandomNumberGenerator
    ) -> [SignedPeerRecord] {
        guard let byProvider = entries[service] else { return [] }
        var live = byProvider.values.filter { $0.expiresAt > now }
        if live.count > limit {
            live.shuffle(using: &generator)
            return live.prefix(max(0, limit)).map(\.record)
        }
        return live.sorted {
            ($0.expiresAt, $0.record.record.peerID.description) > ($1.expiresAt, $1.record.record.peerID.description)
        }
        .map(\.record)
    }

    /// Drops every entry that expired at or before `now`.
    /// - Returns: how many were dropped.
    @discardableResult
    public mutating func removeExpired(now: Instant) -> Int {
        var removed = 0
        for service in entries.keys {
            let before = entries[service]?.count ?? 0
            entries[service] = entries[service]?.filter { $0.value.expiresAt > now }
            let after = entries[service]?.count ?? 0
            removed += before - after
            if after == 0 { entries[service] = nil }
        }
        count -= removed
        return removed
    }
}
