import StarlingCore
import StarlingTestSupport
import Testing

/// One ``SuperPeerCore`` at a time, or two or three wired by hand: attach, refusals,
/// failover, leases, relays, forced roles and the index getters.
@Suite struct SuperPeerCoreTests {
    static let wallClockAtZero = UnixTime(seconds: 1_800_000_000)

    /// A peer for these tests: its key, record and core.
    struct Peer {
        var key: IdentityKeyPair
        var core: SuperPeerCore
        var id: PeerID { core.localID }
        var address: PeerAddress { core.localAddress }
        var events: [SuperPeerEvent] = []

        init(
            _ number: UInt8, policy: SuperPeerRolePolicy = .automatic, services: [String] = [],
            configure: (inout SuperPeerConfiguration) -> Void = { _ in }
        ) throws {
            var random = TestRandom(seed: UInt64(number))
            key = IdentityKeyPair.generate(using: &random)
            let address = PeerAddress.ipv4(10, 0, 0, number, port: 4000)
            let record = try SuperPeerCoreTests.record(of: key, address: address, services: services)
            var configuration = SuperPeerConfiguration.simulation
            configuration.rolePolicy = policy
            configure(&configuration)
            core = try SuperPeerCore(
                record: record, address: address, configuration: configuration,
                wallClockAtZero: SuperPeerCoreTests.wallClockAtZero, random: TestRandom(seed: UInt64(number) + 100))
        }

        /// Takes every queued message.
        mutating func outgoing(now: Instant) -> [(to: PeerAddress, message: SuperPeerMessage)] {
            var buffer: [UInt8] = []
            var sent: [(PeerAddress, SuperPeerMessage)] = []
            while let to = core.pollTransmit(now: now, into: &buffer) {
                sent.append((to, try! SuperPeerMessage.decode(buffer)))
            }
            while let event = core.pollEvent() { events.append(event) }
            return sent
        }
    }

    static func record(
        of key: IdentityKeyPair, address: PeerAddress, services: [String] = [], sequence: UInt64 = 1,
        expiresAt: UnixTime = wallClockAtZero + .seconds(86_400)
    ) throws -> SignedPeerRecord {
        try PeerRecord(
            peerID: key.peerID, sequence: sequence, expiresAt: expiresAt, addresses: [address], services: services
        ).sign(with: key)
    }

    /// Delivers messages among `peers` until none is left.
    /// Delivers what `peers` send until nothing moves, leaving out what `dropped` picks.
    static func settle(
        _ peers: inout [Peer], now: Instant, dropping dropped: (SuperPeerMessage) -> Bool = { _ in false }
    ) {
        var moved = true
        while moved {
            moved = false
            for index in peers.indices {
                for (to, message) in peers[index].outgoing(now: now) where !dropped(message) {
                    guard let target = peers.firstIndex(where: { $0.address == to }) else { continue }
                    peers[target].core.handleMessage(try! message.encoded()[...], from: peers[index].address, now: now)
                    moved = true
                }
            }
        }
        for index in peers.indices { _ = peers[index].outgoing(now: now) }
    }

    /// One leaf per super-peer, one super-peer per leaf: a super-peer with a leaf is full.
    static let oneSlot: @Sendable (inout SuperPeerConfiguration) -> Void = {
        $0.leavesPerSuperPeer = 1
        $0.superPeersPerLeaf = 1
        $0.maximumLeaves = 1
    }

    /// Makes every peer a member at every other.
    static func introduce(_ peers: inout [Peer], now: Instant) {
        for index in peers.indices {
            for other in peers.indices where other != index {
                peers[index].core.memberAlive(id: peers[other].id, address: peers[other].address, now: now)
            }
        }
        settle(&peers, now: now)
    }

    @Test func superPeerCore_alwaysSuperPeer_promotesAtOnce_andAdvertisesToNewMembers() throws {
        var superPeer = try Peer(1, policy: .alwaysSuperPeer)
        let leaf = try Peer(2)
        superPeer.core.memberAlive(id: leaf.id, address: leaf.address, now: .zero)
        #expect(superPeer.core.role == .superPeer)
        let sent = superPeer.outgoing(now: .zero)
        #expect(superPeer.events == [.roleChanged(from: .leaf, to: .superPeer)])
        guard case .advert(let advert, _) = try #require(sent.first { $0.to == leaf.address }).message else {
            Issue.record("no advert")
            return
        }
        #expect(advert.id == superPeer.id && advert.isSuperPeer && advert.freeSlots == 180)
    }

    @Test func superPeerCore_alone_neverWakes_untilAMemberArrives() throws {
        var peer = try Peer(1)
        #expect(peer.core.pollTimeout() == nil)
        let other = try Peer(2)
        peer.core.memberAlive(id: other.id, address: other.address, now: Self.second)
        #expect(peer.core.pollTimeout() != nil)
        peer.core.memberGone(id: other.id, now: Self.second)
        #expect(peer.core.pollTimeout() == nil)
    }

    @Test func superPeerCore_leafAttaches_superPeerIndexesAndAnswersForIt() throws {
        var peers = [try Peer(1, policy: .alwaysSuperPeer), try Peer(2, services: ["chat.v1"])]
        peers[1].core.setKeywords(["Jazz records"], now: .zero)
        Self.introduce(&peers, now: .zero)
        let (superPeer, leaf) = (peers[0], peers[1])
        #expect(leaf.core.attachedSuperPeers == [superPeer.id])
        #expect(leaf.events.contains(.attached(superPeer: superPeer.id)))
        #expect(superPeer.events.contains(.leafAttached(leaf.id)))
        #expect(superPeer.core.leaves == [leaf.id])
        #expect(superPeer.core.proxyLookup(peer: leaf.id) == leaf.core.localRecord)
        #expect(superPeer.core.leafAddress(of: leaf.id) == leaf.address)
        #expect(superPeer.core.providers(service: "chat.v1").map(\.record.peerID) == [leaf.id])
        #expect(superPeer.core.providers(service: "mail").isEmpty)
        let query = QueryRoutingFilter.keywords(ofQuery: Array("jazz".utf8))
        #expect(superPeer.core.leavesMatching(queryKeywords: query) == [leaf.id])
        #expect(superPeer.core.leavesMatching(queryKeywords: ["jazz", "opera"]).isEmpty)
        #expect(superPeer.core.leavesMatching(queryKeywords: [leaf.id.description]) == [leaf.id])
        // New keywords reach the super-peer in a filter update.
        peers[1].core.setKeywords(["opera"], now: .zero)
        Self.settle(&peers, now: .zero)
        #expect(peers[0].core.leavesMatching(queryKeywords: ["opera"]) == [leaf.id])
        #expect(peers[0].core.leavesMatching(queryKeywords: ["jazz"]).isEmpty)
    }

    @Test func superPeerCore_configuredSearchKeywords_areInTheFilterFromTheStart() throws {
        let keywords: (inout SuperPeerConfiguration) -> Void = { $0.searchKeywords = ["Blue Note"] }
        let leaf = try Peer(2, configure: keywords)
        #expect(leaf.core.localFilter.mightMatch(queryKeywords: ["blue", "note"]))
        #expect(!leaf.core.localFilter.mightMatch(queryKeywords: ["opera"]))
    }

    @Test func superPeerCore_full_refusesWithAlternativesAndCounts() throws {
        var peers = [
            try Peer(1, policy: .alwaysSuperPeer, configure: Self.oneSlot),
            try Peer(2, policy: .neverSuperPeer, configure: Self.oneSlot),
        ]
        Self.introduce(&peers, now: .zero)
        #expect(peers[1].core.attachedSuperPeers == [peers[0].id])
        // A third leaf learns of the super-peer with no free slot, and knows no other: it
        // attaches once all the same, to be named others with room (none here).
        var late = try Peer(3, policy: .neverSuperPeer, configure: Self.oneSlot)
        peers[0].core.memberAlive(id: late.id, address: late.address, now: .zero)
        late.core.memberAlive(id: peers[0].id, address: peers[0].address, now: .zero)
        peers.append(late)
        Self.settle(&peers, now: .zero)
        #expect(peers[2].core.statistics.attachesSent == 1 && peers[2].core.statistics.refusalsReceived == 1)
        #expect(peers[0].core.statistics.leavesRefused == 1)
        // One that attaches anyway (its view was stale) is refused, and counted.
        let attach = try SuperPeerMessage.attach(record: late.core.localRecord, filter: late.core.localFilter).encoded()
        peers[0].core.handleMessage(attach[...], from: late.address, now: .zero)
        #expect(peers[0].core.statistics.leavesRefused == 2)
        #expect(
            peers[0].outgoing(now: .zero).map(\.message) == [
                .attachReply(sender: peers[0].id, refusal: .full, alternatives: [])
            ])
        #expect(peers[0].core.leaves == [peers[1].id])
    }

    @Test func superPeerCore_leafThatKnowsOnlyAFullSuperPeer_asksIt_andTakesAnAlternativeItDoesNotHoldYet() throws {
        var peers = [
            try Peer(1, policy: .alwaysSuperPeer, configure: Self.oneSlot),
            try Peer(2, policy: .alwaysSuperPeer, configure: Self.oneSlot),
            try Peer(3, policy: .neverSuperPeer, configure: Self.oneSlot),
        ]
        // A holds everyone; the first leaf holds A only and takes its one slot; B has room.
        for index in 1...2 {
            peers[0].core.memberAlive(id: peers[index].id, address: peers[index].address, now: .zero)
            peers[index].core.memberAlive(id: peers[0].id, address: peers[0].address, now: .zero)
        }
        peers[1].core.memberAlive(id: peers[2].id, address: peers[2].address, now: .zero)
        Self.settle(&peers, now: .zero)
        #expect(peers[0].core.leaves == [peers[2].id] && peers[1].core.leaves.isEmpty)
        // A late leaf holds A only, and A is full: it asks A, which refuses and names B, a
        // super-peer the late leaf does not hold yet.
        var late = try Peer(4, policy: .neverSuperPeer, configure: Self.oneSlot)
        peers[0].core.memberAlive(id: late.id, address: late.address, now: .zero)
        late.core.memberAlive(id: peers[0].id, address: peers[0].address, now: .zero)
        peers.append(late)
        Self.settle(&peers, now: .zero)
        #expect(peers[3].core.statistics.refusalsReceived == 1 && peers[3].core.attachedSuperPeers.isEmpty)
        let heard = peers[3].core.takeHeardOfUnheldSuperPeer()
        #expect(heard, "it pulls the super-peers")
        // Membership brings B (at the address A named): the leaf attaches to it.
        peers[3].core.memberAlive(id: peers[1].id, address: peers[1].address, now: .zero)
        Self.settle(&peers, now: .zero)
        #expect(peers[3].core.attachedSuperPeers == [peers[1].id])
    }

    @Test func superPeerCore_refusedLeaf_triesTheAlternativeItIsGiven() throws {
        var superPeers = [
            try Peer(1, policy: .alwaysSuperPeer, configure: Self.oneSlot),
            try Peer(2, policy: .alwaysSuperPeer, configure: Self.oneSlot),
        ]
        Self.introduce(&superPeers, now: .zero)
        var (a, b) = (superPeers[0], superPeers[1])
        var first = try Peer(3, policy: .neverSuperPeer, configure: Self.oneSlot)
        var second = try Peer(4, policy: .neverSuperPeer, configure: Self.oneSlot)
        // The second leaf hears of A while A still has room; the advert waits.
        a.core.memberAlive(id: second.id, address: second.address, now: .zero)
        second.core.memberAlive(id: a.id, address: a.address, now: .zero)
        let waiting = a.outgoing(now: .zero).filter { $0.to == second.address }
        // The first leaf takes A's only slot.
        a.core.memberAlive(id: first.id, address: first.address, now: .zero)
        first.core.memberAlive(id: a.id, address: a.address, now: .zero)
        var pair = [a, first]
        Self.settle(&pair, now: .zero)
        (a, first) = (pair[0], pair[1])
        #expect(a.core.leaves == [first.id])
        // The stale advert makes the second leaf try A, which refuses and names B.
        for (_, message) in waiting {
            second.core.handleMessage(try message.encoded()[...], from: a.address, now: .zero)
        }
        second.core.memberAlive(id: b.id, address: b.address, now: .zero)
        var all = [a, b, first, second]
        Self.settle(&all, now: .zero)
        #expect(all[0].core.statistics.leavesRefused == 1)
        #expect(all[3].core.statistics.refusalsReceived == 1)
        #expect(all[3].core.attachedSuperPeers == [b.id])
        #expect(all[1].core.leaves == [second.id])
    }

    @Test func superPeerCore_invalidRecord_isRefused() throws {
        var superPeer = try Peer(1, policy: .alwaysSuperPeer)
        let leaf = try Peer(2)
        superPeer.core.memberAlive(id: leaf.id, address: leaf.address, now: .zero)
        _ = superPeer.outgoing(now: .zero)
        let expired = try Self.record(of: leaf.key, address: leaf.address, expiresAt: Self.wallClockAtZero)
        let attach = try SuperPeerMessage.attach(record: expired, filter: QueryRoutingFilter()).encoded()
        superPeer.core.handleMessage(attach[...], from: leaf.address, now: Self.second)
        #expect(superPeer.core.statistics.invalidRecords == 1)
        #expect(superPeer.core.leaves.isEmpty)
        let replies = superPeer.outgoing(now: Self.second).map(\.message)
        #expect(replies == [.attachReply(sender: superPeer.id, refusal: .invalidRecord, alternatives: [])])
    }

    @Test func superPeerCore_keepaliveFromUnknownLeaf_answersNotAttached_andTheLeafAttachesAgain() throws {
        var peers = [try Peer(1, policy: .alwaysSuperPeer), try Peer(2)]
        Self.introduce(&peers, now: .zero)
        let keepalive = try SuperPeerMessage.keepalive(leaf: peers[1].id, recordSequence: 1, candidacy: 0).encoded()
        peers[0].core.handleMessage(keepalive[...], from: PeerAddress.ipv4(10, 0, 0, 9, port: 1), now: .zero)
        #expect(
            peers[0].outgoing(now: .zero).map(\.message) == [
                .attachReply(sender: peers[0].id, refusal: .notAttached, alternatives: [])
            ])
        let refusal = try SuperPeerMessage.attachReply(sender: peers[0].id, refusal: .notAttached, alternatives: [])
            .encoded()
        peers[1].core.handleMessage(refusal[...], from: peers[0].address, now: .zero)
        let sent = peers[1].outgoing(now: .zero)
        #expect(sent.count == 1 && sent[0].to == peers[0].address)
        guard case .attach = sent[0].message else {
            Issue.record("expected an attach, got \(sent)")
            return
        }
    }

    @Test func superPeerCore_keepaliveNamingANewerRecordThanHeld_answersNotAttached() throws {
        var peers = [try Peer(1, policy: .alwaysSuperPeer), try Peer(2, policy: .neverSuperPeer)]
        Self.introduce(&peers, now: .zero)
        #expect(peers[0].core.leaves == [peers[1].id])
        let held = try #require(peers[0].core.proxyLookup(peer: peers[1].id)).record.sequence
        // The held record's keepalive renews; one naming a newer record (its attach was
        // lost) makes the leaf attach again.
        for (sequence, refusal) in [(held, nil), (held + 1, SuperPeerRefusal.notAttached)] {
            let keepalive = try SuperPeerMessage.keepalive(leaf: peers[1].id, recordSequence: sequence, candidacy: 0)
                .encoded()
            peers[0].core.handleMessage(keepalive[...], from: peers[1].address, now: .zero)
            #expect(
                peers[0].outgoing(now: .zero).map(\.message) == [
                    .attachReply(sender: peers[0].id, refusal: refusal, alternatives: [])
                ])
        }
    }

    /// Peers 1 and 2 always super-peers, peer 3 never, each leaf on `superPeersPerLeaf`.
    static func twoSuperPeersAndALeaf(superPeersPerLeaf: Int) throws -> [Peer] {
        let configure: (inout SuperPeerConfiguration) -> Void = { $0.superPeersPerLeaf = superPeersPerLeaf }
        return [
            try Peer(1, policy: .alwaysSuperPeer, configure: configure),
            try Peer(2, policy: .alwaysSuperPeer, configure: configure),
            try Peer(3, policy: .neverSuperPeer, configure: configure),
        ]
    }

    @Test func superPeerCore_superPeerGone_leafFailsOverToAnother() throws {
        var peers = try Self.twoSuperPeersAndALeaf(superPeersPerLeaf: 1)
        Self.introduce(&peers, now: .zero)
        let first = try #require(peers[2].core.attachedSuperPeers.first)
        let other = peers[0].id == first ? peers[1].id : peers[0].id
        peers[2].core.memberGone(id: first, now: Self.second)
        let gone = peers.firstIndex { $0.id == first }!
        var remaining = peers
        remaining.remove(at: gone)
        Self.settle(&remaining, now: Self.second)
        let leaf = remaining.first { $0.core.role == .leaf }!
        #expect(leaf.events.contains(.detached(superPeer: first, cause: .failed)))
        #expect(leaf.core.attachedSuperPeers == [other])
    }

    @Test func superPeerCore_leafShortOfSuperPeers_pullsThemSoonerThanOneOnAll() throws {
        var peers = try Self.twoSuperPeersAndALeaf(superPeersPerLeaf: 2)
        #expect(peers[2].core.unheldSuperPeerPullSpacing == nil, "on none of its 2: membership's own spacing")
        Self.introduce(&peers, now: .zero)
        #expect(peers[2].core.attachedSuperPeers.count == 2)
        #expect(peers[2].core.unheldSuperPeerPullSpacing == peers[2].core.featuredGrace)
        #expect(
            peers[0].core.unheldSuperPeerPullSpacing == peers[0].core.configuration.advertInterval,
            "a super-peer: news of super-peers comes at the advert pace")
        let first = peers[2].core.attachedSuperPeers[0]
        peers[2].core.memberGone(id: first, now: Self.second)
        #expect(peers[2].core.unheldSuperPeerPullSpacing == nil, "short of one again")
    }

    @Test func superPeerCore_advertOfAnUnheldSuperPeer_makesASuperPeerPull_notALeafWithAFullView() throws {
        var peers = try Self.twoSuperPeersAndALeaf(superPeersPerLeaf: 1)
        // Peers 1 and 3 know each other; super-peer 2 knows both, and neither holds it.
        peers[0].core.memberAlive(id: peers[2].id, address: peers[2].address, now: .zero)
        peers[2].core.memberAlive(id: peers[0].id, address: peers[0].address, now: .zero)
        Self.settle(&peers, now: .zero)
        let heardBefore = [peers[0].core.takeHeardOfUnheldSuperPeer(), peers[2].core.takeHeardOfUnheldSuperPeer()]
        #expect(heardBefore == [false, false])
        for index in [0, 2] {
            peers[1].core.memberAlive(id: peers[index].id, address: peers[index].address, now: .zero)
        }
        let adverts = peers[1].outgoing(now: .zero).filter { if case .advert = $0.message { true } else { false } }
        #expect(adverts.count == 2)
        for (to, message) in adverts {
            let index = try #require(peers.firstIndex { $0.address == to })
            peers[index].core.handleMessage(try message.encoded()[...], from: peers[1].address, now: .zero)
        }
        #expect(peers[0].core.statistics.advertsOfNonMembers == 1 && peers[2].core.statistics.advertsOfNonMembers == 1)
        let superPeerHeard = [peers[0].core.takeHeardOfUnheldSuperPeer(), peers[0].core.takeHeardOfUnheldSuperPeer()]
        #expect(superPeerHeard == [true, false], "a super-peer pulls the super-peers, once per news")
        #expect(!peers[2].core.prefersPartialView)
        let leafHeard = peers[2].core.takeHeardOfUnheldSuperPeer()
        #expect(!leafHeard, "a leaf with a full view on a super-peer waits for sync")
    }

    @Test func superPeerCore_leafGone_isForgottenAtOnce_evenIfNeverSeenAsMember() throws {
        var peers = [try Peer(1, policy: .alwaysSuperPeer), try Peer(2)]
        Self.introduce(&peers, now: .zero)
        peers[0].core.memberGone(id: peers[1].id, now: Self.second)
        _ = peers[0].outgoing(now: Self.second)
        #expect(peers[0].core.leaves.isEmpty)
        #expect(peers[0].events.last == .leafDetached(peers[1].id, cause: .failed))
        // A leaf that attached before membership told of it goes too.
        var superPeer = try Peer(3, policy: .alwaysSuperPeer)
        let stranger = try Peer(4)
        let attach = try SuperPeerMessage.attach(record: stranger.core.localRecord, filter: stranger.core.localFilter)
            .encoded()
        superPeer.core.handleMessage(attach[...], from: stranger.address, now: .zero)
        #expect(superPeer.core.leaves == [stranger.id])
        superPeer.core.memberGone(id: stranger.id, now: Self.second)
        #expect(superPeer.core.leaves.isEmpty)
    }

    @Test func superPeerCore_silentLeaf_leaseExpires() throws {
        var peers = [try Peer(1, policy: .alwaysSuperPeer), try Peer(2)]
        Self.introduce(&peers, now: .zero)
        #expect(peers[0].core.leaves.count == 1)
        var superPeer = peers[0]
        var now = Instant.zero
        while now < .zero + .seconds(7) {
            now = superPeer.core.pollTimeout()!
            superPeer.core.handleTimeout(now: now)
            _ = superPeer.outgoing(now: now)
        }
        #expect(superPeer.core.leaves.isEmpty)
        #expect(superPeer.core.statistics.leasesExpired == 1)
        #expect(superPeer.events.contains(.leafDetached(peers[1].id, cause: .unresponsive)))
    }

    @Test func superPeerCore_keepalives_holdTheLinkAcrossManyLeases() throws {
        var peers = [try Peer(1, policy: .alwaysSuperPeer), try Peer(2)]
        Self.introduce(&peers, now: .zero)
        var now = Instant.zero
        while now < .zero + .seconds(30) {
            now = min(peers[0].core.pollTimeout()!, peers[1].core.pollTimeout()!)
            for index in peers.indices where peers[index].core.pollTimeout()! <= now {
                peers[index].core.handleTimeout(now: now)
            }
            Self.settle(&peers, now: now)
        }
        #expect(peers[0].core.leaves == [peers[1].id])
        #expect(peers[1].core.attachedSuperPeers == [peers[0].id])
        #expect(peers[0].core.statistics.leasesExpired == 0)
    }

    /// Runs `peers` by their timeouts until `end`, delivering everything at once.
    static func run(_ peers: inout [Peer], from start: Instant, until end: Instant) {
        var now = start
        while let due = peers.compactMap({ $0.core.pollTimeout() }).min(), due <= end {
            now = max(now, due)
            for index in peers.indices where peers[index].core.pollTimeout().map({ $0 <= now }) ?? false {
                peers[index].core.handleTimeout(now: now)
            }
            settle(&peers, now: now)
        }
    }

    @Test func superPeerCore_superPeerHoldingAMuchStrongerLeaf_handsItsRoleOver_once() throws {
        // Peer 1 (capacity 1) is the only one up long enough to be elected at first;
        // once the others are, their keepalives offer their candidacy. Peer 2 of
        // capacity 16 takes the role over; one of capacity 2 (a score of twice peer 1's,
        // not more) does not, nor does peer 3 (capacity 1).
        for (strongCapacity, handsOver) in [(16, true), (2, false)] {
            var peers = [
                try Peer(1) { $0.minimumUptime = .zero },
                try Peer(2) {
                    $0.capacity = strongCapacity
                    $0.minimumUptime = .seconds(100)
                },
                try Peer(3) { $0.minimumUptime = .seconds(100) },
            ]
            for index in peers.indices { peers[index].core.membershipHeldFullState = true }
            Self.introduce(&peers, now: .zero)
            Self.run(&peers, from: .zero, until: .zero + .seconds(90))
            #expect(peers.map(\.core.role) == [.superPeer, .leaf, .leaf])
            #expect(peers[1].core.candidacy == 0 && peers[2].core.candidacy == 0)

            Self.run(&peers, from: .zero + .seconds(90), until: .zero + .seconds(300))
            #expect(peers[1].core.candidacy == 0 || !handsOver)
            let (superPeer, leaves) = handsOver ? (1, [0, 2]) : (0, [1, 2])
            #expect(peers.indices.map { peers[$0].core.role == .superPeer } == peers.indices.map { $0 == superPeer })
            for leaf in leaves { #expect(peers[leaf].core.attachedSuperPeers == [peers[superPeer].id]) }
            #expect(peers[0].core.statistics.handoversOffered == (handsOver ? 1 : 0))
            #expect(peers[0].core.statistics.handoversGiven == (handsOver ? 1 : 0))
            #expect(peers[1].core.statistics.handoversTaken == (handsOver ? 1 : 0))
            // One handover, no flapping: peer 1 promoted once and demoted at most once.
            #expect(peers[0].core.statistics.promotions == 1)
            #expect(peers[0].core.statistics.demotions == (handsOver ? 1 : 0))
            #expect(peers[2].core.statistics.promotions == 0)
            guard handsOver else { continue }
            // Peer 2 took the offer (a handover detach); then peer 1 demoted.
            #expect(peers[0].events.contains(.leafDetached(peers[1].id, cause: .detached(.handover))))
            #expect(peers[2].events.contains(.detached(superPeer: peers[0].id, cause: .detached(.demoted))))
        }
    }

    @Test func superPeerCore_handoverOffers_takenOnce_andOnlyFromAnAttachedSuperPeer_byALeafThatCanBeElected() throws {
        let twoLinks: (inout SuperPeerConfiguration) -> Void = { $0.superPeersPerLeaf = 2 }
        var peers = [
            try Peer(1, policy: .alwaysSuperPeer, configure: twoLinks),
            try Peer(2, policy: .alwaysSuperPeer, configure: twoLinks),
            try Peer(3) {
                twoLinks(&$0)
                $0.capacity = 64
            },
        ]
        Self.introduce(&peers, now: .zero)
        #expect(Set(peers[2].core.attachedSuperPeers) == [peers[0].id, peers[1].id])
        let offer = { (from: Int) in try SuperPeerMessage.handoverOffer(sender: peers[from].id).encoded() }

        // Not up its minimum uptime yet (candidacy 0): declined, the links stay.
        #expect(peers[2].core.candidacy == 0)
        peers[2].core.handleMessage(try offer(0)[...], from: peers[0].address, now: Self.second)
        // From another address than the link's: declined.
        let later = Instant.zero + SuperPeerConfiguration.simulation.minimumUptime
        #expect(peers[2].core.candidacy == 0)
        peers[2].core.handleMessage(try offer(0)[...], from: .ipv4(10, 0, 0, 99, port: 4000), now: later)
        #expect(peers[2].core.role == .leaf && peers[2].core.statistics.handoverOffersDeclined == 2)
        #expect(peers[2].outgoing(now: later).isEmpty)
        #expect(peers[2].core.candidacy == 64)

        // Both super-peers offer at once: the first offer is taken, with a handover
        // detach to its sender and a promoted detach to the other; the second is declined.
        peers[2].core.handleMessage(try offer(0)[...], from: peers[0].address, now: later)
        peers[2].core.handleMessage(try offer(1)[...], from: peers[1].address, now: later)
        #expect(peers[2].core.role == .superPeer)
        #expect(peers[2].core.statistics.handoversTaken == 1)
        #expect(peers[2].core.statistics.handoverOffersDeclined == 3)
        let detaches = peers[2].outgoing(now: later).compactMap { sent -> PeerAddress? in
            guard case .detach(_, let reason) = sent.message else { return nil }
            return reason == .handover ? sent.to : nil
        }
        #expect(detaches == [peers[0].address])
        // A super-peer that made no offer (forced here) does not demote on a handover detach.
        let accepted = try SuperPeerMessage.detach(sender: peers[2].id, reason: .handover).encoded()
        peers[0].core.handleMessage(accepted[...], from: peers[2].address, now: later)
        #expect(peers[0].core.role == .superPeer && peers[0].core.statistics.handoversGiven == 0)
    }

    @Test func superPeerCore_relay_passesThroughTheSuperPeerToItsLeaf() throws {
        var peers = [try Peer(1, policy: .alwaysSuperPeer), try Peer(2), try Peer(3, policy: .neverSuperPeer)]
        Self.introduce(&peers, now: .zero)
        let target = peers[1].core.role == .leaf ? 1 : 2
        let origin = target == 1 ? 2 : 1
        try peers[origin].core.relay([7, 7], to: peers[target].id, via: peers[0].address, now: .zero)
        Self.settle(&peers, now: .zero)
        #expect(peers[0].core.statistics.relaysForwarded == 1)
        #expect(
            peers[target].events.contains(.relayed(origin: peers[origin].id, payload: [7, 7], via: peers[0].address)))
        // For a peer it does not hold, the super-peer drops the relay.
        let stray = try SuperPeerMessage.relay(
            origin: peers[origin].id, target: peers[0].id == peers[1].id ? peers[2].id : Self.stranger, payload: [1]
        ).encoded()
        peers[0].core.handleMessage(stray[...], from: peers[origin].address, now: .zero)
        #expect(peers[0].core.statistics.relaysDropped == 1)
        #expect(throws: WireError.self) {
            try peers[origin].core.relay(
                [UInt8](repeating: 0, count: SuperPeerConstants.maximumRelayPayload + 1), to: peers[target].id,
                via: peers[0].address, now: .zero)
        }
    }

    static let second = Instant.zero + .seconds(1)

    static let stranger = PeerID(publicKey: Key32([UInt8](repeating: 0xEE, count: 32))!)

    @Test func superPeerCore_forcedLeafAndUnreachablePeer_neverPromote_automaticDoes() throws {
        for (number, policy, reachable, promotes) in [
            (UInt8(1), SuperPeerRolePolicy.neverSuperPeer, true, false), (2, .automatic, false, false),
            (3, .automatic, true, true),
        ] {
            var peer = try Peer(number, policy: policy) { $0.isDirectlyReachable = reachable }
            let other = try Peer(number + 10, policy: .neverSuperPeer)
            peer.core.memberAlive(id: other.id, address: other.address, now: .zero)
            // Membership has held the other's whole list: the swarm is these two.
            peer.core.membershipHeldFullState = true
            var now = Instant.zero
            // A forced leaf has no election to run and nothing to maintain: it never wakes.
            #expect((peer.core.pollTimeout() == nil) == (policy == .neverSuperPeer))
            while now < .zero + .seconds(60), let due = peer.core.pollTimeout() {
                now = due
                peer.core.handleTimeout(now: now)
                _ = peer.outgoing(now: now)
            }
            #expect((peer.core.role == .superPeer) == promotes, "\(policy) reachable \(reachable)")
        }
    }

    @Test func superPeerCore_leafThatKnowsASuperPeerWithRoom_attachesRatherThanPromotes() throws {
        // 200 members and one super-peer known: the swarm is short of super-peers. A leaf
        // not on that super-peer (its attaches go unanswered here) promotes only when
        // the super-peer has no room for it.
        for freeSlots in [UInt16(5), 0] {
            var leaf = try Peer(1)
            for number in UInt8(2)...UInt8(200) {
                let other = try Peer(number, policy: .neverSuperPeer)
                leaf.core.memberAlive(id: other.id, address: other.address, now: .zero)
            }
            let superPeer = try Peer(201, policy: .alwaysSuperPeer)
            leaf.core.memberAlive(id: superPeer.id, address: superPeer.address, now: .zero)
            var now = Instant.zero
            var sequence: UInt32 = 0
            while now < .zero + .seconds(300), leaf.core.role == .leaf, let due = leaf.core.pollTimeout() {
                now = due
                sequence += 1
                let advert = SuperPeerAdvert(
                    id: superPeer.id, address: superPeer.address, score: 1, leafCount: 0, freeSlots: freeSlots,
                    superPeers: 1, roleEpoch: 1, sequence: sequence, isSuperPeer: true)
                let bytes = try SuperPeerMessage.advert(sender: advert, others: []).encoded()
                leaf.core.handleMessage(bytes[...], from: superPeer.address, now: now)
                leaf.core.handleTimeout(now: now)
                _ = leaf.outgoing(now: now)
            }
            #expect(leaf.core.attachedSuperPeers.isEmpty)
            #expect((leaf.core.role == .superPeer) == (freeSlots == 0), "free slots \(freeSlots)")
        }
    }

    @Test func superPeerCore_leafOnNoSuperPeer_countsTheSuperPeersAsTheAdvertsDo_andSoDoesNotPromote() throws {
        // A leaf new to a large swarm holds 3 full super-peers, whose adverts report
        // 3,500 members and 300 super-peers: it counts 300 super-peers, not the 3 it
        // holds, and 3,500 members are no shortage for them.
        var leaf = try Peer(10)
        let superPeers = try (1...3).map { try Peer(UInt8($0), policy: .alwaysSuperPeer) }
        for peer in superPeers { leaf.core.memberAlive(id: peer.id, address: peer.address, now: .zero) }
        var now = Instant.zero
        var sequence: UInt32 = 0
        while now < .zero + .seconds(400), let due = leaf.core.pollTimeout() {
            now = due
            sequence += 1
            for (peer, reported) in zip(superPeers, [(3_400, 280), (3_500, 300), (3_600, 320)]) {
                let advert = SuperPeerAdvert(
                    id: peer.id, address: peer.address, score: 1, leafCount: 150, freeSlots: 0,
                    superPeers: UInt16(reported.1), members: UInt32(reported.0), roleEpoch: 1, sequence: sequence,
                    isSuperPeer: true)
                let bytes = try SuperPeerMessage.advert(sender: advert, others: []).encoded()
                leaf.core.handleMessage(bytes[...], from: peer.address, now: now)
            }
            leaf.core.handleTimeout(now: now)
            _ = leaf.outgoing(now: now)
        }
        #expect(leaf.core.attachedSuperPeers.isEmpty && leaf.core.superPeerCount == 3)
        #expect(leaf.core.estimatedMembers == 3_500 && leaf.core.estimatedSuperPeers == 300)
        #expect(leaf.core.role == .leaf && leaf.core.statistics.promotions == 0)
    }

    @Test func superPeerCore_leafOnNoSuperPeer_keepsAdvertsOfNonMembers_untilMembershipBringsThem() throws {
        var leaf = try Peer(10)
        let sender = try Peer(1, policy: .alwaysSuperPeer)
        let others = try (2...3).map { try Peer(UInt8($0), policy: .alwaysSuperPeer) }
        leaf.core.memberAlive(id: sender.id, address: sender.address, now: .zero)
        func advert(of peer: Peer, freeSlots: UInt16) -> SuperPeerAdvert {
            SuperPeerAdvert(
                id: peer.id, address: peer.address, score: 1, leafCount: 0, freeSlots: freeSlots, superPeers: 3,
                members: 40, roleEpoch: 1, sequence: 1, isSuperPeer: true)
        }
        // The sender is full and passes on two super-peers the leaf does not hold.
        let bytes = try SuperPeerMessage.advert(
            sender: advert(of: sender, freeSlots: 0), others: others.map { advert(of: $0, freeSlots: 5) }
        ).encoded()
        leaf.core.handleMessage(bytes[...], from: sender.address, now: .zero)
        #expect(leaf.core.superPeerCount == 1 && leaf.core.statistics.advertsOfNonMembers == 2)
        let heard = leaf.core.takeHeardOfUnheldSuperPeer()
        #expect(heard, "a leaf on no super-peer pulls the super-peers")
        // Membership brings one at its advert's address, the other at another address.
        leaf.core.memberAlive(id: others[0].id, address: others[0].address, now: .zero)
        leaf.core.memberAlive(id: others[1].id, address: .ipv4(10, 9, 9, 9, port: 1), now: .zero)
        #expect(leaf.core.knownSuperPeers.map(\.id).sorted() == [sender.id, others[0].id].sorted())
        // It asked the full sender for others (unanswered here), and attaches at once to
        // the one with room.
        let attaches = leaf.outgoing(now: .zero).filter { if case .attach = $0.message { true } else { false } }
        #expect(attaches.map(\.to) == [sender.address, others[0].address])
    }

    @Test func superPeerCore_withdrawnAdvert_detachesTheLeaf() throws {
        var peers = [try Peer(1, policy: .alwaysSuperPeer), try Peer(2)]
        Self.introduce(&peers, now: .zero)
        let superPeer = peers[0].id
        #expect(peers[1].core.attachedSuperPeers == [superPeer])
        let withdrawal = SuperPeerAdvert(
            id: superPeer, address: peers[0].address, score: 1, leafCount: 0, freeSlots: 0, superPeers: 0,
            roleEpoch: .max, sequence: 1, isSuperPeer: false)
        // Passed on by another member, it is only a hint: the link stays.
        let passedOn = try SuperPeerMessage.advert(sender: withdrawal, others: []).encoded()
        peers[1].core.handleMessage(passedOn[...], from: .ipv4(10, 0, 0, 77, port: 4000), now: .zero)
        #expect(peers[1].core.attachedSuperPeers == [superPeer])
        // The owner's own advert replaces the forged entry despite its lower epoch.
        var own = withdrawal
        (own.roleEpoch, own.isSuperPeer, own.freeSlots) = (1, true, 5)
        let genuine = try SuperPeerMessage.advert(sender: own, others: []).encoded()
        peers[1].core.handleMessage(genuine[...], from: peers[0].address, now: .zero)
        #expect(peers[1].core.knownSuperPeers.map(\.roleEpoch) == [1])
        // From the super-peer itself, the withdrawal ends the link.
        let bytes = try SuperPeerMessage.advert(sender: withdrawal, others: []).encoded()
        peers[1].core.handleMessage(bytes[...], from: peers[0].address, now: .zero)
        _ = peers[1].outgoing(now: .zero)
        #expect(peers[1].core.attachedSuperPeers.isEmpty)
        #expect(peers[1].events.contains(.detached(superPeer: superPeer, cause: .detached(.demoted))))
        #expect(peers[1].core.knownSuperPeers.isEmpty)
    }

    @Test func superPeerCore_advertPassedOn_livesOneLifetimeFromWhenItsSubjectMadeIt_andIsPassedOnWithItsAge() throws {
        var superPeer = try Peer(1, policy: .alwaysSuperPeer)
        let (sender, subject) = (try Peer(2), try Peer(3))
        let start = Instant.zero + .seconds(100)
        let lifetime = SuperPeerConfiguration.simulation.advertInterval * SuperPeerConstants.advertLifetimeIntervals
        for peer in [sender, subject] { superPeer.core.memberAlive(id: peer.id, address: peer.address, now: start) }
        func passOn(age: Duration, now: Instant) throws {
            let own = SuperPeerAdvert(
                id: sender.id, address: sender.address, score: 1, leafCount: 0, freeSlots: 5, superPeers: 2,
                roleEpoch: 1, sequence: UInt32((now - .zero).components.seconds), isSuperPeer: true)
            let entry = SuperPeerAdvert(
                id: subject.id, address: subject.address, score: 1, leafCount: 0, freeSlots: 5, superPeers: 2,
                roleEpoch: 1, sequence: 1, isSuperPeer: true, age: age)
            let bytes = try SuperPeerMessage.advert(sender: own, others: [entry]).encoded()
            superPeer.core.handleMessage(bytes[...], from: sender.address, now: now)
        }
        // Made 15 s ago: kept, and passed on with its age as it grows.
        try passOn(age: .seconds(15), now: start)
        #expect(superPeer.core.knownSuperPeerIDs.contains(subject.id))
        var passedOn: [(at: Instant, age: Duration)] = []
        var now = start
        while let due = superPeer.core.pollTimeout(), due <= start + .seconds(3) {
            now = max(now, due)
            superPeer.core.handleTimeout(now: now)
            for (_, message) in superPeer.outgoing(now: now) {
                guard case .advert(_, let others) = message, let entry = others.first(where: { $0.id == subject.id })
                else { continue }
                passedOn.append((now, entry.age))
            }
        }
        #expect(!passedOn.isEmpty)
        for (at, age) in passedOn { #expect(age == at - start + .seconds(15)) }
        // Forgotten a lifetime after it was made, not after it arrived.
        superPeer.core.handleTimeout(now: start + (lifetime - .seconds(15)))
        #expect(!superPeer.core.knownSuperPeerIDs.contains(subject.id))
        // Passed on again after that, it is too old to take: it cannot live on by being
        // passed around.
        try passOn(age: lifetime + .seconds(1), now: start + .seconds(6))
        #expect(!superPeer.core.knownSuperPeerIDs.contains(subject.id))
        #expect(superPeer.core.statistics.advertsTooOld == 1)
    }

    @Test func superPeerCore_leafCountsTheSwarmFromAdverts_byTheMedian_andPrefersAPartialViewWithHysteresis() throws {
        var leaf = try Peer(10) { $0.leafViewThreshold = 1_000 }
        let superPeers = try (1...3).map { try Peer(UInt8($0), policy: .alwaysSuperPeer) }
        for peer in superPeers { leaf.core.memberAlive(id: peer.id, address: peer.address, now: .zero) }
        func advertise(_ counts: [UInt32], sequence: UInt32, now: Instant) throws {
            for (peer, members) in zip(superPeers, counts) {
                let advert = SuperPeerAdvert(
                    id: peer.id, address: peer.address, score: 1, leafCount: 30, freeSlots: 150, superPeers: 3,
                    members: members, roleEpoch: 1, sequence: sequence, isSuperPeer: true)
                let bytes = try SuperPeerMessage.advert(sender: advert, others: []).encoded()
                leaf.core.handleMessage(bytes[...], from: peer.address, now: now)
            }
            leaf.core.handleTimeout(now: now + .seconds(1))
        }
        // One super-peer lies (a billion): the median is what counts.
        try advertise([1_200, 1_250, 1_000_000_000], sequence: 1, now: .zero)
        #expect(leaf.core.estimatedMembers == 1_250)
        #expect(leaf.core.prefersPartialView)
        #expect(leaf.core.featuredMembers == Set(superPeers.map(\.id)))
        // Below the threshold but above half of it, the partial view stays (hysteresis).
        try advertise([700, 700, 700], sequence: 2, now: .zero + .seconds(2))
        #expect(leaf.core.prefersPartialView)
        // Below half of it, the leaf holds everyone again.
        try advertise([400, 400, 400], sequence: 3, now: .zero + .seconds(4))
        #expect(!leaf.core.prefersPartialView)
        #expect(leaf.core.estimatedMembers == 400)
        // A threshold of 0 never narrows the view.
        var never = try Peer(11) { $0.leafViewThreshold = 0 }
        for peer in superPeers { never.core.memberAlive(id: peer.id, address: peer.address, now: .zero) }
        swap(&leaf, &never)
        try advertise([5_000, 5_000, 5_000], sequence: 4, now: .zero + .seconds(6))
        #expect(!leaf.core.prefersPartialView)
    }

    @Test func superPeerCore_superPeerCountsTheSwarmByTheLeavesInAdverts_whenItHoldsFewerMembers() throws {
        var superPeer = try Peer(1, policy: .alwaysSuperPeer)
        let others = try (2...3).map { try Peer(UInt8($0), policy: .alwaysSuperPeer) }
        for peer in others { superPeer.core.memberAlive(id: peer.id, address: peer.address, now: .zero) }
        #expect(superPeer.core.estimatedMembers == 3, "itself and the two it holds")
        func advertise(_ leafCounts: [UInt16], sequence: UInt32) throws {
            for (peer, leaves) in zip(others, leafCounts) {
                let advert = SuperPeerAdvert(
                    id: peer.id, address: peer.address, score: 1, leafCount: leaves, freeSlots: 0, superPeers: 3,
                    members: 3, roleEpoch: 1, sequence: sequence, isSuperPeer: true)
                let bytes = try SuperPeerMessage.advert(sender: advert, others: []).encoded()
                superPeer.core.handleMessage(bytes[...], from: peer.address, now: .zero)
            }
        }
        // 3 super-peers and 150 leaf links among the other two, each leaf on 3 of them:
        // 3 + 150 / 3 members, more than the 3 it holds (its sync is behind).
        try advertise([90, 60], sequence: 1)
        #expect(superPeer.core.estimatedMembers == 53)
        _ = superPeer.outgoing(now: .zero)
        superPeer.core.handleTimeout(now: .zero + .seconds(1))
        let sent = superPeer.outgoing(now: .zero + .seconds(1))
        let counts = sent.compactMap { if case .advert(let advert, _) = $0.message { advert.members } else { nil } }
        #expect(!counts.isEmpty && counts.allSatisfy { $0 == 53 }, "its adverts tell the leaves so")
        // A lying advert counts at most `maximumLeaves` leaves.
        try advertise([UInt16.max, 60], sequence: 2)
        let maximum = superPeer.core.configuration.maximumLeaves
        #expect(superPeer.core.estimatedMembers == 3 + (maximum + 60) / 3)
    }

    @Test func superPeerCore_advertsOfNonMembersAndMalformedInput_areCountedAndIgnored() throws {
        var peer = try Peer(1)
        let advert = SuperPeerAdvert(
            id: Self.stranger, address: .ipv4(10, 9, 9, 9, port: 1), score: 1, leafCount: 0, freeSlots: 10,
            superPeers: 1, roleEpoch: 1, sequence: 1, isSuperPeer: true)
        let bytes = try SuperPeerMessage.advert(sender: advert, others: []).encoded()
        peer.core.handleMessage(bytes[...], from: advert.address, now: .zero)
        #expect(peer.core.statistics.advertsOfNonMembers == 1)
        #expect(peer.core.knownSuperPeers.isEmpty)
        peer.core.handleMessage([0x02, 0x01][...], from: advert.address, now: .zero)
        peer.core.handleMessage([][...], from: advert.address, now: .zero)
        #expect(peer.core.statistics.malformedDropped == 2)
        #expect(peer.outgoing(now: .zero).isEmpty)
    }

    @Test func superPeerCore_superPeers_exchangeUnionFilters_forQueryRouting() throws {
        var peers = [try Peer(1, policy: .alwaysSuperPeer), try Peer(2, policy: .alwaysSuperPeer), try Peer(3)]
        peers[2].core.setKeywords(["music"], now: .zero)
        Self.introduce(&peers, now: .zero)
        var now = Instant.zero
        while now < .zero + .seconds(3) {
            now = peers.map { $0.core.pollTimeout()! }.min()!
            for index in peers.indices where peers[index].core.pollTimeout()! <= now {
                peers[index].core.handleTimeout(now: now)
            }
            Self.settle(&peers, now: now)
        }
        // Both super-peers hold the leaf (it wants three, there are two), and each routes
        // a query for "music" to the other, and one for a word nobody has to neither.
        #expect(peers[2].core.attachedSuperPeers.count == 2)
        #expect(peers[0].core.superPeersMatching(queryKeywords: ["music"]) == [peers[1].id])
        #expect(peers[1].core.superPeersMatching(queryKeywords: ["music"]) == [peers[0].id])
        #expect(peers[0].core.superPeersMatching(queryKeywords: ["absentword"]).isEmpty)
        #expect(peers[0].core.leafUnionFilter.mightMatch(queryKeywords: ["music"]))
    }
}
