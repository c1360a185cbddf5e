internal import StarlingCore

/// A hosted node's socket receive buffer: datagrams that have arrived and wait for a
/// core, bounded in bytes, first in first out.
///
/// A datagram that does not fit is dropped and counted, as the kernel drops it when a
/// socket's buffer is full. The drops not yet reported to the core are kept apart, for
/// the driver's next `noteLoad(_:now:)`.
struct SimReceiveQueue {
    /// A datagram waiting to be read.
    struct Datagram {
        /// The sending node.
        var from: SimNodeID
        /// The bytes.
        var payload: [UInt8]
        /// When it entered the queue.
        var arrival: Instant
        /// Its place in the host's order of work.
        var sequence: UInt64
    }

    /// The most bytes the queue holds.
    let capacity: Int
    /// Bytes charged per datagram on top of its payload.
    let overhead: Int
    /// Bytes held now, overhead included.
    private(set) var bytes = 0
    /// Datagrams dropped since the node was made.
    private(set) var drops = 0
    /// Datagrams dropped since the last ``takeUnreportedDrops()``.
    private(set) var unreportedDrops = 0
    private var datagrams: [Datagram] = []
    private var head = 0

    init(capacity: Int, overhead: Int) {
        self.capacity = capacity
        self.overhead = overhead
    }

    /// Datagrams waiting.
    var count: Int { datagrams.count - head }

    /// The oldest datagram waiting, if any.
    var first: Datagram? { head < datagrams.count ? datagrams[head] : nil }

    /// Queues `datagram` if it fits; otherwise counts a drop.
    /// - Returns: whether it was queued.
    mutating func offer(_ datagram: Datagram) -> Bool {
        let charge = datagram.payload.count + overhead
        guard bytes + charge <= capacity else {
            drops += 1
            unreportedDrops += 1
            return false
        }
        bytes += charge
        datagrams.append(datagram)
        return true
    }

    /// Removes and returns the oldest datagram waiting, if any.
    mutating func popFirst() -> Datagram? {
        guard head < datagrams.count else { return nil }
        let datagram = datagrams[head]
        datagrams[head].payload = []
        head += 1
        bytes -= datagram.payload.count + overhead
        if head == datagrams.count {
            datagrams.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1_024, head * 2 >= datagrams.count {
            datagrams.removeFirst(head)
            head = 0
        }
        return datagram
    }

    /// Returns the drops not yet reported and starts counting afresh.
    mutating func takeUnreportedDrops() -> Int {
        defer { unreportedDrops = 0 }
        return unreportedDrops
    }
}
