import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// The whole overlay (membership, routing and spreading in overlay datagrams) over the
/// virtual network: the same cores the real peers run.
@Suite struct OverlaySimulationTests {
    typealias Network = SimNetwork<OverlayCore>

    static let wallClock = UnixTime(seconds: 1_800_000_000)

    /// `count` overlay cores with seeded identities at 10.x.y.z:7946, not yet joined.
    static func network(
        seed: UInt64, count: Int, secret: [UInt8]? = nil, link: LinkConditions = .lan
    ) throws -> Network {
        var network = Network(seed: seed, defaultLink: link)
        for index in 0..<count { try addPeer(to: &network, index: index, secret: secret) }
        return network
    }

    @discardableResult
    static func addPeer(to network: inout Network, index: Int, secret: [UInt8]?) throws -> SimNodeID {
        var keys = network.makeGenerator()
        let seedBytes = (0..<32).map { _ in UInt8(truncatingIfNeeded: keys.next()) }
        let identity = try IdentityKeyPair(seed: seedBytes)
        let address = PeerAddress.ipv4(
            10, UInt8(index >> 16), UInt8((index >> 8) & 0xFF), UInt8(index & 0xFF), port: 7946)
        var configuration = OverlayConfiguration.simulation
        configuration.swarmSecret = secret
        let core = try OverlayCore(
            identity: identity, address: address, configuration: configuration, wallClockAtZero: wallClock,
            random: network.makeGenerator())
        return network.makeNode(name: "o\(index)", address: address, core: core)
    }

    /// Joins every node but the first through the first, 10 ms apart, and runs until
    /// every node sees all others alive (at most `limit` of virtual time).
    static func joinAndConverge(_ network: inout Network, limit: Duration = .seconds(60)) -> Bool {
        let seed = network.address(of: network.nodeIDs[0])
        for node in network.nodeIDs.dropFirst() {
            network.command(node) { core, now in core.join([seed], now: now) }
            network.run(for: .milliseconds(10))
        }
        let start = network.now
        while network.now - start < limit {
            network.run(for: .milliseconds(500))
            if converged(network) { return true }
        }
        return false
    }

    static func converged(_ network: Network) -> Bool {
        network.nodeIDs.allSatisfy { network[core: $0].membership.aliveCount == network.nodeIDs.count - 1 }
    }

    /// Runs until lookup `id` at `node` finishes (at most 30 s of virtual time).
    static func await(_ id: LookupID, at node: SimNodeID, in network: inout Network) -> LookupResult? {
        for _ in 0..<300 {
            for event in network.drainEvents(of: node) {
                if case .routing(.lookupFinished(id, let result)) = event { return result }
            }
            network.run(for: .milliseconds(100))
        }
        return nil
    }

    @Test func hundredPeersConvergeLookUpBroadcastAndFloodToTheirTTL() async throws {
        try await offThePool {
            var network = try Self.network(seed: 11, count: 100)
            #expect(Self.joinAndConverge(&network))
            let nodes = network.nodeIDs
            for node in nodes { _ = network.drainEvents(of: node) }

            // Every routing table was filled from membership; lookups find signed records.
            var random = SeededGenerator(seed: 3)
            for _ in 0..<100 {
                let asker = nodes.randomElement(using: &random)!
                let wanted = nodes.filter { $0 != asker }.randomElement(using: &random)!
                let wantedID = network[core: wanted].localID
                let id = network.command(asker) { core, now in core.findPeer(wantedID, now: now) }
                let result = Self.await(id, at: asker, in: &network)
                guard case .peer(let record?) = result?.outcome else {
                    Issue.record(
                        "lookup of \(wantedID) from \(network.name(of: asker)) failed: \(String(describing: result))")
                    continue
                }
                #expect(record.record.peerID == wantedID)
                #expect(record.record.addresses == [network.address(of: wanted)])
            }

            // A broadcast reaches every other peer exactly once.
            for node in nodes { _ = network.drainEvents(of: node) }
            let origin = nodes[5]
            _ = try network.command(origin) { core, now in try core.broadcast(Array("hello".utf8), now: now) }
            network.run(for: .seconds(10))
            for node in nodes where node != origin {
                let deliveries = network.drainEvents(of: node).filter {
                    if case .spreading(.delivered(_, _, _, let payload)) = $0 { return payload == Array("hello".utf8) }
                    return false
                }
                #expect(deliveries.count == 1, "\(network.name(of: node)) got \(deliveries.count) copies")
            }

            // A TTL-2 flood reaches exactly the peers within two neighbour hops.
            let byID = Dictionary(uniqueKeysWithValues: nodes.map { (network[core: $0].localID, $0) })
            let asker = nodes[7]
            var within: Set<SimNodeID> = [asker]
            var frontier: Set<SimNodeID> = [asker]
            for _ in 0..<2 {
                frontier = Set(frontier.flatMap { network[core: $0].neighbours.keys.compactMap { byID[$0] } })
                    .subtracting(within)
                within.formUnion(frontier)
            }
            _ = try network.command(asker) { core, now in try core.query(Array("who?".utf8), ttl: 2, now: now) }
            network.run(for: .seconds(5))
            let reached = Set(
                nodes.filter { node in
                    network.drainEvents(of: node).contains {
                        if case .spreading(.query) = $0 { return true }
                        return false
                    }
                })
            #expect(reached == within.subtracting([asker]))
            #expect(reached.count < nodes.count - 1, "a TTL-2 flood should not reach everyone among 100")
        }
    }

    @Test func failedPeersLeaveTheRoutingTables() async throws {
        try await offThePool {
            var network = try Self.network(seed: 12, count: 30)
            #expect(Self.joinAndConverge(&network))
            let victim = network.nodeIDs[9]
            let victimID = network[core: victim].localID
            network.partition([[victim]])
            let others = network.nodeIDs.filter { $0 != victim }
            var detected = false
            for _ in 0..<120 where !detected {
                network.run(for: .seconds(1))
                detected = others.allSatisfy { network[core: $0].membership.member(victimID)?.state == .dead }
            }
            #expect(detected)
            for node in others {
                #expect(
                    network[core: node].routing.table.contact(for: victimID) == nil,
                    "\(network.name(of: node)) still routes to it")
                #expect(network[core: node].neighbours[victimID] == nil)
            }
        }
    }

    @Test func privateSwarmRefusesOutsiders() async throws {
        try await offThePool {
            let secret = [UInt8](repeating: 0x42, count: 32)
            var network = try Self.network(seed: 13, count: 12, secret: secret)
            let wrongSecret = try Self.addPeer(to: &network, index: 12, secret: [UInt8](repeating: 0x43, count: 32))
            let noSecret = try Self.addPeer(to: &network, index: 13, secret: nil)
            let seed = network.address(of: network.nodeIDs[0])
            for outsider in [wrongSecret, noSecret] {
                network.command(outsider) { core, now in core.join([seed], now: now) }
            }
            let insiders = Array(network.nodeIDs.prefix(12))
            for node in insiders.dropFirst() {
                network.command(node) { core, now in core.join([seed], now: now) }
            }
            network.run(for: .seconds(30))
            for node in insiders {
                #expect(network[core: node].membership.aliveCount == 11)
            }
            let drops = network[core: insiders[0]].statistics.drops
            #expect(drops[.unauthentic, default: 0] > 0)
            #expect(drops[.wrongMode, default: 0] > 0)
            #expect(network[core: wrongSecret].membership.aliveCount == 0)
            #expect(network[core: noSecret].membership.aliveCount == 0)
        }
    }

    @Test func sameSeedSameRun() async throws {
        try await offThePool { () throws in
            func run() throws -> [String] {
                var network = try Self.network(seed: 14, count: 20)
                network.recordsTrace = true
                _ = Self.joinAndConverge(&network, limit: .seconds(10))
                return network.nodeIDs.map { "\(network[core: $0].statistics.totalSent)" }
            }
            #expect(try run() == run())
        }
    }
}
