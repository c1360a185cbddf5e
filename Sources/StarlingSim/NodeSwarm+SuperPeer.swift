public import StarlingCore

extension NodeSwarm {
    /// The overlay of a super-peer swarm's peer: the simulation settings with
    /// ``StarlingCore/Topology/superPeer(_:)``.
    public static func superPeerOverlay(
        _ superPeer: SuperPeerConfiguration = .simulation, base: OverlayConfiguration = .simulation
    ) -> OverlayConfiguration {
        var overlay = base
        overlay.topology = .superPeer(superPeer)
        return overlay
    }

    /// The capacity (``StarlingCore/SuperPeerConfiguration/capacity``) of peer `index` in a
    /// swarm of unequal peers: a heavy-tailed spread, as measured peer populations have
    /// (Saroiu, Gummadi and Gribble, 2002, found Gnutella's and Napster's peers' bandwidths
    /// to differ by orders of magnitude, a few percent far above the rest). Half the
    /// peers have capacity 1, 30 % 4, 15 % 16 and 5 % 64 (a mean of 7.3), drawn by a hash
    /// of the index so that capacity does not follow the join order.
    public static func spreadCapacity(ofPeer index: Int) -> Int {
        let draw = (UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15) >> 32
        return switch draw % 100 {
        case 0..<50: 1
        case 50..<80: 4
        case 80..<95: 16
        default: 64
        }
    }

    /// The peers of `nodes` (all by default) that hold the super-peer role now.
    public func superPeerNodes(among nodes: [SimNodeID]? = nil) -> [SimNodeID] {
        (nodes ?? self.nodes).filter { overlay(of: $0).role == .superPeer }
    }

    /// The super-peers that hold a leaf they should hand their role over to
    /// (``StarlingCore/SuperPeerCore/successor``).
    public func outclassedSuperPeers() -> [SimNodeID] {
        superPeerNodes().filter { overlay(of: $0).superPeer?.successor != nil }
    }

    /// How many entries the super-peers hold, in all, that name as a super-peer a peer
    /// that is not one now: handed over or demoted, its withdrawal not heard of yet.
    public func staleSuperPeerEntries() -> Int {
        let superPeers = superPeerNodes()
        let ids = Set(superPeers.map(peerID(of:)))
        return superPeers.reduce(0) { total, node in
            total + (overlay(of: node).superPeer?.knownSuperPeerIDs.count { !ids.contains($0) } ?? 0)
        }
    }

    /// The handovers given so far, swarm-wide (``StarlingCore/SuperPeerStatistics/handoversGiven``).
    public var handovers: Int {
        nodes.reduce(0) { $0 + (overlay(of: $1).superPeer?.statistics.handoversGiven ?? 0) }
    }

    /// How many leaves of `live` hold `links` links (3 by default; as many as there are
    /// when `live` has fewer super-peers), each to a super-peer of `live`, and how many
    /// leaves `live` has.
    public func attachedLeaves(live: [SimNodeID], links: Int = 3) -> (attached: Int, leaves: Int) {
        let liveSuperPeers = Set(superPeerNodes(among: live).map(peerID(of:)))
        var attached = 0
        var leaves = 0
        for node in live {
            guard let core = overlay(of: node).superPeer, core.role == .leaf else { continue }
            leaves += 1
            let held = core.attachedSuperPeers
            if held.count == min(links, liveSuperPeers.count), held.allSatisfy(liveSuperPeers.contains) {
                attached += 1
            }
        }
        return (attached, leaves)
    }
}

extension NodeSwarm {
    /// Whether every leaf of `live` (by default all) sees alive the super-peers it is
    /// attached to.
    ///
    /// ``isConverged(among:)`` asks more: every super-peer sees every peer, and a leaf
    /// with a partial view every live super-peer. In a swarm of thousands of peers a
    /// leaf knows the super-peers its adverts told it of, a changing sample, and a
    /// super-peer's view completes only as push-pulls go; neither is needed to look up,
    /// to search or to relay.
    public func leavesSeeTheirSuperPeers(among live: [SimNodeID]? = nil) -> Bool {
        (live ?? nodes).allSatisfy { node in
            let overlay = overlay(of: node)
            guard let core = overlay.superPeer, core.role == .leaf else { return true }
            return core.attachedSuperPeers.allSatisfy { overlay.membership.member($0)?.state == .alive }
        }
    }
}
