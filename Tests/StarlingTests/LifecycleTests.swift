import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Starling
import StarlingCore
import Testing

/// `Peer` and `Swarm` as swift-service-lifecycle services: graceful shutdown leaves the
/// overlay and closes sessions, and `run()` returns once the service is shut down,
/// whoever shut it down.
@Suite struct LifecycleTests {
    static func left(_ peer: PeerID) -> @Sendable (Peer.Event) -> Bool {
        { if case .membership(.left(let member)) = $0 { member.id == peer } else { false } }
    }

    @Test func peerService_gracefulShutdown_leavesTheOverlayAndClosesSessions() async throws {
        try await PeerAPITests.withOverlayPair { a, recordA, _, recordB in
            await testGracefulShutdown { trigger in
                let service = Task { await a.run() }
                trigger.triggerGracefulShutdown()
                await service.value
            }
            // `run()` returned after the shutdown: a's events are finished, and b heard a
            // leave, not fail.
            #expect(await recordA.isFinished)
            #expect(await recordB.first(where: Self.left(a.id)) != nil)
            #expect(!(await recordB.events.contains { if case .membership(.failed) = $0 { true } else { false } }))
            await #expect(throws: PeerError.shutDown) { try await a.members() }
        }
    }

    @Test func peerService_inAServiceGroup_cancelledGroupShutsThePeerDown() async throws {
        let peer = try await Peer.start()
        let record = EventRecorder(peer)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [peer], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        let running = Task { try await group.run() }
        running.cancel()
        try await running.value
        #expect(await record.waitUntilFinished())
        await #expect(throws: PeerError.shutDown) { try await peer.members() }
    }

    @Test func peerService_shutDownElsewhere_endsRun() async throws {
        let peer = try await Peer.start()
        let service = Task { await peer.run() }
        await peer.shutdown()
        // Returns once the shutdown has finished; a second shutdown waits for it too.
        await service.value
        await peer.shutdown()
        await peer.run()
    }

    @Test func swarmService_gracefulShutdown_shutsEveryPeerDown() async throws {
        let swarm = try await Swarm.launch(Swarm.Configuration(peers: 4))
        await testGracefulShutdown { trigger in
            let service = Task { await swarm.run() }
            trigger.triggerGracefulShutdown()
            await service.value
        }
        for peer in swarm.peers {
            await #expect(throws: PeerError.shutDown) { try await peer.members() }
        }
    }
}
