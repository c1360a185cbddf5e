import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// Hybrid clients that hold only the index servers (``MembershipView/partial``), in whole
/// peers over the virtual network: the threshold is set low so that a swarm of 150 peers
/// crosses it. Clients count the swarm by the index servers' reports, hold exactly the
/// index servers, find every peer in one request, reach every peer with a broadcast
/// through the neighbours their Kademlia table samples, and, once every index server is
/// lost, still find every peer through the Kademlia table they built while they held
/// every member.
@Suite struct HybridClientViewSimulationTests {
    static let peers = 150

    static func overlay(ofPeer index: Int) -> OverlayConfiguration {
        NodeSwarm.hybridOverlay(ofPeer: index, indexes: HybridSimulationTests.indexCount, clientViewThreshold: 50)
    }

    /// The first client whose view is not exactly the index servers (alive), described.
    static func viewMismatch(_ swarm: NodeSwarm) -> String? {
        let indexes = Set(HybridSimulationTests.indexes(of: swarm).map(swarm.peerID(of:)))
        for node in swarm.nodes.dropFirst(HybridSimulationTests.indexCount) {
            let membership = swarm.overlay(of: node).membership
            let held = Set(membership.members.filter { $0.state == .alive }.map(\.id))
            if membership.view != .partial || held != indexes {
                let servers = held.intersection(indexes).count
                return "client \(node): view \(membership.view), holds \(held.count) (\(servers) index servers)"
            }
        }
        return nil
    }

    @Test func clients_holdOnlyTheIndexServers_findAndReachEveryPeer_andFallBackToKademlia() async throws {
        try await offThePool { () throws in
            var swarm = try NodeSwarm(seed: 44, count: Self.peers, overlayOfPeer: Self.overlay(ofPeer:))
            swarm.joinThroughFirst(spacing: .milliseconds(2))
            let settled = swarm.run(limit: .seconds(180)) { swarm in
                Self.viewMismatch(swarm) == nil && HybridSimulationTests.isRegistered(swarm)
            }
            try #require(
                settled, "clients did not settle on views of the index servers: \(Self.viewMismatch(swarm) ?? "")")
            // Index servers hold every member; clients forgot the rest.
            for index in HybridSimulationTests.indexes(of: swarm) {
                #expect(swarm.overlay(of: index).membership.view == .full)
                #expect(swarm.overlay(of: index).membership.aliveCount == Self.peers - 1)
            }
            let client = swarm.nodes[Self.peers - 1]
            #expect(swarm.overlay(of: client).membership.statistics.membersForgotten > 0)
            #expect(swarm.overlay(of: client).hybrid?.featuredMembers.count == HybridSimulationTests.indexCount)
            // Its Kademlia table and spreading neighbours still sample the swarm.
            #expect(swarm.overlay(of: client).routing.table.contacts.count > 20)
            #expect(swarm.falseFailures() == 0)

            let (failures, results) = HybridSimulationTests.lookUpOthers(&swarm, perPeer: 2)
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(results.allSatisfy { $0.hops == 1 }, "lookups took more than one hop")

            // A broadcast from a client reaches every other peer, once the clients drew
            // their neighbours anew from their tables (every index list interval).
            swarm.network.run(for: .seconds(30))
            let origin = swarm.nodes[Self.peers / 2]
            let missed = try #require(try swarm.missed(broadcasting: [0x48], from: origin))
            #expect(missed.isEmpty, "the broadcast missed \(missed.count) peers")

            // Every index server is lost: lookups go through the Kademlia table.
            let clients = Array(swarm.nodes.dropFirst(HybridSimulationTests.indexCount))
            #expect(
                HybridSimulationTests.loseEveryIndexServer(&swarm),
                "clients did not notice that every index server is gone")
            #expect(
                clients.allSatisfy { swarm.overlay(of: $0).membership.view == .partial }, "the fallback keeps views")
            let (fallback, fallbackResults) = HybridSimulationTests.lookUpOthers(&swarm, perPeer: 1)
            #expect(fallback.isEmpty, "\(fallback.prefix(5))")
            #expect(fallbackResults.contains { $0.hops > 1 }, "no lookup went through the Kademlia overlay")
        }
    }
}
