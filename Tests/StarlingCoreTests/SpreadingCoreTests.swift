import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Spreading cores driven by hand: instant delivery along a chosen neighbour graph,
/// time moved explicitly.
@Suite struct SpreadingCoreTests {
    /// Identities 0…15: the Ed25519 key pairs with seeds of all `index + 1` bytes.
    static let keys = (0..<16).map { try! IdentityKeyPair(seed: [UInt8](repeating: UInt8($0 + 1), count: 32)) }

    static func key(_ index: Int) -> IdentityKeyPair { keys[index] }

    static func id(_ index: Int) -> PeerID { keys[index].peerID }

    /// The swarm every test core is in.
    static let swarmID = [UInt8](repeating: 0xA5, count: 32)

    /// A core for identity `index`.
    static func core(
        _ index: Int, configuration: SpreadingConfiguration = .lan, seed: UInt64 = 1
    ) throws -> SpreadingCore {
        try SpreadingCore(
            identity: key(index), swarmID: swarmID, configuration: configuration, random: TestRandom(seed: seed))
    }

    static func address(_ index: Int) -> PeerAddress { .ipv4(10, 0, 0, UInt8(index + 1), port: 5000) }

    /// A few cores that deliver each other's messages instantly.
    struct Harness {
        var cores: [SpreadingCore]
        var now = Instant.zero
        /// Messages to these addresses are lost.
        var unreachable: Set<PeerAddress> = []
        /// Every message sent so far, decoded.
        var log: [(from: Int, to: PeerAddress, message: SpreadingMessage)] = []
        /// Every event so far, per core.
        var events: [[SpreadingEvent]]

        init(count: Int, edges: [(Int, Int)], configuration: SpreadingConfiguration = .lan) throws {
            cores = try (0..<count).map { index in
                try SpreadingCoreTests.core(index, configuration: configuration, seed: UInt64(index) + 1)
            }
            events = Array(repeating: [], count: count)
            var adjacency = Array(repeating: [PeerID: PeerAddress](), count: count)
            for (a, b) in edges {
                adjacency[a][SpreadingCoreTests.id(b)] = SpreadingCoreTests.address(b)
                adjacency[b][SpreadingCoreTests.id(a)] = SpreadingCoreTests.address(a)
            }
            for index in 0..<count { cores[index].setNeighbours(adjacency[index]) }
        }

        func index(of address: PeerAddress) -> Int? {
            (0..<cores.count).first { SpreadingCoreTests.address($0) == address }
        }

        /// Delivers queued messages until none are left (bounded), collecting events.
        mutating func flush() {
            for _ in 0..<10_000 {
                var moved = false
                for sender in cores.indices {
                    while let (destination, bytes) = cores[sender].pollTransmit() {
                        moved = true
                        log.append((sender, destination, try! SpreadingMessage.decode(bytes)))
                        guard !unreachable.contains(destination), let target = index(of: destination) else { continue }
                        cores[target].handleMessage(bytes[...], from: SpreadingCoreTests.address(sender), now: now)
                    }
                }
                collectEvents()
                if !moved { return }
            }
        }

        mutating func collectEvents() {
            for index in cores.indices {
                while let event = cores[index].pollEvent() { events[index].append(event) }
            }
        }

        /// Moves time to `instant`, firing due timers.
        mutating func advance(to instant: Instant) {
            now = instant
            for index in cores.indices {
                if let deadline = cores[index].pollTimeout(), deadline <= now { cores[index].handleTimeout(now: now) }
            }
            flush()
        }

        func count(_ kind: SpreadingMessageKind) -> Int { log.count { $0.message.kind == kind } }
    }

    /// A chain 0 – 1 – 2 – … – (count − 1).
    static func chain(_ count: Int) -> [(Int, Int)] { (0..<(count - 1)).map { ($0, $0 + 1) } }

    /// Every pair.
    static func clique(_ count: Int) -> [(Int, Int)] {
        (0..<count).flatMap { a in ((a + 1)..<count).map { (a, $0) } }
    }

    static func deliveries(_ events: [SpreadingEvent]) -> [SpreadingID] {
        events.compactMap { if case .delivered(let id, _, _, _) = $0 { id } else { nil } }
    }

    // MARK: Gossip

    @Test func spreadingCore_broadcast_deliversOnceToEveryPeerOfAClique() throws {
        var harness = try Harness(count: 8, edges: Self.clique(8))
        let id = try harness.cores[0].broadcast([1, 2, 3], now: .zero)
        harness.flush()
        #expect(Self.deliveries(harness.events[0]).isEmpty)
        for index in 1..<8 { #expect(Self.deliveries(harness.events[index]) == [id]) }
        // Every peer forwarded once to all but the origin (its sender); later copies were dropped.
        let duplicates = harness.cores.reduce(0) { $0 + $1.statistics.duplicatesDropped }
        #expect(harness.count(.gossip) == 7 + 7 * 6)
        #expect(duplicates == harness.count(.gossip) - 7)
        // Each receiver checked the origin's signature once, on the first copy only.
        #expect(harness.cores.map(\.statistics.signatureVerifications) == [0] + Array(repeating: 1, count: 7))
        #expect(harness.cores.allSatisfy { $0.statistics.forgedOrigin == 0 })
    }

    @Test func spreadingCore_broadcast_sendsToFanoutRandomNeighbours() throws {
        var configuration = SpreadingConfiguration.lan
        configuration.fanout = 3
        var harness = try Harness(count: 11, edges: (1...10).map { (0, $0) }, configuration: configuration)
        var targets: Set<PeerAddress> = []
        for round in 0..<20 {
            try harness.cores[0].broadcast([UInt8(round)], now: .zero)
            var sent: [PeerAddress] = []
            while let (destination, _) = harness.cores[0].pollTransmit() { sent.append(destination) }
            #expect(sent.count == 3 && Set(sent).count == 3)
            targets.formUnion(sent)
        }
        // Different rounds pick different neighbours.
        #expect(targets.count > 5)
    }

    @Test func spreadingCore_gossip_duplicateDroppedAndExpiredEntryForgotten() throws {
        var configuration = SpreadingConfiguration.lan
        configuration.seenLifetime = .seconds(10)
        var core = try Self.core(0, configuration: configuration)
        let message = try SpreadingMessage.signedGossip(
            id: SpreadingID(high: 1, low: 2), hops: 3, payload: [7], swarmID: Self.swarmID, by: Self.key(5)
        )
        .encoded()
        core.handleMessage(message[...], from: Self.address(5), now: .zero)
        core.handleMessage(message[...], from: Self.address(6), now: Instant(nanoseconds: 1_000))
        #expect(core.statistics.duplicatesDropped == 1)
        #expect(
            core.pollEvent() == .delivered(id: SpreadingID(high: 1, low: 2), origin: Self.id(5), hops: 4, payload: [7]))
        #expect(core.pollEvent() == nil)
        // After the seen lifetime the ID is forgotten (age bound): the timer frees it.
        let expiry = try #require(core.pollTimeout())
        #expect(expiry == Instant.zero + .seconds(10))
        core.handleTimeout(now: expiry)
        #expect(core.seenGossip.count == 0)
        #expect(core.pollTimeout() == nil)
    }

    @Test func spreadingCache_capacityBound_evictsOldestFirst() {
        var cache = SpreadingCache<Bool>(capacity: 3, lifetime: .seconds(60))
        for index in 0..<5 {
            cache.insert(SpreadingID(high: 0, low: UInt64(index)), true, now: Instant(nanoseconds: UInt64(index)))
        }
        #expect(cache.count == 3)
        #expect(!cache.contains(SpreadingID(high: 0, low: 1), now: Instant(nanoseconds: 10)))
        #expect(cache.contains(SpreadingID(high: 0, low: 4), now: Instant(nanoseconds: 10)))
        #expect(!cache.contains(SpreadingID(high: 0, low: 4), now: Instant.zero + .seconds(61)))
    }

    @Test func spreadingCore_gossip_hopLimitStopsForwarding() throws {
        var configuration = SpreadingConfiguration.lan
        configuration.maximumGossipHops = 3
        var harness = try Harness(count: 6, edges: Self.chain(6), configuration: configuration)
        try harness.cores[0].broadcast([1], now: .zero)
        harness.flush()
        #expect((1...3).allSatisfy { Self.deliveries(harness.events[$0]).count == 1 })
        #expect(Self.deliveries(harness.events[4]).isEmpty)
        #expect(harness.cores[3].statistics.hopLimitReached == 1)
    }

    @Test func spreadingCore_broadcast_rejectsOversizedPayload() throws {
        var core = try Self.core(0)
        #expect(throws: SpreadingError.payloadTooLarge(size: 1_201, maximum: 1_200)) {
            try core.broadcast([UInt8](repeating: 0, count: 1_201), now: .zero)
        }
    }

    // MARK: Search

    @Test func spreadingCore_query_stopsAtTTLAndHitsFollowReversePath() throws {
        var harness = try Harness(count: 7, edges: Self.chain(7))
        let id = try harness.cores[0].query([42], ttl: 3, now: .zero)
        harness.flush()
        for index in 1...3 {
            #expect(harness.events[index] == [.query(id: id, origin: Self.id(0), hops: index, payload: [42])])
        }
        #expect((4..<7).allSatisfy { harness.events[$0].isEmpty })
        #expect(harness.cores[3].statistics.queriesExpired == 1)
        #expect(harness.count(.query) == 3)
        // No notice was asked for.
        #expect(harness.count(.ttlExceeded) == 0)

        try harness.cores[3].answer(id, payload: [9, 9], now: .zero)
        harness.flush()
        #expect(harness.events[0] == [.queryHit(id: id, responder: Self.id(3), hops: 3, payload: [9, 9])])
        let hitPath = harness.log.filter { $0.message.kind == .queryHit }.map { "\($0.from)→\($0.to)" }
        #expect(hitPath == ["3→\(Self.address(2))", "2→\(Self.address(1))", "1→\(Self.address(0))"])
    }

    @Test func spreadingCore_query_floodsAllButSenderWithDuplicateSuppression() throws {
        var harness = try Harness(count: 5, edges: Self.clique(5))
        let id = try harness.cores[0].query([1], ttl: 2, now: .zero)
        harness.flush()
        for index in 1..<5 { #expect(harness.events[index].count == 1) }
        // Origin → 4, then each of the 4 to the 3 others (not back to its sender).
        #expect(harness.count(.query) == 4 + 4 * 3)
        #expect(harness.cores.reduce(0) { $0 + $1.statistics.duplicatesDropped } == 12)
        #expect(harness.events[1].first == .query(id: id, origin: Self.id(0), hops: 1, payload: [1]))
    }

    @Test func spreadingCore_query_ttlExceededNoticeReachesOriginatorOnce() throws {
        // 0 – 1 – 2 – 3 and 1 – 4 – 5: the flood dies at 2 and at 4 (TTL 2).
        var harness = try Harness(count: 6, edges: [(0, 1), (1, 2), (2, 3), (1, 4), (4, 5)])
        let id = try harness.cores[0].query([1], ttl: 2, wantsNotices: true, now: .zero)
        harness.flush()
        #expect(harness.cores[2].statistics.queriesExpired == 1)
        #expect(harness.cores[4].statistics.queriesExpired == 1)
        #expect(harness.count(.ttlExceeded) == 3)
        #expect(harness.cores[1].statistics.noticesSuppressed == 1)
        let notices = harness.events[0].filter { if case .notice = $0 { true } else { false } }
        #expect(notices.count == 1)
        guard case .notice(.ttlExceeded(let noticeID, _, let hops)) = notices.first else {
            Issue.record("no TTL-exceeded notice")
            return
        }
        #expect(noticeID == id && hops == 2)
    }

    @Test func spreadingCore_queryHit_expiredRouteAnswersUnreachableToResponder() throws {
        var configuration = SpreadingConfiguration.lan
        configuration.routeLifetime = .seconds(5)
        var harness = try Harness(count: 4, edges: Self.chain(4), configuration: configuration)
        let id = try harness.cores[0].query([1], ttl: 3, now: .zero)
        harness.flush()
        harness.now = Instant.zero + .seconds(4)
        // 1 forgets its route early (capacity stand-in): only its entry is gone.
        harness.cores[1].routes = SpreadingCache(capacity: 1, lifetime: .seconds(5))
        // 3's answer reaches 2 (route alive), then 1 has none and reports back.
        try harness.cores[3].answer(id, payload: [7], now: harness.now)
        harness.flush()
        #expect(harness.events[0].isEmpty)
        #expect(harness.cores[1].statistics.noRouteDropped == 1)
        #expect(
            harness.events[3] == [
                .query(id: id, origin: Self.id(0), hops: 3, payload: [1]),
                .notice(.unreachable(id: id, subject: .queryHit, reporter: Self.id(1))),
            ])
        // Answering after the route expired is refused.
        harness.now = Instant.zero + .seconds(6)
        #expect(throws: SpreadingError.noRoute(id)) { try harness.cores[2].answer(id, payload: [], now: harness.now) }
        #expect(throws: SpreadingError.noRoute(id)) { try harness.cores[0].answer(id, payload: [], now: harness.now) }
    }

    @Test func spreadingCore_query_zeroTTLDroppedAndCountedAndBadTTLRefused() throws {
        var core = try Self.core(0)
        let message = try SpreadingMessage.signedQuery(
            id: SpreadingID(high: 3, low: 4), ttl: 0, hops: 1, wantsNotices: true, payload: [], swarmID: Self.swarmID,
            by: Self.key(1)
        )
        .encoded()
        core.handleMessage(message[...], from: Self.address(1), now: .zero)
        #expect(core.statistics.queriesExpired == 1)
        #expect(core.pollEvent() == nil && core.pollTransmit() == nil)
        #expect(throws: SpreadingError.invalidTTL(0)) { try core.query([], ttl: 0, now: .zero) }
        #expect(throws: SpreadingError.invalidTTL(11)) { try core.query([], ttl: 11, now: .zero) }
    }

    // MARK: Origin authentication

    /// A core for identity 0 with neighbours 1, 2 and 3.
    static func coreWithNeighbours() throws -> SpreadingCore {
        var core = try Self.core(0)
        core.setNeighbours(Dictionary(uniqueKeysWithValues: (1...3).map { (Self.id($0), Self.address($0)) }))
        return core
    }

    /// The signature a message carries.
    static func signature(of message: SpreadingMessage) -> [UInt8] {
        switch message {
        case .gossip(_, _, _, _, let signature), .queryHit(_, _, _, _, let signature): signature
        case .query(_, _, _, _, _, _, let signature): signature
        default: []
        }
    }

    /// Every message `core` has queued, drained.
    static func drain(_ core: inout SpreadingCore) -> [(destination: PeerAddress, bytes: [UInt8])] {
        var sent: [(destination: PeerAddress, bytes: [UInt8])] = []
        while let transmit = core.pollTransmit() { sent.append(transmit) }
        return sent
    }

    @Test func spreadingCore_gossip_forgedOriginNeitherDeliveredNorForwardedAndCounted() throws {
        var core = try Self.coreWithNeighbours()
        let payload: [UInt8] = [1, 2, 3]
        let claim = SpreadingSignature.gossipBytes(
            swarmID: Self.swarmID, id: SpreadingID(high: 9, low: 1), origin: Self.id(5), payload: payload)
        let genuine = SpreadingMessage.signedGossip(
            id: SpreadingID(high: 9, low: 3), hops: 0, payload: payload, swarmID: Self.swarmID, by: Self.key(5))
        let forgeries: [SpreadingMessage] = [
            // Origin 5 claimed, signed by 6.
            .gossip(
                id: SpreadingID(high: 9, low: 1), origin: Self.id(5), hops: 0, payload: payload,
                signature: Self.key(6).sign(claim)),
            // Unsigned: a garbled signature.
            .gossip(
                id: SpreadingID(high: 9, low: 2), origin: Self.id(5), hops: 0, payload: payload,
                signature: [UInt8](repeating: 0x5A, count: 64)),
            // Genuine, but its payload changed on the way.
            .gossip(
                id: SpreadingID(high: 9, low: 3), origin: Self.id(5), hops: 1, payload: [1, 2, 4],
                signature: Self.signature(of: genuine)),
            // Genuinely signed by 5, for another swarm.
            .signedGossip(
                id: SpreadingID(high: 9, low: 4), hops: 0, payload: payload,
                swarmID: [UInt8](repeating: 0, count: 32), by: Self.key(5)),
        ]
        for forgery in forgeries {
            core.handleMessage(try forgery.encoded()[...], from: Self.address(1), now: .zero)
        }
        #expect(core.pollEvent() == nil)
        #expect(Self.drain(&core).isEmpty)
        #expect(core.statistics.forgedOrigin == 4)
        #expect(core.statistics.signatureVerifications == 4)
        #expect(core.statistics.duplicatesDropped == 0)
        // The forgery did not spoil its ID: the genuine message is delivered and forwarded.
        core.handleMessage(try genuine.encoded()[...], from: Self.address(1), now: .zero)
        #expect(
            core.pollEvent()
                == .delivered(id: SpreadingID(high: 9, low: 3), origin: Self.id(5), hops: 1, payload: payload))
        #expect(Set(Self.drain(&core).map(\.destination)) == [Self.address(2), Self.address(3)])
        #expect(core.statistics.forgedOrigin == 4)
    }

    @Test func spreadingCore_forgeryFloodedManyTimes_costsOneVerification() throws {
        var core = try Self.coreWithNeighbours()
        let id = SpreadingID(high: 7, low: 7)
        let garbled = [UInt8](repeating: 0x11, count: 64)
        // The same bad gossip message 100 times, as a flood brings it: other hops, other senders.
        for copy in 0..<100 {
            let bad = SpreadingMessage.gossip(
                id: id, origin: Self.id(5), hops: UInt8(copy % 30), payload: [7], signature: garbled)
            core.handleMessage(try bad.encoded()[...], from: Self.address(1 + copy % 3), now: .zero)
        }
        #expect(core.statistics.signatureVerifications == 1)
        #expect(core.statistics.forgedOrigin == 100)
        // The same for a bad query, whatever its TTL.
        for copy in 0..<100 {
            let bad = SpreadingMessage.query(
                id: id, origin: Self.id(5), ttl: UInt8(1 + copy % 9), hops: UInt8(copy % 5), wantsNotices: false,
                payload: [7], signature: garbled)
            core.handleMessage(try bad.encoded()[...], from: Self.address(1 + copy % 3), now: .zero)
        }
        #expect(core.statistics.signatureVerifications == 2)
        #expect(core.statistics.forgedOrigin == 200)
        #expect(core.pollEvent() == nil)
        #expect(Self.drain(&core).isEmpty)
        // The genuine message under that ID costs one more verification; its copies none.
        for copy in 0..<10 {
            let genuine = SpreadingMessage.signedGossip(
                id: id, hops: UInt8(copy), payload: [7], swarmID: Self.swarmID, by: Self.key(5))
            core.handleMessage(try genuine.encoded()[...], from: Self.address(1), now: .zero)
        }
        #expect(core.statistics.signatureVerifications == 3)
        #expect(core.statistics.duplicatesDropped == 9)
        #expect(core.pollEvent() == .delivered(id: id, origin: Self.id(5), hops: 1, payload: [7]))
        #expect(core.pollEvent() == nil)
    }

    @Test func spreadingCore_query_forgedOriginDroppedAndTTLLeftUnsigned() throws {
        var core = try Self.coreWithNeighbours()
        let id = SpreadingID(high: 5, low: 5)
        let genuine = SpreadingMessage.signedQuery(
            id: id, ttl: 4, hops: 0, wantsNotices: false, payload: [3], swarmID: Self.swarmID, by: Self.key(5))
        let gossipSignature = Self.signature(
            of: .signedGossip(id: id, hops: 0, payload: [3], swarmID: Self.swarmID, by: Self.key(5)))
        let forgeries: [SpreadingMessage] = [
            // Origin 5 claimed, signed by 6.
            .signedQuery(
                id: id, ttl: 4, hops: 0, wantsNotices: false, payload: [3], swarmID: Self.swarmID, by: Self.key(6)
            ).withOrigin(Self.id(5)),
            // Origin 5's gossip signature presented as a query's.
            .query(
                id: id, origin: Self.id(5), ttl: 4, hops: 0, wantsNotices: false, payload: [3],
                signature: gossipSignature),
            // The notices flag turned on: it is signed.
            .query(
                id: id, origin: Self.id(5), ttl: 4, hops: 0, wantsNotices: true, payload: [3],
                signature: Self.signature(of: genuine)),
        ]
        for forgery in forgeries {
            core.handleMessage(try forgery.encoded()[...], from: Self.address(1), now: .zero)
        }
        #expect(core.pollEvent() == nil)
        #expect(Self.drain(&core).isEmpty)
        #expect(core.statistics.forgedOrigin == 3)
        // TTL and hops are not signed: a forwarding peer may lower them.
        let forwarded = SpreadingMessage.query(
            id: id, origin: Self.id(5), ttl: 2, hops: 2, wantsNotices: false, payload: [3],
            signature: Self.signature(of: genuine))
        core.handleMessage(try forwarded.encoded()[...], from: Self.address(1), now: .zero)
        #expect(core.pollEvent() == .query(id: id, origin: Self.id(5), hops: 3, payload: [3]))
        #expect(Self.drain(&core).count == 2)
        #expect(core.statistics.forgedOrigin == 3)
    }

    @Test func spreadingCore_queryHit_forgedAnswerDroppedAndRepeatedHitPassedOnOnce() throws {
        var harness = try Harness(count: 3, edges: Self.chain(3))
        let id = try harness.cores[0].query([1], ttl: 2, now: .zero)
        harness.flush()
        #expect(harness.events[2] == [.query(id: id, origin: Self.id(0), hops: 2, payload: [1])])
        let claim = SpreadingSignature.queryHitBytes(
            swarmID: Self.swarmID, id: id, queryOrigin: Self.id(0), responder: Self.id(2), payload: [6])
        let forgeries: [SpreadingMessage] = [
            // Responder 2 claimed, signed by 5.
            .queryHit(id: id, responder: Self.id(2), hops: 0, payload: [6], signature: Self.key(5).sign(claim)),
            // Signed by 2, but for the same query ID from another origin.
            .signedQueryHit(
                id: id, queryOrigin: Self.id(4), hops: 0, payload: [6], swarmID: Self.swarmID, by: Self.key(2)),
            // Unsigned.
            .queryHit(
                id: id, responder: Self.id(2), hops: 0, payload: [6], signature: [UInt8](repeating: 0, count: 64)),
        ]
        // At a peer on the reverse path, and at the originator itself.
        for forgery in forgeries {
            harness.cores[1].handleMessage(try forgery.encoded()[...], from: Self.address(2), now: .zero)
            harness.cores[0].handleMessage(try forgery.encoded()[...], from: Self.address(1), now: .zero)
        }
        #expect(Self.drain(&harness.cores[1]).isEmpty)
        harness.collectEvents()
        #expect(harness.events[0].isEmpty && harness.events[1].count == 1)
        #expect(harness.cores[0].statistics.forgedOrigin == 3 && harness.cores[1].statistics.forgedOrigin == 3)
        // The genuine answer arrives; a replay of it is not passed on again.
        try harness.cores[2].answer(id, payload: [6], now: .zero)
        let answer = harness.cores[2].pollTransmit()
        let (destination, hit) = try #require(answer)
        #expect(destination == Self.address(1))
        harness.cores[1].handleMessage(hit[...], from: Self.address(2), now: .zero)
        harness.flush()
        #expect(harness.events[0] == [.queryHit(id: id, responder: Self.id(2), hops: 2, payload: [6])])
        let verifications = harness.cores[1].statistics.signatureVerifications
        for _ in 0..<5 { harness.cores[1].handleMessage(hit[...], from: Self.address(2), now: .zero) }
        #expect(Self.drain(&harness.cores[1]).isEmpty)
        #expect(harness.cores[1].statistics.duplicatesDropped == 5)
        #expect(harness.cores[1].statistics.signatureVerifications == verifications)
    }

    // MARK: Control

    @Test func rttEstimate_rfc6298_matchesHandComputedTable() {
        // First sample 100 ms: SRTT 100, RTTVAR 50, RTO = max(1 s, 100 + 200) = 1 s.
        var estimate = RTTEstimate(firstSample: .milliseconds(100))
        #expect(estimate.smoothed == .milliseconds(100) && estimate.variation == .milliseconds(50))
        #expect(estimate.retransmissionTimeout() == .seconds(1))
        #expect(estimate.retransmissionTimeout(minimum: .zero) == .milliseconds(300))
        // 200 ms: RTTVAR = 3/4·50 + 1/4·100 = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5.
        estimate = estimate.updated(with: .milliseconds(200))
        #expect(estimate.variation == .microseconds(62_500) && estimate.smoothed == .microseconds(112_500))
        // 112.5 ms again: deviation 0, RTTVAR = 46.875, SRTT unchanged.
        estimate = estimate.updated(with: .microseconds(112_500))
        #expect(estimate.variation == .microseconds(46_875) && estimate.smoothed == .microseconds(112_500))
        #expect(estimate.samples == 3 && estimate.latest == .microseconds(112_500))
        #expect(estimate.retransmissionTimeout(minimum: .zero) == .microseconds(300_000))
        // Negative samples count as zero; steady samples converge.
        #expect(RTTEstimate(firstSample: .milliseconds(-5)).smoothed == .zero)
        var steady = RTTEstimate(firstSample: .milliseconds(10))
        for _ in 0..<200 { steady = steady.updated(with: .milliseconds(10)) }
        #expect(steady.smoothed == .milliseconds(10) && steady.variation < .microseconds(10))
    }

    @Test func spreadingCore_echo_measuresRTTAndIgnoresForgedReplies() throws {
        var harness = try Harness(count: 2, edges: [(0, 1)])
        let identifier = try harness.cores[0].sendEcho(to: Self.id(1), now: .zero)
        let first = harness.cores[0].pollTransmit()
        let (destination, request) = try #require(first)
        #expect(destination == Self.address(1))
        let later = Instant.zero + .milliseconds(30)
        harness.cores[1].handleMessage(request[...], from: Self.address(0), now: later)
        let second = harness.cores[1].pollTransmit()
        let (back, reply) = try #require(second)
        #expect(back == Self.address(0))
        #expect(
            try SpreadingMessage.decode(reply) == .echoReply(identifier: identifier, timestamp: 0, sender: Self.id(1)))
        // A forged reply with another timestamp, and one from the wrong address, are ignored.
        let forged = try SpreadingMessage.echoReply(identifier: identifier, timestamp: 5, sender: Self.id(1)).encoded()
        harness.cores[0].handleMessage(forged[...], from: Self.address(1), now: later)
        harness.cores[0].handleMessage(reply[...], from: Self.address(3), now: later)
        #expect(harness.cores[0].statistics.unexpectedEchoReplies == 2)
        harness.cores[0].handleMessage(reply[...], from: Self.address(1), now: later)
        #expect(
            harness.cores[0].pollEvent() == .echoReply(peer: Self.id(1), identifier: identifier, rtt: .milliseconds(30))
        )
        #expect(harness.cores[0].rtt(of: Self.id(1)) == RTTEstimate(firstSample: .milliseconds(30)))
        // A replayed reply is unexpected now.
        harness.cores[0].handleMessage(reply[...], from: Self.address(1), now: later)
        #expect(harness.cores[0].statistics.unexpectedEchoReplies == 3)
        // Leaving the neighbour set forgets the estimate.
        harness.cores[0].setNeighbours([:])
        #expect(harness.cores[0].rtt(of: Self.id(1)) == nil)
        #expect(throws: SpreadingError.unknownPeer(Self.id(1))) {
            try harness.cores[0].sendEcho(to: Self.id(1), now: later)
        }
    }

    @Test func spreadingCore_echo_timesOutWithoutReply() throws {
        var harness = try Harness(count: 2, edges: [(0, 1)])
        harness.unreachable = [Self.address(1)]
        let identifier = try harness.cores[0].sendEcho(to: Self.id(1), now: .zero)
        harness.flush()
        let deadline = try #require(harness.cores[0].pollTimeout())
        #expect(deadline == Instant.zero + .seconds(5))
        harness.advance(to: deadline)
        #expect(harness.events[0] == [.echoTimedOut(peer: Self.id(1), identifier: identifier)])
        #expect(harness.cores[0].pollTimeout() == nil)
    }

    @Test func spreadingCore_malformedInput_droppedAndCounted() throws {
        var core = try Self.core(0)
        for bytes: [UInt8] in [[], [0x00], [0x01, 0x02], [0xFF, 0xFF, 0xFF]] {
            core.handleMessage(bytes[...], from: Self.address(1), now: .zero)
        }
        #expect(core.statistics.malformedDropped == 4)
        #expect(core.statistics.lastDecodeError != nil)
        #expect(core.pollEvent() == nil && core.pollTransmit() == nil)
    }

    // MARK: Configuration

    @Test func spreadingConfiguration_presetsValidAndBadFieldsRejected() throws {
        try SpreadingConfiguration.lan.validate()
        try SpreadingConfiguration.simulation.validate()
        #expect(SpreadingConfiguration.recommendedFanout(swarmSize: 1_000) == 12)
        #expect(SpreadingConfiguration.recommendedFanout(swarmSize: 500, slack: 3) == 10)
        var bad = SpreadingConfiguration.lan
        bad.fanout = 0
        #expect(throws: SpreadingConfigurationError.outOfRange(field: "fanout", value: 0, minimum: 1, maximum: 1_000)) {
            try bad.validate()
        }
        bad = .lan
        bad.seenLifetime = .zero
        #expect(throws: SpreadingConfigurationError.notPositive(field: "seenLifetime")) { try bad.validate() }
        bad = .lan
        bad.defaultTTL = 9
        bad.maximumTTL = 8
        #expect(throws: SpreadingConfigurationError.defaultTTLAboveMaximum) { try bad.validate() }
        #expect(throws: SpreadingConfigurationError.self) {
            try Self.core(0, configuration: bad)
        }
        #expect(throws: SpreadingConfigurationError.swarmIDLength(31)) {
            try SpreadingCore(
                identity: Self.key(0), swarmID: [UInt8](repeating: 0, count: 31), random: TestRandom(seed: 1))
        }
    }
}

extension SpreadingMessage {
    /// The same query with another origin claimed (the signature kept).
    func withOrigin(_ origin: PeerID) -> SpreadingMessage {
        guard case .query(let id, _, let ttl, let hops, let wantsNotices, let payload, let signature) = self else {
            return self
        }
        return .query(
            id: id, origin: origin, ttl: ttl, hops: hops, wantsNotices: wantsNotices, payload: payload,
            signature: signature)
    }
}
