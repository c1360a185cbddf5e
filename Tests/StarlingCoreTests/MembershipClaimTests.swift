import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Membership claims that cannot be forged: alive and left are signed by the member
/// itself, everything else is hearsay that only leads to probing (issue 10, point 6).
@Suite struct MembershipClaimTests {
    typealias Harness = MembershipCoreTests.Harness

    static func id(_ index: Int) -> PeerID { MembershipCoreTests.id(index) }
    static func address(_ index: Int) -> PeerAddress { MembershipCoreTests.address(index) }
    static func at(seconds: Int) -> Instant { Instant(nanoseconds: UInt64(seconds) * 1_000_000_000) }

    /// The attacker: a key of its own, and any address it likes.
    static let attacker = try! IdentityKeyPair(seed: [UInt8](repeating: 0xA7, count: 32))

    /// `member`'s claim as the attacker would make it: signed with the attacker's key.
    static func forged(
        _ member: Int, state: MemberState = .alive, incarnation: UInt32, address: PeerAddress? = nil
    ) -> MemberUpdate {
        let address = address ?? Self.address(member)
        return MemberUpdate(
            state: state, incarnation: incarnation, member: id(member), address: address,
            signature: MemberClaim.sign(
                swarmID: MembershipConstants.publicSwarmID, state: state, incarnation: incarnation, address: address,
                with: attacker))
    }

    /// Sends `updates` to every core of `harness` as gossip from the attacker's address.
    static func inject(_ updates: [MemberUpdate], into harness: inout Harness) throws {
        let bytes = try MembershipMessage.gossip(sender: attacker.peerID, updates: updates).encoded()
        for index in harness.cores.indices {
            harness.cores[index].handleMessage(bytes[...], from: .ipv4(10, 9, 9, 9, port: 7946), now: harness.now)
        }
        harness.flush()
    }

    /// Every core's view of every other: (observer, member) → (state, incarnation, address).
    static func views(_ harness: Harness) -> [[Int]: String] {
        var views: [[Int]: String] = [:]
        for observer in harness.cores.indices {
            for member in harness.cores.indices where member != observer {
                let seen = harness.cores[observer].member(id(member))
                views[[observer, member]] = seen.map { "\($0.state) #\($0.incarnation) \($0.address)" } ?? "unknown"
            }
        }
        return views
    }

    @Test func forgedClaims_atTopIncarnation_changeNobodysView() throws {
        var harness = try Harness(count: 4)
        harness.introduceAll()
        harness.run(until: Self.at(seconds: 5))
        let before = Self.views(harness)
        // Alive at the top incarnation from another address (a hijack), left, and an
        // unsigned alive: none carries member 1's signature.
        try Self.inject(
            [
                Self.forged(1, incarnation: .max, address: .ipv4(10, 9, 9, 9, port: 7946)),
                Self.forged(2, state: .left, incarnation: .max),
                MemberUpdate(state: .alive, incarnation: 7, member: Self.id(3), address: Self.address(3)),
                // An invented member: an ID whose owner signed nothing.
                Self.forged(9, incarnation: 0),
            ],
            into: &harness)
        harness.run(until: Self.at(seconds: 30))
        #expect(Self.views(harness) == before)
        #expect(harness.cores.allSatisfy { $0.incarnation == 0 && $0.member(Self.id(9)) == nil })
        #expect(harness.cores.map(\.statistics.forgedClaims).reduce(0, +) >= 4 * 3)
        for index in harness.cores.indices {
            #expect(!harness.drainEvents(index).contains { if case .left = $0 { true } else { false } })
        }
    }

    @Test func forgedDeath_leadsOnlyToProbing_andNobodyFails() throws {
        var harness = try Harness(count: 4)
        harness.introduceAll()
        harness.run(until: Self.at(seconds: 5))
        for index in harness.cores.indices { _ = harness.drainEvents(index) }
        let death = MemberUpdate(
            state: .dead, incarnation: 0, member: Self.id(1), address: Self.address(1), accuser: Self.attacker.peerID)
        try Self.inject([death], into: &harness)
        // Hearsay: a suspicion at most, and a probe of each peer's own.
        #expect(harness.cores[0].member(Self.id(1))?.state.isLive == true)
        harness.run(until: Self.at(seconds: 60))
        for index in harness.cores.indices {
            let failures = harness.drainEvents(index).filter { if case .failed = $0 { true } else { false } }
            #expect(failures.isEmpty, "core \(index) declared a live member failed")
            for member in harness.cores.indices where member != index {
                #expect(harness.cores[index].member(Self.id(member))?.state == .alive)
            }
        }
        // Member 1 heard of the accusation and refuted it by one incarnation.
        #expect(harness.cores[1].incarnation == 1)
        #expect(harness.cores.map(\.statistics.checksStarted).reduce(0, +) >= 1)
    }

    @Test func accusationAtAnIncarnationNeverClaimed_isIgnored() throws {
        var harness = try Harness(count: 3)
        harness.introduceAll()
        let suspicion = MemberUpdate(
            state: .suspect, incarnation: .max, member: Self.id(0), address: Self.address(0),
            accuser: Self.attacker.peerID)
        let bytes = try MembershipMessage.gossip(sender: Self.attacker.peerID, updates: [suspicion]).encoded()
        harness.cores[0].handleMessage(bytes[...], from: .ipv4(10, 9, 9, 9, port: 7946), now: harness.now)
        #expect(harness.cores[0].incarnation == 0)
        #expect(harness.cores[0].statistics.implausibleAccusations == 1)
        // The others take it as hearsay at the incarnation they hold, and their checks
        // tell member 0, which refutes by exactly one step: the number never wraps.
        try Self.inject([suspicion], into: &harness)
        harness.run(until: Self.at(seconds: 20))
        #expect(harness.cores[0].incarnation == 1)
        #expect(harness.cores[1].member(Self.id(0))?.state == .alive)
        #expect(harness.cores[1].member(Self.id(0))?.incarnation == 1)
    }

    @Test func realFailure_isStillDetectedByEveryone() throws {
        var harness = try Harness(count: 5)
        harness.introduceAll()
        harness.run(until: Self.at(seconds: 5))
        harness.unreachable = [Self.address(4)]
        harness.run(until: Self.at(seconds: 90))
        for index in 0..<4 {
            #expect(harness.cores[index].member(Self.id(4))?.state == .dead, "core \(index)")
            for member in 0..<4 where member != index {
                #expect(harness.cores[index].member(Self.id(member))?.state == .alive)
            }
        }
    }

    @Test func claims_fromAnotherSwarm_orOlder_changeNothing() throws {
        var core = try MembershipCore(
            identity: MembershipCoreTests.identity(0), address: Self.address(0), random: TestRandom(seed: 1))
        try MembershipCoreTests.deliver([MembershipCoreTests.claim(1, incarnation: 3)], from: 1, to: &core)
        #expect(core.member(Self.id(1))?.incarnation == 3)
        // Member 1's own signature, but for another swarm.
        let elsewhere = MemberUpdate(
            state: .alive, incarnation: 9, member: Self.id(1), address: Self.address(1),
            signature: MemberClaim.sign(
                swarmID: [UInt8](repeating: 1, count: 32), state: .alive, incarnation: 9, address: Self.address(1),
                with: MembershipCoreTests.identity(1)))
        // An older claim of its own, replayed.
        let older = MembershipCoreTests.claim(1, incarnation: 2, state: .left)
        try MembershipCoreTests.deliver([elsewhere, older], from: 1, to: &core)
        #expect(core.member(Self.id(1))?.incarnation == 3)
        #expect(core.member(Self.id(1))?.state == .alive)
        #expect(core.statistics.forgedClaims == 1)
    }

    @Test func claim_isVerifiedOnce_andOncePerProcessWhenShared() throws {
        let verifier = ClaimVerifier()
        var first = try MembershipCore(
            identity: MembershipCoreTests.identity(0), address: Self.address(0), claimVerifier: verifier,
            random: TestRandom(seed: 1))
        var second = try MembershipCore(
            identity: MembershipCoreTests.identity(5), address: Self.address(5), claimVerifier: verifier,
            random: TestRandom(seed: 2))
        let claims = (1...3).map { MembershipCoreTests.claim($0, incarnation: 0) }
        for _ in 0..<5 {
            try MembershipCoreTests.deliver(claims, from: 1, to: &first)
            try MembershipCoreTests.deliver(claims, from: 1, to: &second)
        }
        #expect(first.statistics.claimsVerified == 3)
        #expect(second.statistics.claimsVerified == 0)
        #expect(second.aliveCount == 3)
        #expect(verifier.verifications == 3)
    }

    @Test func membership_isBounded_andRefusesNewcomersWhenFull() throws {
        var configuration = MembershipConfiguration.lan
        configuration.maximumMembers = 10
        var core = try MembershipCore(
            identity: MembershipCoreTests.identity(0), address: Self.address(0), configuration: configuration,
            random: TestRandom(seed: 1))
        let claims = (1...25).map { MembershipCoreTests.claim($0, incarnation: 0) }
        try MembershipCoreTests.deliver(claims, from: 1, to: &core)
        #expect(core.members.count == 10)
        #expect(core.statistics.membersRefused == 15)
        // Members already held still take news.
        try MembershipCoreTests.deliver([MembershipCoreTests.claim(1, incarnation: 4)], from: 1, to: &core)
        #expect(core.member(Self.id(1))?.incarnation == 4)
    }

    @Test func restartedPeer_raisesItsIncarnationAboveItsOwnEarlierClaim() throws {
        var core = try MembershipCore(
            identity: MembershipCoreTests.identity(1), address: Self.address(1), random: TestRandom(seed: 1))
        // Others still hold this peer at incarnation 5, signed by it before a restart.
        try MembershipCoreTests.deliver([MembershipCoreTests.claim(1, incarnation: 5)], from: 2, to: &core)
        #expect(core.incarnation == 6)
        // The same number forged by someone else moves nothing.
        try MembershipCoreTests.deliver([Self.forged(1, incarnation: 40)], from: 2, to: &core)
        #expect(core.incarnation == 6)
    }

    @Test func pingRequests_areRelayedOnlyUpToTheBound() throws {
        var core = try MembershipCore(
            identity: MembershipCoreTests.identity(0), address: Self.address(0), random: TestRandom(seed: 1))
        let total = MembershipConstants.relaysHeld + 10
        for index in 0..<total {
            let request = try MembershipMessage.pingRequest(
                sequence: UInt32(index), target: Self.id(1), targetAddress: Self.address(1), sender: Self.id(2)
            ).encoded()
            core.handleMessage(request[...], from: Self.address(2), now: .zero)
        }
        var pings = 0
        while core.pollTransmit() != nil { pings += 1 }
        #expect(pings == MembershipConstants.relaysHeld)
        #expect(core.statistics.relaysRefused == 10)
    }
}
