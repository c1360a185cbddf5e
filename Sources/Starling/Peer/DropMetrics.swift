import CoreMetrics
import StarlingCore

/// Reports a core's drop counters to swift-metrics.
///
/// The core counts drops in plain integers (it has no global state); this turns the
/// growth since the last report into counter increments:
/// `starling_datagrams_dropped_total{reason=…}` for each ``StarlingCore/DropReason``, and
/// `starling_messages_dropped_total` for authenticated payloads that were not valid
/// Starling messages. Use it on the peer's event loop only.
final class DropMetrics {
    private let datagrams: [DropReason: Counter]
    private let messages: Counter
    private var reported = DropCounters()
    private var reportedMessages = 0

    /// Creates the counters in `factory`, or in the process-wide factory when `nil`.
    init(factory: (any MetricsFactory)?) {
        let factory = factory ?? MetricsSystem.factory
        var datagrams: [DropReason: Counter] = [:]
        for reason in DropReason.allCases {
            datagrams[reason] = Counter(
                label: "starling_datagrams_dropped_total", dimensions: [("reason", reason.rawValue)],
                factory: factory)
        }
        self.datagrams = datagrams
        self.messages = Counter(label: "starling_messages_dropped_total", factory: factory)
    }

    /// Adds what `core` dropped since the last report.
    func report(_ core: PeerCore) {
        let now = core.sessionDrops
        for reason in DropReason.allCases where now[reason] > reported[reason] {
            datagrams[reason]?.increment(by: Int64(clamping: now[reason] - reported[reason]))
        }
        reported = now
        if core.droppedMessages > reportedMessages {
            messages.increment(by: Int64(core.droppedMessages - reportedMessages))
            reportedMessages = core.droppedMessages
        }
    }
}
