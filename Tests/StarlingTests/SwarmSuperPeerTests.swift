import StarlingCore
import StarlingIO
import Testing

@testable import Starling

/// A super-peer ``Swarm`` in one process, on loopback: super-peers are elected, every
/// leaf holds three of them, and when one super-peer crashes its leaves fail over to the
/// others while every live peer still finds every other.
@Suite struct SwarmSuperPeerTests {
    /// Peers in the swarm, and leaves per super-peer: about five super-peers, so that
    /// one can be lost and three remain for every leaf.
    static let peers = 30
    static let ratio = 5

    /// Polls the swarm's statuses until `condition` holds for them, or `deadline` passes
    /// (a bound against hanging, not a timing check). Returns the statuses last read and
    /// whether the condition held.
    static func waitForStatuses(
        of swarm: Swarm, within deadline: Duration = .seconds(300),
        until condition: ([OverlayStatus?]) -> Bool
    ) async -> (statuses: [OverlayStatus?], held: Bool) {
        let end = ContinuousClock.now + deadline
        var statuses = await swarm.statuses()
        while !condition(statuses) {
            guard ContinuousClock.now < end else { return (statuses, false) }
            try? await Task.sleep(for: .milliseconds(250))
            statuses = await swarm.statuses()
        }
        return (statuses, true)
    }

    /// Whether every live leaf is held by three super-peers, all of them live super-peers
    /// (`statuses[i] == nil`: peer `i` is shut down).
    static func everyLeafOnThreeLiveSuperPeers(_ statuses: [OverlayStatus?], ids: [PeerID]) -> Bool {
        let superPeers = Set(
            zip(ids, statuses).compactMap { id, status in status?.role == .superPeer ? id : nil })
        guard superPeers.count >= 3 else { return false }
        return statuses.allSatisfy { status in
            guard let status, status.role == .leaf else { return true }
            return status.superPeers.count == 3 && status.superPeers.allSatisfy(superPeers.contains)
        }
    }

    @Test func superPeerSwarm_crashedSuperPeer_leavesFailOverAndLookupsKeepWorking() async throws {
        var configuration = SwarmTests.configuration(peers: Self.peers)
        configuration.shape = .superPeer
        configuration.superPeer.leavesPerSuperPeer = Self.ratio
        let swarm = try await Swarm.launch(configuration)
        let peers = swarm.peers
        let ids = peers.map(\.id)
        #expect(await SwarmTests.wait(for: swarm, within: .seconds(300)) { $0.isConverged(members: Self.peers) })
        let (settled, isSettled) = await Self.waitForStatuses(of: swarm) {
            Self.everyLeafOnThreeLiveSuperPeers($0, ids: ids)
        }
        try #require(isSettled, "leaves did not settle on three super-peers each")
        let elected = settled.indices.filter { settled[$0]?.role == .superPeer }
        // Every super-peer a leaf is attached to holds leaves. (One promoted a moment ago,
        // as a busy machine's late election rounds can make, may hold none yet.)
        let serving = Set(settled.compactMap { $0?.superPeers }.joined())
        #expect(serving.count >= 3)
        #expect(elected.filter { serving.contains(ids[$0]) }.allSatisfy { (settled[$0]?.leaves ?? 0) > 0 })

        // The super-peer holding the most leaves crashes (no goodbye).
        let victim = elected.max { (settled[$0]?.leaves ?? 0) < (settled[$1]?.leaves ?? 0) }!
        let orphans = settled.indices.filter { settled[$0]?.superPeers.contains(ids[victim]) == true }
        #expect(!orphans.isEmpty)
        await peers[victim].shutdown(leavingOverlay: false)
        let (_, repaired) = await Self.waitForStatuses(of: swarm) { statuses in
            statuses[victim] == nil && Self.everyLeafOnThreeLiveSuperPeers(statuses, ids: ids)
        }
        #expect(repaired, "the crashed super-peer's leaves did not fail over")

        // Every live peer finds the next live one, including the crashed one's leaves.
        let live = peers.indices.filter { $0 != victim }
        for (position, asker) in live.enumerated() {
            let wanted = live[(position + 1) % live.count]
            let found = await SwarmTests.retrying {
                try await peers[asker].lookup(ids[wanted]).record.peerID == ids[wanted]
            }
            #expect(found, "\(asker) → \(wanted)")
        }
        await swarm.shutdown()
    }
}
