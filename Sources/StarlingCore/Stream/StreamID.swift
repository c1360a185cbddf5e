/// Names one stream (a TCP connection with its own handshake) to a peer core's
/// ``StreamCalls``.
///
/// The driver that owns the connections chooses the numbers (counting up is enough) and
/// never reuses one while its stream is open; the core only compares them.
public struct StreamID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The driver's number for the stream.
    public let rawValue: UInt64

    /// Wraps the driver's number.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Orders IDs by their number.
    public static func < (lhs: StreamID, rhs: StreamID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `stream#` and the number in decimal.
    public var description: String { "stream#\(rawValue)" }
}

/// One message a peer core wants sent on a stream: the driver sends ``bytes`` whole, as
/// one stream message, on ``stream``.
public struct StreamTransmit: Equatable, Sendable {
    /// The stream to send on.
    public let stream: StreamID
    /// The message: an RPC-channel message (see docs/PROTOCOL.md, "Streams").
    public let bytes: [UInt8]

    /// Creates a transmit.
    public init(stream: StreamID, bytes: [UInt8]) {
        self.stream = stream
        self.bytes = bytes
    }
}
