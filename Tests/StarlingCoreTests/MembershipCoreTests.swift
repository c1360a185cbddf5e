import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Membership cores driven by hand: zero-latency delivery between a few cores, time
/// moved explicitly.
@Suite struct MembershipCoreTests {
    /// A few cores that deliver each other's messages instantly.
    struct Harness {
        var cores: [MembershipCore]
        var now = Instant.zero
        /// Messages to these addresses are lost.
        var unreachable: Set<PeerAddress> = []
        /// Messages from core `pair[0]` to core `pair[1]` are lost.
        var blocked: Set<[Int]> = []
        /// Every message delivered so far, decoded.
        var log: [(from: Int, to: PeerAddress, message: MembershipMessage)] = []

        init(count: Int, configuration: MembershipConfiguration = .lan) throws {
            cores = try (0..<count).map { index in
                try MembershipCore(
                    identity: MembershipCoreTests.identity(index), address: MembershipCoreTests.address(index),
                    configuration: configuration, random: TestRandom(seed: UInt64(index) + 1))
            }
        }

        func index(of address: PeerAddress) -> Int? { cores.firstIndex { $0.localAddress == address } }

        /// Delivers queued messages until none are left (bounded).
        mutating func flush() {
            for _ in 0..<10_000 {
                var moved = false
                for sender in cores.indices {
                    while let (destination, bytes) = cores[sender].pollTransmit() {
                        moved = true
                        log.append((sender, destination, try! MembershipMessage.decode(bytes)))
                        guard !unreachable.contains(destination), let target = index(of: destination),
                            !blocked.contains([sender, target])
                        else { continue }
                        cores[target].handleMessage(bytes[...], from: cores[sender].localAddress, now: now)
                    }
                }
                if !moved { return }
            }
        }

        /// Fires every timer due up to `deadline`, in time order, delivering as it goes.
        mutating func run(until deadline: Instant) {
            flush()
            for _ in 0..<100_000 {
                let next = cores.indices.compactMap { cores[$0].pollTimeout() }.min()
                guard let next, next <= deadline else { break }
                now = max(now, next)
                for index in cores.indices where (cores[index].pollTimeout().map { $0 <= now } ?? false) {
                    cores[index].handleTimeout(now: now)
                }
                flush()
            }
            now = max(now, deadline)
        }

        /// Makes every core know every other one, directly.
        mutating func introduceAll() {
            for index in cores.indices {
                let updates = cores.indices.filter { $0 != index }.map {
                    cores[$0].ownRecord
                }
                let bytes = try! MembershipMessage.gossip(sender: cores[index].localID, updates: updates).encoded()
                cores[index].handleMessage(bytes[...], from: cores[(index + 1) % cores.count].localAddress, now: now)
            }
            flush()
        }

        mutating func drainEvents(_ index: Int) -> [MembershipEvent] {
            var events: [MembershipEvent] = []
            while let event = cores[index].pollEvent() { events.append(event) }
            return events
        }
    }

    static func identity(_ index: Int) -> IdentityKeyPair {
        try! IdentityKeyPair(seed: [UInt8](repeating: UInt8(index + 1), count: 32))
    }

    static func id(_ index: Int) -> PeerID { identity(index).peerID }

    /// Member `index`'s own signed claim, at its address.
    static func claim(_ index: Int, incarnation: UInt32, state: MemberState = .alive) -> MemberUpdate {
        MemberUpdate(
            state: state, incarnation: incarnation, member: id(index), address: address(index),
            signature: MemberClaim.sign(
                swarmID: MembershipConstants.publicSwarmID, state: state, incarnation: incarnation,
                address: address(index), with: identity(index)))
    }

    static func address(_ index: Int) -> PeerAddress { .ipv4(10, 0, 0, UInt8(index + 1), port: 7946) }

    static func at(milliseconds: Int) -> Instant { Instant(nanoseconds: UInt64(milliseconds) * 1_000_000) }

    @Test func membershipCore_probe_ackKeepsMemberAlive() throws {
        var harness = try Harness(count: 2)
        harness.introduceAll()
        #expect(harness.drainEvents(0) == [.joined(harness.cores[0].member(Self.id(1))!)])
        harness.run(until: Self.at(milliseconds: 10_000))
        let pings = harness.log.filter { if case .ping = $0.message { $0.from == 0 } else { false } }
        let acks = harness.log.filter { if case .ack = $0.message { $0.from == 1 } else { false } }
        #expect(pings.count >= 9)
        #expect(acks.count == pings.count)
        #expect(harness.cores[0].member(Self.id(1))?.state == .alive)
        #expect(harness.cores[0].localHealth.score == 0)
        #expect(harness.drainEvents(0).isEmpty)
    }

    @Test func membershipCore_directPingLost_indirectProbeSucceeds() throws {
        var harness = try Harness(count: 4)
        harness.introduceAll()
        _ = harness.drainEvents(0)
        // Core 0 cannot reach core 1 directly; the relays 2 and 3 can.
        harness.blocked = [[0, 1], [1, 0]]
        harness.run(until: Self.at(milliseconds: 20_000))
        let pingRequests = harness.log.filter { if case .pingRequest = $0.message { $0.from == 0 } else { false } }
        let relayedAcks = harness.log.filter {
            if case .ack = $0.message { $0.from >= 2 && $0.to == Self.address(0) } else { false }
        }
        #expect(!pingRequests.isEmpty)
        #expect(relayedAcks.count >= pingRequests.count / 2)
        // Core 1 answered through the relays every time, so it was never suspected.
        #expect(harness.cores[0].member(Self.id(1))?.state == .alive)
        #expect(harness.drainEvents(0).isEmpty)
        #expect(harness.cores[0].localHealth.score == 0)
    }

    @Test func membershipCore_relay_forwardsAckOrSendsNack() throws {
        var relay = try MembershipCore(
            identity: Self.identity(5), address: Self.address(5), random: TestRandom(seed: 1))
        let requester = Self.address(0)
        let request = try MembershipMessage.pingRequest(
            sequence: 42, target: Self.id(1), targetAddress: Self.address(1), sender: Self.id(0)
        ).encoded()
        relay.handleMessage(request[...], from: requester, now: .zero)
        let first = relay.pollTransmit()
        let (destination, bytes) = try #require(first)
        #expect(destination == Self.address(1))
        guard case .ping(let relaySequence, let target, _, _, _) = try MembershipMessage.decode(bytes) else {
            Issue.record("expected a ping")
            return
        }
        #expect(target == Self.id(1))
        // The target answers: the relay forwards an ack with the requester's sequence.
        let ack = try MembershipMessage.ack(
            sequence: relaySequence, sender: Self.id(1), digest: 0, coordinate: .origin, updates: []
        )
        .encoded()
        relay.handleMessage(ack[...], from: Self.address(1), now: Self.at(milliseconds: 10))
        let answer = relay.pollTransmit()
        let forwarded = try #require(answer)
        #expect(forwarded.destination == requester)
        #expect(
            try MembershipMessage.decode(forwarded.bytes)
                == .ack(sequence: 42, sender: Self.id(5), digest: relay.viewDigest, coordinate: .origin, updates: []))

        // A second request whose target stays silent ends in a nack at 80 % of the timeout.
        relay.handleMessage(request[...], from: requester, now: Self.at(milliseconds: 20))
        _ = relay.pollTransmit()
        let nackAt = Self.at(milliseconds: 20 + 400)
        #expect(relay.pollTimeout().map { $0 <= nackAt } == true)
        relay.handleTimeout(now: nackAt)
        var sawNack = false
        while let (destination, bytes) = relay.pollTransmit() {
            if case .nack(42, _) = try MembershipMessage.decode(bytes), destination == requester { sawNack = true }
        }
        #expect(sawNack)
    }

    @Test func membershipCore_suspicion_refutationRaisesIncarnation() throws {
        var harness = try Harness(count: 2)
        harness.introduceAll()
        _ = harness.drainEvents(0)
        harness.unreachable = [Self.address(1)]
        // Core 0's probes of core 1 fail; with no relays it suspects core 1 at once.
        harness.run(until: Self.at(milliseconds: 2_500))
        #expect(harness.cores[0].member(Self.id(1))?.state == .suspect)
        #expect(harness.drainEvents(0).contains { if case .suspected = $0 { true } else { false } })
        #expect(harness.cores[0].localHealth.score >= 1)
        // Reconnected: the next ping carries the suspicion; core 1 refutes it.
        harness.unreachable = []
        // Core 1 heard of the suspicion as soon as it wrote to core 0 (the sign of life is
        // answered with the suspicion), so a probe of core 1 lost before the healing may
        // still fail and suspect the refuted incarnation once more: each time core 1
        // refutes again, and core 0 ends with its latest incarnation, alive.
        harness.run(until: Self.at(milliseconds: 6_000))
        #expect(harness.cores[1].incarnation >= 1)
        #expect(harness.cores[1].statistics.refutations == Int(harness.cores[1].incarnation))
        #expect(harness.cores[0].member(Self.id(1))?.state == .alive)
        #expect(harness.cores[0].member(Self.id(1))?.incarnation == harness.cores[1].incarnation)
        #expect(harness.drainEvents(0).contains { if case .aliveAgain = $0 { true } else { false } })
    }

    @Test func membershipCore_suspectThatKeepsWriting_isNotDeclaredFailed() throws {
        var harness = try Harness(count: 2)
        harness.introduceAll()
        _ = harness.drainEvents(0)
        // Core 1 hears nothing (core 0's pings and the suspicion are lost) but its own
        // probes reach core 0 every second: it is behind, not dead. Alone, core 0 would
        // declare it failed about 4 s (the minimum suspicion of two members) after its
        // first failed probe; its verdict waits 4 s after each sign of life instead.
        harness.blocked = [[0, 1]]
        harness.run(until: Self.at(milliseconds: 7_000))
        #expect(harness.cores[0].member(Self.id(1))?.state == .suspect)
        #expect(!harness.drainEvents(0).contains { if case .failed = $0 { true } else { false } })
        // Core 0 told core 1 of the suspicion when it heard from it (lost here).
        let told = harness.log.filter { entry in
            guard entry.from == 0, case .gossip(_, let updates) = entry.message else { return false }
            return updates.contains { $0.member == Self.id(1) && $0.state == .suspect }
        }
        #expect(!told.isEmpty)
        // Once core 1 hears of it, it refutes and core 0 takes it back.
        harness.blocked = []
        harness.run(until: Self.at(milliseconds: 12_000))
        #expect(harness.cores[0].member(Self.id(1))?.state == .alive)
        #expect(harness.cores[1].statistics.refutations >= 1)
    }

    @Test func membershipCore_silentSuspect_isStillDeclaredFailed() throws {
        var harness = try Harness(count: 2)
        harness.introduceAll()
        _ = harness.drainEvents(0)
        // Nothing in either direction: core 1 is as good as dead to core 0.
        harness.blocked = [[0, 1], [1, 0]]
        harness.run(until: Self.at(milliseconds: 10_000))
        #expect(harness.cores[0].member(Self.id(1))?.state == .dead)
    }

    @Test func membershipCore_refutation_goesStraightToTheAccuser() throws {
        var harness = try Harness(count: 3)
        harness.introduceAll()
        let accusation = MemberUpdate(
            state: .suspect, incarnation: 0, member: Self.id(1), address: Self.address(1), accuser: Self.id(2))
        let bytes = try MembershipMessage.gossip(sender: Self.id(2), updates: [accusation]).encoded()
        // Core 1 is so far behind that it sheds its gossip rounds; the refutation must
        // not wait for them.
        harness.cores[1].noteLoad(DriverLoad(receiveDrops: 1), now: harness.now)
        harness.cores[1].handleMessage(bytes[...], from: Self.address(2), now: harness.now)
        var sentTo: Set<PeerAddress> = []
        while let (destination, bytes) = harness.cores[1].pollTransmit() {
            if case .gossip(_, let updates) = try MembershipMessage.decode(bytes),
                updates.contains(where: { $0.member == Self.id(1) && $0.state == .alive && $0.incarnation == 1 })
            {
                sentTo.insert(destination)
            }
        }
        #expect(sentTo.contains(Self.address(2)))
        #expect(harness.cores[1].incarnation == 1)
    }

    @Test func membershipCore_unrefutedSuspicion_becomesFailure() throws {
        var harness = try Harness(count: 2)
        harness.introduceAll()
        _ = harness.drainEvents(0)
        harness.unreachable = [Self.address(1)]
        // Two members: K = 0, so the suspicion lasts the minimum, 4 × 1 s.
        harness.run(until: Self.at(milliseconds: 10_000))
        #expect(harness.cores[0].member(Self.id(1))?.state == .dead)
        let events = harness.drainEvents(0)
        #expect(events.count == 2)
        #expect(events.last.map { if case .failed = $0 { true } else { false } } == true)
    }

    @Test(arguments: [
        (0, 2, 60_000), (1, 2, 29_716), (2, 2, 12_000), (3, 2, 12_000), (0, 0, 12_000), (1, 3, 36_000),
    ])
    func suspicionTimeout_timeout_shrinksWithConfirmations(confirmations: Int, expected: Int, milliseconds: Int) {
        let timeout = SuspicionTimeout.timeout(
            confirmations: confirmations, expected: expected, minimum: .seconds(12), maximum: .seconds(60))
        let error = abs((timeout - .milliseconds(milliseconds)).nanosecondsClamped)
        #expect(error < 2_000_000, "C=\(confirmations) K=\(expected): \(timeout)")
    }

    @Test func suspicionTimeout_bounds_followMemberlist() {
        #expect(SuspicionTimeout.minimum(probeInterval: .seconds(1), members: 5, suspicionMultiplier: 4) == .seconds(4))
        #expect(
            SuspicionTimeout.minimum(probeInterval: .seconds(1), members: 1_000, suspicionMultiplier: 4) == .seconds(12)
        )
        #expect(
            SuspicionTimeout.maximum(
                probeInterval: .seconds(1), members: 100, suspicionMultiplier: 4, maxTimeoutMultiplier: 6)
                == .seconds(48))
        #expect(SuspicionTimeout.expectedConfirmations(suspicionMultiplier: 4, members: 3) == 0)
        #expect(SuspicionTimeout.expectedConfirmations(suspicionMultiplier: 4, members: 4) == 2)
    }

    @Test func membershipCore_confirmations_shortenSuspicion() throws {
        var harness = try Harness(count: 5)
        harness.introduceAll()
        var core = harness.cores[0]
        let suspect = { (accuser: Int) in
            try MembershipMessage.gossip(
                sender: Self.id(accuser),
                updates: [
                    MemberUpdate(
                        state: .suspect, incarnation: 0, member: Self.id(1), address: Self.address(1),
                        accuser: Self.id(accuser))
                ]
            ).encoded()
        }
        let start = Self.at(milliseconds: 100)
        core.handleMessage(try suspect(2)[...], from: Self.address(2), now: start)
        // Five members: minimum 4 s, maximum 24 s, K = 2.
        #expect(core.suspicions[Self.id(1)]?.deadline == start + .seconds(24))
        core.handleMessage(try suspect(3)[...], from: Self.address(3), now: start)
        let once = try #require(core.suspicions[Self.id(1)]?.deadline)
        #expect(once < start + .seconds(24) && once > start + .seconds(4))
        core.handleMessage(try suspect(3)[...], from: Self.address(3), now: start)  // not independent
        #expect(core.suspicions[Self.id(1)]?.deadline == once)
        core.handleMessage(try suspect(4)[...], from: Self.address(4), now: start)
        #expect(core.suspicions[Self.id(1)]?.deadline == start + .seconds(4))
    }

    @Test func localHealth_changes_followLifeguard() throws {
        var health = LocalHealth(maximum: 8)
        health.apply(3)
        #expect(health.score == 3)
        #expect(health.scale(.seconds(1)) == .seconds(4))
        health.apply(100)
        #expect(health.score == 8)
        health.apply(-100)
        #expect(health.score == 0)
        #expect(LocalHealth.failedProbeDelta(expectedNacks: 3, receivedNacks: 0) == 3)
        #expect(LocalHealth.failedProbeDelta(expectedNacks: 3, receivedNacks: 3) == 0)
        #expect(LocalHealth.failedProbeDelta(expectedNacks: 0, receivedNacks: 0) == 1)

        // In a core: a target that is down while the relays answer with nacks costs nothing.
        var harness = try Harness(count: 4)
        harness.introduceAll()
        harness.unreachable = [Self.address(1)]
        harness.run(until: Self.at(milliseconds: 10_000))
        #expect(harness.cores[0].member(Self.id(1))?.state != .alive)
        #expect(harness.cores[0].localHealth.score == 0)
        // Cut off entirely: no nack comes back, so each failed probe adds one per relay
        // asked (or one when none is left to ask) until every member is declared failed,
        // and the probe interval stretches to (score + 1) × 1 s.
        harness.unreachable = Set((1..<4).map(Self.address))
        harness.run(until: Self.at(milliseconds: 30_000))
        #expect(harness.cores[0].localHealth.score >= 2)
        #expect(harness.cores[0].localHealth.scale(.seconds(1)) >= .seconds(3))
        // A suspicion of oneself, refuted, adds one.
        var core = try MembershipCore(identity: Self.identity(7), address: Self.address(7), random: TestRandom(seed: 5))
        let accusation = try MembershipMessage.gossip(
            sender: Self.id(1),
            updates: [
                MemberUpdate(
                    state: .suspect, incarnation: 0, member: Self.id(7), address: Self.address(7), accuser: Self.id(1))
            ]
        ).encoded()
        core.handleMessage(accusation[...], from: Self.address(1), now: .zero)
        #expect(core.localHealth.score == 1)
        #expect(core.incarnation == 1)
    }

    @Test func membershipCore_leave_announcesLeftAndStops() throws {
        var harness = try Harness(count: 3)
        harness.introduceAll()
        for index in 0..<3 { _ = harness.drainEvents(index) }
        harness.cores[2].leave(now: harness.now)
        #expect(harness.cores[2].pollTimeout() == nil)
        harness.flush()
        for index in 0..<2 {
            let member = harness.cores[index].member(Self.id(2))
            #expect(member?.state == .left)
            #expect(harness.drainEvents(index) == [.left(member!)])
        }
        harness.run(until: Self.at(milliseconds: 60_000))
        #expect(harness.cores[0].member(Self.id(2))?.state == .left)
        #expect(harness.cores[1].member(Self.id(2))?.state == .left)
        #expect(harness.drainEvents(0).isEmpty)
    }

    @Test func membershipCore_join_pushPullExchangesState() throws {
        var harness = try Harness(count: 4)
        // 1, 2, 3 join through 0 in turn; afterwards everyone knows everyone.
        for index in 1..<4 {
            harness.cores[index].join([Self.address(0)], now: harness.now)
            harness.flush()
        }
        harness.run(until: Self.at(milliseconds: 20_000))
        for index in 0..<4 {
            #expect(harness.cores[index].aliveCount == 3)
            #expect(harness.cores[index].hasJoined && harness.cores[index].hasHeldFullState)
        }
    }

    /// Hands `core` a gossip message from peer `sender` (at its own address).
    static func deliver(
        _ updates: [MemberUpdate], from sender: Int, to core: inout MembershipCore, now: Instant = .zero
    )
        throws
    {
        let bytes = try MembershipMessage.gossip(sender: id(sender), updates: updates).encoded()
        core.handleMessage(bytes[...], from: address(sender), now: now)
    }

    /// The gossip updates `core` has queued to send, with their destinations.
    static func sentGossip(of core: inout MembershipCore) throws -> [(PeerAddress, MemberUpdate)] {
        var sent: [(PeerAddress, MemberUpdate)] = []
        while let (destination, bytes) = core.pollTransmit() {
            if case .gossip(_, let updates) = try MembershipMessage.decode(bytes[...]) {
                sent += updates.map { (destination, $0) }
            }
        }
        return sent
    }

    @Test func membershipCore_viewDigest_equalForEqualViews_unmovedBySuspicion() throws {
        var harness = try Harness(count: 3)
        harness.introduceAll()
        let digests = harness.cores.map(\.viewDigest)
        #expect(Set(digests).count == 1)
        // A suspicion is news, not a different view; a refutation's new incarnation is.
        let suspicion = MemberUpdate(
            state: .suspect, incarnation: 0, member: Self.id(2), address: Self.address(2), accuser: Self.id(1))
        try Self.deliver([suspicion], from: 1, to: &harness.cores[0])
        #expect(harness.cores[0].member(Self.id(2))?.state == .suspect)
        #expect(harness.cores[0].viewDigest == digests[0])
        let refuted = Self.claim(2, incarnation: 1)
        try Self.deliver([refuted], from: 2, to: &harness.cores[0])
        #expect(harness.cores[0].viewDigest != digests[0])
        try Self.deliver([refuted], from: 2, to: &harness.cores[1])
        #expect(harness.cores[0].viewDigest == harness.cores[1].viewDigest)
    }

    @Test func membershipCore_viewMissingAMember_isMendedBySyncOnTheNextProbe() throws {
        var configuration = MembershipConfiguration.lan
        configuration.pushPullInterval = .seconds(600)  // no regular exchange in this test
        var harness = try Harness(count: 3, configuration: configuration)
        // Cores 0 and 1 know each other, core 2 knows both; core 0 alone hears of core
        // 2, and its gossip about it is lost.
        let pair = [0, 1].map {
            Self.claim($0, incarnation: 0)
        }
        try Self.deliver([pair[1]], from: 1, to: &harness.cores[0])
        try Self.deliver([pair[0]], from: 0, to: &harness.cores[1])
        try Self.deliver(pair, from: 0, to: &harness.cores[2])
        harness.cores[2].broadcasts.removeAll()
        let third = Self.claim(2, incarnation: 0)
        try Self.deliver([third], from: 2, to: &harness.cores[0])
        harness.cores[0].broadcasts.removeAll()
        harness.cores[1].broadcasts.removeAll()
        #expect(harness.cores[0].viewDigest != harness.cores[1].viewDigest)

        harness.run(until: Self.at(milliseconds: 3_000))
        #expect(harness.cores[1].member(Self.id(2))?.state == .alive)
        #expect(harness.cores[1].statistics.syncRequests >= 1)
        #expect(harness.cores[0].statistics.syncAnswers >= 1)
        // The answer was a partial list asking no reply, and no full exchange happened.
        #expect(
            harness.log.contains {
                guard case .pushPull(_, false, _, true, _, let members) = $0.message else { return false }
                return $0.to == Self.address(1) && members.contains { $0.member == Self.id(2) }
            })
        #expect(
            !harness.log.contains { if case .pushPull(_, true, _, false, _, _) = $0.message { true } else { false } })
        // Once the views agree, probes carry equal digests and start no more syncs.
        #expect(Set(harness.cores.map(\.viewDigest)).count == 1)
        let requests = harness.cores.map(\.statistics.syncRequests)
        harness.run(until: Self.at(milliseconds: 15_000))
        #expect(harness.cores.map(\.statistics.syncRequests) == requests)
    }

    @Test func membershipCore_syncAnswer_holdsOnlyTheBucketsThatDiffer() throws {
        var core = try MembershipCore(
            identity: Self.identity(0), address: Self.address(0), configuration: .lan, random: TestRandom(seed: 4))
        let members = (1...40).map {
            Self.claim($0, incarnation: 0)
        }
        try Self.deliver(members, from: 1, to: &core)
        while core.pollTransmit() != nil {}
        // Member 1 holds every one but member 20 (first byte 21: bucket 1 of 16).
        var theirs = MembershipDigest()
        for index in 0...40 where index != 20 { theirs.toggle(Self.id(index), incarnation: 0) }
        let request = try MembershipMessage.syncRequest(
            requester: members[0], level: 4, buckets: theirs.folded(level: 4)
        ).encoded()
        core.handleMessage(request[...], from: Self.address(1), now: Self.at(milliseconds: 10))
        var answered: [MemberUpdate] = []
        while let (destination, bytes) = core.pollTransmit() {
            #expect(destination == Self.address(1))
            guard case .pushPull(_, false, false, true, _, let records) = try MembershipMessage.decode(bytes[...])
            else {
                Issue.record("not a partial push-pull")
                continue
            }
            answered += records
        }
        // Every member in member 20's bucket, and no other.
        let bucket = MembershipDigest.bucket(of: Self.id(20), level: 4)
        let expected = (0...40).map { Self.id($0) }.filter { MembershipDigest.bucket(of: $0, level: 4) == bucket }
        #expect(Set(answered.map(\.member)) == Set(expected))

        // A requester's record from another address, or not alive, gets nothing.
        core.handleMessage(request[...], from: Self.address(2), now: Self.at(milliseconds: 20))
        var suspect = members[1]
        suspect.state = .suspect
        let notAlive = try MembershipMessage.syncRequest(requester: suspect, level: 0, buckets: [0]).encoded()
        core.handleMessage(notAlive[...], from: Self.address(2), now: Self.at(milliseconds: 20))
        #expect(core.pollTransmit() == nil)
        #expect(core.statistics.syncAnswers == 1)
        // A requester nobody told this peer of joins its view by asking, and is answered.
        let stranger = Self.claim(77, incarnation: 3)
        let introduced = try MembershipMessage.syncRequest(requester: stranger, level: 0, buckets: [0]).encoded()
        core.handleMessage(introduced[...], from: Self.address(77), now: Self.at(milliseconds: 30))
        #expect(core.member(Self.id(77))?.state == .alive)
        #expect(core.pollTransmit()?.destination == Self.address(77))
        #expect(core.statistics.syncAnswers == 2)
    }

    @Test func membershipCore_failedMemberThatWrites_isToldOfItsDeath() throws {
        var harness = try Harness(count: 3)
        harness.introduceAll()
        // Peer 1 falls silent; peer 0 finds it failed by its own probes.
        harness.unreachable = [Self.address(1)]
        harness.run(until: Self.at(milliseconds: 60_000))
        var core = harness.cores[0]
        #expect(core.member(Self.id(1))?.state == .dead)
        let now = harness.now
        _ = try Self.sentGossip(of: &core)
        // Peer 1 writes: it is told, once per probe interval.
        try Self.deliver([], from: 1, to: &core, now: now + .milliseconds(10))
        let told = try Self.sentGossip(of: &core)
        #expect(told.contains { $0.0 == Self.address(1) && $0.1.member == Self.id(1) && $0.1.state == .dead })
        try Self.deliver([], from: 1, to: &core, now: now + .milliseconds(20))
        #expect(try Self.sentGossip(of: &core).isEmpty)
    }

    @Test func membershipCore_staleDeath_sendsTheCurrentRecordToTheAccuser() throws {
        var core = try MembershipCore(identity: Self.identity(1), address: Self.address(1), random: TestRandom(seed: 8))
        let alive = [0, 2].map {
            Self.claim($0, incarnation: 0)
        }
        try Self.deliver(alive, from: 2, to: &core)
        for incarnation: UInt32 in [0, 1] {
            let suspicion = MemberUpdate(
                state: .suspect, incarnation: incarnation, member: Self.id(1), address: Self.address(1),
                accuser: Self.id(2))
            try Self.deliver([suspicion], from: 2, to: &core)
        }
        #expect(core.incarnation == 2)
        _ = try Self.sentGossip(of: &core)
        // Peer 0 declared this peer dead at incarnation 0, long refuted.
        let staleDeath = MemberUpdate(
            state: .dead, incarnation: 0, member: Self.id(1), address: Self.address(1), accuser: Self.id(0))
        try Self.deliver([staleDeath], from: 2, to: &core)
        let sent = try Self.sentGossip(of: &core)
        #expect(sent.contains { $0.0 == Self.address(0) && $0.1.member == Self.id(1) && $0.1.incarnation == 2 })
        #expect(core.incarnation == 2)
    }

    /// The push-pulls `core` sends until `deadline`, firing its timers; every ping is
    /// acked at once, nothing else is answered.
    static func pushPulls(
        of core: inout MembershipCore, from start: Instant, until deadline: Instant
    ) throws -> [(at: Instant, message: MembershipMessage)] {
        var sent: [(at: Instant, message: MembershipMessage)] = []
        var now = start
        while let due = core.pollTimeout(), due <= deadline {
            now = max(now, due)
            core.handleTimeout(now: now)
            var acks: [(PeerAddress, [UInt8])] = []
            while let (destination, bytes) = core.pollTransmit() {
                let message = try MembershipMessage.decode(bytes[...])
                switch message {
                case .pushPull: sent.append((now, message))
                case .ping(let sequence, let target, _, _, _):
                    acks.append(
                        (
                            destination,
                            try MembershipMessage.ack(
                                sequence: sequence, sender: target, digest: 0, coordinate: .origin, updates: []
                            )
                            .encoded()
                        ))
                default: break
                }
            }
            for (source, ack) in acks { core.handleMessage(ack[...], from: source, now: now) }
        }
        return sent
    }

    /// A core that joined through peer 1 and got a partial answer naming peers 1 to 3.
    static func joinedWithPartialAnswer(seed: UInt64) throws -> MembershipCore {
        var core = try MembershipCore(
            identity: identity(0), address: address(0), configuration: .lan, random: TestRandom(seed: seed))
        core.join([address(1)], now: .zero)
        while core.pollTransmit() != nil {}
        let members = (1...3).map {
            claim($0, incarnation: 0)
        }
        let partial = try MembershipMessage.pushPull(
            sender: id(1), replyRequested: false, isJoin: false, isPartial: true, members: members
        ).encoded()
        core.handleMessage(partial[...], from: address(1), now: .zero)
        return core
    }

    /// 200 more members (peers 10 to 209), so that the core's list takes 7 messages.
    static func manyMembers() -> [[MemberUpdate]] {
        var members: [MemberUpdate] = []
        for index in 10..<210 {
            let low = UInt8(index & 0xFF)
            let high = UInt8(index >> 8)
            var seed = [UInt8](repeating: low, count: 32)
            seed[0] = high
            seed[1] = 0xEE
            let identity = try! IdentityKeyPair(seed: seed)
            let address = PeerAddress.ipv4(10, 1, high, low, port: 7946)
            members.append(
                MemberUpdate(
                    state: .alive, incarnation: 0, member: identity.peerID, address: address,
                    signature: MemberClaim.sign(
                        swarmID: MembershipConstants.publicSwarmID, state: .alive, incarnation: 0, address: address,
                        with: identity)))
        }
        return stride(from: 0, to: members.count, by: 20).map { Array(members[$0..<min($0 + 20, members.count)]) }
    }

    static func isPull(_ message: MembershipMessage) -> Bool {
        if case .pushPull(_, true, _, true, _, _) = message { true } else { false }
    }

    @Test func membershipCore_earlyExchanges_pushASmallListAndOnlyPullALargeOne() throws {
        var core = try Self.joinedWithPartialAnswer(seed: 5)
        #expect(core.hasJoined && !core.hasHeldFullState, "a partial answer may be a sample of the swarm")
        // Within a probe interval: a full push-pull of the small list (itself and 3).
        let first = try Self.pushPulls(of: &core, from: .zero, until: Self.at(milliseconds: 1_000))
        guard first.count == 1, case .pushPull(_, true, false, false, _, let records) = first[0].message else {
            Issue.record("expected one full push-pull, got \(first)")
            return
        }
        #expect(records.count == 4)
        // With 200 more members the next early exchange is a pull: one message, this peer only.
        for part in Self.manyMembers() { try Self.deliver(part, from: 2, to: &core, now: Self.at(milliseconds: 1_000)) }
        let next = try Self.pushPulls(
            of: &core, from: Self.at(milliseconds: 1_000), until: Self.at(milliseconds: 4_000))
        guard next.count == 1, case .pushPull(_, true, false, true, _, let pulled) = next[0].message else {
            Issue.record("expected one pull, got \(next)")
            return
        }
        #expect(pulled.map(\.member) == [Self.id(0)])
    }

    @Test func membershipCore_fullAnswerToALargeList_leavesOnlyTheLastPull() throws {
        var core = try Self.joinedWithPartialAnswer(seed: 6)
        for part in Self.manyMembers() { try Self.deliver(part, from: 2, to: &core) }
        let full = try MembershipMessage.pushPull(
            sender: Self.id(2), replyRequested: false, isJoin: false, isPartial: false, members: []
        ).encoded()
        core.handleMessage(full[...], from: Self.address(2), now: Self.at(milliseconds: 100))
        // One pull 8 to 12 probe intervals later; then full push-pulls at the regular interval.
        // (the regular interval is 30 s × 4 at 204 members)
        let sent = try Self.pushPulls(
            of: &core, from: Self.at(milliseconds: 100), until: Self.at(milliseconds: 200_000))
        let pulls = sent.filter { Self.isPull($0.message) }
        #expect(pulls.count == 1)
        #expect(
            pulls.first.map { $0.at >= Self.at(milliseconds: 8_100) && $0.at <= Self.at(milliseconds: 12_100) } == true)
        #expect(sent.count > pulls.count)
    }

    @Test func membershipCore_gossipTimer_sendsQueuedUpdatesToDistinctMembersThenStops() throws {
        var core = try MembershipCore(identity: Self.identity(0), address: Self.address(0), random: TestRandom(seed: 4))
        let news = (1...5).map {
            Self.claim($0, incarnation: 0)
        }
        let bytes = try MembershipMessage.gossip(sender: Self.id(1), updates: news).encoded()
        core.handleMessage(bytes[...], from: Self.address(1), now: .zero)
        #expect(core.pollTransmit() == nil)
        #expect(core.pendingBroadcasts == 5)
        // The first round comes within one gossip interval, before the first probe.
        let gossipAt = try #require(core.nextGossipAt)
        let probeAt = try #require(core.nextProbeAt)
        #expect(gossipAt < .zero + core.configuration.gossipInterval)
        #expect(core.pollTimeout() == min(gossipAt, probeAt))
        #expect(gossipAt < probeAt)
        core.handleTimeout(now: gossipAt)
        var destinations: [PeerAddress] = []
        while let (destination, datagram) = core.pollTransmit() {
            guard case .gossip(let sender, let updates) = try MembershipMessage.decode(datagram) else {
                Issue.record("expected only gossip")
                continue
            }
            #expect(sender == Self.id(0))
            // Each destination gets its own take: all five fit in one message.
            #expect(Set(updates.map(\.member)) == Set(news.map(\.member)))
            destinations.append(destination)
        }
        #expect(destinations.count == core.configuration.gossipNodes)
        #expect(Set(destinations).count == destinations.count)
        #expect(destinations.allSatisfy { (1...5).map(Self.address).contains($0) })
        #expect(core.nextGossipAt == gossipAt + core.configuration.gossipInterval)

        // Rounds continue until every update has used its retransmits; then the timer
        // no longer wakes the core, and a late tick sends nothing.
        var now = gossipAt
        var rounds = 0
        while core.pendingBroadcasts > 0, rounds < 100 {
            now = try #require(core.nextGossipAt)
            core.handleTimeout(now: now)
            while core.pollTransmit() != nil {}
            rounds += 1
        }
        #expect(core.pendingBroadcasts == 0)
        // News of joins goes max(3 gossip nodes, 1 × ⌈log10 7⌉) = 3 times, all in the
        // first round (other news: 4 × ⌈log10 7⌉ = 4, one more round).
        #expect(rounds == 0)
        now = try #require(core.nextGossipAt)
        core.handleTimeout(now: now)
        var idle: [MembershipMessage] = []
        while let (_, datagram) = core.pollTransmit() { idle.append(try MembershipMessage.decode(datagram)) }
        #expect(!idle.contains { if case .gossip = $0 { true } else { false } })
        #expect(core.pollTimeout().map { $0 > now } ?? true)
    }

    @Test func membershipCore_join_spreadsByGossipBeforeAnyProbe() throws {
        var configuration = MembershipConfiguration.lan
        // Probes and push-pulls far apart, so only gossip can carry the news in time.
        configuration.probeInterval = .seconds(60)
        configuration.probeTimeout = .seconds(1)
        configuration.pushPullInterval = .seconds(600)
        var harness = try Harness(count: 5, configuration: configuration)
        // Cores 0–3 know each other; the gossip about that settles first.
        for index in 0..<4 {
            let updates = (0..<4).filter { $0 != index }.map {
                Self.claim($0, incarnation: 0)
            }
            let bytes = try MembershipMessage.gossip(sender: Self.id((index + 1) % 4), updates: updates).encoded()
            harness.cores[index].handleMessage(bytes[...], from: Self.address((index + 1) % 4), now: .zero)
        }
        harness.run(until: Self.at(milliseconds: 1_000))
        #expect((0..<4).allSatisfy { harness.cores[$0].pendingBroadcasts == 0 })

        // Core 4 joins through core 0 alone.
        harness.cores[4].join([Self.address(0)], now: harness.now)
        harness.flush()
        #expect(harness.cores[0].member(Self.id(4))?.state == .alive)
        harness.log = []
        harness.run(until: harness.now + configuration.gossipInterval * 3)
        for index in 1..<4 { #expect(harness.cores[index].member(Self.id(4))?.state == .alive, "core \(index)") }
        #expect(!harness.log.contains { if case .ping = $0.message { true } else { false } })
        let gossipAboutJoiner = harness.log.filter {
            guard case .gossip(_, let updates) = $0.message else { return false }
            return updates.contains { $0.member == Self.id(4) }
        }
        #expect(!gossipAboutJoiner.isEmpty)
    }

    @Test func membershipCore_malformedInput_isCountedAndDropped() throws {
        var core = try MembershipCore(identity: Self.identity(0), address: Self.address(0), random: TestRandom(seed: 3))
        core.handleMessage([0x01, 0x02][...], from: Self.address(1), now: .zero)
        core.handleMessage([][...], from: Self.address(1), now: .zero)
        let wrongTarget = try MembershipMessage.ping(
            sequence: 1, target: Self.id(9), sender: Self.id(1), digest: 0, updates: []
        )
        .encoded()
        core.handleMessage(wrongTarget[...], from: Self.address(1), now: .zero)
        #expect(core.statistics.malformedDropped == 2)
        #expect(core.statistics.misaddressedDropped == 1)
        #expect(core.pollTransmit() == nil)
    }

    @Test func membershipConfiguration_validate_rejectsBadValues() {
        for profile in [MembershipConfiguration.lan, .local, .simulation] {
            #expect(throws: Never.self) { try profile.validate() }
        }
        var configuration = MembershipConfiguration.lan
        configuration.probeTimeout = .seconds(2)
        #expect(throws: MembershipConfigurationError.probeTimeoutNotBelowInterval) { try configuration.validate() }
        configuration = .lan
        configuration.probeInterval = .zero
        #expect(throws: MembershipConfigurationError.notPositive(field: "probeInterval")) {
            try configuration.validate()
        }
        configuration = .lan
        configuration.gossipInterval = .zero
        #expect(throws: MembershipConfigurationError.notPositive(field: "gossipInterval")) {
            try configuration.validate()
        }
        configuration = .lan
        configuration.gossipNodes = 0
        #expect(
            throws: MembershipConfigurationError.outOfRange(field: "gossipNodes", value: 0, minimum: 1, maximum: 64)
        ) { try configuration.validate() }
        configuration = .lan
        configuration.maxMessageSize = 10
        #expect(throws: MembershipConfigurationError.self) {
            try MembershipCore(
                identity: Self.identity(0), address: Self.address(0), configuration: configuration,
                random: TestRandom(seed: 1)
            )
        }
    }

    @Test func broadcastQueue_take_leastSentNewestFirstWithinBudget() {
        #expect(BroadcastQueue.retransmitLimit(multiplier: 4, members: 1) == 4)
        #expect(BroadcastQueue.retransmitLimit(multiplier: 4, members: 9) == 4)
        #expect(BroadcastQueue.retransmitLimit(multiplier: 4, members: 10) == 8)
        #expect(BroadcastQueue.retransmitLimit(multiplier: 4, members: 1_000) == 16)
        var queue = BroadcastQueue()
        let updates = (0..<5).map {
            Self.claim($0, incarnation: 0)
        }
        for update in updates { queue.enqueue(update) }
        // 230 bytes hold two 108-byte claims: the two newest.
        #expect(queue.take(budget: 230, limit: 2, joinLimit: 2).map(\.member) == [Self.id(4), Self.id(3)])
        // Then the unsent ones before the sent ones.
        #expect(queue.take(budget: 230, limit: 2, joinLimit: 2).map(\.member) == [Self.id(2), Self.id(1)])
        #expect(
            queue.take(budget: 1_000, limit: 2, joinLimit: 2).map(\.member) == [
                Self.id(0), Self.id(4), Self.id(3), Self.id(2), Self.id(1),
            ])
        // Each has now been sent twice except id 0: only it remains.
        #expect(queue.take(budget: 1_000, limit: 2, joinLimit: 2).map(\.member) == [Self.id(0)])
        #expect(queue.count == 0)
        // A newer update about a member replaces the queued one.
        queue.enqueue(updates[0])
        queue.enqueue(Self.claim(0, incarnation: 1, state: .left))
        #expect(queue.take(budget: 1_000, limit: 2, joinLimit: 2).map(\.state) == [.left])
    }

    @Test func broadcastQueue_joinNews_goesOnlyAsOftenAsItsOwnLimit() {
        var queue = BroadcastQueue()
        let join = Self.claim(1, incarnation: 0)
        let refutation = Self.claim(2, incarnation: 3)
        queue.enqueue(join, isJoin: true)
        queue.enqueue(refutation)
        var sends: [PeerID: Int] = [:]
        for _ in 0..<10 {
            for update in queue.take(budget: 1_000, limit: 4, joinLimit: 1) { sends[update.member, default: 0] += 1 }
        }
        #expect(sends == [Self.id(1): 1, Self.id(2): 4])
        #expect(queue.count == 0)
    }
}
