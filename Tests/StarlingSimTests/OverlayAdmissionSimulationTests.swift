import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// Address checks in a whole swarm: they prove every pair of members once, never
/// strand a held datagram, and leave convergence as it was.
@Suite struct OverlayAdmissionSimulationTests {
    @Test(arguments: [false, true]) func swarm_provesItsMembers_withoutDroppingHeldDatagrams(sealed: Bool) async throws
    {
        try await offThePool {
            let secret: [UInt8]? = sealed ? [UInt8](repeating: 0x33, count: 32) : nil
            var network = try OverlaySimulationTests.network(seed: 21, count: 60, secret: secret)
            #expect(OverlaySimulationTests.joinAndConverge(&network))
            network.run(for: .seconds(20))
            let peers = network.nodeIDs.count
            for node in network.nodeIDs {
                let core = network[core: node]
                let admission = core.admissionStatistics
                // Nothing waited past its time, nothing was refused, no check went astray.
                #expect(admission.droppedHeldDatagrams == 0)
                #expect(admission.refusedChallenges == 0)
                #expect(admission.unmatchedResponses == 0)
                #expect(core.statistics.drops.isEmpty)
                // Each other member is challenged about once (a few retries at most).
                #expect(admission.challengesSent <= 2 * peers)
                #expect(core.membership.aliveCount == peers - 1)
            }
        }
    }
}
