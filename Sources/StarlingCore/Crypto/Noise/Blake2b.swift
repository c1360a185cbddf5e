internal import CSodium

/// The Noise `BLAKE2b` hash functions: `HASH`, `HMAC-HASH` and `HKDF` (spec sections 4.3
/// and 12.8), built on libsodium's unkeyed BLAKE2b-512.
///
/// `HMAC` is RFC 2104 over the plain hash with a 128-byte block, exactly as Noise
/// defines it; it is deliberately not libsodium's keyed-BLAKE2b mode, which computes a
/// different function.
enum Blake2b {
    /// `HASH(parts[0] || parts[1] || ...)`: BLAKE2b with a 64-byte digest.
    ///
    /// - Parameter parts: the input, in pieces that are hashed as if concatenated.
    /// - Returns: the 64-byte digest.
    static func hash(_ parts: [UInt8]...) -> [UInt8] {
        hash(parts: parts)
    }

    /// `HASH` of the concatenation of `parts`.
    ///
    /// - Parameter parts: the input, in pieces.
    /// - Returns: the 64-byte digest.
    static func hash(parts: [[UInt8]]) -> [UInt8] {
        Sodium.ensureReady()
        // Swift cannot import the 64-byte-aligned state struct, so it lives in an
        // aligned stack buffer and is passed as an opaque pointer.
        let stateSize = crypto_generichash_statebytes()
        return [UInt8](unsafeUninitializedCapacity: NoiseConstants.hashLength) { digest, count in
            withUnsafeTemporaryAllocation(byteCount: stateSize, alignment: 64) { raw in
                let state = OpaquePointer(raw.baseAddress!)
                _ = crypto_generichash_init(state, nil, 0, NoiseConstants.hashLength)
                for part in parts {
                    part.withUnsafeBufferPointer {
                        _ = crypto_generichash_update(state, $0.baseAddress, UInt64($0.count))
                    }
                }
                _ = crypto_generichash_final(state, digest.baseAddress!, NoiseConstants.hashLength)
                sodium_memzero(raw.baseAddress!, stateSize)
            }
            count = NoiseConstants.hashLength
        }
    }

    /// `HMAC-HASH(key, parts[0] || parts[1] || ...)` per RFC 2104 with `BLOCKLEN` 128.
    ///
    /// - Parameters:
    ///   - key: the HMAC key; keys longer than a block are hashed first (RFC 2104
    ///     section 2), though Noise only ever passes 64-byte keys.
    ///   - parts: the message, in pieces.
    /// - Returns: the 64-byte MAC.
    static func hmac(key: [UInt8], parts: [[UInt8]]) -> [UInt8] {
        var block = key.count > NoiseConstants.blockLength ? hash(key) : key
        block += [UInt8](repeating: 0, count: NoiseConstants.blockLength - block.count)
        var inner = block.map { $0 ^ 0x36 }
        var outer = block.map { $0 ^ 0x5c }
        var innerDigest = hash(parts: [inner] + parts)
        let mac = hash(outer, innerDigest)
        CipherKey.wipe(&block)
        CipherKey.wipe(&inner)
        CipherKey.wipe(&outer)
        CipherKey.wipe(&innerDigest)
        return mac
    }

    /// Noise `HKDF(chaining_key, input_key_material, num_outputs)` (spec section 4.3).
    ///
    /// `temp_key = HMAC(chaining_key, ikm)`, `output1 = HMAC(temp_key, 0x01)`, and each
    /// next output is `HMAC(temp_key, previous || counter)`.
    /// - Parameters:
    ///   - chainingKey: the 64-byte chaining key.
    ///   - inputKeyMaterial: zero bytes or `DHLEN` bytes (or a 32-byte psk).
    ///   - outputs: 2 or 3.
    /// - Returns: `outputs` arrays of 64 bytes each.
    static func hkdf(chainingKey: [UInt8], inputKeyMaterial: [UInt8], outputs: Int) -> [[UInt8]] {
        precondition((2...3).contains(outputs), "Noise HKDF makes two or three outputs")
        var tempKey = hmac(key: chainingKey, parts: [inputKeyMaterial])
        defer { CipherKey.wipe(&tempKey) }
        var result: [[UInt8]] = []
        var previous: [UInt8] = []
        for counter in 1...UInt8(outputs) {
            previous = hmac(key: tempKey, parts: [previous, [counter]])
            result.append(previous)
        }
        return result
    }
}
