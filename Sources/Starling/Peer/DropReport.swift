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
    /// One kind of overlay drop: where and why.
    struct Kind: Hashable {
        let layer: String
        let reason: String
    }

    private let factory: any MetricsFactory
    private var sessionCounters: [DropReason: Counter] = [:]
    private let messages: Counter
    private var overlayCounters: [Kind: Counter] = [:]
    private var sessionLog: DropLog<DropReason>
    private var messageLog: DropLog<String>
    private var overlayLog: DropLog<Kind>

    /// Creates the counters in `factory`, or in the process-wide factory when `nil`.
    init(factory: (any MetricsFactory)?, logger: Logger) {
        let factory = factory ?? MetricsSystem.factory
        self.factory = factory
        for reason in DropReason.allCases {
            sessionCounters[reason] = Counter(
                label: "starling_datagrams_dropped_total", dimensions: [("reason", reason.rawValue)],
                factory: factory)
        }
        self.messages = Counter(label: "starling_messages_dropped_total", factory: factory)
        var session = logger
        session[metadataKey: "layer"] = "session"
        sessionLog = DropLog("datagrams dropped", logger: session) { ["reason": "\($0.rawValue)"] }
        var messages = logger
        messages[metadataKey: "layer"] = "messages"
        messageLog = DropLog("messages dropped", logger: messages)
        overlayLog = DropLog("overlay messages dropped", logger: logger) {
            ["layer": "\($0.layer)", "reason": "\($0.reason)"]
        }
    }

    /// Adds what `core` dropped since the last report.
    func report(_ core: NodeCore) {
        let counts = core.peer.sessionDrops
        var session: [DropReason: Int] = [:]
        for reason in DropReason.allCases where counts[reason] > 0 { session[reason] = Int(clamping: counts[reason]) }
        for (reason, count) in sessionLog.update(session) {
            sessionCounters[reason]?.increment(by: Int64(count))
        }
        for (_, count) in messageLog.update(["notAStarlingMessage": core.peer.droppedMessages]) {
            messages.increment(by: Int64(count))
        }
        guard let overlay = core.overlay else { return }
        for (kind, count) in overlayLog.update(Self.overlayDrops(overlay)) {
            counter(for: kind).increment(by: Int64(count))
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
    static func overlayDrops(_ overlay: OverlayCore) -> [Kind: Int] {
        var drops: [Kind: Int] = [:]
        func add(_ layer: String, _ reason: String, _ count: Int) {
            if count > 0 { drops[Kind(layer: layer, reason: reason), default: 0] += count }
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
