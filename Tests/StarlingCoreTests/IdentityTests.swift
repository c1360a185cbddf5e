import CSodium
import StarlingTestSupport
import Testing

@testable import StarlingCore

@Suite struct IdentityTests {
    /// RFC 8032 section 7.1, TEST 1.
    static let rfcSeed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    static let rfcPublic = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    static let rfcSignature = hex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )

    @Test func keyPair_rfc8032Test1_matchesPublicKeyAndSignature() throws {
        let keyPair = try IdentityKeyPair(seed: Self.rfcSeed)
        #expect(keyPair.peerID.bytes == Self.rfcPublic)
        #expect(keyPair.sign([]) == Self.rfcSignature)
        #expect(keyPair.peerID.verify(signature: Self.rfcSignature, of: []))
    }

    @Test func keyPair_wrongSeedSize_isTypedError() {
        #expect(throws: CryptoError.invalidKeySize(expected: 32, actual: 31)) {
            try IdentityKeyPair(seed: [UInt8](repeating: 1, count: 31))
        }
    }

    @Test func generate_sameGeneratorSeed_sameIdentity() {
        var first = TestRandom(seed: 9)
        var second = TestRandom(seed: 9)
        var third = TestRandom(seed: 10)
        let a = IdentityKeyPair.generate(using: &first)
        let b = IdentityKeyPair.generate(using: &second)
        let c = IdentityKeyPair.generate(using: &third)
        #expect(a.peerID == b.peerID)
        #expect(a.peerID != c.peerID)
    }

    @Test func verify_wrongMessageOrKeyOrLength_fails() throws {
        let keyPair = try IdentityKeyPair(seed: Self.rfcSeed)
        var random = TestRandom(seed: 1)
        let other = IdentityKeyPair.generate(using: &random)
        let signature = keyPair.sign([1, 2, 3])
        #expect(keyPair.peerID.verify(signature: signature, of: [1, 2, 3]))
        #expect(!keyPair.peerID.verify(signature: signature, of: [1, 2, 4]))
        #expect(!other.peerID.verify(signature: signature, of: [1, 2, 3]))
        #expect(!keyPair.peerID.verify(signature: signature.dropLast(), of: [1, 2, 3]))
    }

    @Test func x25519_secretAndPublicFormsAgree() throws {
        let keyPair = try IdentityKeyPair(seed: Self.rfcSeed)
        var derived = [UInt8](repeating: 0, count: 32)
        #expect(crypto_scalarmult_curve25519_base(&derived, keyPair.x25519SecretKey) == 0)
        #expect(derived == keyPair.x25519PublicKey.bytes)
        #expect(try keyPair.peerID.x25519PublicKey() == keyPair.x25519PublicKey)
    }

    @Test func x25519_invalidPoint_isTypedError() throws {
        // The y coordinate 2 is not on the Ed25519 curve.
        let invalid = try PeerID(bytes: [2] + [UInt8](repeating: 0, count: 31))
        #expect(throws: CryptoError.invalidPublicKey) { try invalid.x25519PublicKey() }
    }

    @Test func secureRandom_producesDistinctIdentities() {
        var random = SecureRandom()
        let a = IdentityKeyPair.generate(using: &random)
        let b = IdentityKeyPair.generate(using: &random)
        #expect(a.peerID != b.peerID)
    }

    @Test func secureRandom_copies_drawFromOneStreamAndNeverRepeat() async {
        // A copy of a value-type generator would hold the rest of the same block and
        // return the same words; copies of SecureRandom share one block.
        let original = SecureRandom()
        _ = original.next()
        let first = original
        let second = original
        var words: [UInt64] = []
        for _ in 0..<SecureRandom.blockSize {
            words.append(first.next())
            words.append(second.next())
        }
        #expect(Set(words).count == words.count)
        // Copies used from several tasks at once still never hand out the same word.
        let shared = original
        let drawn = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let copy = shared
                    return (0..<1_000).map { _ in copy.next() }
                }
            }
            var all: [UInt64] = []
            for await part in group { all += part }
            return all
        }
        #expect(Set(drawn).count == drawn.count)
    }
}
