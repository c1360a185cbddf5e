import StarlingTestSupport
import Testing

@testable import StarlingCore

@Suite struct AnycastPlanTests {
    static func id(_ index: Int) -> PeerID { MembershipCoreTests.id(index) }

    static func ranked(_ milliseconds: [Int?]) -> [RankedPeer] {
        milliseconds.enumerated().map { index, value in
            RankedPeer(
                id: id(index), estimate: value.map { DistanceEstimate(roundTrip: .milliseconds($0), basis: .measured) })
        }
    }

    /// Providers within 5 % of the best share the load; one clearly farther is never
    /// picked first.
    @Test func firstPick_isAmongTheEquallyNear_andSpreadsOverThem() {
        var random = TestRandom(seed: 1)
        var picks: [PeerID: Int] = [:]
        for _ in 0..<3_000 {
            var plan = AnycastPlan(ranked: Self.ranked([40, 41, 42, 60, nil]))
            let pick = plan.next(inFlight: { _ in 0 }, using: &random)!
            picks[pick.id, default: 0] += 1
        }
        #expect(Set(picks.keys) == [Self.id(0), Self.id(1), Self.id(2)])
        let mean = 1_000.0
        #expect(picks.values.allSatisfy { Double($0) <= 1.5 * mean })
    }

    /// Of the two drawn, the one with fewer requests in flight is taken.
    @Test func twoChoices_preferTheLessLoaded() {
        var random = TestRandom(seed: 2)
        for _ in 0..<200 {
            var plan = AnycastPlan(ranked: Self.ranked([10, 10]))
            let pick = plan.next(inFlight: { $0 == Self.id(0) ? 3 : 0 }, using: &random)!
            #expect(pick.id == Self.id(1))
        }
    }

    /// Failover walks outwards: the near group first, then the next nearest, then the
    /// unknown, and ends when all were tried.
    @Test func failover_triesEveryCandidateOnce_nearerFirst() {
        var random = TestRandom(seed: 3)
        var plan = AnycastPlan(ranked: Self.ranked([20, 20, 35, 80, nil]))
        var order: [PeerID] = []
        while let next = plan.next(inFlight: { _ in 0 }, using: &random) { order.append(next.id) }
        #expect(Set(order.prefix(2)) == [Self.id(0), Self.id(1)])
        #expect(Array(order.dropFirst(2)) == [Self.id(2), Self.id(3), Self.id(4)])
    }

    @Test func attemptTimeout_isTheRoundTripPlusSlack_orASecondUnknown() {
        let near = RankedPeer(
            id: Self.id(0), estimate: DistanceEstimate(roundTrip: .milliseconds(40), basis: .coordinates))
        #expect(AnycastPlan.attemptTimeout(for: near) == .milliseconds(290))
        #expect(AnycastPlan.attemptTimeout(for: RankedPeer(id: Self.id(1), estimate: nil)) == .seconds(1))
    }

    /// Every equally near provider can be picked first, however many there are; the
    /// attempts stop at ``AnycastConstants/maximumAttempts``.
    @Test func plan_picksAmongAll_butTriesAtMostMaximumAttempts() {
        var random = TestRandom(seed: 4)
        var firsts: Set<PeerID> = []
        for _ in 0..<2_000 {
            var plan = AnycastPlan(ranked: Self.ranked(Array(repeating: 10, count: 20)))
            firsts.insert(plan.next(inFlight: { _ in 0 }, using: &random)!.id)
        }
        #expect(firsts.count == 20)
        var plan = AnycastPlan(ranked: Self.ranked(Array(repeating: 10, count: 20)))
        var tried = 0
        while plan.next(inFlight: { _ in 0 }, using: &random) != nil { tried += 1 }
        #expect(tried == AnycastConstants.maximumAttempts && plan.remaining.count == 20 - tried)
    }
}
