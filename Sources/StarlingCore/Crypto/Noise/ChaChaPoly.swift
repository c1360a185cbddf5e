internal import CSodium

/// A 32-byte ChaChaPoly key, kept in its own heap block that is wiped when the last
/// copy of the key is released.
///
/// Copies share the one block, so copying a key is a reference-count increment and
/// never duplicates the secret. The bytes cannot be read back out except by Starling
/// itself, which only hands them to libsodium.
///
/// - Warning: the key is secret; it is safe to share between threads (it is immutable).
public struct CipherKey: Sendable {
    /// Owns the 32 secret bytes; zeroes and frees them on deinit.
    private final class Storage: @unchecked Sendable {
        // @unchecked: `pointer` is written only in `init` and `deinit`, so sharing is safe.
        let pointer: UnsafeMutableRawPointer

        init(copying bytes: UnsafeRawBufferPointer) {
            pointer = UnsafeMutableRawPointer.allocate(byteCount: NoiseConstants.keyLength, alignment: 16)
            pointer.copyMemory(from: bytes.baseAddress!, byteCount: NoiseConstants.keyLength)
        }

        deinit {
            sodium_memzero(pointer, NoiseConstants.keyLength)
            pointer.deallocate()
        }
    }

    private let storage: Storage

    /// Creates a key from exactly 32 bytes, or returns nil for any other count.
    ///
    /// - Parameter bytes: the key; the caller should wipe its own copy afterwards.
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == NoiseConstants.keyLength else { return nil }
        Sodium.ensureReady()
        var copy = Array(bytes)
        defer { Self.wipe(&copy) }
        storage = copy.withUnsafeBytes { Storage(copying: $0) }
    }

    /// Calls `body` with the 32 key bytes; the pointer is valid only inside `body`.
    func withUnsafeBytes<Result>(_ body: (UnsafeRawPointer) -> Result) -> Result {
        body(UnsafeRawPointer(storage.pointer))
    }

    /// The key bytes as an array, for tests only.
    var bytesForTesting: [UInt8] {
        withUnsafeBytes { Array(UnsafeRawBufferPointer(start: $0, count: NoiseConstants.keyLength)) }
    }

    /// Overwrites `bytes` with zeros in a way the compiler does not remove.
    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
        }
    }
}

/// The Noise `ChaChaPoly` cipher: IETF ChaCha20-Poly1305 from libsodium, with the
/// Noise nonce (four zero bytes, then the 64-bit counter little-endian; spec section 12.3).
///
/// Two APIs:
/// - The array API allocates its result; the handshake uses it.
/// - The buffer API writes into memory the caller lends and allocates nothing; the
///   transport hot path uses it. It uses libsodium's combined mode (ciphertext followed
///   by the 16-byte tag), which is what Noise sends on the wire, so no copy is needed to
///   join tag and ciphertext. Input and output may be the same buffer (in place), but
///   must not otherwise overlap.
public enum ChaChaPoly {
    /// Encrypts and authenticates `plaintext` into `output`, without allocating.
    ///
    /// - Parameters:
    ///   - key: the cipher key.
    ///   - nonce: the 64-bit counter; never reuse one with the same key.
    ///   - ad: associated data, authenticated but not encrypted.
    ///   - plaintext: the bytes to encrypt; may start at `output`'s address (in place).
    ///   - output: receives the ciphertext then the tag.
    /// - Returns: the bytes written, `plaintext.count + 16`.
    /// - Precondition: `output.count >= plaintext.count + 16`.
    public static func seal(
        key: borrowing CipherKey, nonce: UInt64, ad: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) -> Int {
        let total = plaintext.count + NoiseConstants.tagLength
        precondition(output.count >= total, "ChaChaPoly.seal: output buffer too small")
        var written: UInt64 = 0
        withNonce(nonce) { npub in
            key.withUnsafeBytes { keyBytes in
                _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                    output.baseAddress!.assumingMemoryBound(to: UInt8.self), &written,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                    ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                    nil, npub, keyBytes.assumingMemoryBound(to: UInt8.self))
            }
        }
        return total
    }

    /// Checks and decrypts `ciphertext` (ciphertext then tag) into `output`, without allocating.
    ///
    /// On failure `output` may hold garbage; never use it.
    /// - Parameters:
    ///   - key: the cipher key.
    ///   - nonce: the 64-bit counter the sender used.
    ///   - ad: the associated data the sender authenticated.
    ///   - ciphertext: the sealed bytes; may start at `output`'s address (in place).
    ///   - output: receives the plaintext.
    /// - Returns: the plaintext length (`ciphertext.count - 16`), or nil if the
    ///   ciphertext is shorter than a tag or fails authentication.
    /// - Precondition: `output.count >= ciphertext.count - 16`.
    public static func open(
        key: borrowing CipherKey, nonce: UInt64, ad: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) -> Int? {
        guard ciphertext.count >= NoiseConstants.tagLength, let input = ciphertext.baseAddress else { return nil }
        let length = ciphertext.count - NoiseConstants.tagLength
        precondition(output.count >= length, "ChaChaPoly.open: output buffer too small")
        var produced: UInt64 = 0
        let status = withNonce(nonce) { npub in
            key.withUnsafeBytes { keyBytes in
                crypto_aead_chacha20poly1305_ietf_decrypt(
                    output.baseAddress?.assumingMemoryBound(to: UInt8.self), &produced, nil,
                    input.assumingMemoryBound(to: UInt8.self), UInt64(ciphertext.count),
                    ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                    npub, keyBytes.assumingMemoryBound(to: UInt8.self))
            }
        }
        return status == 0 ? length : nil
    }

    /// Encrypts `plaintext`, returning a new array of ciphertext then tag.
    ///
    /// - Parameters:
    ///   - key: the cipher key.
    ///   - nonce: the 64-bit counter; never reuse one with the same key.
    ///   - ad: associated data, authenticated but not encrypted.
    ///   - plaintext: the bytes to encrypt.
    /// - Returns: `plaintext.count + 16` bytes.
    public static func seal(key: borrowing CipherKey, nonce: UInt64, ad: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        let total = plaintext.count + NoiseConstants.tagLength
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            count = ad.withUnsafeBytes { adBytes in
                plaintext.withUnsafeBytes { plainBytes in
                    seal(
                        key: key, nonce: nonce, ad: adBytes, plaintext: plainBytes,
                        into: UnsafeMutableRawBufferPointer(buffer))
                }
            }
        }
    }

    /// Checks and decrypts `ciphertext`, returning a new array of plaintext.
    ///
    /// - Parameters:
    ///   - key: the cipher key.
    ///   - nonce: the 64-bit counter the sender used.
    ///   - ad: the associated data the sender authenticated.
    ///   - ciphertext: ciphertext then tag.
    /// - Returns: the plaintext, or nil if the input is shorter than a tag or fails
    ///   authentication.
    public static func open(key: borrowing CipherKey, nonce: UInt64, ad: [UInt8], ciphertext: [UInt8]) -> [UInt8]? {
        guard ciphertext.count >= NoiseConstants.tagLength else { return nil }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count - NoiseConstants.tagLength)
        let length = plaintext.withUnsafeMutableBytes { out in
            ad.withUnsafeBytes { adBytes in
                ciphertext.withUnsafeBytes { sealed in
                    open(key: key, nonce: nonce, ad: adBytes, ciphertext: sealed, into: out)
                }
            }
        }
        guard length != nil else {
            CipherKey.wipe(&plaintext)
            return nil
        }
        return plaintext
    }

    /// Noise `REKEY(k)`: the first 32 bytes of encrypting 32 zero bytes with nonce
    /// 2^64-1 and empty associated data (spec section 4.2).
    ///
    /// - Parameter key: the current key.
    /// - Returns: the new key.
    public static func rekey(_ key: borrowing CipherKey) -> CipherKey {
        var sealed = seal(
            key: key, nonce: NoiseConstants.reservedNonce, ad: [],
            plaintext: [UInt8](repeating: 0, count: NoiseConstants.keyLength))
        defer { CipherKey.wipe(&sealed) }
        // 32 bytes always make a key.
        return CipherKey(sealed[0..<NoiseConstants.keyLength])!
    }

    /// Calls `body` with the 12-byte Noise nonce for `counter`, built on the stack.
    private static func withNonce<Result>(_ counter: UInt64, _ body: (UnsafePointer<UInt8>) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: NoiseConstants.aeadNonceLength) { nonce in
            let raw = UnsafeMutableRawBufferPointer(nonce)
            raw.storeBytes(of: 0, as: UInt32.self)
            raw.storeBytes(of: counter.littleEndian, toByteOffset: 4, as: UInt64.self)
            return body(UnsafePointer(nonce.baseAddress!))
        }
    }
}
