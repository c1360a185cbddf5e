import StarlingCore

/// Big-endian bytes of a datagram number, for the toy cores' payloads.
func numberedPayload(_ number: UInt32, kind: UInt8 = 0, size: Int = 5) -> [UInt8] {
    var bytes: [UInt8] = [
        kind, UInt8(truncatingIfNeeded: number >> 24), UInt8(truncatingIfNeeded: number >> 16),
        UInt8(truncatingIfNeeded: number >> 8), UInt8(truncatingIfNeeded: number),
    ]
    if size > bytes.count { bytes += [UInt8](repeating: 0, count: size - bytes.count) }
    return bytes
}

/// Reads the number written by ``numberedPayload(_:kind:size:)``.
func payloadNumber(_ bytes: some Collection<UInt8>) -> UInt32? {
    guard bytes.count >= 5 else { return nil }
    return bytes.dropFirst().prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
}

/// A core that sends what it is told to, reports every datagram it receives, and, when
/// `echoes`, sends each one back to its source.
struct EchoCore: ProtocolCore {
    enum Event: Equatable, CustomStringConvertible {
        case received([UInt8], from: PeerAddress, at: Instant)

        var description: String {
            switch self {
            case .received(let bytes, let from, let at): "received \(bytes.count)B from \(from) at \(at)"
            }
        }
    }

    var echoes: Bool
    private var outbox: [(PeerAddress, [UInt8])] = []
    private var outboxHead = 0
    private var pending: [Event] = []
    private var pendingHead = 0

    init(echoes: Bool = false) {
        self.echoes = echoes
    }

    /// Command: queue `bytes` for `destination`.
    mutating func send(_ bytes: [UInt8], to destination: PeerAddress) {
        outbox.append((destination, bytes))
    }

    mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        let bytes = [UInt8](datagram)
        pending.append(.received(bytes, from: source, at: now))
        if echoes { outbox.append((source, bytes)) }
    }

    mutating func handleTimeout(now: Instant) {}

    mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        guard outboxHead < outbox.count else {
            outbox.removeAll(keepingCapacity: true)
            outboxHead = 0
            return nil
        }
        let (destination, bytes) = outbox[outboxHead]
        outboxHead += 1
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: bytes)
        return destination
    }

    func pollTimeout() -> Instant? { nil }

    mutating func pollEvent() -> Event? {
        guard pendingHead < pending.count else {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
            return nil
        }
        pendingHead += 1
        return pending[pendingHead - 1]
    }
}

/// A core that answers pings with pongs and, when told, sends numbered pings to a target,
/// retransmitting each after `retransmitAfter` until answered or `maxAttempts` sends.
struct PingPongCore: ProtocolCore {
    enum Event: Equatable, CustomStringConvertible {
        case pong(UInt32, rtt: Duration)
        case gaveUp(UInt32)

        var description: String {
            switch self {
            case .pong(let number, let rtt): "pong \(number) rtt \(rtt)"
            case .gaveUp(let number): "gave up on ping \(number)"
            }
        }
    }

    static let ping: UInt8 = 1
    static let pong: UInt8 = 2

    /// A ping not yet answered; kept in an array, in number order, so that iteration is
    /// deterministic.
    private struct Outstanding {
        var number: UInt32
        var target: PeerAddress
        var firstSent: Instant
        var deadline: Instant
        var attempts: Int
    }

    var retransmitAfter: Duration
    var maxAttempts: Int
    private var outstanding: [Outstanding] = []
    private var nextNumber: UInt32 = 0
    private var outbox: [(PeerAddress, [UInt8])] = []
    private var events: [Event] = []
    private(set) var pongs: [UInt32] = []

    init(retransmitAfter: Duration = .milliseconds(100), maxAttempts: Int = 5) {
        self.retransmitAfter = retransmitAfter
        self.maxAttempts = maxAttempts
    }

    /// Command: send `count` new pings to `target`.
    mutating func startPinging(_ target: PeerAddress, count: Int, now: Instant) {
        for _ in 0..<count {
            let number = nextNumber
            nextNumber += 1
            outstanding.append(
                Outstanding(
                    number: number, target: target, firstSent: now, deadline: now + retransmitAfter, attempts: 1))
            outbox.append((target, numberedPayload(number, kind: Self.ping)))
        }
    }

    mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        guard let kind = datagram.first, let number = payloadNumber(datagram) else { return }
        if kind == Self.ping {
            outbox.append((source, numberedPayload(number, kind: Self.pong)))
        } else if kind == Self.pong, let index = outstanding.firstIndex(where: { $0.number == number }) {
            events.append(.pong(number, rtt: now - outstanding[index].firstSent))
            pongs.append(number)
            outstanding.remove(at: index)
        }
    }

    mutating func handleTimeout(now: Instant) {
        var kept: [Outstanding] = []
        for var entry in outstanding {
            if entry.deadline > now {
                kept.append(entry)
            } else if entry.attempts >= maxAttempts {
                events.append(.gaveUp(entry.number))
            } else {
                entry.attempts += 1
                entry.deadline = now + retransmitAfter
                outbox.append((entry.target, numberedPayload(entry.number, kind: Self.ping)))
                kept.append(entry)
            }
        }
        outstanding = kept
    }

    mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        guard !outbox.isEmpty else { return nil }
        let (destination, bytes) = outbox.removeFirst()
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: bytes)
        return destination
    }

    func pollTimeout() -> Instant? {
        outstanding.lazy.map(\.deadline).min()
    }

    mutating func pollEvent() -> Event? {
        events.isEmpty ? nil : events.removeFirst()
    }
}
