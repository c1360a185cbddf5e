import StarlingCore
import Testing

/// The election's arithmetic and the configuration's checks.
@Suite struct SuperPeerElectionTests {
    @Test func election_target_isMembersOverRatioPlusOne_roundedUp() {
        let cases: [(members: Int, target: Int)] = [(1, 1), (2, 1), (31, 1), (32, 2), (62, 2), (63, 3), (300, 10)]
        for (members, target) in cases {
            #expect(SuperPeerElection.target(members: members, ratio: 30) == target, "\(members)")
        }
    }

    @Test func election_deadBand_promotesAboveAndDemotesBelowTheMargin() {
        // 300 members, ratio 30, margin 0.15: promote below 9 super-peers, demote above 11.
        let needsMore = (0...14).filter {
            SuperPeerElection.needsMore(members: 300, superPeers: $0, ratio: 30, margin: 0.15)
        }
        let tooMany = (0...14).filter {
            SuperPeerElection.hasTooMany(members: 300, superPeers: $0, ratio: 30, margin: 0.15)
        }
        #expect(needsMore == Array(0...8))
        #expect(tooMany == Array(12...14))
        // One super-peer is never too many, however few the members.
        #expect(!SuperPeerElection.hasTooMany(members: 1, superPeers: 1, ratio: 30, margin: 0.15))
        #expect(SuperPeerElection.needsMore(members: 1, superPeers: 0, ratio: 30, margin: 0.15))
    }

    @Test func election_promotionProbability_fillsHalfTheShortagePerRound() {
        let probability = SuperPeerElection.promotionProbability(members: 300, superPeers: 0, target: 10, weight: 1)
        #expect(abs(probability * 300 - 5) < 1e-9)
        #expect(SuperPeerElection.promotionProbability(members: 300, superPeers: 8, target: 10, weight: 4) < 0.03)
        #expect(SuperPeerElection.promotionProbability(members: 2, superPeers: 0, target: 1, weight: 4) == 1)
        #expect(SuperPeerElection.promotionProbability(members: 300, superPeers: 12, target: 10, weight: 4) == 0)
        // A shortage that persists raises the chance, up to three times.
        let third = SuperPeerElection.promotionProbability(
            members: 300, superPeers: 8, target: 10, weight: 1, rounds: 3)
        let tenth = SuperPeerElection.promotionProbability(
            members: 300, superPeers: 8, target: 10, weight: 1, rounds: 10)
        #expect(abs(third - 3 * 2 / 584) < 1e-9 && third == tenth)
        // 13 members that may be a sample of a large swarm aim at 13/31 super-peers, not
        // at 1: 10,000 such leaves then promote about 10,000/62 in a round, not 10,000/26.
        let share = SuperPeerElection.share(members: 13, ratio: 30)
        #expect(abs(share - 13.0 / 31) < 1e-12)
        let sampled = SuperPeerElection.promotionProbability(members: 13, superPeers: 0, target: share, weight: 1)
        #expect(abs(sampled - 1.0 / 62) < 1e-12)
        let whole = SuperPeerElection.promotionProbability(
            members: 13, superPeers: 0, target: Double(SuperPeerElection.target(members: 13, ratio: 30)), weight: 1)
        #expect(abs(whole - 1.0 / 26) < 1e-12)
        #expect(SuperPeerElection.demotionCount(superPeers: 12, target: 10) == 1)
        #expect(SuperPeerElection.demotionCount(superPeers: 20, target: 10) == 5)
    }

    @Test func election_score_growsWithCapacityAndUptime_zeroWhenUnreachable() {
        let cases: [(capacity: Int, minutes: Int64, score: UInt32)] = [
            (10, 0, 10), (10, 1, 20), (10, 3, 30), (10, 7, 40), (10, 60, 60), (10, 1_440, 110),
            (10, 100_000, 110), (1_000_000, 100_000, 11_000_000),
        ]
        for (capacity, minutes, score) in cases {
            let computed = SuperPeerElection.score(
                capacity: capacity, uptime: .seconds(minutes * 60), isReachable: true)
            #expect(computed == score, "\(capacity) \(minutes)")
        }
        #expect(SuperPeerElection.score(capacity: 10, uptime: .seconds(600), isReachable: false) == 0)
    }

    @Test func election_weightAndWeakness_orderAsDocumented() {
        #expect(SuperPeerElection.promotionWeight(score: 50, reference: 0) == 1)
        #expect(SuperPeerElection.promotionWeight(score: 50, reference: 100) == 0.5)
        #expect(SuperPeerElection.promotionWeight(score: 1, reference: 100) == 0.25)
        #expect(SuperPeerElection.promotionWeight(score: 1_000, reference: 100) == 4)
        let a = PeerID(publicKey: Key32([UInt8](repeating: 1, count: 32))!)
        let b = PeerID(publicKey: Key32([UInt8](repeating: 2, count: 32))!)
        // Score first, then leaves, then ID.
        #expect(SuperPeerElection.isWeaker((90, 1, b), than: (10, 2, a)))
        #expect(!SuperPeerElection.isWeaker((10, 500, b), than: (11, 1, a)))
        #expect(SuperPeerElection.isWeaker((10, 1, b), than: (11, 1, a)))
        #expect(SuperPeerElection.isWeaker((10, 1, a), than: (10, 1, b)))
        #expect(!SuperPeerElection.isWeaker((10, 1, b), than: (10, 1, a)))
        // A handover wants more than twice the score: never between peers of one
        // capacity whose uptime levels differ by one.
        #expect(SuperPeerElection.hasStrongerSuccessor(score: 1, candidacy: 3))
        #expect(!SuperPeerElection.hasStrongerSuccessor(score: 1, candidacy: 2))
        #expect(!SuperPeerElection.hasStrongerSuccessor(score: 2, candidacy: 3))
        #expect(SuperPeerElection.hasStrongerSuccessor(score: 0, candidacy: 1))
        #expect(!SuperPeerElection.hasStrongerSuccessor(score: 5, candidacy: 0))
        #expect(SuperPeerElection.hasStrongerSuccessor(score: .max / 3, candidacy: .max))
    }

    @Test func configuration_presets_validate_andDefaultsAreDocumented() throws {
        try SuperPeerConfiguration.lan.validate()
        try SuperPeerConfiguration.simulation.validate()
        let lan = SuperPeerConfiguration.lan
        #expect(lan.leavesPerSuperPeer == 30 && lan.superPeersPerLeaf == 3 && lan.maximumLeaves == 180)
        #expect(lan.emptyFilter.bitCount == 2_048 && lan.emptyFilter.hashCount == 4)
    }

    @Test func configuration_validate_rejectsEachBadField() {
        var bad = SuperPeerConfiguration.lan
        bad.superPeersPerLeaf = 9
        #expect(
            throws: SuperPeerConfigurationError.outOfRange(field: "superPeersPerLeaf", value: 9, minimum: 1, maximum: 8)
        ) {
            try bad.validate()
        }
        bad = .lan
        bad.maximumLeaves = 89
        #expect(throws: SuperPeerConfigurationError.self) { try bad.validate() }
        bad = .lan
        bad.hysteresisMargin = 0.95
        #expect(throws: SuperPeerConfigurationError.marginOutOfRange(0.95)) { try bad.validate() }
        bad = .lan
        bad.leaseDuration = .zero
        #expect(throws: SuperPeerConfigurationError.notPositive(field: "leaseDuration")) { try bad.validate() }
        bad = .lan
        bad.filterLog2Bits = 13
        #expect(throws: SuperPeerConfigurationError.self) { try bad.validate() }
        bad = .lan
        bad.capacity = 0
        #expect(throws: SuperPeerConfigurationError.self) { try bad.validate() }
        #expect(SuperPeerConfigurationError.marginOutOfRange(2).description.contains("hysteresisMargin"))
    }
}
