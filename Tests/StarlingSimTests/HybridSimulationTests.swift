import Foundation
import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// The hybrid topology over the virtual network: index servers that share the key
/// space, clients that register with them and ask them, failover when index servers
/// are lost, and the fallback to the Kademlia overlay when all are.
@Suite struct HybridSimulationTests {
    /// Index servers in every swarm here: peers 0, 1 and 2.
    static let indexCount = 3

    /// Clients: 100 by default, 1,000 in CI (`STARLING_HYBRID_PEERS`).
    static var peerCount: Int {
        guard let text = getenv("STARLING_HYBRID_PEERS"), let count = Int(String(cString: text)), count >= 20 else {
            return 100
        }
        return count
    }

    static func overlay(ofPeer index: Int) -> OverlayConfiguration {
        NodeSwarm.hybridOverlay(ofPeer: index, indexes: indexCount)
    }

    /// A hybrid swarm, joined through the first index server, run until every peer sees
    /// every other alive and every client's record is held by the index servers that
    /// should hold it.
    static func settledSwarm(seed: UInt64, count: Int) throws -> NodeSwarm {
        var swarm = try NodeSwarm(seed: seed, count: count, overlayOfPeer: overlay(ofPeer:))
        swarm.joinThroughFirst(spacing: .milliseconds(2))
        let settled = swarm.run(limit: .seconds(120)) { $0.isConverged() && isRegistered($0) }
        try #require(settled, "not settled after 120 s of virtual time")
        return swarm
    }

    static func indexes(of swarm: NodeSwarm) -> [SimNodeID] { Array(swarm.nodes.prefix(indexCount)) }

    /// Cuts every index server off and runs until every client falls back to the
    /// Kademlia overlay (at most 30 s).
    /// - Returns: whether every client did.
    static func loseEveryIndexServer(_ swarm: inout NodeSwarm) -> Bool {
        let clients = Array(swarm.nodes.dropFirst(indexCount))
        swarm.network.partition([indexes(of: swarm)])
        return swarm.run(limit: .seconds(30)) { swarm in
            clients.allSatisfy { swarm.overlay(of: $0).hybrid?.isFallbackActive == true }
        }
    }

    static func isRegistered(_ swarm: NodeSwarm, live: [SimNodeID]? = nil) -> Bool {
        swarm.isRegistered(indexes: indexCount, live: live)
    }

    /// Every client (or every peer of `peers`) looks up `perPeer` others at once and the
    /// swarm runs until all end.
    /// - Returns: the failed lookups, described, and the results.
    static func lookUpOthers(
        _ swarm: inout NodeSwarm, perPeer: Int, among peers: [SimNodeID]? = nil
    ) -> (failures: [String], results: [LookupResult]) {
        let clients = peers ?? Array(swarm.nodes.dropFirst(indexCount))
        var started: [(asker: SimNodeID, wanted: SimNodeID, id: LookupID)] = []
        for (index, asker) in clients.enumerated() {
            for offset in 1...perPeer {
                let wanted = clients[(index + offset * 7) % clients.count]
                let wantedID = swarm.peerID(of: wanted)
                if let id = swarm.network.command(
                    asker, { core, now in core.withOverlay { $0.findPeer(wantedID, now: now) } })
                {
                    started.append((asker, wanted, id))
                }
            }
        }
        _ = swarm.run(limit: .seconds(60)) { swarm in
            started.allSatisfy { swarm.lookupResult($0.id, at: $0.asker) != nil }
        }
        var failures: [String] = []
        var results: [LookupResult] = []
        for lookup in started {
            guard let result = swarm.lookupResult(lookup.id, at: lookup.asker) else {
                failures.append("\(lookup.asker) → \(lookup.wanted): unfinished")
                continue
            }
            results.append(result)
            guard case .peer(let record?) = result.outcome, record.record.peerID == swarm.peerID(of: lookup.wanted)
            else {
                failures.append("\(lookup.asker) → \(lookup.wanted): \(result)")
                continue
            }
        }
        return (failures, results)
    }

    /// Every tenth client provides `service-k`; every client asks for one service.
    /// - Returns: the queries that did not find exactly the providers.
    static func provideAndFind(_ swarm: inout NodeSwarm, services: Int = 10) -> [String] {
        let clients = Array(swarm.nodes.dropFirst(indexCount))
        var providers: [String: Set<PeerID>] = [:]
        var provides: [(SimNodeID, LookupID)] = []
        for (index, client) in clients.enumerated() where index % 10 == 0 {
            let service = "service-\(index / 10 % services)"
            providers[service, default: []].insert(swarm.peerID(of: client))
            let id = swarm.network.command(client) { core, now in
                try? core.withOverlay { try $0.provide(service: service, now: now) }
            }
            if let id = id ?? nil { provides.append((client, id)) }
        }
        _ = swarm.run(limit: .seconds(60)) { swarm in provides.allSatisfy { swarm.lookupResult($0.1, at: $0.0) != nil }
        }
        var queries: [(SimNodeID, String, LookupID)] = []
        for (index, client) in clients.enumerated() {
            let service = "service-\(index % services)"
            if let id = swarm.network.command(
                client, { core, now in core.withOverlay { $0.findProviders(service: service, now: now) } })
            {
                queries.append((client, service, id))
            }
        }
        _ = swarm.run(limit: .seconds(60)) { swarm in queries.allSatisfy { swarm.lookupResult($0.2, at: $0.0) != nil } }
        return queries.compactMap { client, service, id in
            guard case .providers(let records) = swarm.lookupResult(id, at: client)?.outcome else {
                return "\(client) \(service): \(String(describing: swarm.lookupResult(id, at: client)))"
            }
            let found = Set(records.map(\.record.peerID))
            return found == providers[service]
                ? nil : "\(client) \(service): \(found.count) of \(providers[service]?.count ?? 0)"
        }
    }

    @Test func hybrid_threeIndexServers_shareTheKeysAndAnswerEveryLookupInOneRoundTrip() async throws {
        try await offThePool { () throws in
            var swarm = try Self.settledSwarm(seed: 41, count: Self.indexCount + Self.peerCount)
            // Every index server found the other two, and every client found all three.
            for node in swarm.nodes {
                #expect(swarm.overlay(of: node).hybrid?.knownIndexes.count == Self.indexCount)
            }
            // The key space is shared: once the registrations made while clients knew only
            // the first index server lapse, each index server holds about 2/3 of them.
            swarm.network.run(for: .seconds(35))
            for index in Self.indexes(of: swarm) {
                let held = swarm.overlay(of: index).hybrid?.store?.count ?? 0
                #expect(held < Self.peerCount * 9 / 10, "index \(index) holds \(held) of \(Self.peerCount)")
                #expect(held > Self.peerCount / 3)
            }
            let (failures, results) = Self.lookUpOthers(&swarm, perPeer: 2)
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(results.allSatisfy { $0.hops == 1 && $0.requests == 1 }, "lookups took more than one request")
            let misses = Self.provideAndFind(&swarm)
            #expect(misses.isEmpty, "\(misses.prefix(5))")
        }
    }

    @Test func hybrid_oneIndexServerLost_lookupsFailOverAndClientsRegisterElsewhere() async throws {
        try await offThePool { () throws in
            var swarm = try Self.settledSwarm(seed: 42, count: Self.indexCount + Self.peerCount)
            let lost = swarm.nodes[1]
            swarm.network.partition([[lost]])
            // Lookups started at once, before anyone noticed, still all succeed.
            let (failures, _) = Self.lookUpOthers(&swarm, perPeer: 1)
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            let live = Self.indexes(of: swarm).filter { $0 != lost }
            let moved = swarm.run(limit: .seconds(30)) { Self.isRegistered($0, live: live) }
            #expect(moved, "clients did not register with the remaining index servers")
            let misses = Self.provideAndFind(&swarm)
            #expect(misses.isEmpty, "\(misses.prefix(5))")
        }
    }

    @Test func hybrid_allIndexServersLost_lookupsFallBackToKademlia_andReturnWhenOneRestartsEmpty() async throws {
        try await offThePool { () throws in
            var swarm = try Self.settledSwarm(seed: 43, count: Self.indexCount + Self.peerCount)
            let indexes = Self.indexes(of: swarm)
            let clients = Array(swarm.nodes.dropFirst(Self.indexCount))
            #expect(Self.loseEveryIndexServer(&swarm), "clients did not notice that every index server is gone")
            let (failures, results) = Self.lookUpOthers(&swarm, perPeer: 1)
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(results.contains { $0.hops > 1 }, "no lookup went through the Kademlia overlay")
            let misses = Self.provideAndFind(&swarm)
            #expect(misses.isEmpty, "\(misses.prefix(5))")

            // The first index server restarts empty, with the same identity and address.
            let restarted = indexes[0]
            let identity = swarm.network[core: restarted].peer.identity
            let fresh = try OverlayCore(
                identity: identity, address: swarm.network.address(of: restarted),
                configuration: Self.overlay(ofPeer: 0),
                wallClockAtZero: NodeSwarm.wallClockAtZero, random: swarm.network.makeGenerator(),
                now: swarm.network.now)
            swarm.network.command(restarted) { core, _ in core.installOverlay(fresh) }
            swarm.network.partition([Array(indexes.dropFirst())])
            let seed = [swarm.network.address(of: clients[0])]
            swarm.network.command(restarted) { core, now in _ = core.withOverlay { $0.join(seed, now: now) } }
            let refilled = swarm.run(limit: .seconds(60)) { swarm in
                clients.allSatisfy { swarm.overlay(of: $0).hybrid?.isFallbackActive == false }
                    && Self.isRegistered(swarm, live: [restarted])
            }
            #expect(refilled, "the restarted index server was not refilled by re-registrations")
            let (after, afterResults) = Self.lookUpOthers(&swarm, perPeer: 1)
            #expect(after.isEmpty, "\(after.prefix(5))")
            #expect(afterResults.allSatisfy { $0.hops == 1 }, "lookups did not return to the index server")
        }
    }
}
