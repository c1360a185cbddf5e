/// A Noise `SymmetricState` (spec section 5.2): the chaining key `ck`, the handshake
/// hash `h`, and the handshake's cipher state.
///
/// Internal to the handshake; callers see only the handshake hash and the cipher
/// states that ``split()`` returns.
struct SymmetricState: Sendable {
    /// The chaining key `ck` (secret), `HASHLEN` bytes; wiped when released.
    private var chainingKey: SecretBytes
    /// The handshake hash `h`, `HASHLEN` bytes.
    private(set) var handshakeHash: [UInt8]
    /// The key of the handshake's cipher state, which encrypts payloads and static keys
    /// (`k`); nil before one is mixed in.
    ///
    /// The key and ``cipherNonce`` are kept as plain values rather than a
    /// ``CipherState``: a handshake copies its state to try a message and keeps the
    /// copy only if the message succeeds, and a non-copyable cipher state would forbid
    /// that. Transport keys never live here: ``split()`` makes them as cipher states.
    private var cipherKey: CipherKey?
    /// The nonce `n` of the handshake's cipher state.
    private var cipherNonce: UInt64 = 0

    /// `InitializeSymmetric(protocol_name)`: `h` is the name zero-padded to `HASHLEN`
    /// when it fits, else `HASH(name)`; `ck = h`; no key.
    ///
    /// - Parameter protocolName: the full protocol name, as ASCII bytes.
    init(protocolName: [UInt8]) {
        if protocolName.count <= NoiseConstants.hashLength {
            handshakeHash =
                protocolName + [UInt8](repeating: 0, count: NoiseConstants.hashLength - protocolName.count)
        } else {
            handshakeHash = Blake2b.hash(protocolName)
        }
        chainingKey = SecretBytes(handshakeHash)
    }

    /// True once a key has been mixed in, so payloads and static keys are encrypted.
    var hasKey: Bool { cipherKey != nil }

    /// `MixKey(input_key_material)`: `ck, temp_k = HKDF(ck, ikm, 2)`, and the cipher
    /// key becomes the first 32 bytes of `temp_k` with nonce 0.
    ///
    /// - Parameter inputKeyMaterial: a DH output (or an ephemeral public key in psk handshakes).
    mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        var outputs = Blake2b.hkdf(chainingKey: chainingKey.bytes, inputKeyMaterial: inputKeyMaterial, outputs: 2)
        chainingKey = SecretBytes(outputs[0])
        cipherKey = CipherKey(outputs[1][0..<NoiseConstants.keyLength])
        cipherNonce = 0
        CipherKey.wipe(&outputs[1])
    }

    /// `MixHash(data)`: `h = HASH(h || data)`.
    ///
    /// - Parameter data: bytes to bind into the transcript.
    mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = Blake2b.hash(handshakeHash, data)
    }

    /// `MixKeyAndHash(input_key_material)`: `ck, temp_h, temp_k = HKDF(ck, ikm, 3)`,
    /// then `MixHash(temp_h)` and a new cipher key from `temp_k` (used for psks).
    ///
    /// - Parameter inputKeyMaterial: the 32-byte pre-shared key.
    mutating func mixKeyAndHash(_ inputKeyMaterial: [UInt8]) {
        var outputs = Blake2b.hkdf(chainingKey: chainingKey.bytes, inputKeyMaterial: inputKeyMaterial, outputs: 3)
        chainingKey = SecretBytes(outputs[0])
        mixHash(outputs[1])
        cipherKey = CipherKey(outputs[2][0..<NoiseConstants.keyLength])
        cipherNonce = 0
        CipherKey.wipe(&outputs[2])
    }

    /// `EncryptAndHash(plaintext)`: encrypts with `h` as associated data (or passes the
    /// plaintext through before any key), then mixes the result into `h`.
    ///
    /// - Parameter plaintext: a payload or static public key.
    /// - Returns: the bytes to send.
    /// - Throws: ``NoiseError/nonceExhausted`` (unreachable in a handshake).
    mutating func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let ciphertext = try CipherState.encrypt(
            key: cipherKey, nonce: &cipherNonce, ad: handshakeHash, plaintext: plaintext)
        mixHash(ciphertext)
        return ciphertext
    }

    /// `DecryptAndHash(ciphertext)`: the inverse of ``encryptAndHash(_:)``; mixes the
    /// received ciphertext into `h`.
    ///
    /// - Parameter ciphertext: received bytes.
    /// - Returns: the plaintext.
    /// - Throws: ``NoiseError/decryptionFailed`` on a bad tag.
    mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let plaintext = try CipherState.decrypt(
            key: cipherKey, nonce: &cipherNonce, ad: handshakeHash, ciphertext: ciphertext)
        mixHash(ciphertext)
        return plaintext
    }

    /// `Split()`: `temp_k1, temp_k2 = HKDF(ck, zerolen, 2)`, each truncated to 32 bytes.
    ///
    /// - Returns: the initiator-to-responder and responder-to-initiator cipher states.
    func split() -> NoiseCipherPair {
        var outputs = Blake2b.hkdf(chainingKey: chainingKey.bytes, inputKeyMaterial: [], outputs: 2)
        let pair = NoiseCipherPair(
            initiatorToResponder: CipherState(key: CipherKey(outputs[0][0..<NoiseConstants.keyLength])),
            responderToInitiator: CipherState(key: CipherKey(outputs[1][0..<NoiseConstants.keyLength])))
        CipherKey.wipe(&outputs[0])
        CipherKey.wipe(&outputs[1])
        return pair
    }
}
