/// The tunables of a ``SuperPeerCore``: the shape of the overlay, the election's
/// hysteresis, the timers, and what this peer offers.
///
/// ### Purpose
/// The population ratio ``leavesPerSuperPeer`` (leaves : super-peers) and
/// ``superPeersPerLeaf`` shape the overlay; each super-peer then serves about
/// `leavesPerSuperPeer × superPeersPerLeaf` leaf links (90 by default). The election
/// keeps the ratio within `leavesPerSuperPeer × (1 ± hysteresisMargin)` and holds each
/// role at least ``minimumRoleHold``, so that roles do not flap.
public struct SuperPeerConfiguration: Equatable, Sendable {
    /// Target leaves per super-peer over the swarm (Gnutella's ultrapeers held about 30).
    /// Higher makes fewer, busier super-peers; lower spreads the load over more peers
    /// and makes more super-peer traffic. The election aims at
    /// `ceil(N / (leavesPerSuperPeer + 1))` super-peers among `N` members.
    public var leavesPerSuperPeer: Int
    /// Super-peers each leaf keeps a link to (1 to 8). More survive more failures
    /// without a gap, at the cost of one keepalive and one index entry per link.
    public var superPeersPerLeaf: Int
    /// The most leaves one super-peer holds; further attaches are refused with
    /// alternatives and counted (``SuperPeerStatistics/leavesRefused``). At least
    /// `leavesPerSuperPeer × superPeersPerLeaf` (the average load); the default is
    /// twice that, room for the load to be uneven and for failed super-peers' leaves.
    public var maximumLeaves: Int
    /// The election's dead band, as a fraction of ``leavesPerSuperPeer`` (0 to 0.9):
    /// peers promote only while the ratio is above `ratio × (1 + margin)` and demote
    /// only while it is below `ratio × (1 − margin)`. Wider flaps less and lets the
    /// ratio drift further from its target.
    public var hysteresisMargin: Double
    /// How long a role is kept at least before the election may change it again. Longer
    /// damps flapping under churn; shorter follows a changing swarm sooner.
    public var minimumRoleHold: Duration
    /// How long this peer must have run before it can be elected (Gnutella and Skype
    /// prefer peers that have stayed): short-lived peers make poor super-peers.
    public var minimumUptime: Duration
    /// This peer's capacity, as its application or driver measures it (bandwidth, CPU,
    /// memory: any figure comparable across the swarm's peers; 1 to 1,000,000). Once
    /// super-peers are known, a leaf of higher capacity is elected more readily (its
    /// score against their median, ``SuperPeerElection/promotionWeight(score:reference:)``);
    /// a leaf that knows none weighs the same as any other, so a super-peer offers its
    /// role to a leaf of more than twice its score (``SuperPeerCore/successor``): the
    /// first super-peers of a swarm that starts at once give way to the strongest. Leaves
    /// spread over super-peers by free slots (``maximumLeaves``), not by capacity.
    public var capacity: Int
    /// Whether other peers can reach this peer directly (public address, or a NAT that
    /// lets them in). Only such a peer is elected: leaves must be able to reach it.
    public var isDirectlyReachable: Bool
    /// Whether the election decides this peer's role or the application forces it.
    public var rolePolicy: SuperPeerRolePolicy
    /// Time between election rounds (each jittered by ±50 %). Shorter fills a shortage of
    /// super-peers sooner; each round a peer promotes only with a probability that
    /// makes the swarm fill half the shortage, so rounds must be longer than it takes
    /// an announcement to reach the members.
    public var electionInterval: Duration
    /// Time between a super-peer's adverts (to its leaves, the other super-peers and a
    /// few random members). Shorter spreads load figures sooner; an advert entry lives
    /// ``SuperPeerConstants/advertLifetimeIntervals`` intervals.
    public var advertInterval: Duration
    /// Random members each advert round reaches besides leaves and super-peers, so that
    /// members not attached anywhere still learn of super-peers.
    public var advertFanout: Int
    /// How long a link lives without a keepalive: a super-peer forgets a silent leaf and
    /// a leaf drops a super-peer that stopped answering after it. Leaves send a keepalive
    /// every third of it. Shorter notices unreachable links sooner (membership reports
    /// failures anyway) for more keepalives.
    public var leaseDuration: Duration
    /// How long a leaf waits for an attach reply before it tries another super-peer.
    public var attachTimeout: Duration
    /// How long a leaf avoids a super-peer that refused it.
    public var refusalBackoff: Duration
    /// Bits of a leaf's query routing filter, as a power of two (2^8 to 2^12).
    public var filterLog2Bits: Int
    /// Bit positions each keyword sets in the filter (1 to 8).
    public var filterHashes: Int
    /// The swarm size (as the super-peers' adverts count it) from which a leaf holds
    /// only the super-peers in its membership view, not every member
    /// (``MembershipView/partial``); it goes back to a full view below half of it.
    /// 0: leaves always hold every member.
    ///
    /// A leaf then carries memory and membership traffic for the super-peers (about one
    /// in 30) instead of the whole swarm, and finds anyone else through them. It gives
    /// up relays to other leaves (found by membership's probes) and echoes to peers it
    /// does not hold: set 0 for a swarm whose leaves sit behind NATs or on subnets that
    /// do not route to each other.
    public var leafViewThreshold: Int = 500
    /// The search keywords this peer starts with (see
    /// ``SuperPeerCore/setKeywords(_:now:)``): as a leaf, queries with these words reach
    /// it. At most ``SuperPeerConstants/maximumKeywords`` are kept; empty by default.
    public var searchKeywords: [String] = []

    /// Creates a configuration; every argument defaults to the ``lan`` value.
    public init(
        leavesPerSuperPeer: Int = 30, superPeersPerLeaf: Int = 3, maximumLeaves: Int? = nil,
        hysteresisMargin: Double = 0.15, minimumRoleHold: Duration = .seconds(60),
        minimumUptime: Duration = .seconds(30), capacity: Int = 1, isDirectlyReachable: Bool = true,
        rolePolicy: SuperPeerRolePolicy = .automatic, electionInterval: Duration = .seconds(10),
        advertInterval: Duration = .seconds(5), advertFanout: Int = 3, leaseDuration: Duration = .seconds(30),
        attachTimeout: Duration = .seconds(2), refusalBackoff: Duration = .seconds(30), filterLog2Bits: Int = 11,
        filterHashes: Int = 4
    ) {
        self.leavesPerSuperPeer = leavesPerSuperPeer
        self.superPeersPerLeaf = superPeersPerLeaf
        self.maximumLeaves = maximumLeaves ?? 2 * leavesPerSuperPeer * superPeersPerLeaf
        self.hysteresisMargin = hysteresisMargin
        self.minimumRoleHold = minimumRoleHold
        self.minimumUptime = minimumUptime
        self.capacity = capacity
        self.isDirectlyReachable = isDirectlyReachable
        self.rolePolicy = rolePolicy
        self.electionInterval = electionInterval
        self.advertInterval = advertInterval
        self.advertFanout = advertFanout
        self.leaseDuration = leaseDuration
        self.attachTimeout = attachTimeout
        self.refusalBackoff = refusalBackoff
        self.filterLog2Bits = filterLog2Bits
        self.filterHashes = filterHashes
    }

    /// A local network: ratio 30, three super-peers per leaf, ±15 % dead band, roles
    /// held a minute, elections every 10 s, adverts every 5 s, 30 s leases.
    public static let lan = SuperPeerConfiguration()

    /// Peers on one host (loopback): the ``simulation`` values, since peers start
    /// together and round trips are short.
    public static let local = simulation

    /// The virtual network of StarlingSim and tests: delta from ``lan``.
    public static let simulation: SuperPeerConfiguration = {
        var configuration = SuperPeerConfiguration.lan
        configuration.minimumUptime = .seconds(2)  // virtual peers all start together
        configuration.minimumRoleHold = .seconds(20)  // short runs still see the hold work
        configuration.electionInterval = .seconds(2)  // converge within seconds of virtual time
        configuration.advertInterval = .seconds(1)  // load figures follow attaches closely
        configuration.leaseDuration = .seconds(6)  // keepalives every 2 s
        configuration.attachTimeout = .milliseconds(500)  // virtual round trips are short
        configuration.refusalBackoff = .seconds(5)  // a refusing super-peer frees up soon in a test
        return configuration
    }()

    /// The filter shape this configuration gives leaves.
    public var emptyFilter: QueryRoutingFilter {
        // Valid after validate(); clamped so that an unvalidated value cannot trap.
        let log2Bits = min(
            max(filterLog2Bits, SuperPeerConstants.minimumFilterLog2Bits), SuperPeerConstants.maximumFilterLog2Bits)
        let hashes = min(max(filterHashes, 1), SuperPeerConstants.maximumFilterHashes)
        return QueryRoutingFilter(log2Bits: log2Bits, hashCount: hashes)
    }

    /// Checks every field.
    /// - Throws: ``SuperPeerConfigurationError`` naming the first bad field.
    public func validate() throws(SuperPeerConfigurationError) {
        for (name, value) in [
            ("minimumRoleHold", minimumRoleHold), ("electionInterval", electionInterval),
            ("advertInterval", advertInterval), ("leaseDuration", leaseDuration), ("attachTimeout", attachTimeout),
            ("refusalBackoff", refusalBackoff),
        ] where value <= .zero {
            throw .notPositive(field: name)
        }
        guard minimumUptime >= .zero else { throw .notPositive(field: "minimumUptime") }
        for (name, value, low, high) in [
            ("leavesPerSuperPeer", leavesPerSuperPeer, 1, 10_000), ("superPeersPerLeaf", superPeersPerLeaf, 1, 8),
            ("capacity", capacity, 1, 1_000_000), ("advertFanout", advertFanout, 0, 64),
            (
                "filterLog2Bits", filterLog2Bits, SuperPeerConstants.minimumFilterLog2Bits,
                SuperPeerConstants.maximumFilterLog2Bits
            ),
            ("filterHashes", filterHashes, 1, SuperPeerConstants.maximumFilterHashes),
            ("maximumLeaves", maximumLeaves, leavesPerSuperPeer * superPeersPerLeaf, 65_535),
            ("leafViewThreshold", leafViewThreshold, 0, 1_000_000),
        ] where value < low || value > high {
            throw .outOfRange(field: name, value: value, minimum: low, maximum: high)
        }
        guard hysteresisMargin >= 0, hysteresisMargin <= 0.9 else { throw .marginOutOfRange(hysteresisMargin) }
    }
}

/// Why a ``SuperPeerConfiguration`` was rejected.
public enum SuperPeerConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A duration is zero or negative.
    case notPositive(field: String)
    /// A count or size is outside its allowed range.
    case outOfRange(field: String, value: Int, minimum: Int, maximum: Int)
    /// ``SuperPeerConfiguration/hysteresisMargin`` is not within 0…0.9.
    case marginOutOfRange(Double)

    /// A sentence for people.
    public var description: String {
        switch self {
        case .notPositive(let field): "super-peer \(field) must be positive"
        case .outOfRange(let field, let value, let minimum, let maximum):
            "super-peer \(field) is \(value); allowed \(minimum)…\(maximum)"
        case .marginOutOfRange(let margin): "super-peer hysteresisMargin is \(margin); allowed 0…0.9"
        }
    }
}
