import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// Leaves on two subnets that cannot reach each other, and super-peers that reach both:
/// membership holds every leaf alive through ping requests to the super-peers, and
/// sessions between leaves of the two subnets run through a super-peer's relay, while
/// those within a subnet stay direct.
@Suite struct SuperPeerRelaySimulationTests {
    static let superPeerCount = 4
    static let leavesPerSubnet = 14

    /// Peers `0..<superPeerCount` are super-peers, then the leaves of subnet A, then those of B.
    static func overlay(ofPeer index: Int) -> OverlayConfiguration {
        var superPeer = SuperPeerConfiguration.simulation
        superPeer.rolePolicy = index < superPeerCount ? .alwaysSuperPeer : .neverSuperPeer
        return NodeSwarm.superPeerOverlay(superPeer)
    }

    /// A swarm whose leaves of subnet A and of subnet B cannot reach each other.
    static func splitSwarm(seed: UInt64) throws -> (swarm: NodeSwarm, a: [SimNodeID], b: [SimNodeID]) {
        var swarm = try NodeSwarm(
            seed: seed, count: superPeerCount + 2 * leavesPerSubnet, overlayOfPeer: Self.overlay(ofPeer:))
        let leaves = Array(swarm.nodes.dropFirst(superPeerCount))
        let a = Array(leaves.prefix(leavesPerSubnet))
        let b = Array(leaves.dropFirst(leavesPerSubnet))
        var cut = LinkConditions.lan
        cut.partitioned = true
        for x in a {
            for y in b { swarm.network.setLinks(between: x, and: y, cut) }
        }
        return (swarm, a, b)
    }

    @Test func superPeerRelay_leavesOnTwoSubnets_stayAlive_andTalkThroughASuperPeer() async throws {
        try await offThePool { () throws in
            var (swarm, a, b) = try Self.splitSwarm(seed: 83)
            try swarm.serve("double") { $0 + $0 }
            swarm.joinThroughFirst()
            let converged = swarm.run(limit: .seconds(120)) { $0.isConverged() }
            try #require(converged, "leaves of the two subnets did not all see each other alive")

            // At once, before probing has come round to most members: each leaf of A opens
            // a session with one of B and one of its own subnet. The handshake has the
            // member probed next, which finds the relay within a probe or two.
            var pairs: [(from: SimNodeID, to: SimNodeID, across: Bool)] = []
            for (index, node) in a.enumerated() {
                pairs.append((node, b[(index * 5 + 3) % b.count], true))
                pairs.append((node, a[(index + 1) % a.count], false))
            }
            for pair in pairs {
                let (id, address) = (swarm.peerID(of: pair.to), swarm.network.address(of: pair.to))
                swarm.network.command(pair.from) { core, now in core.peer.connect(to: address, expecting: id, now: now)
                }
            }
            let established = swarm.run(limit: .seconds(10)) { swarm in
                pairs.allSatisfy { swarm.network[core: $0.from].peer.isEstablished(with: swarm.peerID(of: $0.to)) }
            }
            #expect(established, "not every session came up")

            // A request over each session, answered the way it came.
            var requests: [(from: SimNodeID, id: RequestID, payload: [UInt8])] = []
            for (index, pair) in pairs.enumerated() {
                let payload = [UInt8(index), 0xEE]
                let peer = swarm.peerID(of: pair.to)
                let id = try swarm.network.command(pair.from) { core, now in
                    try core.peer.request("double", payload, to: peer, now: now)
                }
                requests.append((pair.from, id, payload))
            }
            _ = swarm.run(limit: .seconds(60)) { swarm in
                requests.allSatisfy { swarm.response($0.id, at: $0.from) != nil }
            }
            for request in requests {
                #expect(swarm.response(request.id, at: request.from) == .success(request.payload + request.payload))
            }

            // Across the subnets through a super-peer; within one, direct.
            for pair in pairs {
                let relay = swarm.overlay(of: pair.from).relay(toPeer: swarm.peerID(of: pair.to))
                if pair.across {
                    let superPeers = Set(swarm.nodes.prefix(Self.superPeerCount).map(swarm.peerID(of:)))
                    #expect(relay.map(superPeers.contains) == true, "\(pair.from) → \(pair.to) has no relay")
                } else {
                    #expect(relay == nil, "\(pair.from) → \(pair.to) relayed within its subnet")
                }
            }
            let forwarded = swarm.nodes.prefix(Self.superPeerCount).reduce(0) {
                $0 + (swarm.overlay(of: $1).superPeer?.statistics.relaysForwarded ?? 0)
            }
            #expect(forwarded > 0)
            #expect(a.allSatisfy { swarm.overlay(of: $0).statistics.relayedSent > 0 })

            // A minute on, nobody was ever declared failed.
            swarm.network.run(for: .seconds(60))
            #expect(swarm.isConverged())
            #expect(swarm.falseFailures() == 0, "leaves of the other subnet were declared failed")
            // Nor suspected: a leaf asks the super-peers to ping for it as soon as it knows
            // them, never a leaf that cannot reach the target either.
            let refutations = swarm.nodes.reduce(0) { $0 + swarm.overlay(of: $1).membership.statistics.refutations }
            #expect(refutations == 0, "leaves were suspected across the cut")
        }
    }
}
