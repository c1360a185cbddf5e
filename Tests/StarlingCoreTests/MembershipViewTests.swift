import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Partial membership views (``MembershipView``): what a peer that holds only the
/// featured members takes, asks for, answers and forgets.
@Suite struct MembershipViewTests {
    typealias Harness = MembershipCoreTests.Harness

    static func id(_ index: Int) -> PeerID { MembershipCoreTests.id(index) }

    /// Five cores that all know each other; core 0 then holds a partial view featuring
    /// cores 1 and 2 (say, its super-peers), and every core features them.
    static func partialHarness() throws -> Harness {
        var harness = try Harness(count: 5)
        harness.introduceAll()
        let featured: Set<PeerID> = [id(1), id(2)]
        for index in harness.cores.indices { harness.cores[index].setFeatured(featured, now: harness.now) }
        _ = harness.drainEvents(0)
        harness.cores[0].setView(.partial, now: harness.now)
        return harness
    }

    @Test func partialView_forgetsWhoIsNotFeatured_andIgnoresNewsOfThem() throws {
        var harness = try Self.partialHarness()
        let forgotten = harness.drainEvents(0).compactMap { if case .forgotten(let m) = $0 { m.id } else { nil } }
        #expect(Set(forgotten) == [Self.id(3), Self.id(4)])
        #expect(Set(harness.cores[0].members.map(\.id)) == [Self.id(1), Self.id(2)])
        #expect(harness.cores[0].statistics.membersForgotten == 2)

        // Gossip of a stranger is ignored; news of a held member is applied.
        let stranger = try Harness(count: 7).cores[6].ownRecord
        var newer = harness.cores[1].ownRecord
        harness.cores[1].refute(above: newer.incarnation, penalize: false)
        newer = harness.cores[1].ownRecord
        let gossip = try MembershipMessage.gossip(sender: Self.id(2), updates: [stranger, newer]).encoded()
        harness.cores[0].handleMessage(gossip[...], from: MembershipCoreTests.address(2), now: harness.now)
        #expect(harness.cores[0].member(stranger.member) == nil)
        #expect(harness.cores[0].statistics.outOfViewIgnored == 1)
        #expect(harness.cores[0].member(Self.id(1))?.incarnation == newer.incarnation)
    }

    @Test func partialView_pullsOnlyTheFeatured_andTakesNewOnesFromAScopedAnswer() throws {
        var harness = try Self.partialHarness()
        harness.flush()
        // Core 3 becomes featured everywhere (a new super-peer): core 0 pulls at once
        // (it pulled when it went partial, so the pull waits for the spacing first).
        let featured: Set<PeerID> = [Self.id(1), Self.id(2), Self.id(3)]
        for index in 1..<5 { harness.cores[index].setFeatured(featured, now: harness.now) }
        harness.now = harness.now + .seconds(10)
        harness.log.removeAll()
        harness.cores[0].setFeatured(featured, now: harness.now)
        harness.flush()
        let pulls = harness.log.filter { $0.from == 0 }.compactMap { entry -> [MemberUpdate]? in
            guard case .pushPull(_, true, false, true, true, let records) = entry.message else { return nil }
            return records
        }
        #expect(pulls.count == 1 && pulls.first?.map(\.member) == [Self.id(0)], "one scoped pull of its own record")
        let answers = harness.log.filter { $0.to == MembershipCoreTests.address(0) }.compactMap {
            entry -> [PeerID]? in
            guard case .pushPull(_, false, _, true, true, let records) = entry.message else { return nil }
            return records.map(\.member)
        }
        #expect(answers.count == 1)
        #expect(Set(answers.first ?? []).isSubset(of: featured), "a scoped answer holds the featured only")
        #expect(harness.cores[0].member(Self.id(3))?.state == .alive, "taken from the scoped answer")
        #expect(harness.cores[0].member(Self.id(4)) == nil)
    }

    @Test func swarmSize_slowsAPartialViewsPulls_onceItHoldsEveryFeaturedMember() throws {
        var harness = try Self.partialHarness()
        let configured = harness.cores[0].configuration.pushPullInterval
        #expect(harness.cores[0].pushPullInterval == configured)
        // A swarm of 10,000: pulls at the pace of a full view of that size (memberlist's
        // scale: 32 members, then one more interval per doubling).
        harness.cores[0].setSwarmSize(10_000)
        #expect(harness.cores[0].pushPullInterval == configured * 10)
        // A featured member it does not hold yet: back to its own pace, until a scoped
        // answer brings it.
        harness.cores[0].setFeatured([Self.id(1), Self.id(2), Self.id(3)], now: harness.now)
        #expect(harness.cores[0].pushPullInterval == configured)
        // A full view goes by what it holds.
        harness.cores[1].setSwarmSize(10_000)
        #expect(harness.cores[1].pushPullInterval == configured)
    }

    @Test func refreshView_bringsAPullForward_onlyOncePerSpacing() throws {
        var harness = try Self.partialHarness()
        harness.flush()
        func pulls(at offset: Duration, spacing: Duration?) -> Int {
            harness.log.removeAll()
            harness.cores[0].refreshView(spacing: spacing, now: harness.now + offset)
            harness.flush()
            return harness.log.count { entry in
                if case .pushPull(_, true, false, true, true, _) = entry.message { entry.from == 0 } else { false }
            }
        }
        let minute = Duration.seconds(60)
        #expect(pulls(at: .seconds(10), spacing: minute) == 0, "it pulled when it went partial, 10 s ago")
        #expect(pulls(at: .seconds(61), spacing: minute) == 1)
        let probeInterval = harness.cores[0].configuration.probeInterval
        #expect(pulls(at: .seconds(61) + probeInterval / 2, spacing: minute) == 0)
        #expect(pulls(at: .seconds(61) + probeInterval / 2, spacing: nil) == 0, "membership's own spacing")
        #expect(pulls(at: .seconds(61) + probeInterval, spacing: nil) == 1)
    }

    @Test func fullView_pullsTheFeaturedWhenAsked_andTakesThemBeforeSyncWould() throws {
        // Cores 1–3 know each other and feature 2 and 3 (say, super-peers); core 0, with a
        // full view, holds only core 1 so far (a new super-peer in a large swarm).
        var harness = try Harness(count: 4)
        for index in 1..<4 {
            let others = (1..<4).filter { $0 != index }.map { harness.cores[$0].ownRecord }
            let gossip = try MembershipMessage.gossip(sender: Self.id(index % 3 + 1), updates: others).encoded()
            harness.cores[index].handleMessage(
                gossip[...], from: MembershipCoreTests.address(index % 3 + 1), now: harness.now)
            harness.cores[index].setFeatured([Self.id(2), Self.id(3)], now: harness.now)
        }
        let first = try MembershipMessage.gossip(sender: Self.id(1), updates: [harness.cores[1].ownRecord]).encoded()
        harness.cores[0].handleMessage(first[...], from: MembershipCoreTests.address(1), now: harness.now)
        harness.flush()
        #expect(harness.cores[0].view == .full)
        #expect(harness.cores[0].member(Self.id(2)) == nil && harness.cores[0].member(Self.id(3)) == nil)

        // Asked (it heard of a super-peer it does not hold): one scoped pull, to core 1,
        // whose answer brings the featured; asked again within the spacing: nothing.
        harness.log.removeAll()
        harness.cores[0].refreshView(now: harness.now)
        harness.cores[0].refreshView(now: harness.now)
        harness.flush()
        let pulls = harness.log.filter { entry in
            if case .pushPull(_, true, _, _, true, _) = entry.message { entry.from == 0 } else { false }
        }
        #expect(pulls.map(\.to) == [MembershipCoreTests.address(1)])
        #expect(harness.cores[0].member(Self.id(2))?.state == .alive, "taken from the scoped answer")
        #expect(harness.cores[0].member(Self.id(3))?.state == .alive)
    }

    @Test func fullView_answersAPartialViewsSilence_bySyncingWithAFeaturedMember() throws {
        var harness = try Self.partialHarness()
        harness.flush()
        harness.now = harness.now + .seconds(5)
        func syncRequests(afterPingingCore index: Int) throws -> [PeerAddress] {
            harness.log.removeAll()
            // From core 0, whose partial view sends the digest 0 ("none").
            let ping = try MembershipMessage.ping(
                sequence: 1, target: Self.id(index), sender: Self.id(0), digest: 0, updates: []
            ).encoded()
            harness.cores[index].handleMessage(ping[...], from: MembershipCoreTests.address(0), now: harness.now)
            harness.flush()
            return harness.log.compactMap { entry in
                if case .syncRequest = entry.message, entry.from == index { entry.to } else { nil }
            }
        }
        let requests = try syncRequests(afterPingingCore: 3)
        #expect(requests.count == 1)
        #expect(
            requests.allSatisfy { [MembershipCoreTests.address(1), MembershipCoreTests.address(2)].contains($0) },
            "a featured member is asked, not the silent sender")
        // A full view that features nobody takes the digest 0 as saying nothing.
        harness.cores[4].setFeatured([], now: harness.now)
        #expect(try syncRequests(afterPingingCore: 4).isEmpty)
    }

    @Test func backToFull_pullsAgainSoon_whenTheFirstAnswerIsLost() throws {
        var harness = try Self.partialHarness()
        harness.flush()
        harness.now = harness.now + .seconds(5)
        harness.cores[0].setView(.full, now: harness.now)
        while harness.cores[0].pollTransmit() != nil {}  // the pull is lost
        harness.log.removeAll()
        let probeInterval = harness.cores[0].configuration.probeInterval
        harness.run(until: harness.now + probeInterval * 1.5)
        #expect(
            harness.log.contains { entry in
                if case .pushPull(_, true, false, _, false, _) = entry.message { entry.from == 0 } else { false }
            }, "a second exchange within a probe interval, as after a join")
    }

    @Test func partialView_sendsNoDigest_andNobodySyncsWithIt() throws {
        var harness = try Self.partialHarness()
        harness.log.removeAll()
        harness.run(until: harness.now + .seconds(30))
        for entry in harness.log where entry.from == 0 {
            switch entry.message {
            case .ping(_, _, _, let digest, _), .ack(_, _, let digest, _, _): #expect(digest == 0)
            case .syncRequest: Issue.record("a partial view asked for a sync")
            default: break
            }
        }
        #expect(
            !harness.log.contains {
                if case .syncRequest = $0.message { $0.to == MembershipCoreTests.address(0) } else { false }
            })
        #expect(Set(harness.cores[0].members.map(\.id)) == [Self.id(1), Self.id(2)], "nothing crept back in")
        #expect(harness.cores[3].member(Self.id(0))?.state == .alive, "the others still hold it")
    }

    @Test func retain_waitsOutTheGrace_andAFullViewAgainPullsEverything() throws {
        var harness = try Self.partialHarness()
        _ = harness.drainEvents(0)
        // Feature only core 1: core 2 goes once it has been held for the grace.
        harness.cores[0].retain([Self.id(1)], grace: .seconds(3_600), now: harness.now)
        #expect(harness.cores[0].member(Self.id(2)) != nil, "still within its grace")
        // Featuring only members it does not hold, it keeps everyone: it pulls from them.
        harness.cores[0].retain([Self.id(9)], grace: .zero, now: harness.now)
        #expect(harness.cores[0].member(Self.id(2)) != nil, "kept: nothing featured is held")
        harness.cores[0].retain([Self.id(1)], grace: .zero, now: harness.now)
        #expect(harness.cores[0].member(Self.id(2)) == nil)
        #expect(
            harness.drainEvents(0).contains { if case .forgotten(let m) = $0 { m.id == Self.id(2) } else { false } })

        harness.log.removeAll()
        harness.cores[0].setView(.full, now: harness.now)
        harness.flush()
        #expect(
            harness.log.contains { entry in
                if case .pushPull(_, true, false, false, false, _) = entry.message { entry.from == 0 } else { false }
            })
        #expect(harness.cores[0].members.count == 4, "the whole state came back")
    }

    /// Five cores that all know each other, each featuring members of its own
    /// (``FeaturedKind/own``, a pure overlay's Kademlia contacts); core 0 then holds a
    /// partial view featuring cores 1 and 2.
    static func ownFeaturedHarness() throws -> Harness {
        var harness = try Harness(count: 5)
        harness.introduceAll()
        for index in harness.cores.indices { harness.cores[index].featuredKind = .own }
        harness.cores[0].setFeatured([id(1), id(2)], now: harness.now)
        harness.cores[0].setView(.partial, now: harness.now)
        harness.flush()
        _ = harness.drainEvents(0)
        return harness
    }

    @Test func ownFeatured_partialView_takesAFeaturedMembersClaimFromAnyMessage_andNobodyElse() throws {
        var harness = try Self.ownFeaturedHarness()
        #expect(Set(harness.cores[0].members.map(\.id)) == [Self.id(1), Self.id(2)])
        // Gossip from core 1 of cores 3 and 4: neither featured, both ignored.
        let records = [harness.cores[3].ownRecord, harness.cores[4].ownRecord]
        let gossip = try MembershipMessage.gossip(sender: Self.id(1), updates: records).encoded()
        harness.cores[0].handleMessage(gossip[...], from: MembershipCoreTests.address(1), now: harness.now)
        #expect(harness.cores[0].member(Self.id(3)) == nil && harness.cores[0].member(Self.id(4)) == nil)
        #expect(harness.cores[0].statistics.outOfViewIgnored == 2)
        // Core 3 joins the featured (it entered the Kademlia table): the same gossip
        // brings it, in no scoped answer, and still not core 4.
        harness.cores[0].setFeatured([Self.id(1), Self.id(2), Self.id(3)], now: harness.now)
        harness.cores[0].handleMessage(gossip[...], from: MembershipCoreTests.address(1), now: harness.now)
        #expect(harness.cores[0].member(Self.id(3))?.state == .alive)
        #expect(harness.cores[0].member(Self.id(4)) == nil)
    }

    @Test func ownFeatured_introduce_asksTheMemberItself_onceASpacing_andItsAnswerCarriesItAlone() throws {
        var harness = try Self.ownFeaturedHarness()
        // Core 4 features others of its own: its scoped answer must not carry them.
        harness.cores[4].setFeatured([Self.id(1), Self.id(2), Self.id(3)], now: harness.now)
        harness.cores[0].setFeatured([Self.id(1), Self.id(2), Self.id(4)], now: harness.now)
        harness.log.removeAll()
        harness.cores[0].introduce(Self.id(4), at: MembershipCoreTests.address(4), now: harness.now)
        // Not featured: nobody is asked.
        harness.cores[0].introduce(Self.id(3), at: MembershipCoreTests.address(3), now: harness.now)
        harness.flush()
        let pulls = harness.log.filter { entry in
            if case .pushPull(_, true, _, _, true, _) = entry.message { entry.from == 0 } else { false }
        }
        #expect(pulls.map(\.to) == [MembershipCoreTests.address(4)])
        let answers = harness.log.compactMap { entry -> [PeerID]? in
            guard entry.from == 4, case .pushPull(_, false, _, _, true, let records) = entry.message else { return nil }
            return records.map(\.member)
        }
        #expect(answers == [[Self.id(4)]])
        #expect(harness.cores[0].member(Self.id(4))?.state == .alive)
        #expect(harness.cores[0].member(Self.id(3)) == nil)

        // A claim asked for and lost is asked for again only after the spacing.
        harness.cores[0].setFeatured([Self.id(1), Self.id(2), Self.id(3)], now: harness.now)
        harness.unreachable = [MembershipCoreTests.address(3)]
        harness.log.removeAll()
        let probeInterval = harness.cores[0].configuration.probeInterval
        for offset in [Duration.zero, probeInterval, probeInterval * MembershipConstants.syncProbeIntervals] {
            harness.cores[0].introduce(Self.id(3), at: MembershipCoreTests.address(3), now: harness.now + offset)
        }
        harness.flush()
        #expect(harness.log.count { $0.from == 0 && $0.to == MembershipCoreTests.address(3) } == 2)
    }
}
