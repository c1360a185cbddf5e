import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Routing keys, XOR distance, k-buckets and closest-k selection.
@Suite struct RoutingTableTests {
    /// A pseudo-random peer ID (not a real key; the routing layer never checks).
    static func peer(_ seed: UInt64) -> PeerID {
        var random = TestRandom(seed: seed)
        let bytes = (0..<32).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        return PeerID(publicKey: Key32(bytes)!)
    }

    static func contact(_ seed: UInt64) -> RoutingContact {
        RoutingContact(
            peerID: peer(seed), address: .ipv4(10, 0, UInt8(seed >> 8 & 0xFF), UInt8(seed & 0xFF), port: 4000))
    }

    @Test func distance_isXORAndSymmetric() {
        let a = RoutingKey(words: (0xF0, 1, 2, 3))
        let b = RoutingKey(words: (0x0F, 1, 0, 7))
        #expect(a.distance(to: b) == RoutingKey(words: (0xFF, 0, 2, 4)))
        #expect(a.distance(to: b) == b.distance(to: a))
        #expect(a.distance(to: a) == .zero)
        #expect(RoutingKey.zero.leadingZeroBitCount == 256)
        #expect(RoutingKey(words: (1 << 63, 0, 0, 0)).leadingZeroBitCount == 0)
        #expect(RoutingKey(words: (0, 0, 0, 1)).leadingZeroBitCount == 255)
        #expect(RoutingKey(words: (0, 1 << 62, 0, 0)).leadingZeroBitCount == 65)
    }

    @Test func distance_ordersAsBigEndianIntegers() {
        #expect(RoutingKey(words: (0, 0, 0, .max)) < RoutingKey(words: (0, 0, 1, 0)))
        #expect(RoutingKey(words: (1, 0, 0, 0)) > RoutingKey(words: (0, .max, .max, .max)))
    }

    @Test func key_bytesRoundTripAndHashIsDomainSeparated() {
        let key = RoutingKey(peer: Self.peer(1))
        #expect(key.bytes.count == 32)
        #expect(RoutingKey(bytes: key.bytes) == key)
        #expect(RoutingKey(bytes: [1, 2, 3]) == nil)
        #expect(RoutingKey(peer: Self.peer(1)) == key)
        #expect(RoutingKey(peer: Self.peer(2)) != key)
        // The same bytes under the two domains give different keys.
        let name = String(decoding: Self.peer(1).bytes.map { $0 & 0x3F | 0x40 }, as: UTF8.self)
        #expect(RoutingKey(service: name) != RoutingKey(peer: Self.peer(1)))
        #expect(key.bytes != Self.peer(1).bytes)
    }

    @Test(arguments: [0, 1, 7, 63, 64, 100, 200, 255])
    func randomKey_sharesExactPrefix(prefix: Int) {
        var random = TestRandom(seed: UInt64(prefix))
        let local = RoutingKey(peer: Self.peer(9))
        for _ in 0..<20 {
            #expect(local.commonPrefixLength(with: local.randomKey(sharingPrefix: prefix, using: &random)) == prefix)
        }
    }

    @Test func bucketIndex_isCommonPrefixLength() {
        let table = RoutingTable(localKey: .zero)
        #expect(table.bucketIndex(for: .zero) == nil)
        #expect(table.bucketIndex(for: RoutingKey(words: (1 << 63, 0, 0, 0))) == 0)
        #expect(table.bucketIndex(for: RoutingKey(words: (1 << 62, 5, 0, 0))) == 1)
        #expect(table.bucketIndex(for: RoutingKey(words: (0, 0, 0, 1))) == 255)
        #expect(table.bucketIndex(for: RoutingKey(words: (0, 0, 1, 0))) == 191)
    }

    @Test func bucket_fullBucketCachesAndPingsOldestOnce() {
        var bucket = KBucket(now: .zero)
        let (a, b, c, d) = (Self.contact(1), Self.contact(2), Self.contact(3), Self.contact(4))
        let t = { (seconds: UInt64) in Instant(nanoseconds: seconds * 1_000_000_000) }
        #expect(bucket.insert(a, now: t(1), capacity: 2, replacementCapacity: 2) == .added)
        #expect(bucket.insert(b, now: t(2), capacity: 2, replacementCapacity: 2) == .added)
        #expect(bucket.insert(c, now: t(3), capacity: 2, replacementCapacity: 2) == .cached(pingOldest: a))
        #expect(bucket.pendingEviction == a.peerID)
        #expect(bucket.insert(d, now: t(4), capacity: 2, replacementCapacity: 2) == .cached(pingOldest: nil))
        #expect(bucket.replacements.map(\.peerID) == [c.peerID, d.peerID])
        // The oldest answers: it moves to the tail and stays.
        #expect(bucket.insert(a, now: t(5), capacity: 2, replacementCapacity: 2) == .refreshed)
        #expect(bucket.entries.map(\.contact.peerID) == [b.peerID, a.peerID])
        #expect(bucket.pendingEviction == nil)
        // Next time the oldest (b) is pinged and fails: a newcomer does not displace it
        // until its own failures reach the threshold; then the newest replacement (d)
        // takes its slot.
        #expect(bucket.insert(c, now: t(6), capacity: 2, replacementCapacity: 2) == .cached(pingOldest: b))
        let kept = bucket.recordFailure(of: b.peerID, threshold: 2, now: t(7))
        #expect(!kept)
        #expect(bucket.pendingEviction == nil)
        #expect(bucket.insert(c, now: t(7), capacity: 2, replacementCapacity: 2) == .cached(pingOldest: b))
        let removed1 = bucket.recordFailure(of: b.peerID, threshold: 2, now: t(7))
        #expect(removed1)
        #expect(bucket.entries.map(\.contact.peerID) == [a.peerID, c.peerID])
        #expect(bucket.replacements.map(\.peerID) == [d.peerID])
    }

    @Test func bucket_replacementCacheIsBoundedAndFailuresNeedThreshold() {
        var bucket = KBucket(now: .zero)
        #expect(bucket.insert(Self.contact(1), now: .zero, capacity: 1, replacementCapacity: 2) == .added)
        for seed in UInt64(2)...6 {
            _ = bucket.insert(Self.contact(seed), now: .zero, capacity: 1, replacementCapacity: 2)
        }
        #expect(bucket.replacements.map(\.peerID) == [Self.peer(5), Self.peer(6)])
        // Answering the eviction ping clears it; later single failures below the threshold keep the entry.
        _ = bucket.insert(Self.contact(1), now: .zero, capacity: 1, replacementCapacity: 2)
        let removed2 = bucket.recordFailure(of: Self.peer(1), threshold: 2, now: .zero)
        #expect(!removed2)
        let removed3 = bucket.recordFailure(of: Self.peer(1), threshold: 2, now: .zero)
        #expect(removed3)
        #expect(bucket.entries.map(\.contact.peerID) == [Self.peer(6)])
    }

    @Test func table_rejectsSelfAndMarkFailedRemovesAtOnce() {
        let local = Self.peer(0)
        var table = RoutingTable(localKey: RoutingKey(peer: local), failureThreshold: 3)
        #expect(table.insert(RoutingContact(peerID: local, address: .ipv4(1, 2, 3, 4, port: 1)), now: .zero) == nil)
        #expect(table.insert(Self.contact(1), now: .zero) == .added)
        #expect(table.contact(for: Self.peer(1)) != nil)
        let removed4 = table.recordFailure(of: Self.peer(1), now: .zero)
        #expect(!removed4)
        let removed5 = table.recordFailure(of: Self.peer(1), now: .zero, immediately: true)
        #expect(removed5)
        #expect(table.count == 0)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func closest_matchesBruteForce(seed: UInt64) {
        let local = Self.peer(seed * 1_000_003)
        var table = RoutingTable(localKey: RoutingKey(peer: local), bucketSize: 8)
        for index in 0..<UInt64(600) { _ = table.insert(Self.contact(seed << 20 | index), now: .zero) }
        let all = table.contacts
        #expect(all.count == table.count)
        var random = TestRandom(seed: seed)
        var targets = [table.localKey] + all.prefix(5).map(\.key)
        for prefix in [0, 1, 3, 6, 12, 40] {
            targets.append(table.localKey.randomKey(sharingPrefix: prefix, using: &random))
        }
        for target in targets {
            for count in [1, 8, 20, 1_000] {
                let expected = all.sorted { $0.key.distance(to: target) < $1.key.distance(to: target) }.prefix(count)
                #expect(table.closest(to: target, count: count).map(\.peerID) == expected.map(\.peerID))
            }
        }
    }

    @Test func refresh_listsOnlyStaleNonEmptyBuckets() {
        var table = RoutingTable(localKey: RoutingKey(peer: Self.peer(0)))
        for seed in UInt64(1)...50 { _ = table.insert(Self.contact(seed), now: .zero) }
        let later = Instant(nanoseconds: 3_600_000_000_000)
        let stale = table.bucketsNeedingRefresh(now: later, interval: .seconds(3_600))
        #expect(!stale.isEmpty)
        #expect(stale.allSatisfy { !table.buckets[$0].entries.isEmpty })
        var random = TestRandom(seed: 77)
        table.noteLookup(of: table.localKey.randomKey(sharingPrefix: stale[0], using: &random), now: later)
        #expect(!table.bucketsNeedingRefresh(now: later, interval: .seconds(3_600)).contains(stale[0]))
    }

    @Test func peerLookup_asksTheWantedPeerAgainUpToTheRetries_thenGivesUp() {
        let wanted = Self.peer(1)
        let contact = RoutingContact(peerID: wanted, address: .ipv4(10, 0, 0, 1, port: 4000))
        var lookup = Lookup(
            id: LookupID(rawValue: 1), purpose: .findPeer(wanted), target: RoutingKey(peer: wanted), reports: true,
            deadline: Instant(nanoseconds: 60_000_000_000), seeds: [contact])
        var nextID: UInt64 = 0
        var asks = 0
        while let (asked, requestID) = lookup.nextQueries(
            parallelism: 3, bucketSize: 20,
            makeRequestID: {
                nextID += 1; return nextID
            }
        ).first {
            #expect(asked.peerID == wanted)
            asks += 1
            lookup.markFailed(wanted, requestID: requestID)
            if asks > 10 { break }
        }
        // The only source of its own record is asked once and then every retry.
        #expect(asks == 1 + RoutingConstants.targetRetries)
        #expect(lookup.isComplete(bucketSize: 20))
    }

    @Test func estimatedPeers_countsASwarmFromItsNearestContacts() {
        // Fewer contacts than a bucket holds: the table holds everyone it could.
        var small = RoutingTable(localKey: RoutingKey(peer: Self.peer(0)), bucketSize: 20)
        for seed in 1...10 { small.insert(Self.contact(UInt64(seed)), now: .zero) }
        #expect(small.estimatedPeers == 11)
        // Swarms of 1,000 and 20,000: the nearest contacts all find room in the deep
        // buckets, and the fit lands within a factor of 1.5 of the truth.
        for size in [1_000, 20_000] {
            var table = RoutingTable(localKey: RoutingKey(peer: Self.peer(0)), bucketSize: 20)
            for seed in 1..<size { table.insert(Self.contact(UInt64(seed)), now: .zero) }
            let estimate = Double(table.estimatedPeers)
            #expect(estimate > Double(size) / 1.5 && estimate < Double(size) * 1.5, "\(size): \(estimate)")
        }
    }

    @Test func version_changesWhenAContactComesOrGoes_notWhenOneIsSeenAgain() {
        var table = RoutingTable(localKey: RoutingKey(peer: Self.peer(0)), bucketSize: 20)
        let start = table.version
        table.insert(Self.contact(1), now: .zero)
        let added = table.version
        #expect(added != start)
        table.insert(Self.contact(1), now: .zero + .seconds(1))
        #expect(table.version == added)
        let removed = table.recordFailure(of: Self.peer(1), now: .zero, immediately: true)
        #expect(removed)
        #expect(table.version != added)
    }
}
