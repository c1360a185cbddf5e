import StarlingCore
import StarlingIO
import Testing

@testable import Starling

/// A hybrid ``Swarm`` in one process: index servers first, then clients that know them.
@Suite struct SwarmHybridTests {
    @Test func hybridSwarm_rolesFollowTheShape_andEveryPeerFindsTheOthers() async throws {
        var configuration = SwarmTests.configuration(peers: 10)
        configuration.shape = .hybrid(indexServers: 2)
        #expect(configuration.indexServerCount == 2)
        #expect((0..<10).map { configuration.role(of: $0) } == [.index, .index] + Array(repeating: .client, count: 8))
        let swarm = try await Swarm.launch(configuration)
        #expect(await SwarmTests.wait(for: swarm, within: .seconds(300)) { $0.isConverged(members: 10) })
        let peers = swarm.peers
        // Every client registers with the index servers, which then answer its lookups.
        var ready = false
        let deadline = ContinuousClock.now + .seconds(300)
        while !ready, ContinuousClock.now < deadline {
            let statuses = await swarm.statuses()
            ready = statuses.allSatisfy { status in
                guard let status else { return false }
                return status.indexServersUp == 2 && !status.isFallbackActive
            }
            if !ready { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(ready)
        let statuses = await swarm.statuses().compactMap { $0 }
        #expect(statuses.map(\.role) == (0..<10).map { configuration.role(of: $0) })
        #expect(statuses.prefix(2).allSatisfy { $0.registrationsHeld > 0 })
        for (index, asker) in peers.enumerated() {
            let wanted = peers[(index + 1) % peers.count]
            let found = await SwarmTests.retrying { try await asker.lookup(wanted.id).record.peerID == wanted.id }
            #expect(found, "\(index) → \((index + 1) % peers.count)")
        }
        await swarm.shutdown()
    }

    @Test func hybridSwarm_peerConfigurations_indexesFirstClientsJoinThroughThemInTurn() throws {
        var configuration = Swarm.Configuration(peers: 8)
        configuration.shape = .hybrid(indexServers: 2)
        let indexes = [PeerAddress.ipv4(127, 0, 0, 1, port: 4001), .ipv4(127, 0, 0, 1, port: 4002)]
        let seed = [indexes[0]]
        let first = configuration.peer(0, seeds: seed, indexes: [])
        let second = configuration.peer(1, seeds: seed, indexes: [indexes[0]])
        #expect(first.topology == .hybrid(.index(fellows: [])).withLimits(configuration.indexLimits))
        #expect(second.topology == .hybrid(.index(fellows: [indexes[0]])).withLimits(configuration.indexLimits))
        // Index servers get the standard socket queue; clients keep the swarm's small one.
        #expect(first.datagrams.socketBufferSize == DatagramOptions.standard.socketBufferSize)
        #expect(configuration.indexLimits.maximumRegistrationsPerHost >= 8)
        for index in 2..<8 {
            let client = configuration.peer(index, seeds: seed, indexes: indexes)
            #expect(client.topology == .hybrid(.client(indexes: indexes)))
            #expect(client.seeds == [indexes[index % 2]])
            #expect(client.datagrams.socketBufferSize == configuration.datagrams.socketBufferSize)
        }
        // Joining another process's swarm: everybody joins through its seeds.
        let elsewhere = PeerAddress.ipv4(127, 0, 0, 1, port: 5000)
        configuration.seeds = [elsewhere]
        #expect(configuration.peer(5, seeds: [elsewhere], indexes: indexes).seeds == [elsewhere])
        #expect(Swarm.Configuration(peers: 3).peer(1, seeds: seed).topology == .pure)
    }

    @Test(arguments: [0, 10, 11, 65])
    func hybridSwarm_badIndexServerCount_isRefusedBeforeLaunch(indexServers: Int) async {
        var configuration = Swarm.Configuration(peers: 10)
        configuration.shape = .hybrid(indexServers: indexServers)
        await #expect(throws: SwarmError.self) { try await Swarm.launch(configuration) }
    }
}

extension Topology {
    /// The same hybrid topology with the index limits `limits`.
    fileprivate func withLimits(_ limits: IndexLimits) -> Topology {
        guard case .hybrid(var hybrid) = self else { return self }
        hybrid.limits = limits
        return .hybrid(hybrid)
    }
}
