/// Reads big-endian fields from contiguous bytes, checking every bound.
///
/// ### Purpose
/// The decoding half of ``ByteWriter``. Every read that would pass the end throws
/// ``WireError/truncated(offset:needed:)``, and every length or count above its limit
/// throws ``WireError/lengthTooLarge(offset:length:maximum:)``; no input makes it trap.
///
/// The reader borrows its bytes: it works over any `[UInt8]` slice without copying.
public struct ByteReader: Sendable {
    /// The bytes being read.
    public let bytes: ArraySlice<UInt8>
    /// Offset of the next unread byte, counted from the start of the input.
    public private(set) var offset: Int

    /// Creates a reader over `bytes`, starting at their first byte.
    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.offset = 0
    }

    /// Creates a reader over a whole array.
    public init(_ bytes: [UInt8]) {
        self.init(bytes[...])
    }

    /// How many bytes are left to read.
    public var remaining: Int { bytes.count - offset }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { remaining == 0 }

    /// Reads one byte.
    public mutating func readUInt8() throws(WireError) -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[bytes.startIndex + offset]
    }

    /// Reads a big-endian 16-bit integer.
    public mutating func readUInt16() throws(WireError) -> UInt16 {
        UInt16(truncatingIfNeeded: try readBigEndian(width: 2))
    }

    /// Reads a big-endian 32-bit integer.
    public mutating func readUInt32() throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readBigEndian(width: 4))
    }

    /// Reads a big-endian 64-bit integer.
    public mutating func readUInt64() throws(WireError) -> UInt64 {
        try readBigEndian(width: 8)
    }

    /// Reads `count` raw bytes.
    public mutating func readBytes(_ count: Int) throws(WireError) -> ArraySlice<UInt8> {
        try need(count)
        let start = bytes.startIndex + offset
        offset += count
        return bytes[start..<(start + count)]
    }

    /// Reads every byte that is left.
    public mutating func readRest() -> ArraySlice<UInt8> {
        let start = bytes.startIndex + offset
        offset = bytes.count
        return bytes[start...]
    }

    /// Reads a one-byte count and checks it against `maximum`.
    /// - Throws: ``WireError/lengthTooLarge(offset:length:maximum:)`` above `maximum`.
    public mutating func readCount(maximum: Int) throws(WireError) -> Int {
        let at = offset
        let count = Int(try readUInt8())
        guard count <= maximum else { throw .lengthTooLarge(offset: at, length: count, maximum: maximum) }
        return count
    }

    /// Reads a UTF-8 string behind a one-byte length.
    /// - Parameters:
    ///   - maximum: the longest accepted string, in bytes.
    ///   - allowEmpty: whether a zero-length string is valid.
    /// - Throws: ``WireError/invalidString(offset:)`` for bad UTF-8 or a forbidden empty
    ///   string, or a length or truncation error.
    public mutating func readShortString(maximum: Int = 255, allowEmpty: Bool = true) throws(WireError) -> String {
        let at = offset
        let length = try readCount(maximum: maximum)
        guard allowEmpty || length > 0 else { throw .invalidString(offset: at) }
        let raw = try readBytes(length)
        guard let string = String(validating: raw, as: UTF8.self) else { throw .invalidString(offset: at) }
        return string
    }

    /// Throws ``WireError/trailingBytes(count:)`` unless every byte has been read.
    public func expectEnd() throws(WireError) {
        guard isAtEnd else { throw .trailingBytes(count: remaining) }
    }

    /// Reads 32 bytes as a ``Key32`` (four big-endian words), allocating nothing.
    public mutating func readKey32() throws(WireError) -> Key32 {
        try need(Key32.size)
        return Key32(words: try readUInt64(), try readUInt64(), try readUInt64(), try readUInt64())
    }

    /// Reads a 32-byte peer ID (its public key), allocating nothing.
    public mutating func readPeerID() throws(WireError) -> PeerID {
        PeerID(publicKey: try readKey32())
    }

    private func need(_ count: Int) throws(WireError) {
        guard count >= 0, count <= remaining else {
            throw .truncated(offset: offset, needed: count - remaining)
        }
    }

    private mutating func readBigEndian(width: Int) throws(WireError) -> UInt64 {
        try need(width)
        var value: UInt64 = 0
        let start = bytes.startIndex + offset
        for index in start..<(start + width) {
            value = value << 8 | UInt64(bytes[index])
        }
        offset += width
        return value
    }
}
