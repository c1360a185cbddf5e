/// How one direction of a simulated link treats the datagrams sent over it.
///
/// ### Purpose
/// The simulator asks the link's conditions once per datagram: whether the link is cut,
/// whether the datagram fits the MTU, whether it is lost, how long it takes, and whether
/// a second copy arrives too. Conditions are directional: `a → b` may differ from
/// `b → a`. Every random choice is drawn from the sending node's `SeededGenerator`, so
/// a seed fixes the whole run.
///
/// ### Usage
/// ```swift
/// var wan = LinkConditions(latency: .milliseconds(40), jitter: .milliseconds(5))
/// wan.lossProbability = 0.01
/// network.setLinks(between: a, and: b, wan)
/// ```
public struct LinkConditions: Equatable, Sendable {
    /// The one-way delay every datagram takes at least.
    ///
    /// Raising it slows every exchange; zero delivers at the instant of sending (still
    /// after the sender's own turn finishes).
    public var latency: Duration
    /// The most extra delay added to ``latency``, drawn uniformly from `0...jitter`.
    ///
    /// Non-zero jitter lets datagrams sent close together arrive out of order.
    public var jitter: Duration
    /// The chance, from 0 to 1, that a datagram is silently lost.
    public var lossProbability: Double
    /// The chance, from 0 to 1, that a datagram arrives twice (each copy with its own delay).
    public var duplicationProbability: Double
    /// The chance, from 0 to 1, that a datagram is held back by an extra delay, so that
    /// datagrams sent after it can overtake it.
    public var reorderProbability: Double
    /// The most extra delay a held-back datagram gets, drawn uniformly from `0...reorderDelay`.
    public var reorderDelay: Duration
    /// The largest datagram, in bytes, the link carries; larger ones are dropped and
    /// counted as ``SimTrace/DropReason/oversize``. `nil` means no limit.
    public var mtu: Int?
    /// Whether the link is cut: every datagram is dropped as
    /// ``SimTrace/DropReason/partitioned``, including those already in flight.
    public var partitioned: Bool

    /// Creates conditions; every parameter defaults to a perfect link.
    public init(
        latency: Duration = .zero,
        jitter: Duration = .zero,
        lossProbability: Double = 0,
        duplicationProbability: Double = 0,
        reorderProbability: Double = 0,
        reorderDelay: Duration = .zero,
        mtu: Int? = nil,
        partitioned: Bool = false
    ) {
        self.latency = latency
        self.jitter = jitter
        self.lossProbability = lossProbability
        self.duplicationProbability = duplicationProbability
        self.reorderProbability = reorderProbability
        self.reorderDelay = reorderDelay
        self.mtu = mtu
        self.partitioned = partitioned
    }

    /// No delay, no loss, no duplication, no reordering, no MTU.
    public static let perfect = LinkConditions()

    /// A quiet local network: 250 µs ± 50 µs, a 1,500-byte MTU, nothing lost.
    public static let lan = LinkConditions(latency: .microseconds(250), jitter: .microseconds(50), mtu: 1_500)

    /// Draws the delay of one datagram: ``latency``, plus uniform ``jitter``, plus, with
    /// ``reorderProbability``, a uniform extra of up to ``reorderDelay``.
    ///
    /// - Parameter generator: the sending node's generator; drawn from only for the
    ///   features that are switched on, so a perfect link consumes no randomness.
    /// - Returns: the delay, never negative.
    public func sampleDelay(using generator: inout SeededGenerator) -> Duration {
        var nanoseconds = UInt64(clamping: max(0, latency.nanosecondsClamped))
        let jitterRange = UInt64(clamping: max(0, jitter.nanosecondsClamped))
        if jitterRange > 0 {
            nanoseconds &+= UInt64.random(in: 0...jitterRange, using: &generator)
        }
        let reorderRange = UInt64(clamping: max(0, reorderDelay.nanosecondsClamped))
        if reorderProbability > 0, reorderRange > 0, Self.chance(reorderProbability, using: &generator) {
            nanoseconds &+= UInt64.random(in: 0...reorderRange, using: &generator)
        }
        return .nanoseconds(Int64(clamping: nanoseconds))
    }

    /// Whether an event of probability `probability` happens; draws nothing when the
    /// probability is 0 or 1.
    static func chance(_ probability: Double, using generator: inout SeededGenerator) -> Bool {
        if probability <= 0 { return false }
        if probability >= 1 { return true }
        return Double.random(in: 0..<1, using: &generator) < probability
    }
}

/// The conditions of every directed link in a simulated network, plus any partition.
///
/// A link without its own entry uses ``defaultConditions``. A partition splits the
/// nodes into groups; a datagram between groups is dropped as
/// ``SimTrace/DropReason/partitioned``.
struct SimLinkTable {
    /// A directed node pair.
    struct Key: Hashable {
        var from: SimNodeID
        var to: SimNodeID
    }

    /// The conditions of links without their own entry.
    var defaultConditions: LinkConditions
    /// Links set one by one.
    private(set) var overrides: [Key: LinkConditions] = [:]
    /// Each node's partition group while a partition is in force; `nil` when healed.
    private var groups: [SimNodeID: Int]?

    init(defaultConditions: LinkConditions) {
        self.defaultConditions = defaultConditions
    }

    /// The conditions of the link `from → to`.
    func conditions(from: SimNodeID, to: SimNodeID) -> LinkConditions {
        if overrides.isEmpty { return defaultConditions }
        return overrides[Key(from: from, to: to)] ?? defaultConditions
    }

    /// Sets the conditions of the link `from → to` alone.
    mutating func set(from: SimNodeID, to: SimNodeID, _ conditions: LinkConditions) {
        overrides[Key(from: from, to: to)] = conditions
    }

    /// Whether a datagram `from → to` is blocked by a cut link or by a partition.
    func isCut(from: SimNodeID, to: SimNodeID, conditions: LinkConditions) -> Bool {
        if conditions.partitioned { return true }
        guard let groups else { return false }
        return groups[from, default: -1] != groups[to, default: -1]
    }

    /// What the link does with one datagram.
    enum Route: Equatable {
        /// The datagram never arrives.
        case drop(SimTrace.DropReason)
        /// The datagram arrives after `delay`, and a second copy after `copyDelay` if set.
        case deliver(delay: Duration, copyDelay: Duration?)
    }

    /// Decides the fate of a datagram of `size` bytes sent `from → to`: cut, oversize and
    /// lost datagrams are dropped (in that order of checks); others get a delay and
    /// perhaps a duplicate.
    ///
    /// - Parameter generator: the sender's generator; a perfect link draws nothing.
    func route(from: SimNodeID, to: SimNodeID, size: Int, using generator: inout SeededGenerator) -> Route {
        let link = conditions(from: from, to: to)
        if isCut(from: from, to: to, conditions: link) { return .drop(.partitioned) }
        if let mtu = link.mtu, size > mtu { return .drop(.oversize) }
        if LinkConditions.chance(link.lossProbability, using: &generator) { return .drop(.loss) }
        let delay = link.sampleDelay(using: &generator)
        guard LinkConditions.chance(link.duplicationProbability, using: &generator) else {
            return .deliver(delay: delay, copyDelay: nil)
        }
        return .deliver(delay: delay, copyDelay: link.sampleDelay(using: &generator))
    }

    /// Splits the nodes into `groups`; nodes named in no group form one more group.
    mutating func partition(_ newGroups: [[SimNodeID]]) {
        var table: [SimNodeID: Int] = [:]
        for (index, group) in newGroups.enumerated() {
            for node in group { table[node] = index }
        }
        groups = table
    }

    /// Removes the partition and clears the ``LinkConditions/partitioned`` flag of every link.
    mutating func heal() {
        groups = nil
        defaultConditions.partitioned = false
        for key in overrides.keys { overrides[key]?.partitioned = false }
    }
}

extension SimNetwork {
    /// Sets the conditions of one direction of a link, `from → to`.
    ///
    /// The new conditions apply to datagrams sent from now on; a datagram in flight
    /// keeps its delay but is dropped on arrival if the link is now cut.
    public mutating func setLink(from: SimNodeID, to: SimNodeID, _ conditions: LinkConditions) {
        links.set(from: from, to: to, conditions)
    }

    /// Sets the conditions of both directions of the link between `a` and `b`.
    public mutating func setLinks(between a: SimNodeID, and b: SimNodeID, _ conditions: LinkConditions) {
        links.set(from: a, to: b, conditions)
        links.set(from: b, to: a, conditions)
    }

    /// The conditions of the link `from → to`.
    public func link(from: SimNodeID, to: SimNodeID) -> LinkConditions {
        links.conditions(from: from, to: to)
    }

    /// The conditions of every link not set with ``setLink(from:to:_:)``.
    public var defaultLink: LinkConditions {
        get { links.defaultConditions }
        set { links.defaultConditions = newValue }
    }

    /// Splits the network: a datagram between nodes of different groups is dropped,
    /// including one already in flight when it arrives.
    ///
    /// - Parameter groups: the groups; nodes named in no group form one more group
    ///   together. A new partition replaces the previous one.
    public mutating func partition(_ groups: [[SimNodeID]]) {
        links.partition(groups)
    }

    /// Ends the partition and reconnects every link cut with
    /// ``LinkConditions/partitioned``; other conditions stay as they were.
    public mutating func heal() {
        links.heal()
    }
}
