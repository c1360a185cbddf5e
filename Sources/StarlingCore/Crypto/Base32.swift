/// RFC 4648 base32, lowercase, without padding: the text form of peer IDs.
///
/// Decoding is strict: only the 32 lowercase alphabet characters, a length that a
/// whole number of bytes can produce, and zero bits in the unused tail of the last
/// character. One byte string has exactly one accepted text form.
public enum Base32 {
    /// Why a text could not be decoded.
    public enum DecodingError: Error, Equatable, Sendable {
        /// A character outside the lowercase base32 alphabet, at `offset`.
        case invalidCharacter(Character, offset: Int)
        /// No whole number of bytes encodes to this many characters.
        case invalidLength(Int)
        /// The unused low bits of the last character are not zero.
        case nonCanonical
    }

    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    /// Encodes bytes as lowercase base32 without padding.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 {
            out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The number of characters that encode `byteCount` bytes.
    public static func encodedLength(of byteCount: Int) -> Int { (byteCount * 8 + 4) / 5 }

    /// Decodes strict lowercase, unpadded base32.
    /// - Throws: ``DecodingError``.
    public static func decode(_ text: String) throws(DecodingError) -> [UInt8] {
        let characters = Array(text.utf8)
        // Valid unpadded lengths modulo 8 are 0, 2, 4, 5 and 7.
        guard [0, 2, 4, 5, 7].contains(characters.count % 8) else {
            throw .invalidLength(Array(text).count)
        }
        var out = [UInt8]()
        out.reserveCapacity(characters.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for (offset, character) in characters.enumerated() {
            guard let value = Self.value(of: character) else {
                let scalarOffset = text.utf8.index(text.utf8.startIndex, offsetBy: offset)
                let bad = text[scalarOffset...].first ?? "?"
                throw .invalidCharacter(bad, offset: text.distance(from: text.startIndex, to: scalarOffset))
            }
            buffer = buffer << 5 | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { throw .nonCanonical }
        return out
    }

    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a")
        case UInt8(ascii: "2")...UInt8(ascii: "7"): character - UInt8(ascii: "2") + 26
        default: nil
        }
    }
}
