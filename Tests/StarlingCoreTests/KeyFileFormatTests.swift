import Testing

@testable import StarlingCore

@Suite struct KeyFileFormatTests {
    let keyPair = try! IdentityKeyPair(seed: IdentityTests.rfcSeed)

    @Test func encode_decode_roundTrips() throws {
        let bytes = KeyFileFormat.encode(keyPair)
        #expect(bytes.count == KeyFileFormat.size)
        #expect(Array(bytes.prefix(8)) == Array("STARLKEY".utf8))
        #expect(try KeyFileFormat.decode(bytes).peerID == keyPair.peerID)
    }

    @Test func decode_everyTruncation_isTruncatedOrNotAKeyFile() {
        let bytes = KeyFileFormat.encode(keyPair)
        for cut in 0..<bytes.count {
            #expect(throws: KeyFileFormat.DecodeError.truncated(size: cut, expected: KeyFileFormat.size)) {
                try KeyFileFormat.decode(Array(bytes[..<cut]))
            }
        }
    }

    @Test func decode_extraBytes_isTooLong() {
        let bytes = KeyFileFormat.encode(keyPair) + [0]
        #expect(throws: KeyFileFormat.DecodeError.tooLong(size: bytes.count, expected: KeyFileFormat.size)) {
            try KeyFileFormat.decode(bytes)
        }
    }

    @Test func decode_wrongMagicVersionOrType_isTypedError() {
        var bytes = KeyFileFormat.encode(keyPair)
        bytes[0] = UInt8(ascii: "X")
        #expect(throws: KeyFileFormat.DecodeError.notAKeyFile) { try KeyFileFormat.decode(bytes) }
        bytes = KeyFileFormat.encode(keyPair)
        bytes[8] = 2
        #expect(throws: KeyFileFormat.DecodeError.unsupportedVersion(2)) { try KeyFileFormat.decode(bytes) }
        bytes = KeyFileFormat.encode(keyPair)
        bytes[9] = 9
        #expect(throws: KeyFileFormat.DecodeError.unsupportedKeyType(9)) { try KeyFileFormat.decode(bytes) }
    }

    @Test func decode_anyFlippedKeyBit_isCorrupt() {
        let original = KeyFileFormat.encode(keyPair)
        for bit in (10 * 8)..<(original.count * 8) {
            var bytes = original
            bytes[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(throws: KeyFileFormat.DecodeError.corrupt) { try KeyFileFormat.decode(bytes) }
        }
    }
}
