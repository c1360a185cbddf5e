import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// Overlay names in a simulated pure swarm: delegation, stapled chains, the cache, and
/// strangers who try to forge or roll back records.
@Suite struct NameSimulationTests {
    /// A converged swarm of `count` peers in which `alice` is pinned to peer 1, of the
    /// pure topology unless `overlayOfPeer` says otherwise.
    static func swarm(
        count: Int, seed: UInt64 = 13,
        overlayOfPeer: @escaping (Int, OverlayConfiguration) -> OverlayConfiguration = { $1 },
        limit: Duration = .seconds(60), converged: @escaping (NodeSwarm) -> Bool = { $0.isConverged() }
    ) throws -> NodeSwarm {
        // The identities follow from the seed: a first build tells peer 1's ID to pin.
        let alice = try NodeSwarm(seed: seed, count: 2).peerID(of: SimNodeID(rawValue: 1))
        var overlay = OverlayConfiguration.simulation
        overlay.namePins = ["alice": alice]
        var swarm = try NodeSwarm(seed: seed, count: count, overlayOfPeer: { overlayOfPeer($0, overlay) })
        swarm.joinThroughFirst()
        let converged = swarm.run(limit: limit) { converged($0) }
        try #require(converged)
        #expect(swarm.peerID(of: SimNodeID(rawValue: 1)) == alice)
        return swarm
    }

    static func waitForPublication(_ swarm: inout NodeSwarm, _ id: NameRequestID?, at node: SimNodeID) throws
        -> NamePublication
    {
        let id = try #require(id)
        _ = swarm.run(limit: .seconds(30)) { $0.publication(id, at: node) != nil }
        return try #require(swarm.publication(id, at: node)).get()
    }

    static func resolve(_ swarm: inout NodeSwarm, _ name: OverlayName, at node: SimNodeID) throws
        -> Result<ResolvedName, NameError>
    {
        let started = swarm.resolveName(name, at: node)
        let id = try #require(started)
        _ = swarm.run(limit: .seconds(30)) { $0.resolution(id, at: node) != nil }
        return try #require(swarm.resolution(id, at: node))
    }

    @Test func delegatedNamesResolveAcrossTheSwarm() throws {
        var swarm = try Self.swarm(count: 60)
        try Self.delegateAndResolve(&swarm)
    }

    /// The same calls in the other two topologies, where the index servers and the
    /// super-peers hold the names (``NameAuthoritySimulationTests``), and the Kademlia
    /// overlay does while none is known.
    @Test(arguments: ["hybrid", "super-peer"])
    func delegatedNamesResolveInEveryTopology(topology: String) throws {
        var swarm = try Self.swarm(
            count: 60,
            overlayOfPeer: { index, base in
                topology == "hybrid"
                    ? NodeSwarm.hybridOverlay(ofPeer: index, indexes: 3, base: base)
                    : NodeSwarm.superPeerOverlay(base: base)
            },
            converged: { swarm in
                topology == "hybrid"
                    ? swarm.isConverged() && swarm.isRegistered(indexes: 3)
                    : swarm.isConverged() && swarm.leavesSeeTheirSuperPeers()
            })
        try Self.delegateAndResolve(&swarm)
    }

    /// Alice delegates `lab` to Bob, Bob publishes `printer.lab.alice`, and Carol resolves
    /// it (once through the overlay, then from her cache); then the misses.
    static func delegateAndResolve(_ swarm: inout NodeSwarm) throws {
        let alice = SimNodeID(rawValue: 1)
        let bob = SimNodeID(rawValue: 2)
        let carol = SimNodeID(rawValue: 40)
        let lab = try OverlayName("lab.alice")
        let printer = try OverlayName("printer.lab.alice")
        let data = NameData(peer: swarm.peerID(of: bob), addresses: [swarm.network.address(of: bob)])
        _ = try Self.waitForPublication(
            &swarm, swarm.publishName(lab, content: .delegation(swarm.peerID(of: bob)), at: alice), at: alice)
        let published = try Self.waitForPublication(
            &swarm, swarm.publishName(printer, content: .data(data), at: bob), at: bob)
        // Alone under bob's zone, and stapled under alice's.
        #expect(published.chains == 2)
        #expect(published.storedAt > 0)

        let resolved = try Self.resolve(&swarm, printer, at: carol).get()
        #expect(resolved.data == data)
        #expect(resolved.chain.map(\.record.zone) == [swarm.peerID(of: alice), swarm.peerID(of: bob)])
        #expect(resolved.lookups == 1)
        // The second time the cache answers: no lookup, no datagram.
        let sentBefore = swarm.overlay(of: carol).statistics.sent[.routing, default: 0]
        let cached = try Self.resolve(&swarm, printer, at: carol).get()
        #expect(cached.lookups == 0)
        #expect(swarm.overlay(of: carol).statistics.sent[.routing, default: 0] == sentBefore)

        // A name nobody published, and a top-level name nobody pinned.
        #expect(
            try Self.resolve(&swarm, try OverlayName("fax.lab.alice"), at: carol)
                == .failure(.noSuchName("fax.lab.alice")))
        #expect(
            try Self.resolve(&swarm, try OverlayName("www.mallory"), at: carol)
                == .failure(.unpinnedTopLevel("mallory")))
        // Only the zone's owner may publish in it.
        let refusedID = swarm.publishName(try OverlayName("www.alice"), content: .data(data), at: carol)
        let refused = try #require(refusedID)
        _ = swarm.run(limit: .seconds(5)) { $0.publication(refused, at: carol) != nil }
        #expect(swarm.publication(refused, at: carol) == .failure(.notOwner("www.alice")))
    }

    /// A stranger who stores an older record, or a forged one, changes nothing: the
    /// storers refuse them and resolvers still get the newest record.
    @Test func storersRefuseRollbacksAndForgeries() throws {
        var swarm = try Self.swarm(count: 40)
        let alice = SimNodeID(rawValue: 1)
        let mallory = SimNodeID(rawValue: 30)
        let reader = SimNodeID(rawValue: 20)
        let www = try OverlayName("www.alice")
        let old = NameData(text: [NameText(key: "v", value: "1")])
        let new = NameData(text: [NameText(key: "v", value: "2")])
        _ = try Self.waitForPublication(&swarm, swarm.publishName(www, content: .data(old), at: alice), at: alice)
        // Mallory keeps a copy of the first chain as the storers hold it.
        let key = RoutingKey(nameZone: swarm.peerID(of: alice), path: "www")
        let oldChain = try #require(
            swarm.nodes.lazy.compactMap {
                swarm.overlay(of: $0).routing.nameStore.chain(at: key, now: swarm.network.now)
            }
            .first)
        _ = try Self.waitForPublication(&swarm, swarm.publishName(www, content: .data(new), at: alice), at: alice)
        let holders = swarm.nodes.filter {
            swarm.overlay(of: $0).routing.nameStore.chain(at: key, now: swarm.network.now) != nil
        }
        #expect(!holders.isEmpty)

        // Mallory replays the old chain, and a forged one, to every holder.
        var forgedBytes = oldChain.records[0].encoded
        forgedBytes[forgedBytes.count - IdentityKeyPair.signatureSize - 1] ^= 1
        var byteReader = ByteReader(forgedBytes)
        let forged = NameChain(records: [try SignedNameRecord.decode(from: &byteReader)])
        let staleBefore = holders.map { swarm.overlay(of: $0).routing.drops[.staleName, default: 0] }
        let invalidBefore = holders.map { swarm.overlay(of: $0).routing.drops[.invalidRecord, default: 0] }
        let envelope = OverlayEnvelope(swarmID: OverlayConfiguration.simulation.swarmID, swarmSecret: nil)
        let malloryAddress = swarm.network.address(of: mallory)
        var random = TestRandom(seed: 5)
        for holder in holders {
            for chain in [oldChain, forged] {
                let message = RoutingMessage(
                    requestID: random.next(), sender: swarm.peerID(of: mallory), body: .storeName(chain: chain))
                var datagram: [UInt8] = []
                envelope.encode(
                    .routing, try message.encode(), sentAt: NodeSwarm.wallClockAtZero + (swarm.network.now - .zero),
                    into: &datagram, using: &random)
                swarm.network.command(holder) { core, now in
                    datagram.withUnsafeBytes { core.handleDatagram($0, from: malloryAddress, now: now) }
                }
            }
        }
        swarm.run(for: .seconds(2))
        for (index, holder) in holders.enumerated() {
            let routing = swarm.overlay(of: holder).routing
            #expect(routing.drops[.staleName, default: 0] == staleBefore[index] + 1)
            #expect(routing.drops[.invalidRecord, default: 0] == invalidBefore[index] + 1)
            let held = try #require(routing.nameStore.chain(at: key, now: swarm.network.now))
            #expect(held.last?.record.content == .data(new))
        }
        #expect(try Self.resolve(&swarm, www, at: reader).get().data == new)
    }
}
