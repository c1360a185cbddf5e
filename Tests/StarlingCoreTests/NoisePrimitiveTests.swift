import CSodium
import Testing

@testable import StarlingCore

/// Table and property tests of the Noise building blocks: BLAKE2b, HMAC, HKDF,
/// ChaChaPoly and `CipherState`.
@Suite struct NoisePrimitiveTests {
    /// RFC 2104 HMAC written out independently, straight on libsodium's one-shot hash.
    static func referenceHMAC(key: [UInt8], message: [UInt8]) -> [UInt8] {
        func blake(_ input: [UInt8]) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 64)
            _ = crypto_generichash(&out, 64, input, UInt64(input.count), nil, 0)
            return out
        }
        let shortKey = key.count > 128 ? blake(key) : key
        let block = shortKey + [UInt8](repeating: 0, count: 128 - shortKey.count)
        return blake(block.map { $0 ^ 0x5c } + blake(block.map { $0 ^ 0x36 } + message))
    }

    @Test func hash_rfc7693AbcVector() {
        let expected = hex(
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
        #expect(Blake2b.hash(Array("abc".utf8)) == expected)
        #expect(Blake2b.hash(parts: [Array("a".utf8), [], Array("bc".utf8)]) == expected)
    }

    @Test(arguments: [0, 1, 32, 64, 127, 128, 129, 200])
    func hmac_matchesRFC2104Reference(keyLength: Int) {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let message = Array("Noise HMAC-BLAKE2b".utf8)
        #expect(Blake2b.hmac(key: key, parts: [message]) == Self.referenceHMAC(key: key, message: message))
        // Parts are hashed as if concatenated.
        #expect(
            Blake2b.hmac(key: key, parts: [Array(message[..<5]), Array(message[5...])])
                == Blake2b.hmac(key: key, parts: [message]))
    }

    @Test func hmac_isNotLibsodiumKeyedBlake2b() {
        let key = [UInt8](repeating: 0x0b, count: 64)
        let message = Array("Hi There".utf8)
        var keyed = [UInt8](repeating: 0, count: 64)
        _ = crypto_generichash(&keyed, 64, message, UInt64(message.count), key, key.count)
        #expect(Blake2b.hmac(key: key, parts: [message]) != keyed)
    }

    @Test func hkdf_followsSection4_3() {
        let chainingKey = [UInt8](repeating: 0x11, count: 64)
        let ikm = [UInt8](repeating: 0x22, count: 32)
        let temp = Self.referenceHMAC(key: chainingKey, message: ikm)
        let first = Self.referenceHMAC(key: temp, message: [1])
        let second = Self.referenceHMAC(key: temp, message: first + [2])
        let third = Self.referenceHMAC(key: temp, message: second + [3])
        #expect(Blake2b.hkdf(chainingKey: chainingKey, inputKeyMaterial: ikm, outputs: 2) == [first, second])
        #expect(Blake2b.hkdf(chainingKey: chainingKey, inputKeyMaterial: ikm, outputs: 3) == [first, second, third])
        #expect(Blake2b.hkdf(chainingKey: chainingKey, inputKeyMaterial: [], outputs: 2)[0] != first)
    }

    @Test func chaChaPoly_usesNoiseNonceLayout() throws {
        let key = try #require(CipherKey([UInt8](0..<32)))
        let plaintext = Array("transport".utf8)
        let ad = [UInt8](repeating: 9, count: 5)
        let counter: UInt64 = 0x0102_0304_0506_0708
        var expected = [UInt8](repeating: 0, count: plaintext.count + 16)
        var length: UInt64 = 0
        let nonce: [UInt8] = [0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]
        _ = crypto_aead_chacha20poly1305_ietf_encrypt(
            &expected, &length, plaintext, UInt64(plaintext.count), ad, UInt64(ad.count), nil, nonce, [UInt8](0..<32))
        #expect(ChaChaPoly.seal(key: key, nonce: counter, ad: ad, plaintext: plaintext) == expected)
        #expect(ChaChaPoly.open(key: key, nonce: counter, ad: ad, ciphertext: expected) == plaintext)
        #expect(ChaChaPoly.open(key: key, nonce: counter + 1, ad: ad, ciphertext: expected) == nil)
        #expect(ChaChaPoly.open(key: key, nonce: counter, ad: [], ciphertext: expected) == nil)
        #expect(ChaChaPoly.open(key: key, nonce: counter, ad: ad, ciphertext: Array(expected.prefix(15))) == nil)
    }

    @Test func chaChaPoly_inPlaceMatchesAllocating() throws {
        let key = try #require(CipherKey([UInt8](repeating: 0x42, count: 32)))
        for length in [0, 1, 15, 16, 17, 1000] {
            let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
            var buffer = plaintext + [UInt8](repeating: 0, count: 16)
            let written = buffer.withUnsafeMutableBytes { raw in
                ChaChaPoly.seal(
                    key: key, nonce: 3, ad: UnsafeRawBufferPointer(start: nil, count: 0),
                    plaintext: UnsafeRawBufferPointer(rebasing: raw[..<length]), into: raw)
            }
            #expect(written == length + 16)
            #expect(buffer == ChaChaPoly.seal(key: key, nonce: 3, ad: [], plaintext: plaintext))
            let opened = buffer.withUnsafeMutableBytes { raw in
                ChaChaPoly.open(
                    key: key, nonce: 3, ad: UnsafeRawBufferPointer(start: nil, count: 0),
                    ciphertext: UnsafeRawBufferPointer(raw), into: raw)
            }
            #expect(opened == length)
            #expect(Array(buffer.prefix(length)) == plaintext)
        }
    }

    @Test func cipherState_nonceExhaustsAtMaxMinusOne() throws {
        let key = try #require(CipherKey([UInt8](repeating: 1, count: 32)))
        var sender = CipherState(key: key)
        var receiver = CipherState(key: key)
        sender.setNonce(UInt64.max - 1)
        receiver.setNonce(UInt64.max - 1)
        let last = try sender.encrypt(plaintext: [1, 2, 3])
        #expect(try receiver.decrypt(ciphertext: last) == [1, 2, 3])
        #expect(sender.nonce == UInt64.max)
        #expect(throws: NoiseError.nonceExhausted) { try sender.encrypt(plaintext: [4]) }
        #expect(throws: NoiseError.nonceExhausted) { try receiver.decrypt(ciphertext: last) }
        var output = [UInt8](repeating: 0, count: 64)
        #expect(throws: NoiseError.nonceExhausted) {
            try output.withUnsafeMutableBytes { out in
                try [UInt8]([4]).withUnsafeBytes { input in
                    try sender.encrypt(ad: UnsafeRawBufferPointer(start: nil, count: 0), plaintext: input, into: out)
                }
            }
        }
    }

    @Test func cipherState_failedDecryptKeepsNonce() throws {
        let key = try #require(CipherKey([UInt8](repeating: 2, count: 32)))
        var sender = CipherState(key: key)
        var receiver = CipherState(key: key)
        var message = try sender.encrypt(ad: [7], plaintext: [1, 2, 3])
        message[0] ^= 1
        #expect(throws: NoiseError.decryptionFailed) { try receiver.decrypt(ad: [7], ciphertext: message) }
        #expect(throws: NoiseError.decryptionFailed) { try receiver.decrypt(ad: [7], ciphertext: [1, 2]) }
        #expect(receiver.nonce == 0)
        message[0] ^= 1
        #expect(try receiver.decrypt(ad: [7], ciphertext: message) == [1, 2, 3])
        #expect(receiver.nonce == 1)
    }

    @Test func cipherState_rekeyIsFirst32BytesOfMaxNonceEncryption() throws {
        let key = try #require(CipherKey([UInt8](repeating: 3, count: 32)))
        var state = CipherState(key: key)
        _ = try state.encrypt(plaintext: [])
        state.rekey()
        let expected = ChaChaPoly.seal(key: key, nonce: UInt64.max, ad: [], plaintext: [UInt8](repeating: 0, count: 32))
        #expect(state.key?.bytesForTesting == Array(expected.prefix(32)))
        #expect(state.nonce == 1)
        var peer = CipherState(key: key)
        peer.setNonce(1)
        peer.rekey()
        #expect(try peer.decrypt(ciphertext: state.encrypt(plaintext: [5])) == [5])
    }

    @Test func cipherState_withoutKeyPassesThrough() throws {
        var state = CipherState()
        #expect(state.hasKey == false)
        #expect(try state.encrypt(ad: [1], plaintext: [9, 8]) == [9, 8])
        #expect(try state.decrypt(ad: [1], ciphertext: [9, 8]) == [9, 8])
        #expect(state.nonce == 0)
    }

    @Test func cipherKey_refusesWrongLength() {
        #expect(CipherKey([UInt8](repeating: 0, count: 31)) == nil)
        #expect(CipherKey([UInt8](repeating: 0, count: 33)) == nil)
    }
}
