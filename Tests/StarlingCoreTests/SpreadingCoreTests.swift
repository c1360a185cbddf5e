import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Spreading cores driven by hand: instant delivery along a chosen neighbour graph,
/// time moved explicitly.
@Suite struct SpreadingCoreTests {
    static func id(_ index: Int) -> PeerID {
        PeerID(publicKey: Key32([UInt8](repeating: UInt8(index + 1), count: 32))!)
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
                try SpreadingCore(
                    localID: SpreadingCoreTests.id(index), configuration: configuration,
                    random: TestRandom(seed: UInt64(index) + 1))
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
        var core = try SpreadingCore(localID: Self.id(0), configuration: configuration, random: TestRandom(seed: 1))
        let message = try SpreadingMessage.gossip(
            id: SpreadingID(high: 1, low: 2), origin: Self.id(5), hops: 3, payload: [7]
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
        var core = try SpreadingCore(localID: Self.id(0), random: TestRandom(seed: 1))
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
        var core = try SpreadingCore(localID: Self.id(0), random: TestRandom(seed: 1))
        let message = try SpreadingMessage.query(
            id: SpreadingID(high: 3, low: 4), origin: Self.id(1), ttl: 0, hops: 1, wantsNotices: true, payload: []
        )
        .encoded()
        core.handleMessage(message[...], from: Self.address(1), now: .zero)
        #expect(core.statistics.queriesExpired == 1)
        #expect(core.pollEvent() == nil && core.pollTransmit() == nil)
        #expect(throws: SpreadingError.invalidTTL(0)) { try core.query([], ttl: 0, now: .zero) }
        #expect(throws: SpreadingError.invalidTTL(11)) { try core.query([], ttl: 11, now: .zero) }
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
        var core = try SpreadingCore(localID: Self.id(0), random: TestRandom(seed: 1))
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
            try SpreadingCore(localID: Self.id(0), configuration: bad, random: TestRandom(seed: 1))
        }
    }
}
