import Foundation
import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// Search and gossip in the super-peer topology, whole peers over the virtual network:
/// queries flood among the super-peers and reach only the leaves whose filters match,
/// so leaves carry a small fraction of a pure flood's query traffic; gossip still
/// reaches every peer.
@Suite struct SuperPeerSearchSimulationTests {
    static let peerCount = 300
    static let seed: UInt64 = 71
    static let topics = 5

    /// The 20 queries, in order: `(asker index, text)`. Even ones name a topic some
    /// leaves declared (or the service some provide), odd ones a word no peer has.
    static let queries: [(asker: Int, text: String)] = (0..<20).map { index in
        let asker = (index * 37 + 5) % peerCount
        switch index % 4 {
        case 0: return (asker, "Topic\(index / 4 % topics)")
        case 2: return (asker, "printer")
        default: return (asker, "nothing\(index) here")
        }
    }

    /// Joins a swarm of `overlay` peers and waits until it settled.
    static func settledSwarm(_ overlay: OverlayConfiguration) throws -> NodeSwarm {
        var swarm = try NodeSwarm(seed: seed, count: peerCount, overlay: overlay)
        swarm.joinThroughFirst(spacing: .milliseconds(2))
        let superPeers = overlay.topology != .pure
        let settled = swarm.run(limit: .seconds(180)) { swarm in
            guard swarm.isConverged() else { return false }
            guard superPeers else { return true }
            let (attached, leaves) = swarm.attachedLeaves(live: swarm.nodes)
            return attached == leaves && !swarm.superPeerNodes().isEmpty
        }
        try #require(settled, "the swarm did not settle in 180 s of virtual time")
        swarm.network.run(for: .seconds(30))
        return swarm
    }

    /// Query messages each node received so far.
    static func queriesReceived(_ swarm: NodeSwarm) -> [Int] {
        swarm.nodes.map { swarm.overlay(of: $0).spreading.statistics.queriesReceived }
    }

    /// Issues the queries, 50 ms apart, and returns their IDs.
    static func issueQueries(_ swarm: inout NodeSwarm) throws -> [SpreadingID] {
        var ids: [SpreadingID] = []
        for (asker, text) in queries {
            let id = try swarm.network.command(SimNodeID(rawValue: asker)) { core, now in
                try core.withOverlay { try $0.query(Array(text.utf8), now: now) }
            }
            ids.append(try #require(id))
            swarm.network.run(for: .milliseconds(50))
        }
        swarm.network.run(for: .seconds(3))
        return ids
    }

    static func received(_ swarm: NodeSwarm, _ node: SimNodeID, _ id: SpreadingID) -> Bool {
        swarm.network.events(of: node).contains {
            if case .overlay(.spreading(.query(id, _, _, _))) = $0 { true } else { false }
        }
    }

    @Test func superPeerSearch_300Peers_matchingLeavesOnly_hitsBack_tenthOfPureTraffic_gossipReachesAll()
        async throws
    {
        try await offThePool { () throws in
            var swarm = try Self.settledSwarm(NodeSwarm.superPeerOverlay())
            let leaves = swarm.nodes.filter { swarm.overlay(of: $0).role == .leaf }
            let superPeers = swarm.superPeerNodes()
            try #require(leaves.count > 200 && superPeers.count >= 3)
            // Spreading neighbours follow the roles.
            let superPeerIDs = Set(superPeers.map(swarm.peerID(of:)))
            for leaf in leaves {
                let overlay = swarm.overlay(of: leaf)
                #expect(overlay.spreading.position == .leaf)
                #expect(Set(overlay.neighbours.keys) == Set(overlay.superPeer?.attachedSuperPeers ?? []))
            }
            for node in superPeers {
                let overlay = swarm.overlay(of: node)
                let held = Set(overlay.superPeer?.leaves ?? [])
                #expect(overlay.spreading.position == .relay)
                #expect(Set(overlay.spreading.queryFilters.keys) == held)
                let others = Set(overlay.neighbours.keys).subtracting(held)
                #expect(others.isSubset(of: superPeerIDs))
                #expect(others.count == min(overlay.configuration.neighbourCount, superPeers.count - 1))
            }
            // 30 leaves declare a topic each, 5 others provide the printer service.
            var topicLeaves: [Int: [SimNodeID]] = [:]
            for (index, leaf) in leaves.prefix(30).enumerated() {
                let topic = index % Self.topics
                topicLeaves[topic, default: []].append(leaf)
                swarm.network.command(leaf) { core, now in
                    _ = core.withOverlay { $0.setSearchKeywords(["topic\(topic)", "shared words"], now: now) }
                }
            }
            let printers = Array(leaves.dropFirst(30).prefix(5))
            for leaf in printers {
                _ = try swarm.network.command(leaf) { core, now in
                    try core.withOverlay { try $0.provide(service: "printer.v1", now: now) }
                }
            }
            swarm.network.run(for: .seconds(5))
            // The roles did not move meanwhile.
            try #require(swarm.superPeerNodes() == superPeers)

            let before = Self.queriesReceived(swarm)
            let ids = try Self.issueQueries(&swarm)
            let after = Self.queriesReceived(swarm)
            for (index, (asker, text)) in Self.queries.enumerated() {
                let origin = SimNodeID(rawValue: asker)
                let matching: [SimNodeID]
                switch index % 4 {
                case 0: matching = topicLeaves[index / 4 % Self.topics] ?? []
                case 2: matching = printers
                default: matching = []
                }
                let expected = Set(matching).subtracting([origin])
                let reached = Set(leaves.filter { Self.received(swarm, $0, ids[index]) })
                #expect(
                    reached == expected, "query \(index) '\(text)': \(reached.count) leaves, \(expected.count) expected"
                )
                // Every super-peer saw it (the TTL flood among them).
                #expect(superPeers.allSatisfy { $0 == origin || Self.received(swarm, $0, ids[index]) })
                // The matching leaves answer; each hit reaches the originator.
                for leaf in expected {
                    try swarm.network.command(leaf) { core, now in
                        try core.withOverlay { try $0.answer(ids[index], payload: [1], now: now) }
                    }
                }
            }
            swarm.network.run(for: .seconds(3))
            for (index, (asker, _)) in Self.queries.enumerated() {
                let origin = SimNodeID(rawValue: asker)
                let responders = Set(
                    swarm.network.events(of: origin).compactMap { event -> PeerID? in
                        if case .overlay(.spreading(.queryHit(ids[index], let responder, _, _))) = event {
                            return responder
                        }
                        return nil
                    })
                let expected: [SimNodeID]
                switch index % 4 {
                case 0: expected = topicLeaves[index / 4 % Self.topics] ?? []
                case 2: expected = printers
                default: expected = []
                }
                #expect(responders == Set(expected.filter { $0 != origin }.map(swarm.peerID(of:))), "query \(index)")
            }
            let leafTraffic = leaves.map { after[$0.rawValue] - before[$0.rawValue] }
            let superPeerMean = Double(leafTraffic.reduce(0, +)) / Double(leaves.count)

            // A gossip broadcast from a leaf reaches every other peer.
            let origin = leaves[leaves.count / 2]
            let missed = try #require(try swarm.missed(broadcasting: [0x60, 0x61], from: origin))
            #expect(missed.isEmpty, "the broadcast missed \(missed.count) peers")

            // The same queries in a pure swarm of the same size and seed.
            var pure = try Self.settledSwarm(.simulation)
            let pureBefore = Self.queriesReceived(pure)
            _ = try Self.issueQueries(&pure)
            let pureAfter = Self.queriesReceived(pure)
            let pureMean =
                Double(zip(pureAfter, pureBefore).map { $0 - $1 }.reduce(0, +)) / Double(Self.peerCount)
            let ratio = superPeerMean / pureMean
            print(
                "super-peer search: \(superPeers.count) super-peers, \(leaves.count) leaves; query datagrams per leaf"
                    + " \(superPeerMean) vs \(pureMean) per peer in a pure flood: ratio \(ratio)")
            #expect(pureMean > 0)
            #expect(ratio <= 0.10, "leaf query traffic \(superPeerMean) vs pure \(pureMean)")
        }
    }
    @Test func superPeerSearch_noSuperPeerYet_leavesSpreadAsInAPureOverlay() async throws {
        try await offThePool { () throws in
            // No peer may become a super-peer: every leaf stays unattached.
            var superPeer = SuperPeerConfiguration.simulation
            superPeer.rolePolicy = .neverSuperPeer
            var swarm = try NodeSwarm(seed: 72, count: 40, overlay: NodeSwarm.superPeerOverlay(superPeer))
            swarm.joinThroughFirst(spacing: .milliseconds(2))
            try #require(swarm.run(limit: .seconds(60)) { $0.isConverged() })
            for node in swarm.nodes {
                let overlay = swarm.overlay(of: node)
                #expect(overlay.role == .leaf && overlay.spreading.position == .relay)
                #expect(overlay.neighbours.count == min(overlay.configuration.neighbourCount, 39))
            }
            let origin = swarm.nodes[7]
            let gossip = try #require(
                try swarm.network.command(origin) { core, now in
                    try core.withOverlay { try $0.broadcast([0x70], now: now) }
                })
            let query = try #require(
                try swarm.network.command(origin) { core, now in
                    try core.withOverlay { try $0.query(Array("anything".utf8), now: now) }
                })
            swarm.network.run(for: .seconds(3))
            #expect(swarm.missed(broadcast: gossip, from: origin).isEmpty)
            for node in swarm.nodes where node != origin { #expect(Self.received(swarm, node, query)) }
        }
    }
}
