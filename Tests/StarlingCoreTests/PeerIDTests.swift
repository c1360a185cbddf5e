import Testing

@testable import StarlingCore

@Suite struct PeerIDTests {
    let id = try! IdentityKeyPair(seed: IdentityTests.rfcSeed).peerID

    @Test func text_roundTrip_is52LowercaseCharacters() throws {
        let text = id.description
        #expect(text.count == 52)
        #expect(text == text.lowercased())
        #expect(try PeerID(text) == id)
        #expect(id.shortDescription == String(text.prefix(8)))
    }

    @Test func parse_wrongLength_isTypedError() {
        let text = id.description
        #expect(throws: PeerID.ParseError.wrongLength(51)) { try PeerID(String(text.dropLast())) }
        #expect(throws: PeerID.ParseError.wrongLength(53)) { try PeerID(text + "a") }
        #expect(throws: PeerID.ParseError.wrongLength(0)) { try PeerID("") }
    }

    @Test func parse_badAlphabet_isTypedError() {
        var characters = Array(id.description)
        characters[5] = "0"
        #expect(throws: PeerID.ParseError.invalidCharacter("0", offset: 5)) { try PeerID(String(characters)) }
        let upper = Array(id.description.uppercased())
        let firstLetter = upper.firstIndex(where: \.isLetter)!
        #expect(throws: PeerID.ParseError.invalidCharacter(upper[firstLetter], offset: firstLetter)) {
            try PeerID(String(upper))
        }
    }

    @Test func parse_multibyteCharacter_isRejectedNotTrapped() {
        let text = String(id.description.dropLast()) + "é"
        #expect(throws: PeerID.ParseError.self) { try PeerID(text) }
    }

    @Test func parse_nonZeroTrailingBits_isNonCanonical() {
        // 52 characters carry 260 bits; the last character's low 4 bits must be zero.
        var characters = Array(id.description)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        let last = alphabet.firstIndex(of: characters[51])!
        characters[51] = alphabet[last | 1]
        #expect(throws: PeerID.ParseError.nonCanonical) { try PeerID(String(characters)) }
    }

    @Test func bytes_wrongCount_isTypedError() {
        #expect(throws: PeerID.ParseError.wrongByteCount(33)) { try PeerID(bytes: [UInt8](repeating: 0, count: 33)) }
    }
}
