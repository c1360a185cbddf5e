/// A random 128-bit identifier of a gossip message or a search query.
///
/// Drawn from the core's injected random generator, so collisions between honest peers
/// are negligible (the birthday bound is 2⁶⁴ messages); on the wire it is 16 bytes,
/// `high` first, each half big-endian.
public struct SpreadingID: Hashable, Sendable, CustomStringConvertible {
    /// The first eight bytes.
    public var high: UInt64
    /// The last eight bytes.
    public var low: UInt64

    /// Wraps two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A fresh random identifier.
    /// - Parameter generator: the source of randomness.
    public static func random(using generator: inout some RandomNumberGenerator) -> SpreadingID {
        SpreadingID(high: generator.next(), low: generator.next())
    }

    /// Thirty-two lower-case hex digits.
    public var description: String {
        [high, low].map { half in
            let digits = String(half, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        .joined()
    }
}

extension ByteWriter {
    /// Appends a spreading identifier as 16 bytes.
    mutating func write(_ id: SpreadingID) {
        write(id.high)
        write(id.low)
    }
}

extension ByteReader {
    /// Reads a 16-byte spreading identifier.
    mutating func readSpreadingID() throws(WireError) -> SpreadingID {
        let high = try readUInt64()
        return SpreadingID(high: high, low: try readUInt64())
    }
}
