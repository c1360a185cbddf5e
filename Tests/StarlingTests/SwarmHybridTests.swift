import Starling
import StarlingCore
import Testing

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

    @Test(arguments: [0, 10, 11, 65])
    func hybridSwarm_badIndexServerCount_isRefusedBeforeLaunch(indexServers: Int) async {
        var configuration = Swarm.Configuration(peers: 10)
        configuration.shape = .hybrid(indexServers: indexServers)
        await #expect(throws: SwarmError.self) { try await Swarm.launch(configuration) }
    }
}
