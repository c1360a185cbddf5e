import StarlingCore
import StarlingTestSupport
import Testing

/// Which members a peer reaches only through another (``MembershipCore/reachedThrough(_:)``),
/// the helpers it asks first, probing a member next, and checks through the helper.
@Suite struct MembershipReachabilityTests {
    typealias Harness = MembershipCoreTests.Harness

    static func id(_ index: Int) -> PeerID { MembershipCoreTests.id(index) }
    static func address(_ index: Int) -> PeerAddress { MembershipCoreTests.address(index) }
    static func at(seconds: Int) -> Instant { MembershipCoreTests.at(milliseconds: seconds * 1_000) }

    /// Eight cores in which only core 2 reaches core 1 (besides core 1 itself): three
    /// ping requests drawn at random from the six others often miss it.
    static func harnessWhereOnlyTwoReachesOne() throws -> Harness {
        var harness = try Harness(count: 8)
        harness.introduceAll()
        for other in [0, 3, 4, 5, 6, 7] { harness.blocked.formUnion([[other, 1], [1, other]]) }
        return harness
    }

    @Test func reachability_memberAnsweringOnlyThroughAHelper_isReachedThroughIt_untilItAnswersDirectly() throws {
        var harness = try Self.harnessWhereOnlyTwoReachesOne()
        harness.cores[0].setPreferredHelpers([Self.id(2)])
        harness.run(until: Self.at(seconds: 30))
        #expect(harness.cores[0].member(Self.id(1))?.state == .alive)
        #expect(harness.cores[0].reachedThrough(Self.id(1)) == Self.id(2))
        #expect(harness.cores[0].reachedThrough(Self.id(2)) == nil)
        // Every ping request about core 1 went to the preferred helper (among others).
        var requestsAboutOne: [Int: Set<PeerAddress>] = [:]
        for entry in harness.log where entry.from == 0 {
            if case .pingRequest(let sequence, Self.id(1), _, _) = entry.message {
                requestsAboutOne[Int(sequence), default: []].insert(entry.to)
            }
        }
        #expect(!requestsAboutOne.isEmpty)
        #expect(requestsAboutOne.values.allSatisfy { $0.contains(Self.address(2)) })

        // The link heals: the next direct ack ends the route.
        harness.blocked = []
        harness.run(until: Self.at(seconds: 60))
        #expect(harness.cores[0].reachedThrough(Self.id(1)) == nil)
    }

    @Test func reachability_withoutPreferredHelpers_randomHelpersMissAndSuspectTheMember() throws {
        // The control: ping requests drawn only at random often miss core 2, the one
        // helper that reaches core 1, and core 1 is suspected.
        var harness = try Self.harnessWhereOnlyTwoReachesOne()
        harness.run(until: Self.at(seconds: 120))
        let suspected = harness.drainEvents(0).contains {
            if case .suspected(let member) = $0 { member.id == Self.id(1) } else { false }
        }
        #expect(suspected)
    }

    @Test func reachability_probeNext_makesTheMemberAtAnAddressTheNextTarget() throws {
        var harness = try Harness(count: 6)
        harness.introduceAll()
        harness.run(until: Self.at(seconds: 3))
        harness.log.removeAll()
        #expect(harness.cores[0].probeNext(at: Self.address(4)) == Self.id(4))
        #expect(harness.cores[0].probeNext(at: .ipv4(192, 0, 2, 1, port: 1)) == nil)
        let due = try #require(harness.cores[0].pollTimeout())
        harness.run(until: due)
        let firstPing = harness.log.first { entry in
            if case .ping = entry.message { entry.from == 0 } else { false }
        }
        #expect(firstPing?.to == Self.address(4))
    }

    @Test func reachability_checkOfAMemberReachedThroughAHelper_goesThroughTheHelper() throws {
        var harness = try Self.harnessWhereOnlyTwoReachesOne()
        harness.cores[0].setPreferredHelpers([Self.id(2)])
        harness.run(until: Self.at(seconds: 30))
        try #require(harness.cores[0].reachedThrough(Self.id(1)) == Self.id(2))
        harness.log.removeAll()
        // Core 3 says core 1 is suspect: core 0 checks it, through core 2.
        let hearsay = MemberUpdate(
            state: .suspect, incarnation: harness.cores[0].member(Self.id(1))!.incarnation, member: Self.id(1),
            address: Self.address(1), accuser: Self.id(3))
        let bytes = try MembershipMessage.gossip(sender: Self.id(3), updates: [hearsay]).encoded()
        harness.cores[0].handleMessage(bytes[...], from: Self.address(3), now: harness.now)
        harness.flush()
        let fromZero = harness.log.filter { $0.from == 0 }
        #expect(
            fromZero.contains { entry in
                if case .pingRequest(_, Self.id(1), _, _) = entry.message { entry.to == Self.address(2) } else { false }
            })
        #expect(!fromZero.contains { $0.to == Self.address(1) })
        #expect(harness.cores[0].member(Self.id(1))?.state == .suspect)
        harness.run(until: harness.now + .seconds(1))
        #expect(harness.cores[0].statistics.checksStarted >= 1)
    }
}
