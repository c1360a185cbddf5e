import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// A pure overlay whose peers hold only the contacts of their Kademlia tables
/// (``OverlayConfiguration/pureViewThreshold``, ``FeaturedKind/own``), in whole peers over
/// the virtual network: the threshold is set low so that a swarm of 200 peers crosses it.
/// Peers count the swarm by their tables, hold exactly their contacts alive, find every
/// peer, reach every peer with a broadcast, and find the peers that are lost failed while
/// every lookup and broadcast still reaches every live peer.
@Suite struct PureViewSimulationTests {
    static let peers = 200

    static func overlay(ofPeer index: Int) -> OverlayConfiguration {
        var overlay = OverlayConfiguration.simulation
        overlay.pureViewThreshold = 60
        return overlay
    }

    /// The first peer of `live` whose view is not exactly its Kademlia contacts (alive),
    /// described.
    static func viewMismatch(_ swarm: NodeSwarm, live: [SimNodeID]) -> String? {
        for node in live {
            let overlay = swarm.overlay(of: node)
            let membership = overlay.membership
            let held = Set(membership.members.filter { $0.state == .alive }.map(\.id))
            let contacts = Set(overlay.routing.table.contacts.map(\.peerID))
            if membership.view != .partial || held != contacts || contacts.count < 20 {
                return "peer \(node): view \(membership.view), holds \(held.count), \(contacts.count) contacts, "
                    + "\(held.intersection(contacts).count) of them held"
            }
        }
        return nil
    }

    @Test func peers_holdTheirKademliaContacts_findAndReachEveryPeer_andFindTheLostFailed() async throws {
        try await offThePool { () throws in
            var swarm = try NodeSwarm(seed: 45, count: Self.peers, overlayOfPeer: Self.overlay(ofPeer:))
            swarm.joinThroughFirst(spacing: .milliseconds(2))
            let settled = swarm.run(limit: .seconds(180)) { Self.viewMismatch($0, live: $0.nodes) == nil }
            try #require(
                settled,
                "peers did not settle on views of their contacts: \(Self.viewMismatch(swarm, live: swarm.nodes) ?? "")")
            #expect(swarm.isConverged())
            for node in swarm.nodes {
                let overlay = swarm.overlay(of: node)
                // Far fewer than every member, and a count of the swarm near the truth.
                #expect(overlay.membership.members.count < Self.peers / 2)
                #expect((Self.peers / 2...Self.peers * 2).contains(overlay.routing.table.estimatedPeers))
            }
            #expect(swarm.overlay(of: swarm.nodes[0]).membership.statistics.membersForgotten > 0)
            #expect(swarm.falseFailures() == 0)

            let (failures, results) = HybridSimulationTests.lookUpOthers(&swarm, perPeer: 2, among: swarm.nodes)
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(results.contains { $0.hops > 1 }, "no lookup walked the overlay")

            let origin = swarm.nodes[Self.peers / 2]
            let missed = try #require(try swarm.missed(broadcasting: [0x50], from: origin))
            #expect(missed.isEmpty, "the broadcast missed \(missed.count) peers")

            // A tenth of the swarm is lost at once: every peer that held one finds it
            // failed (or forgets it once its table dropped it), and lookups of the live
            // peers all succeed.
            let lost = Array(swarm.nodes.suffix(Self.peers / 10))
            let live = Array(swarm.nodes.dropLast(Self.peers / 10))
            let lostIDs = Set(lost.map(swarm.peerID(of:)))
            swarm.network.partition([lost])
            // The last holder of a lost peer may find it only on its own: when its probes
            // come round to it (one member per probe interval), then after the longest
            // suspicion (no other holder confirms it; log10 of the view is below 3).
            let membership = swarm.overlay(of: live[0]).membership.configuration
            let largestView = live.map { swarm.overlay(of: $0).membership.members.count }.max() ?? 0
            let bound =
                membership.probeInterval * (largestView + 1)
                + membership.probeInterval * membership.suspicionMultiplier * membership.suspicionMaxTimeoutMultiplier
                * 3
            let noticed = swarm.run(limit: bound * 2) { swarm in
                live.allSatisfy { node in
                    !swarm.overlay(of: node).membership.members.contains {
                        lostIDs.contains($0.id) && $0.state.isLive
                    }
                }
            }
            #expect(noticed, "a live peer still holds a lost one alive")
            #expect(swarm.falseFailures(among: live) == 0)
            let (afterLoss, _) = HybridSimulationTests.lookUpOthers(&swarm, perPeer: 1, among: live)
            #expect(afterLoss.isEmpty, "\(afterLoss.prefix(5))")
            // A broadcast still reaches every live peer: neighbours that were lost and
            // that nobody holds any more were replaced.
            let missedLive = try #require(try swarm.missed(broadcasting: [0x51], from: origin)).filter {
                live.contains($0)
            }
            #expect(missedLive.isEmpty, "the broadcast after the loss missed \(missedLive.count) live peers")
        }
    }
}
