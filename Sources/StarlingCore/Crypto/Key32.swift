/// Thirty-two bytes held inline (no heap allocation), for public keys and hashes.
///
/// Equality and hashing are by value. Stored as four big-endian words so that
/// comparisons are four integer compares.
public struct Key32: Hashable, Comparable, Sendable {
    /// The size in bytes.
    public static let size = 32

    private var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// Creates a key from exactly 32 bytes, or returns nil for any other count.
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == Self.size else { return nil }
        (w0, w1, w2, w3) = (0, 0, 0, 0)
        for (index, byte) in bytes.enumerated() {
            switch index / 8 {
            case 0: w0 = w0 << 8 | UInt64(byte)
            case 1: w1 = w1 << 8 | UInt64(byte)
            case 2: w2 = w2 << 8 | UInt64(byte)
            default: w3 = w3 << 8 | UInt64(byte)
            }
        }
    }

    /// Creates a key from its four big-endian words.
    init(words w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3)
    }

    /// Byte-wise (lexicographic) order of the 32 bytes, without building them.
    public static func < (lhs: Key32, rhs: Key32) -> Bool {
        (lhs.w0, lhs.w1, lhs.w2, lhs.w3) < (rhs.w0, rhs.w1, rhs.w2, rhs.w3)
    }

    /// The 32 bytes, in order.
    public var bytes: [UInt8] {
        var writer = ByteWriter(capacity: Self.size)
        write(into: &writer)
        return writer.bytes
    }

    /// The first byte.
    var leadingByte: UInt8 { UInt8(truncatingIfNeeded: w0 >> 56) }

    /// A 64-bit mix of the key and `salt` (splitmix64 finalizers): not cryptographic,
    /// but every bit of both moves about half the bits of the result.
    func mixed(with salt: UInt64) -> UInt64 {
        Self.finalize(Self.finalize(Self.finalize(Self.finalize(salt ^ w0) ^ w1) ^ w2) ^ w3)
    }

    private static func finalize(_ input: UInt64) -> UInt64 {
        var value = input &+ 0x9E37_79B9_7F4A_7C15
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// Appends the 32 bytes to `writer`, allocating nothing of its own.
    public func write(into writer: inout ByteWriter) {
        writer.write(w0)
        writer.write(w1)
        writer.write(w2)
        writer.write(w3)
    }
}
