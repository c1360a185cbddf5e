/// The 12-byte timestamp an IK initiator puts after its identity in the encrypted
/// payload of message 1, so that a responder can refuse a replayed initiation
/// (WireGuard's TAI64N, whitepaper 5.1).
///
/// ```
/// 0                    8              12
/// | seconds u64        | nanos u32    |
/// ```
/// Seconds since the Unix epoch and nanoseconds within the second, big-endian, so
/// that byte order is time order. A responder keeps the newest it accepted per peer
/// and ignores an initiation whose timestamp is not newer. An initiator's timestamps
/// strictly increase, across restarts too as long as its wall clock does.
struct HandshakeTimestamp: Comparable, Hashable, Sendable {
    /// Encoded size.
    static let size = 12

    /// Seconds since the Unix epoch.
    var seconds: UInt64
    /// Nanoseconds within the second (below 10^9).
    var nanoseconds: UInt32

    static func < (lhs: HandshakeTimestamp, rhs: HandshakeTimestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// The timestamp of `now` on a timeline whose origin is `wallClockAtZero`.
    init(now: Instant, wallClockAtZero: UnixTime) {
        let elapsed = now.nanoseconds
        seconds = wallClockAtZero.seconds &+ elapsed / 1_000_000_000
        nanoseconds = UInt32(elapsed % 1_000_000_000)
    }

    /// Creates a timestamp from its fields.
    init(seconds: UInt64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// Decodes 12 bytes.
    init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == Self.size else { return nil }
        var reader = ByteReader(Array(bytes))
        guard let seconds = try? reader.readUInt64(), let nanoseconds = try? reader.readUInt32(),
            nanoseconds < 1_000_000_000
        else { return nil }
        self.init(seconds: seconds, nanoseconds: nanoseconds)
    }

    /// The next timestamp after this one (one nanosecond later).
    var successor: HandshakeTimestamp {
        nanoseconds + 1 < 1_000_000_000
            ? HandshakeTimestamp(seconds: seconds, nanoseconds: nanoseconds + 1)
            : HandshakeTimestamp(seconds: seconds &+ 1, nanoseconds: 0)
    }

    /// The 12 bytes.
    var encoded: [UInt8] {
        var writer = ByteWriter(capacity: Self.size)
        writer.write(seconds)
        writer.write(nanoseconds)
        return writer.bytes
    }
}
