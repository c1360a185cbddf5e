import MetricsTestKit
import Starling
import StarlingCore
import Testing

/// The swift-metrics a peer reports (the table in the Starling catalog's "Logging and
/// metrics" article): traffic counters and gauges of sessions and members.
@Suite struct PeerMetricsTests {
    @Test func traffic_sessions_andMembers_areReported() async throws {
        let metrics = TestMetrics()
        var configuration = PeerConfiguration()
        configuration.overlay = .local
        configuration.metricsFactory = metrics
        try await PeerAPITests.withOverlayPair(.local) { a, _, b, _ in
            configuration.seeds = [a.address]
            let peer = try await Peer.start(configuration)
            let record = EventRecorder(peer)
            try await PeerTests.shuttingDown(peer) {
                #expect(await record.first(where: PeerAPITests.joined(a.id)) != nil)
                #expect(await record.first(where: PeerAPITests.joined(b.id)) != nil)
                try await peer.connect(to: a.address, expecting: a.id)
                try await peer.send([1, 2, 3], to: a.id)
                _ = await peer.drops()  // brings the metrics up to date
                #expect(metrics.counterTotal(label: "starling_datagrams_sent_total") > 0)
                #expect(metrics.counterTotal(label: "starling_datagrams_received_total") > 0)
                #expect(try metrics.expectGauge("starling_sessions").lastValue ?? 0 >= 1)
                #expect(try metrics.expectGauge("starling_members", [("state", "alive")]).lastValue == 2)
                #expect(try metrics.expectGauge("starling_members", [("state", "failed")]).lastValue == 0)
            }
        }
    }
}
