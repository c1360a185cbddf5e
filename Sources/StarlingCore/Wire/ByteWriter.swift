/// Appends big-endian, field-by-field encodings to a growing byte array.
///
/// ### Purpose
/// Every Starling message is encoded explicitly, one field at a time; nothing relies
/// on a struct's memory layout. Strings and lists carry a length or count prefix whose
/// width the message format names (see `docs/PROTOCOL.md`).
///
/// The writer can reuse storage: call ``reset()`` between messages to keep the
/// allocation.
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Creates an empty writer.
    /// - Parameter capacity: bytes to reserve up front.
    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The number of bytes written so far.
    public var count: Int { bytes.count }

    /// Forgets the written bytes but keeps the storage.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends one byte.
    public mutating func write(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends a big-endian 16-bit integer.
    public mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    /// Appends a big-endian 32-bit integer.
    public mutating func write(_ value: UInt32) {
        writeBigEndian(UInt64(value), width: 4)
    }

    /// Appends a big-endian 64-bit integer.
    public mutating func write(_ value: UInt64) {
        writeBigEndian(value, width: 8)
    }

    /// Appends raw bytes with no length prefix (fixed-size fields such as keys).
    public mutating func write(bytes raw: some Sequence<UInt8>) {
        bytes.append(contentsOf: raw)
    }

    /// Appends a UTF-8 string behind a one-byte length.
    /// - Throws: ``WireError/unencodable(_:)`` when it is longer than `maximum` bytes
    ///   (at most 255).
    public mutating func writeShortString(_ string: String, maximum: Int = 255) throws(WireError) {
        let utf8 = string.utf8
        guard utf8.count <= min(maximum, 255) else {
            throw .unencodable("string of \(utf8.count) bytes exceeds \(min(maximum, 255))")
        }
        write(UInt8(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    private mutating func writeBigEndian(_ value: UInt64, width: Int) {
        var shift = (width - 1) * 8
        while shift >= 0 {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            shift -= 8
        }
    }
}
