/// The election's arithmetic, as pure functions (table-tested).
///
/// ### Rules
/// With `N` alive members (this peer included), `S` known super-peers, ratio `r` and
/// margin `m`:
/// - the target is `T = ceil(N / (r + 1))` super-peers, which makes `(N − T) / T ≈ r`;
/// - the swarm **needs more** when `N − S > S × r × (1 + m)`: then each eligible leaf
///   promotes with probability
///   ``promotionProbability(members:superPeers:target:weight:rounds:)`` each election
///   round, so that the swarm fills about half of the shortage `T − S` per round (more
///   in the rounds after one that left a shortage: leaves weaker than the super-peers
///   weigh less than 1) and the announcements of those who promoted stop the others; a
///   leaf whose members may be a sample of the swarm aims at `N / (r + 1)` as a fraction
///   (``share(members:ratio:)``), since it cannot tell a swarm of 13 from 13 of 10,000;
/// - it **has too many** when `S > 1` and `N − S < S × r × (1 − m)`: then the
///   ``demotionCount(superPeers:target:)`` weakest super-peers (lowest score, then
///   fewest leaves, then lowest ID: an order every peer computes alike) demote.
/// Between the two the ratio is left alone: the dead band `r × (1 ± m)` is the
/// hysteresis, and a role is also kept ``SuperPeerConfiguration/minimumRoleHold``.
/// Unless it demotes, a super-peer offers its role to a leaf it holds whose candidacy
/// is more than ``handoverFactor`` times its own score
/// (``hasStrongerSuccessor(score:candidacy:)``): the first super-peers of a swarm that
/// starts at once are elected before any score can be compared, and handovers put the
/// strongest peers in their place.
public enum SuperPeerElection {
    /// The number of super-peers the swarm aims at: `ceil(N / (r + 1))`, at least 1.
    public static func target(members: Int, ratio: Int) -> Int {
        max(1, (members + ratio) / (ratio + 1))
    }

    /// Whether `superPeers` are too few for `members`: the ratio is above `r × (1 + m)`.
    public static func needsMore(members: Int, superPeers: Int, ratio: Int, margin: Double) -> Bool {
        Double(members - superPeers) > Double(superPeers) * Double(ratio) * (1 + margin)
    }

    /// Whether `superPeers` are too many for `members`: the ratio is below `r × (1 − m)`
    /// (never with one super-peer or none).
    public static func hasTooMany(members: Int, superPeers: Int, ratio: Int, margin: Double) -> Bool {
        superPeers > 1 && Double(members - superPeers) < Double(superPeers) * Double(ratio) * (1 - margin)
    }

    /// The super-peers `members` need, as a fraction: `N / (r + 1)`. A leaf whose members
    /// may be a sample of the swarm (``SuperPeerCore/membershipHeldFullState``) aims at
    /// this rather than at ``target(members:ratio:)``, which is at least 1: leaves of a
    /// 10,000-peer swarm that grew by 1,000 a second held 13 members and no super-peer
    /// each in their first seconds, and each aiming at 1 super-peer for 13 members made
    /// them promote 400 super-peers in 10 s for a target of 323.
    public static func share(members: Int, ratio: Int) -> Double {
        Double(max(1, members)) / Double(ratio + 1)
    }

    /// The chance that one eligible leaf promotes in one election round:
    /// `rounds × weight × (T − S) / (2 × (N − S))`, at most 1, where `T` is the target
    /// (``target(members:ratio:)``, or ``share(members:ratio:)`` for a sample) and
    /// `rounds` counts the consecutive rounds (1 to
    /// ``SuperPeerConstants/maximumShortageRounds``) in which the leaf has found the
    /// swarm short. Over the `N − S` leaves the swarm then expects about half the
    /// shortage to promote in the first round (weights averaging 1).
    public static func promotionProbability(
        members: Int, superPeers: Int, target: Double, weight: Double, rounds: Int = 1
    ) -> Double {
        let shortage = max(0, target - Double(superPeers))
        let candidates = max(1, members - superPeers)
        let escalation = Double(min(max(1, rounds), SuperPeerConstants.maximumShortageRounds))
        return min(1, escalation * weight * shortage / Double(2 * candidates))
    }

    /// How many of the weakest super-peers demote in one round when there are too many:
    /// half the excess over the target, at least one.
    public static func demotionCount(superPeers: Int, target: Int) -> Int {
        max(1, (superPeers - target) / 2)
    }

    /// A peer's election score: `capacity × (1 + uptime level)`, where the uptime level
    /// is `floor(log2(1 + uptime in minutes))` capped at 10 (a peer that has stayed a
    /// day counts about 11 times one just started); 0 when the peer cannot be reached
    /// directly.
    public static func score(capacity: Int, uptime: Duration, isReachable: Bool) -> UInt32 {
        guard isReachable, capacity > 0 else { return 0 }
        let minutes = max(0, uptime.nanosecondsClamped / 60_000_000_000)
        let level = min(10, Int64.bitWidth - (minutes + 1).leadingZeroBitCount - 1)
        return UInt32(clamping: capacity * (1 + level))
    }

    /// How much more readily a peer of score `score` promotes than average:
    /// `score / reference` within `0.25…4`, where `reference` is the median score of the
    /// known super-peers (1 when there are none or `reference` is 0).
    public static func promotionWeight(score: UInt32, reference: UInt32) -> Double {
        guard reference > 0 else { return 1 }
        return min(4, max(0.25, Double(score) / Double(reference)))
    }

    /// Whether super-peer `a` goes before `b` when the weakest demote: a lower score, then
    /// fewer leaves (fewer links to move), then the lower ID.
    public static func isWeaker(
        _ a: (leaves: Int, score: UInt32, id: PeerID), than b: (leaves: Int, score: UInt32, id: PeerID)
    ) -> Bool {
        if a.score != b.score { return a.score < b.score }
        if a.leaves != b.leaves { return a.leaves < b.leaves }
        return a.id < b.id
    }

    /// How many times a super-peer's score a leaf's candidacy must exceed for the
    /// super-peer to offer it its role: 2. Every handover then more than doubles the
    /// slot's score, so none is ever undone, and peers of one capacity that cross an
    /// uptime level at slightly different moments (scores 1 and 2) never hand over.
    public static let handoverFactor: UInt64 = 2

    /// Whether a leaf offering `candidacy` (``SuperPeerCore/candidacy``) should take over
    /// from a super-peer of score `score`: `candidacy > handoverFactor × score`.
    public static func hasStrongerSuccessor(score: UInt32, candidacy: UInt32) -> Bool {
        UInt64(candidacy) > handoverFactor * UInt64(score)
    }
}
