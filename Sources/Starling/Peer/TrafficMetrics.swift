import CoreMetrics
import StarlingCore
import StarlingIO

/// A peer's traffic and state in swift-metrics, brought up to date once a second and at
/// shutdown: datagrams moved, what the kernel and the socket refused, events a slow
/// reader missed, and gauges of sessions and overlay members.
///
/// Every metric carries no peer dimension: in a process of many peers (a ``Swarm``)
/// counters add up and gauges are the last peer's report, unless each peer is given its
/// own factory (``PeerConfiguration/metricsFactory``). Use it on the peer's event loop only.
final class TrafficMetrics {
    private let received: Counter
    private let sent: Counter
    private let receiveQueueDrops: Counter
    private let socketErrors: Counter
    private let eventsDropped: Counter
    private let sessions: Gauge
    private let members: [MemberState: Gauge]
    private var reported = DriverStatistics()
    private var reportedEvents: UInt64 = 0

    /// Creates the metrics in `factory`, or in the process-wide factory when `nil`.
    init(factory: (any MetricsFactory)?) {
        let factory = factory ?? MetricsSystem.factory
        received = Counter(label: "starling_datagrams_received_total", factory: factory)
        sent = Counter(label: "starling_datagrams_sent_total", factory: factory)
        receiveQueueDrops = Counter(label: "starling_receive_queue_drops_total", factory: factory)
        socketErrors = Counter(label: "starling_socket_errors_total", factory: factory)
        eventsDropped = Counter(label: "starling_events_dropped_total", factory: factory)
        sessions = Gauge(label: "starling_sessions", factory: factory)
        var members: [MemberState: Gauge] = [:]
        for (state, name) in [(MemberState.alive, "alive"), (.suspect, "suspected"), (.dead, "failed")] {
            members[state] = Gauge(label: "starling_members", dimensions: [("state", name)], factory: factory)
        }
        self.members = members
    }

    /// Reports what changed since the last report.
    func report(_ core: NodeCore, driver: DriverStatistics, eventsDropped dropped: UInt64) {
        Self.add(driver.datagramsReceived - reported.datagramsReceived, to: received)
        Self.add(driver.datagramsSent - reported.datagramsSent, to: sent)
        Self.add(driver.receiveQueueDrops - reported.receiveQueueDrops, to: receiveQueueDrops)
        Self.add(driver.socketErrors - reported.socketErrors, to: socketErrors)
        reported = driver
        if dropped > reportedEvents {
            eventsDropped.increment(by: Int64(clamping: dropped - reportedEvents))
            reportedEvents = dropped
        }
        sessions.record(core.peer.establishedPeers.count)
        if let overlay = core.overlay {
            for (state, gauge) in members { gauge.record(overlay.membership.count(of: state)) }
        }
    }

    private static func add(_ count: Int, to counter: Counter) {
        if count > 0 { counter.increment(by: Int64(count)) }
    }
}
