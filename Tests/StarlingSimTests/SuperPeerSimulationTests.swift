import Foundation
import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// The super-peer topology in whole peers over the virtual network: the election run by
/// the overlay (membership feeds it), leaves attached to three super-peers each, and
/// failover when a fifth of the super-peers is lost at once.
@Suite struct SuperPeerSimulationTests {
    /// Peers: 300 by default, 1,000 in CI (`STARLING_SUPER_PEER_PEERS`).
    static var peerCount: Int {
        guard let text = getenv("STARLING_SUPER_PEER_PEERS"), let count = Int(String(cString: text)), count >= 60
        else { return 300 }
        return count
    }

    static func overlay(ofPeer _: Int) -> OverlayConfiguration { NodeSwarm.superPeerOverlay() }

    static func superPeers(_ swarm: NodeSwarm) -> [SimNodeID] { swarm.superPeerNodes() }

    /// Whether every leaf of `live` holds 3 links to super-peers of `live`.
    static func everyLeafAttached(_ swarm: NodeSwarm, live: [SimNodeID]) -> Bool {
        let (attached, leaves) = swarm.attachedLeaves(live: live)
        return attached == leaves
    }

    @Test func superPeer_electedAtTheRatio_everyLeafOnThree_andAFifthLostIsRepaired() async throws {
        try await offThePool { () throws in
            let count = Self.peerCount
            var swarm = try NodeSwarm(seed: 61, count: count, overlayOfPeer: Self.overlay(ofPeer:))
            swarm.joinThroughFirst(spacing: .milliseconds(2))
            let settled = swarm.run(limit: .seconds(180)) { swarm in
                swarm.isConverged() && Self.everyLeafAttached(swarm, live: swarm.nodes)
                    && !Self.superPeers(swarm).isEmpty
            }
            try #require(settled, "the election and attachments did not settle in 180 s of virtual time")
            // Let the election run on: the count stays within the documented band.
            swarm.network.run(for: .seconds(30))
            let elected = Self.superPeers(swarm)
            let ratio = Double(count - elected.count) / Double(elected.count)
            #expect((25.0...35.0).contains(ratio), "\(elected.count) super-peers for \(count) peers: ratio \(ratio)")
            #expect(Self.everyLeafAttached(swarm, live: swarm.nodes))
            // Every peer saw its role as an event, and the leaves their links.
            for node in swarm.nodes {
                let events = swarm.network.events(of: node)
                #expect(events.contains { if case .overlay(.topology(.role)) = $0 { true } else { false } })
            }

            // A fifth of the super-peers is lost at once.
            let lost = Array(elected.prefix(max(1, elected.count / 5)))
            swarm.network.partition([lost])
            let live = swarm.nodes.filter { !lost.contains($0) }
            let lostAt = swarm.network.now
            let repaired = swarm.run(step: .milliseconds(100), limit: .seconds(60)) { swarm in
                Self.everyLeafAttached(swarm, live: live)
            }
            #expect(repaired, "leaves did not re-attach to live super-peers")
            let took = swarm.network.now - lostAt
            #expect(took <= .seconds(30), "re-attachment took \(took) of virtual time")
            // Lookups keep working for every live peer.
            let askers = Array(live.prefix(20))
            var started: [(SimNodeID, PeerID, LookupID)] = []
            for (index, asker) in askers.enumerated() {
                let target = live[(index * 37 + 11) % live.count]
                guard target != asker else { continue }
                let wanted = swarm.peerID(of: target)
                if let id = swarm.network.command(
                    asker, { core, now in core.withOverlay { $0.findPeer(wanted, now: now) } })
                {
                    started.append((asker, wanted, id))
                }
            }
            _ = swarm.run(limit: .seconds(60)) { swarm in
                started.allSatisfy { swarm.lookupResult($0.2, at: $0.0) != nil }
            }
            for (asker, wanted, id) in started {
                guard case .peer(let record?) = swarm.lookupResult(id, at: asker)?.outcome else {
                    Issue.record(
                        "lookup of \(wanted) from \(asker) (\(swarm.peerID(of: asker))): \(String(describing: swarm.lookupResult(id, at: asker)))"
                    )
                    continue
                }
                #expect(record.record.peerID == wanted)
            }
        }
    }
}
