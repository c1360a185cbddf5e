/// A Kademlia routing table: the local key and one ``KBucket`` per common-prefix length.
///
/// ### Purpose
/// Bucket `i` holds contacts whose keys share exactly `i` leading bits with the local
/// key (so bucket 0 covers the far half of the keyspace and each later bucket half of
/// the previous one's distance). Buckets are created on demand up to the deepest one
/// used, so a table in a swarm of `n` peers holds about `log2(n)` buckets.
///
/// The table is pure: it never sends. ``RoutingCore`` feeds it liveness and sends the
/// pings its ``KBucket/InsertOutcome/cached(pingOldest:)`` asks for.
public struct RoutingTable: Sendable {
    /// The local peer's key.
    public let localKey: RoutingKey
    /// Entries per bucket (`k`).
    public let bucketSize: Int
    /// Replacement-cache entries per bucket.
    public let replacementCacheSize: Int
    /// Consecutive failures after which an entry is removed.
    public let failureThreshold: Int
    /// The subnet limit of each bucket.
    public let diversity: AddressDiversity
    /// The buckets, indexed by common-prefix length; missing ones are empty.
    public private(set) var buckets: [KBucket] = []
    /// Changes whenever a contact enters or leaves the live entries (not when one is
    /// merely seen again), so that an owner that follows the contacts (a pure overlay's
    /// partial membership view) compares a number instead of the table.
    public private(set) var version: UInt64 = 0
    /// When the table was created; empty buckets count as looked up then.
    let createdAt: Instant

    /// Creates an empty table.
    public init(
        localKey: RoutingKey, bucketSize: Int = RoutingConstants.bucketSize,
        replacementCacheSize: Int = RoutingConstants.bucketSize,
        failureThreshold: Int = 1, diversity: AddressDiversity = .unlimited, now: Instant = .zero
    ) {
        self.diversity = diversity
        self.localKey = localKey
        self.bucketSize = max(1, bucketSize)
        self.replacementCacheSize = max(0, replacementCacheSize)
        self.failureThreshold = max(1, failureThreshold)
        self.createdAt = now
    }

    /// The bucket that covers `key`: its common-prefix length with the local key, or
    /// `nil` for the local key itself.
    public func bucketIndex(for key: RoutingKey) -> Int? {
        let length = localKey.commonPrefixLength(with: key)
        return length >= RoutingConstants.keyBits ? nil : length
    }

    /// The number of live entries in all buckets.
    public var count: Int { buckets.reduce(0) { $0 + $1.entries.count } }

    /// Every live contact, bucket by bucket.
    public var contacts: [RoutingContact] { buckets.flatMap { $0.entries.map(\.contact) } }

    /// The live contact for `peer`, if any.
    public func contact(for peer: PeerID) -> RoutingContact? {
        guard let index = bucketIndex(for: RoutingKey(peer: peer)), index < buckets.count else { return nil }
        return buckets[index].entries.first { $0.contact.peerID == peer }?.contact
    }

    /// Records that `contact` was seen alive at `now`; see
    /// ``KBucket/insert(_:now:capacity:replacementCapacity:diversity:)``.
    /// - Returns: `nil` when `contact` is the local peer.
    @discardableResult
    public mutating func insert(_ contact: RoutingContact, now: Instant) -> KBucket.InsertOutcome? {
        guard let index = bucketIndex(for: contact.key) else { return nil }
        while buckets.count <= index { buckets.append(KBucket(now: createdAt)) }
        let outcome = buckets[index].insert(
            contact, now: now, capacity: bucketSize, replacementCapacity: replacementCacheSize, diversity: diversity)
        if outcome == .added { version &+= 1 }
        return outcome
    }

    /// How many peers the swarm holds, estimated from how close the `k` nearest contacts
    /// are to the local key: in a swarm of `n` peers spread evenly over the keyspace, the
    /// `i`-th nearest lies at about `i / n` of it, and a least-squares fit of
    /// `distance_i = i / n` over the `k` nearest gives `n = Σ i² / Σ i·distance_i`. With
    /// fewer than `k` contacts the table holds everyone it could: their count, and this
    /// peer. The fit wants the nearest contacts, which a self-lookup (a join's bootstrap)
    /// finds; a table filled from a random sample of the swarm undercounts it.
    public var estimatedPeers: Int {
        let nearest = closest(to: localKey, count: bucketSize)
        guard nearest.count >= bucketSize else { return nearest.count + 1 }
        var squares = 0.0
        var weighted = 0.0
        for (offset, contact) in nearest.enumerated() {
            let rank = Double(offset + 1)
            // The top 64 bits of the XOR distance, as a fraction of the keyspace.
            let fraction = Double(localKey.distance(to: contact.key).words.0) / 0x1p64
            squares += rank * rank
            weighted += rank * fraction
        }
        // Nearest contacts all within 2⁻⁶⁴ of the keyspace: more peers than can be told.
        let ceiling = Int.max / 2
        guard weighted > 0 else { return ceiling }
        return Int(min(Double(ceiling), squares / weighted).rounded())
    }

    /// Whether `contact` would take a slot or a replacement place if it proved itself:
    /// it is not the local peer, is not already held at that address, and its bucket
    /// has a free entry or replacement place and room for its subnet.
    public func wouldAdmit(_ contact: RoutingContact) -> Bool {
        guard let index = bucketIndex(for: contact.key) else { return false }
        guard index < buckets.count else { return true }
        let bucket = buckets[index]
        if let held = bucket.entries.first(where: { $0.contact.peerID == contact.peerID }) {
            return held.contact.address != contact.address
        }
        if bucket.replacements.contains(contact) { return false }
        guard bucket.entries.count < bucketSize || bucket.replacements.count < replacementCacheSize else {
            return false
        }
        let others = bucket.entries.map(\.contact.address) + bucket.replacements.map(\.address)
        return diversity.admits(contact.address, among: others)
    }

    /// Whether `peer` is held (as an entry or a replacement) at `address`.
    public func holds(_ peer: PeerID, at address: PeerAddress) -> Bool {
        guard let index = bucketIndex(for: RoutingKey(peer: peer)), index < buckets.count else { return false }
        let bucket = buckets[index]
        return bucket.entries.contains { $0.contact.peerID == peer && $0.contact.address == address }
            || bucket.replacements.contains { $0.peerID == peer && $0.address == address }
    }

    /// Records a failure of `peer`; see ``KBucket/recordFailure(of:threshold:now:)``.
    /// - Parameter immediately: remove the entry now, whatever its failure count (a
    ///   liveness report from membership that the peer is dead).
    @discardableResult
    public mutating func recordFailure(of peer: PeerID, now: Instant, immediately: Bool = false) -> Bool {
        guard let index = bucketIndex(for: RoutingKey(peer: peer)), index < buckets.count else { return false }
        let removed = buckets[index].recordFailure(of: peer, threshold: immediately ? 1 : failureThreshold, now: now)
        if removed { version &+= 1 }
        return removed
    }

    /// Notes that a lookup targeted `key`, so its bucket needs no refresh for a while.
    public mutating func noteLookup(of key: RoutingKey, now: Instant) {
        guard let index = bucketIndex(for: key), index < buckets.count else { return }
        buckets[index].lastLookup = now
    }

    /// The indices of non-empty buckets not looked up since `now - interval`, oldest first.
    public func bucketsNeedingRefresh(now: Instant, interval: Duration) -> [Int] {
        buckets.indices
            .filter { !buckets[$0].entries.isEmpty && buckets[$0].lastLookup + interval <= now }
            .sorted { buckets[$0].lastLookup < buckets[$1].lastLookup }
    }

    /// Up to `count` live contacts closest to `target`, closest first.
    ///
    /// Uses the XOR metric's structure: contacts in the target's own bucket are closest,
    /// then those in all deeper buckets (which first differ from the target at one bit),
    /// then those in shallower buckets, deepest first, so only the buckets needed are
    /// sorted.
    public func closest(to target: RoutingKey, count: Int, excluding excluded: PeerID? = nil) -> [RoutingContact] {
        guard count > 0 else { return [] }
        let split = min(bucketIndex(for: target) ?? buckets.count, buckets.count)
        var result: [RoutingContact] = []
        result.reserveCapacity(count)
        func take(_ group: [RoutingContact]) {
            let sorted = group.map { ($0.key.distance(to: target), $0) }.sorted { $0.0 < $1.0 }
            for (_, contact) in sorted where result.count < count && contact.peerID != excluded {
                result.append(contact)
            }
        }
        // 1. The target's own bucket: these share `split + 1` bits with the target.
        if split < buckets.count { take(buckets[split].entries.map(\.contact)) }
        // 2. Deeper buckets: all differ from the target first at bit `split`.
        if result.count < count, split + 1 < buckets.count {
            take(buckets[(split + 1)...].flatMap { $0.entries.map(\.contact) })
        }
        // 3. Shallower buckets, each strictly farther than the next deeper one.
        var index = min(split, buckets.count) - 1
        while result.count < count, index >= 0 {
            take(buckets[index].entries.map(\.contact))
            index -= 1
        }
        return result
    }
}
