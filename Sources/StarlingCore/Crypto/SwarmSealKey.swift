internal import CSodium

/// A symmetric key derived from a private swarm's secret for one purpose, and the
/// XChaCha20-Poly1305 (IETF) sealing that LAN discovery and overlay messages use with it.
///
/// The key is `BLAKE2b-256(key: swarm secret, message: domain ‖ swarm ID)`, so each
/// purpose (each `domain`) gets its own key and one key never seals two kinds of
/// message. Nonces are 24 random bytes chosen by the sender, which XChaCha20 makes
/// safe without any counter state.
///
/// - Warning: holds secret key material; it is immutable and safe to share.
public struct SwarmSealKey: Sendable {
    /// Bytes of a derived key.
    public static let size = 32
    /// Bytes of the nonce a sealed message carries (192 bits, random).
    public static let nonceSize = 24
    /// Bytes of the Poly1305 tag at the end of a sealed message.
    public static let tagSize = 16

    let key: CipherKey

    /// Derives the key of `domain` for a swarm.
    /// - Parameters:
    ///   - swarmID: the swarm ID.
    ///   - swarmSecret: the swarm secret (16 to 64 bytes; Starling uses 32).
    ///   - domain: the purpose, a distinct byte string per kind of message.
    public init(swarmID: [UInt8], swarmSecret: [UInt8], domain: [UInt8]) {
        var bytes = Self.deriveBytes(swarmID: swarmID, swarmSecret: swarmSecret, domain: domain)
        defer { CipherKey.wipe(&bytes) }
        // 32 bytes always make a key.
        key = CipherKey(bytes)!
    }

    /// The raw derived key bytes, for the derivation itself and its tests.
    static func deriveBytes(swarmID: [UInt8], swarmSecret: [UInt8], domain: [UInt8]) -> [UInt8] {
        Sodium.ensureReady()
        let message = domain + swarmID
        var out = [UInt8](repeating: 0, count: size)
        _ = swarmSecret.withUnsafeBufferPointer { secret in
            crypto_generichash(&out, size, message, UInt64(message.count), secret.baseAddress, secret.count)
        }
        return out
    }

    /// A fresh random nonce from `generator`.
    static func makeNonce(using generator: inout some RandomNumberGenerator) -> [UInt8] {
        var nonce: [UInt8] = []
        nonce.reserveCapacity(nonceSize)
        for _ in 0..<(nonceSize / 8) {
            withUnsafeBytes(of: generator.next()) { nonce.append(contentsOf: $0) }
        }
        return nonce
    }

    /// Encrypts `plaintext`, authenticating `ad` too: ciphertext then tag.
    func seal(nonce: [UInt8], ad: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: plaintext.count + Self.tagSize)
        var written: UInt64 = 0
        key.withUnsafeBytes { keyBytes in
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                &output, &written, plaintext, UInt64(plaintext.count), ad, UInt64(ad.count), nil, nonce,
                keyBytes.assumingMemoryBound(to: UInt8.self))
        }
        return output
    }

    /// Decrypts `ciphertext` (ciphertext then tag), or returns nil when it or `ad` is
    /// not authentic.
    func open(nonce: [UInt8], ad: [UInt8], ciphertext: [UInt8]) -> [UInt8]? {
        guard ciphertext.count >= Self.tagSize, nonce.count == Self.nonceSize else { return nil }
        var output = [UInt8](repeating: 0, count: ciphertext.count - Self.tagSize)
        var produced: UInt64 = 0
        let status = key.withUnsafeBytes { keyBytes in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                &output, &produced, nil, ciphertext, UInt64(ciphertext.count), ad, UInt64(ad.count), nonce,
                keyBytes.assumingMemoryBound(to: UInt8.self))
        }
        return status == 0 ? output : nil
    }
}
