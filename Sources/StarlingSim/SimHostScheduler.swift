internal import HeapModule
internal import StarlingCore

/// The run-time state of one ``SimHost``: its free cores, the nodes with work waiting
/// for one, and its counters.
///
/// ### Order of service
/// A node is *ready* when it has work waiting and none of its work is being served.
/// Ready nodes are ordered by the sequence number of their oldest waiting work, so that
/// taking the first ready node is first come, first served over the host's work, with
/// the one exception that a node already on a core waits its turn behind itself.
struct SimHostScheduler {
    /// A ready node and the place of its oldest waiting work.
    private struct Ready: Comparable {
        var sequence: UInt64
        var node: SimNodeID

        static func < (lhs: Ready, rhs: Ready) -> Bool { lhs.sequence < rhs.sequence }
    }

    /// The host's description.
    var host: SimHost
    /// Cores not serving anything.
    private(set) var freeCores: Int
    /// Counters so far.
    var statistics = SimHostStatistics()
    private var ready = Heap<Ready>()

    init(host: SimHost) {
        host.checkValid()
        self.host = host
        freeCores = host.cores
    }

    /// Marks `node` ready; its oldest waiting work has `sequence`.
    /// - Precondition: `node` is not ready already and not being served.
    mutating func markReady(_ node: SimNodeID, sequence: UInt64) {
        ready.insert(Ready(sequence: sequence, node: node))
    }

    /// Takes a free core for the first ready node, if there are both.
    /// - Returns: the node to serve; it is no longer ready.
    mutating func claimCore() -> SimNodeID? {
        guard freeCores > 0, let first = ready.popMin() else { return nil }
        freeCores -= 1
        return first.node
    }

    /// Frees the core a service held.
    mutating func releaseCore() {
        precondition(freeCores < host.cores, "released a core that was not taken")
        freeCores += 1
    }
}

/// The work state of a node on a host: its receive queue, a timer whose deadline has
/// passed, and whether a core is serving it.
struct SimHostedNode {
    /// A timer whose deadline passed while the node waited for a core.
    struct DueTimer {
        /// When the timer came due.
        var since: Instant
        /// Its place in the host's order of work.
        var sequence: UInt64
    }

    /// The node's host.
    let host: SimHostID
    /// Datagrams arrived and not yet read.
    var inbox: SimReceiveQueue
    /// The timer waiting for a core, if any; while set, the node's timer is not re-armed.
    var dueTimer: DueTimer?
    /// Whether a core is serving the node's work now.
    var isBeingServed = false
    /// Datagrams the core sent during the service in progress, sent when it ends.
    var outputs: [(destination: PeerAddress, payload: [UInt8])] = []

    init(host: SimHostID, configuration: SimHost) {
        self.host = host
        inbox = SimReceiveQueue(
            capacity: configuration.receiveBufferCapacity, overhead: configuration.receiveBufferOverhead)
    }

    /// The sequence number of the oldest waiting work, if any.
    var oldestSequence: UInt64? {
        switch (inbox.first?.sequence, dueTimer?.sequence) {
        case (let datagram?, let timer?): min(datagram, timer)
        case (let datagram?, nil): datagram
        case (nil, let timer?): timer
        case (nil, nil): nil
        }
    }

    /// Whether the node should join its host's ready nodes: it has work and none of it
    /// is being served.
    var isReady: Bool { !isBeingServed && oldestSequence != nil }
}
