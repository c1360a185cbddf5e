import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// Names held by the topologies' authorities: the index servers of a hybrid swarm and
/// the super-peers of a super-peer one (``NameAuthorities``).
@Suite struct NameAuthoritySimulationTests {
    static let indexCount = 3

    /// A published name's record-alone key: `www` in `node`'s zone.
    static func key(of node: SimNodeID, in swarm: NodeSwarm) -> RoutingKey {
        RoutingKey(nameZone: swarm.peerID(of: node), path: "www")
    }

    /// The peers among `nodes` that hold a chain at `key`.
    static func holding(_ key: RoutingKey, in swarm: NodeSwarm, among nodes: [SimNodeID]? = nil) -> Set<SimNodeID> {
        Set(
            (nodes ?? swarm.nodes).filter {
                swarm.overlay(of: $0).routing.nameStore.chain(at: key, now: swarm.network.now) != nil
            })
    }

    /// The nodes that hold `key` by rendezvous placement among `authorities`.
    static func placement(of key: RoutingKey, among authorities: [SimNodeID], in swarm: NodeSwarm, count: Int = 2)
        -> Set<SimNodeID>
    {
        var byID: [PeerID: SimNodeID] = [:]
        for node in authorities { byID[swarm.peerID(of: node)] = node }
        return Set(IndexPlacement.holders(of: key, among: byID.keys, count: count).compactMap { byID[$0] })
    }

    /// A settled hybrid swarm of 40 peers, the first three index servers.
    static func hybridSwarm() throws -> NodeSwarm {
        try NameSimulationTests.swarm(
            count: 40,
            overlayOfPeer: { index, base in NodeSwarm.hybridOverlay(ofPeer: index, indexes: indexCount, base: base) },
            converged: { $0.isConverged() && $0.isRegistered(indexes: indexCount) })
    }

    /// Publishes `www.<publisher>` at `publisher` and waits for its report.
    static func publishWWW(_ swarm: inout NodeSwarm, at publisher: SimNodeID, version: String = "1") throws
        -> NamePublication
    {
        let name = try OverlayName("www.\(swarm.peerID(of: publisher))")
        let data = NameData(text: [NameText(key: "v", value: version)])
        return try NameSimulationTests.waitForPublication(
            &swarm, swarm.publishName(name, content: .data(data), at: publisher), at: publisher)
    }

    static func resolveWWW(_ swarm: inout NodeSwarm, of publisher: SimNodeID, at node: SimNodeID) throws
        -> Result<ResolvedName, NameError>
    {
        try NameSimulationTests.resolve(&swarm, try OverlayName("www.\(swarm.peerID(of: publisher))"), at: node)
    }

    /// In a hybrid swarm the two index servers that rank first for a key hold its chain
    /// and nobody else does; a resolution asks them in one round trip. When one of them
    /// is lost, resolutions still succeed from the other, and the chain is handed to the
    /// index server that takes the lost one's place.
    @Test func hybrid_indexServersHoldNames_andHandThemOverWhenOneIsLost() async throws {
        try await offThePool { () throws in
            var swarm = try Self.hybridSwarm()
            let indexes = Array(swarm.nodes.prefix(Self.indexCount))
            let publisher = SimNodeID(rawValue: 10)
            let key = Self.key(of: publisher, in: swarm)
            let published = try Self.publishWWW(&swarm, at: publisher)
            #expect(published.storedAt == 2, "both holders acknowledge")
            let holders = Self.placement(of: key, among: indexes, in: swarm)
            #expect(Self.holding(key, in: swarm) == holders, "only the index servers that rank first hold it")

            let resolved = try Self.resolveWWW(&swarm, of: publisher, at: SimNodeID(rawValue: 30)).get()
            #expect(resolved.lookups == 1)
            #expect(resolved.roundTrips == 1)

            let lost = try #require(holders.sorted { $0.rawValue < $1.rawValue }.first)
            swarm.network.partition([[lost]])
            // Asked before anyone noticed, the other holder answers.
            #expect(try Self.resolveWWW(&swarm, of: publisher, at: SimNodeID(rawValue: 31)).get().lookups >= 1)
            let live = indexes.filter { $0 != lost }
            let newHolders = Self.placement(of: key, among: live, in: swarm)
            let handedOver = swarm.run(limit: .seconds(60)) { swarm in
                newHolders.isSubset(of: Self.holding(key, in: swarm, among: live))
            }
            #expect(handedOver, "the chain did not reach \(newHolders) after the loss of \(lost)")
            let handoffs = live.reduce(0) { $0 + swarm.overlay(of: $1).routing.namesHandedOff }
            #expect(handoffs > 0)
            let after = try Self.resolveWWW(&swarm, of: publisher, at: SimNodeID(rawValue: 32)).get()
            #expect(after.roundTrips == 1)
        }
    }

    /// With every index server lost, names go to the Kademlia overlay; a name published
    /// then is republished to the index servers when one comes back.
    @Test func hybrid_withoutIndexServers_namesLiveInKademlia_untilOneReturns() async throws {
        try await offThePool { () throws in
            var swarm = try Self.hybridSwarm()
            let indexes = Array(swarm.nodes.prefix(Self.indexCount))
            let clients = Array(swarm.nodes.dropFirst(Self.indexCount))
            swarm.network.partition([indexes])
            let fellBack = swarm.run(limit: .seconds(30)) { swarm in
                clients.allSatisfy { swarm.overlay(of: $0).hybrid?.isFallbackActive == true }
            }
            try #require(fellBack)
            let publisher = SimNodeID(rawValue: 11)
            let key = Self.key(of: publisher, in: swarm)
            #expect(try Self.publishWWW(&swarm, at: publisher).storedAt > 0)
            #expect(!Self.holding(key, in: swarm, among: clients).isEmpty, "stored in Kademlia")
            #expect(try Self.resolveWWW(&swarm, of: publisher, at: SimNodeID(rawValue: 25)).get().lookups == 1)

            swarm.network.partition([])
            let republished = swarm.run(limit: .seconds(90)) { swarm in
                let holders = Self.placement(of: key, among: indexes, in: swarm)
                return holders.isSubset(of: Self.holding(key, in: swarm, among: indexes))
            }
            #expect(republished, "the name did not reach the index servers once they were back")
        }
    }

    /// In a super-peer swarm the super-peers hold names: a leaf's name is stored at the
    /// super-peers that rank first for its key, and another leaf resolves it there.
    @Test func superPeer_superPeersHoldNames() async throws {
        try await offThePool { () throws in
            var swarm = try NameSimulationTests.swarm(
                count: 100, overlayOfPeer: { _, base in NodeSwarm.superPeerOverlay(base: base) },
                limit: .seconds(180),
                converged: { $0.isConverged() && $0.superPeerNodes().count >= 2 && $0.leavesSeeTheirSuperPeers() })
            let superPeers = swarm.superPeerNodes()
            try #require(superPeers.count >= 2)
            let leaves = swarm.nodes.filter { !superPeers.contains($0) }
            let publisher = try #require(leaves.first)
            let resolver = try #require(leaves.last)
            let key = Self.key(of: publisher, in: swarm)
            let published = try Self.publishWWW(&swarm, at: publisher)
            // The holders, and the leaf's attached super-peer when it is not one.
            #expect((2...3).contains(published.storedAt))
            let holders = Self.placement(of: key, among: superPeers, in: swarm)
            #expect(holders.isSubset(of: Self.holding(key, in: swarm)))
            #expect(Self.holding(key, in: swarm, among: leaves).isEmpty, "no leaf holds it")

            let resolved = try Self.resolveWWW(&swarm, of: publisher, at: resolver).get()
            #expect(resolved.data?.text == [NameText(key: "v", value: "1")])
            #expect(resolved.lookups == 1)
            #expect(resolved.roundTrips <= 2)
        }
    }
}
