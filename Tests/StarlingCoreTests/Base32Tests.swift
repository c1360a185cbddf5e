import StarlingTestSupport
import Testing

@testable import StarlingCore

@Suite struct Base32Tests {
    /// RFC 4648 section 10 vectors, lowercased and without padding.
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "my"), ("fo", "mzxq"), ("foo", "mzxw6"), ("foob", "mzxw6yq"),
        ("fooba", "mzxw6ytb"), ("foobar", "mzxw6ytboi"),
    ]

    @Test(arguments: vectors)
    func encode_rfc4648Vectors(plain: String, encoded: String) throws {
        #expect(Base32.encode(Array(plain.utf8)) == encoded)
        #expect(try Base32.decode(encoded) == Array(plain.utf8))
    }

    @Test func decode_uppercase_isInvalidCharacter() {
        #expect(throws: Base32.DecodingError.invalidCharacter("M", offset: 0)) { try Base32.decode("MZXQ") }
    }

    @Test func decode_badAlphabet_reportsCharacterAndOffset() {
        #expect(throws: Base32.DecodingError.invalidCharacter("1", offset: 2)) { try Base32.decode("mz1q") }
        #expect(throws: Base32.DecodingError.invalidCharacter("=", offset: 2)) { try Base32.decode("my======") }
    }

    @Test func decode_impossibleLength_isInvalidLength() {
        for length in [1, 3, 6, 9] {
            #expect(throws: Base32.DecodingError.invalidLength(length)) {
                try Base32.decode(String(repeating: "a", count: length))
            }
        }
    }

    @Test func decode_nonZeroTailBits_isNonCanonical() {
        // "my" is "f"; "mz" sets one of the two unused low bits.
        #expect(throws: Base32.DecodingError.nonCanonical) { try Base32.decode("mz") }
    }

    @Test func roundTrip_allLengthsUpTo40() throws {
        var generator = TestRandom(seed: 3)
        for length in 0...40 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let text = Base32.encode(bytes)
            #expect(text.count == Base32.encodedLength(of: length))
            #expect(try Base32.decode(text) == bytes)
        }
    }
}
