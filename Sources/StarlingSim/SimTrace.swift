public import StarlingCore

/// The record of a simulation run: one entry per thing that happened, plus counters.
///
/// ### Purpose
/// Two runs from the same seed must produce equal traces; compare them with `==`.
/// Entries hold only plain values (events are kept as their `String(describing:)`
/// text), so a trace is `Equatable` whatever the core's event type.
///
/// ### Cost
/// ``statistics`` are always counted. ``entries`` are kept only while ``isRecording``;
/// switch recording off for large swarms, where the entries dominate memory.
public struct SimTrace: Equatable, Sendable {
    /// Why the network dropped a datagram.
    public enum DropReason: Int, CaseIterable, Equatable, Hashable, Sendable, CustomStringConvertible {
        /// The link's ``LinkConditions/lossProbability`` chose it.
        case loss
        /// It was larger than the link's ``LinkConditions/mtu``.
        case oversize
        /// The link was cut by ``LinkConditions/partitioned`` or a partition, when it was
        /// sent or when it arrived.
        case partitioned
        /// No node has the destination address.
        case noRoute
        /// The destination's receive queue on its ``SimHost`` was full when it arrived.
        case receiveQueueFull

        public var description: String {
            switch self {
            case .loss: "loss"
            case .oversize: "oversize"
            case .partitioned: "partitioned"
            case .noRoute: "no route"
            case .receiveQueueFull: "receive queue full"
            }
        }
    }

    /// What one trace entry records.
    public enum Kind: Equatable, Sendable {
        /// The node's core emitted a datagram of `size` bytes for `to`.
        case sent(to: PeerAddress, size: Int)
        /// The node received a datagram of `size` bytes from node `from`.
        case delivered(from: SimNodeID, size: Int)
        /// A datagram the node sent to `to` was dropped.
        case dropped(DropReason, to: PeerAddress, size: Int)
        /// The link made a second copy of a datagram the node sent to `to`.
        case duplicated(to: PeerAddress)
        /// The node's timer fired and its core handled the timeout.
        case timer
        /// The node's core reported an event, shown as text.
        case event(String)
        /// The node's host told its core how far behind it is, through `noteLoad(_:now:)`.
        case loadReported(DriverLoad)
    }

    /// One thing that happened, at one time, to one node.
    public struct Entry: Equatable, Sendable, CustomStringConvertible {
        /// The virtual time it happened.
        public var time: Instant
        /// The node it happened to; for drops and duplicates, the sender.
        public var node: SimNodeID
        /// What happened.
        public var kind: Kind

        /// Creates an entry.
        public init(time: Instant, node: SimNodeID, kind: Kind) {
            self.time = time
            self.node = node
            self.kind = kind
        }

        public var description: String {
            let what: String
            switch kind {
            case .sent(let to, let size): what = "sent \(size)B to \(to)"
            case .delivered(let from, let size): what = "received \(size)B from \(from)"
            case .dropped(let reason, let to, let size): what = "dropped \(size)B to \(to) (\(reason))"
            case .duplicated(let to): what = "duplicated datagram to \(to)"
            case .timer: what = "timer fired"
            case .event(let text): what = "event \(text)"
            case .loadReported(let load):
                what = "load reported: timer lag \(load.timerLag), \(load.receiveDrops) receive drops"
            }
            return "\(time) \(node) \(what)"
        }
    }

    /// Counters over a whole run.
    public struct Statistics: Equatable, Sendable {
        /// Datagrams the cores emitted.
        public internal(set) var sent = 0
        /// Datagrams handed to a core, copies included.
        public internal(set) var delivered = 0
        /// Second copies the links made.
        public internal(set) var duplicated = 0
        /// Timer firings handed to cores.
        public internal(set) var timersFired = 0
        /// Events the cores reported.
        public internal(set) var events = 0
        /// Datagrams and timer firings that hosts' cores served, over all hosts.
        public internal(set) var workServed = 0
        /// The virtual time hosts' cores spent serving, summed over all cores of all hosts.
        public internal(set) var busyTime: Duration = .zero
        /// The longest any work waited for a host's core, over all hosts.
        public internal(set) var maxQueueingDelay: Duration = .zero
        /// Reports made to cores through `noteLoad(_:now:)`.
        public internal(set) var loadReports = 0
        private var droppedByReason = [Int](repeating: 0, count: DropReason.allCases.count)

        /// Creates zeroed counters.
        public init() {}

        /// Datagrams dropped for `reason`.
        public func dropped(_ reason: DropReason) -> Int { droppedByReason[reason.rawValue] }

        /// Datagrams dropped for any reason.
        public var totalDropped: Int { droppedByReason.reduce(0, +) }

        mutating func countDrop(_ reason: DropReason) { droppedByReason[reason.rawValue] += 1 }
    }

    /// Every entry so far, in the order things happened.
    public private(set) var entries: [Entry] = []
    /// Counters so far; counted even when not recording.
    public private(set) var statistics = Statistics()
    /// Whether new entries are kept.
    public var isRecording: Bool

    /// Creates an empty trace.
    public init(isRecording: Bool = true) {
        self.isRecording = isRecording
    }

    /// Forgets the entries (not the statistics).
    public mutating func removeAllEntries() {
        entries.removeAll()
    }

    /// The entries of one node.
    public func entries(of node: SimNodeID) -> [Entry] {
        entries.filter { $0.node == node }
    }

    mutating func noteSent(at time: Instant, node: SimNodeID, to: PeerAddress, size: Int) {
        statistics.sent += 1
        if isRecording { entries.append(Entry(time: time, node: node, kind: .sent(to: to, size: size))) }
    }

    mutating func noteDelivered(at time: Instant, node: SimNodeID, from: SimNodeID, size: Int) {
        statistics.delivered += 1
        if isRecording { entries.append(Entry(time: time, node: node, kind: .delivered(from: from, size: size))) }
    }

    mutating func noteDropped(at time: Instant, node: SimNodeID, reason: DropReason, to: PeerAddress, size: Int) {
        statistics.countDrop(reason)
        if isRecording { entries.append(Entry(time: time, node: node, kind: .dropped(reason, to: to, size: size))) }
    }

    mutating func noteDuplicated(at time: Instant, node: SimNodeID, to: PeerAddress) {
        statistics.duplicated += 1
        if isRecording { entries.append(Entry(time: time, node: node, kind: .duplicated(to: to))) }
    }

    mutating func noteTimer(at time: Instant, node: SimNodeID) {
        statistics.timersFired += 1
        if isRecording { entries.append(Entry(time: time, node: node, kind: .timer)) }
    }

    mutating func noteLoadReported(at time: Instant, node: SimNodeID, _ load: DriverLoad) {
        statistics.loadReports += 1
        if isRecording { entries.append(Entry(time: time, node: node, kind: .loadReported(load))) }
    }

    /// Counts one piece of work a host served: it waited `delay` and took `serviceTime`.
    mutating func noteServed(delay: Duration, serviceTime: Duration) {
        statistics.workServed += 1
        statistics.busyTime += serviceTime
        statistics.maxQueueingDelay = max(statistics.maxQueueingDelay, delay)
    }

    mutating func noteEvent(at time: Instant, node: SimNodeID, _ text: @autoclosure () -> String) {
        statistics.events += 1
        if isRecording { entries.append(Entry(time: time, node: node, kind: .event(text()))) }
    }
}
