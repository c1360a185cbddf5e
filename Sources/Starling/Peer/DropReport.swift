import CoreMetrics
import Logging
import StarlingCore

/// What a peer's core dropped, by layer and reason: reported to swift-metrics and
/// explained in the log.
///
/// The core counts drops in plain integers (it has no global state, and a dropped
/// datagram costs it no more than an increment); this turns the growth since the last
/// report into counter increments and `debug` log lines, once a second and at shutdown:
/// - `starling_datagrams_dropped_total{reason}`: session datagrams, by
///   ``StarlingCore/DropReason``;
/// - `starling_messages_dropped_total`: authenticated payloads that were not valid
///   Starling messages;
/// - `starling_overlay_dropped_total{layer,reason}`: overlay datagrams and messages
///   dropped by the overlay, membership, routing, spreading and super-peer layers.
///
/// Use it on the peer's event loop only.
final class DropReport {
    /// One kind of drop: where and why.
    struct Kind: Hashable {
        let layer: String
        let reason: String
    }

    private let factory: any MetricsFactory
    private let logger: Logger
    private var sessionCounters: [DropReason: Counter] = [:]
    private let messages: Counter
    private var overlayCounters: [Kind: Counter] = [:]
    private var reportedSession = DropCounters()
    private var reportedMessages = 0
    private var reportedOverlay: [Kind: Int] = [:]

    /// Creates the counters in `factory`, or in the process-wide factory when `nil`.
    init(factory: (any MetricsFactory)?, logger: Logger) {
        let factory = factory ?? MetricsSystem.factory
        self.factory = factory
        self.logger = logger
        for reason in DropReason.allCases {
            sessionCounters[reason] = Counter(
                label: "starling_datagrams_dropped_total", dimensions: [("reason", reason.rawValue)],
                factory: factory)
        }
        self.messages = Counter(label: "starling_messages_dropped_total", factory: factory)
    }

    /// Adds what `core` dropped since the last report.
    func report(_ core: NodeCore) {
        let session = core.peer.sessionDrops
        for reason in DropReason.allCases where session[reason] > reportedSession[reason] {
            let count = session[reason] - reportedSession[reason]
            sessionCounters[reason]?.increment(by: Int64(clamping: count))
            logger.debug(
                "datagrams dropped",
                metadata: ["layer": "session", "reason": "\(reason.rawValue)", "count": "\(count)"])
        }
        reportedSession = session
        let dropped = core.peer.droppedMessages
        if dropped > reportedMessages {
            messages.increment(by: Int64(dropped - reportedMessages))
            logger.debug(
                "messages dropped",
                metadata: [
                    "layer": "messages", "reason": "not a valid Starling message",
                    "count": "\(dropped - reportedMessages)",
                ])
            reportedMessages = dropped
        }
        guard let overlay = core.overlay else { return }
        for (kind, total) in Self.overlayDrops(overlay) where total > reportedOverlay[kind, default: 0] {
            let count = total - reportedOverlay[kind, default: 0]
            reportedOverlay[kind] = total
            counter(for: kind).increment(by: Int64(count))
            logger.debug(
                "overlay messages dropped",
                metadata: ["layer": "\(kind.layer)", "reason": "\(kind.reason)", "count": "\(count)"])
        }
    }

    private func counter(for kind: Kind) -> Counter {
        if let counter = overlayCounters[kind] { return counter }
        let counter = Counter(
            label: "starling_overlay_dropped_total", dimensions: [("layer", kind.layer), ("reason", kind.reason)],
            factory: factory)
        overlayCounters[kind] = counter
        return counter
    }

    /// Every drop count of the overlay's layers, by kind. Layers and reasons are
    /// camel-case words, as ``StarlingCore/DropReason``'s raw values are.
    static func overlayDrops(_ overlay: OverlayCore) -> [(Kind, Int)] {
        var drops: [(Kind, Int)] = []
        func add(_ layer: String, _ reason: String, _ count: Int) {
            if count > 0 { drops.append((Kind(layer: layer, reason: reason), count)) }
        }
        let statistics = overlay.statistics
        for (reason, count) in statistics.drops { add("overlay", camelCase(reason.description), count) }
        add("overlay", "oversized", statistics.oversized)
        add("overlay", "relayRefused", statistics.relaysRefused)
        add("overlay", "heldDatagramDropped", overlay.admissionStatistics.droppedHeldDatagrams)
        let membership = overlay.membership.statistics
        add("membership", "malformed", membership.malformedDropped)
        add("membership", "misaddressed", membership.misaddressedDropped)
        add("membership", "forgedClaim", membership.forgedClaims)
        add("membership", "memberRefused", membership.membersRefused)
        for (reason, count) in overlay.routing.drops { add("routing", "\(reason)", count) }
        let spreading = overlay.spreading.statistics
        add("spreading", "malformed", spreading.malformedDropped)
        add("spreading", "noRoute", spreading.noRouteDropped)
        add("spreading", "forgedOrigin", spreading.forgedOrigin)
        if let superPeer = overlay.superPeer?.statistics {
            add("superPeer", "malformed", superPeer.malformedDropped)
            add("superPeer", "relayDropped", superPeer.relaysDropped)
        }
        return drops
    }

    /// "below replay floor" as "belowReplayFloor".
    static func camelCase(_ words: String) -> String {
        let parts = words.split(whereSeparator: { $0 == " " || $0 == "-" })
        guard let first = parts.first else { return words }
        return first.lowercased() + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
