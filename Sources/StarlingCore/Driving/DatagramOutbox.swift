internal import DequeModule

/// The datagrams a core has queued to send, oldest first: the usual backing of
/// ``ProtocolCore/pollTransmit(now:into:)``.
struct DatagramOutbox: Sendable {
    private var queue = Deque<(destination: PeerAddress, bytes: [UInt8])>()

    /// Datagrams waiting.
    var count: Int { queue.count }

    /// Whether nothing waits.
    var isEmpty: Bool { queue.isEmpty }

    /// Queues `bytes` for `destination`.
    mutating func append(_ bytes: [UInt8], to destination: PeerAddress) {
        queue.append((destination, bytes))
    }

    /// Takes the oldest datagram.
    mutating func popFirst() -> (destination: PeerAddress, bytes: [UInt8])? {
        queue.popFirst()
    }

    /// Takes the oldest datagram, copying its bytes into `buffer` (replacing what it
    /// held, keeping its capacity).
    /// - Returns: its destination, or `nil` when nothing waits.
    mutating func popFirst(into buffer: inout [UInt8]) -> PeerAddress? {
        guard let (destination, bytes) = queue.popFirst() else { return nil }
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: bytes)
        return destination
    }
}
