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

    @Test func spreadCapacity_givesTheDocumentedShares_notInJoinOrder() {
        let capacities = (0..<10_000).map(NodeSwarm.spreadCapacity(ofPeer:))
        let shares = Dictionary(grouping: capacities, by: { $0 }).mapValues { Double($0.count) / 10_000 }
        #expect(Set(shares.keys) == [1, 4, 16, 64])
        for (capacity, share) in [(1, 0.5), (4, 0.3), (16, 0.15), (64, 0.05)] {
            #expect(abs((shares[capacity] ?? 0) - share) < 0.02, "capacity \(capacity): \(shares[capacity] ?? 0)")
        }
        // The first hundred peers to join are not all ordinary, nor all strong.
        #expect(Set(capacities.prefix(100)).count == 4)
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

    /// Every finished lookup at `node`, by ID (one pass over its events).
    static func results(at node: SimNodeID, in swarm: NodeSwarm) -> [LookupID: LookupResult] {
        var results: [LookupID: LookupResult] = [:]
        for event in swarm.network.events(of: node) {
            if case .overlay(.routing(.lookupFinished(let id, let result))) = event { results[id] = result }
        }
        return results
    }

    @Test func superPeer_lookups_answeredBySuperPeers_inFewRequests() async throws {
        try await offThePool { () throws in
            let count = Self.peerCount
            var swarm = try NodeSwarm(seed: 62, count: count, overlayOfPeer: Self.overlay(ofPeer:))
            swarm.joinThroughFirst(spacing: .milliseconds(2))
            let settled = swarm.run(limit: .seconds(180)) { swarm in
                swarm.isConverged() && Self.everyLeafAttached(swarm, live: swarm.nodes)
                    && !Self.superPeers(swarm).isEmpty
            }
            try #require(settled, "the election and attachments did not settle in 180 s of virtual time")
            // Five leaves provide a service; their super-peers take the new records.
            let superPeers = Set(Self.superPeers(swarm))
            let leaves = swarm.nodes.filter { !superPeers.contains($0) }
            let providers = (0..<5).map { leaves[($0 * 53 + 7) % leaves.count] }
            var provides: [(SimNodeID, LookupID)] = []
            for provider in providers {
                let id = swarm.network.command(provider) { core, now in
                    core.withOverlay { try? $0.provide(service: "chat.v1", now: now) }
                }
                provides.append((provider, try #require(id ?? nil)))
            }
            // The super-peers' union filters follow within an advert interval or two.
            swarm.network.run(for: .seconds(5))
            for (provider, id) in provides {
                let result = Self.results(at: provider, in: swarm)[id]
                #expect(
                    result?.outcome == .provided(storedAt: 3), "provide at \(provider): \(String(describing: result))")
            }

            // Every peer looks up a random other peer; twenty look up the service.
            var random = TestRandom(seed: 62)
            var peerLookups: [(SimNodeID, PeerID, LookupID)] = []
            for asker in swarm.nodes {
                var target = asker
                while target == asker { target = swarm.nodes.randomElement(using: &random)! }
                let wanted = swarm.peerID(of: target)
                let id = swarm.network.command(asker) { core, now in core.withOverlay { $0.findPeer(wanted, now: now) }
                }
                peerLookups.append((asker, wanted, try #require(id)))
            }
            var serviceLookups: [(SimNodeID, LookupID)] = []
            for asker in swarm.nodes.prefix(20) {
                let id = swarm.network.command(asker) { core, now in
                    core.withOverlay { $0.findProviders(service: "chat.v1", now: now) }
                }
                serviceLookups.append((asker, try #require(id)))
            }
            swarm.network.run(for: .seconds(15))

            var results: [SimNodeID: [LookupID: LookupResult]] = [:]
            for node in swarm.nodes { results[node] = Self.results(at: node, in: swarm) }
            var requests = 0
            var superPeerAnswered = 0
            for (asker, wanted, id) in peerLookups {
                guard let result = results[asker]?[id], case .peer(let record?) = result.outcome else {
                    Issue.record("lookup of \(wanted) from \(asker): \(String(describing: results[asker]?[id]))")
                    continue
                }
                #expect(record.record.peerID == wanted)
                requests += result.requests
                if id.rawValue & SuperPeerCore.lookupIDBase != 0 { superPeerAnswered += 1 }
            }
            let wanted = Set(providers.map { swarm.peerID(of: $0) })
            var serviceRequests = 0
            for (asker, id) in serviceLookups {
                guard let result = results[asker]?[id], case .providers(let records) = result.outcome else {
                    Issue.record("providers from \(asker): \(String(describing: results[asker]?[id]))")
                    continue
                }
                #expect(Set(records.map(\.record.peerID)).isSuperset(of: wanted), "providers from \(asker)")
                serviceRequests += result.requests
            }
            let meanRequests = Double(requests) / Double(peerLookups.count)
            let fallbacks = swarm.nodes.reduce(0) {
                $0 + (swarm.overlay(of: $1).superPeer?.statistics.lookupsFallenBack ?? 0)
            }
            print(
                "super-peer lookups at \(count) peers: \(meanRequests) requests per peer lookup, "
                    + "\(Double(serviceRequests) / Double(serviceLookups.count)) per service lookup, "
                    + "\(superPeerAnswered) of \(peerLookups.count) started at super-peers, \(fallbacks) fell back")
            // Pure Kademlia spends some 20+ requests per lookup at these sizes.
            #expect(meanRequests < 6, "\(meanRequests) requests per lookup")
            #expect(superPeerAnswered == peerLookups.count)
        }
    }
}
