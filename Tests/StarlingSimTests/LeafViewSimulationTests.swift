import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// Leaves that hold only the super-peers (``MembershipView/partial``), in whole peers over
/// the virtual network: the threshold is set low so that a swarm of a few hundred peers
/// crosses it. The election still holds its ratio (leaves count the swarm from the
/// super-peers' adverts), every leaf holds exactly the live super-peers, lookups find
/// leaves that no other leaf holds, and losing a fifth of the super-peers is repaired.
@Suite struct LeafViewSimulationTests {
    static let peers = 240

    static func overlay(ofPeer _: Int) -> OverlayConfiguration {
        var superPeer = SuperPeerConfiguration.simulation
        superPeer.leafViewThreshold = 100
        return NodeSwarm.superPeerOverlay(superPeer)
    }

    /// The first peer of `live` whose view does not follow its role, described, or nil:
    /// every leaf must hold a partial view of every super-peer of `live` (alive) and of
    /// no peer that never was one (a super-peer that stepped down is forgotten after a
    /// grace), and every super-peer a full view of every member of `live`.
    static func viewMismatch(_ swarm: NodeSwarm, live: [SimNodeID]) -> String? {
        let superPeers = Set(swarm.superPeerNodes(among: live).map(swarm.peerID(of:)))
        let everyone = Set(live.map(swarm.peerID(of:)))
        let everSuperPeers = Set(
            swarm.nodes.filter { node in
                swarm.network.events(of: node).contains {
                    if case .overlay(.topology(.role(.superPeer))) = $0 { true } else { false }
                }
            }.map(swarm.peerID(of:)))
        for node in live {
            let overlay = swarm.overlay(of: node)
            let held = Set(overlay.membership.members.filter { $0.state == .alive }.map(\.id))
            if overlay.role == .superPeer {
                let missing = everyone.subtracting([overlay.localID]).subtracting(held)
                if overlay.membership.view != .full || !missing.isEmpty {
                    return "super-peer \(node): view \(overlay.membership.view), \(missing.count) missing"
                }
            } else {
                let missing = superPeers.subtracting(held)
                let strangers = held.subtracting(everSuperPeers)
                if overlay.membership.view != .partial || !missing.isEmpty || !strangers.isEmpty {
                    return "leaf \(node): view \(overlay.membership.view), \(missing.count) super-peers missing, "
                        + "\(strangers.count) peers held that never were super-peers"
                }
            }
        }
        return nil
    }

    /// Starts a `findPeer` for a leaf from each of `askers` and waits for the answers.
    static func lookUpLeaves(_ swarm: inout NodeSwarm, from askers: [SimNodeID], among live: [SimNodeID]) -> [String] {
        let superPeers = Set(swarm.superPeerNodes(among: live))
        let leaves = live.filter { !superPeers.contains($0) }
        var started: [(SimNodeID, PeerID, LookupID)] = []
        for (index, asker) in askers.enumerated() {
            let target = leaves[(index * 37 + 11) % leaves.count]
            guard target != asker else { continue }
            let wanted = swarm.peerID(of: target)
            if let id = swarm.network.command(
                asker, { core, now in core.withOverlay { $0.findPeer(wanted, now: now) } })
            {
                started.append((asker, wanted, id))
            }
        }
        _ = swarm.run(limit: .seconds(60)) { swarm in started.allSatisfy { swarm.lookupResult($0.2, at: $0.0) != nil } }
        var failures: [String] = []
        for (asker, wanted, id) in started {
            guard case .peer(let record?) = swarm.lookupResult(id, at: asker)?.outcome, record.record.peerID == wanted
            else {
                failures.append("\(asker) → \(wanted): \(String(describing: swarm.lookupResult(id, at: asker)))")
                continue
            }
        }
        return failures
    }

    @Test func leaves_holdOnlyTheSuperPeers_lookupsFindEveryLeaf_andAFifthLostIsRepaired() async throws {
        try await offThePool { () throws in
            var swarm = try NodeSwarm(seed: 71, count: Self.peers, overlayOfPeer: Self.overlay(ofPeer:))
            swarm.joinThroughFirst(spacing: .milliseconds(2))
            let settled = swarm.run(limit: .seconds(240)) { swarm in
                !swarm.superPeerNodes().isEmpty
                    && swarm.attachedLeaves(live: swarm.nodes).attached
                        == swarm.attachedLeaves(live: swarm.nodes).leaves
                    && Self.viewMismatch(swarm, live: swarm.nodes) == nil
            }
            try #require(settled, "leaves did not settle on views of the super-peers in 240 s of virtual time")
            swarm.network.run(for: .seconds(30))
            let elected = swarm.superPeerNodes()
            let ratio = Double(Self.peers - elected.count) / Double(elected.count)
            #expect(
                (25.0...35.0).contains(ratio), "\(elected.count) super-peers for \(Self.peers) peers: ratio \(ratio)")
            let drift = Self.viewMismatch(swarm, live: swarm.nodes)
            #expect(drift == nil, "views drifted from the roles")
            #expect(swarm.falseFailures() == 0)
            // A leaf holds the super-peers only: far fewer than the swarm.
            let leaf = try #require(swarm.nodes.first { swarm.overlay(of: $0).role == .leaf })
            let held = swarm.overlay(of: leaf).membership.members.count
            #expect(held < 2 * elected.count, "a leaf holds \(held) members; \(elected.count) super-peers")
            #expect(swarm.overlay(of: leaf).membership.statistics.membersForgotten > 0)
            // The leaves count the swarm from the adverts, not from what they hold.
            #expect(swarm.overlay(of: leaf).superPeer?.estimatedMembers == Self.peers)

            // Leaves in a group hold none of their mates, yet every one gets every message once.
            let leaves = swarm.nodes.filter { swarm.overlay(of: $0).role == .leaf }
            let members = Array(leaves.prefix(30))
            try swarm.joinGroup("chat", at: members)
            let group = try swarm.overlay(of: members[0]).groupKey(name: "chat").id
            let joined = swarm.run(limit: .seconds(20)) { swarm in members.allSatisfy { swarm.hasJoined(group, at: $0) }
            }
            #expect(joined, "the leaves' joins did not take effect")
            var sent: [(id: GroupMessageID, origin: SimNodeID)] = []
            for (index, origin) in members.prefix(5).enumerated() {
                sent.append((try swarm.sendToGroup("chat", Array("m\(index)".utf8), from: origin), origin))
                swarm.network.run(for: .milliseconds(200))
            }
            swarm.network.run(for: .seconds(10))
            var missed = 0
            for member in members {
                let expected = sent.filter { $0.origin != member }.map(\.id)
                let counts = Dictionary(grouping: swarm.groupMessages(at: member), by: \.id).mapValues(\.count)
                missed += expected.count { counts[$0] != 1 }
            }
            #expect(missed == 0, "\(missed) group deliveries missed or doubled among leaves")

            let askers = leaves.prefix(20)
            let failures = Self.lookUpLeaves(&swarm, from: Array(askers), among: swarm.nodes)
            #expect(failures.isEmpty, "lookups failed: \(failures)")

            // A fifth of the super-peers is lost at once.
            let lost = Array(elected.prefix(max(1, elected.count / 5)))
            swarm.network.partition([lost])
            let live = swarm.nodes.filter { !lost.contains($0) }
            let repaired = swarm.run(step: .milliseconds(100), limit: .seconds(120)) { swarm in
                let (attached, leaves) = swarm.attachedLeaves(live: live)
                return attached == leaves && Self.viewMismatch(swarm, live: live) == nil
            }
            let mismatch = Self.viewMismatch(swarm, live: live)
            #expect(repaired, "leaves did not re-attach, or their views did not follow: \(mismatch ?? "views follow")")
            let liveAskers = live.filter { swarm.overlay(of: $0).role == .leaf }.prefix(20)
            let after = Self.lookUpLeaves(&swarm, from: Array(liveAskers), among: live)
            #expect(after.isEmpty, "lookups failed after the loss: \(after)")
        }
    }
}
