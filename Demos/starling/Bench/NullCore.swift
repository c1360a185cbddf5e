import StarlingCore

/// A protocol core that only moves bytes: it sends the datagrams it is told to and
/// reports each one it receives (or, with ``echoes``, sends it back). With two of them on a ``LoopbackPair`` the network bench
/// cases measure the I/O path alone (CoreDriver, SwiftNIO and the kernel), so that the
/// gap to the raw baseline can be split between that path and the real cores.
///
/// Like a real core it copies each datagram into the driver's buffer in
/// ``pollTransmit(now:into:)`` and reports one event per datagram received; it does no
/// cryptography and keeps no state per datagram.
struct NullCore: ProtocolCore, Sendable {
    /// The length of a received datagram.
    typealias Event = Int

    /// Whether each received datagram is sent back to where it came from.
    let echoes: Bool
    private var datagram: [UInt8] = []
    private var destination: PeerAddress?
    private var queued = 0
    private var received = 0
    private var receivedLength = 0

    /// Creates a core; with `echoes`, it answers every datagram with a copy of it.
    init(echoes: Bool = false) {
        self.echoes = echoes
    }

    /// Queues `count` copies of `datagram` to `destination` (a command).
    mutating func send(_ datagram: [UInt8], count: Int, to destination: PeerAddress) {
        self.datagram = datagram
        self.destination = destination
        queued += count
    }

    mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        received += 1
        receivedLength = datagram.count
        if echoes {
            self.datagram.removeAll(keepingCapacity: true)
            self.datagram.append(contentsOf: datagram)
            destination = source
            queued += 1
        }
    }

    mutating func handleTimeout(now: Instant) {}

    mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        guard queued > 0, let destination else { return nil }
        queued -= 1
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: datagram)
        return destination
    }

    func pollTimeout() -> Instant? { nil }

    mutating func pollEvent() -> Int? {
        guard received > 0 else { return nil }
        received -= 1
        return receivedLength
    }
}
