/// A Noise `CipherState` (spec section 5.1): an optional key `k` and a 64-bit nonce `n`.
///
/// ### Purpose
/// During a handshake it encrypts handshake payloads; after ``NoiseHandshake/split()``
/// one cipher state per direction encrypts transport messages.
///
/// ### Usage
/// Call ``encrypt(ad:plaintext:)`` / ``decrypt(ad:ciphertext:)`` for arrays, or the
/// buffer forms ``encrypt(ad:plaintext:into:)`` / ``decrypt(ad:ciphertext:into:)`` on the
/// transport hot path: they allocate nothing. Each successful call uses the next nonce;
/// a failed decryption leaves the nonce unchanged. When the nonce reaches 2^64-1 every
/// further call throws ``NoiseError/nonceExhausted``.
///
/// A transport that carries explicit counters (out of order datagrams) may instead call
/// ``ChaChaPoly`` directly with ``key`` and its own nonce, checking a replay window.
///
/// A cipher state is non-copyable: two copies that both encrypted would reuse nonces,
/// which breaks ChaChaPoly, so there is only ever one, moved (`consume`) or lent
/// (`inout`, `borrowing`). Keep exactly one per direction.
public struct CipherState: ~Copyable, Sendable {
    /// The key `k`, or nil before one is set (`empty` in the spec).
    public private(set) var key: CipherKey?
    /// The nonce `n` the next encryption or decryption uses.
    public private(set) var nonce: UInt64 = 0

    /// Creates a cipher state: `InitializeKey(key)`.
    ///
    /// - Parameter key: the key, or nil for a state that passes data through unchanged.
    public init(key: CipherKey? = nil) {
        self.key = key
    }

    /// True when a key is set (`HasKey()`).
    public var hasKey: Bool { key != nil }

    /// `SetNonce(n)`: sets the next nonce, for transports that carry explicit counters.
    ///
    /// - Parameter nonce: the nonce the next operation uses.
    public mutating func setNonce(_ nonce: UInt64) {
        self.nonce = nonce
    }

    /// `EncryptWithAd(ad, plaintext)`: encrypts with the next nonce, or returns the
    /// plaintext unchanged when no key is set.
    ///
    /// - Parameters:
    ///   - ad: associated data.
    ///   - plaintext: the bytes to encrypt.
    /// - Returns: ciphertext then tag (`plaintext.count + 16` bytes) when keyed.
    /// - Throws: ``NoiseError/nonceExhausted`` when the nonce is 2^64-1.
    public mutating func encrypt(ad: [UInt8] = [], plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        try Self.encrypt(key: key, nonce: &nonce, ad: ad, plaintext: plaintext)
    }

    /// `DecryptWithAd(ad, ciphertext)`: checks and decrypts with the next nonce, or
    /// returns the input unchanged when no key is set.
    ///
    /// - Parameters:
    ///   - ad: associated data.
    ///   - ciphertext: ciphertext then tag.
    /// - Returns: the plaintext.
    /// - Throws: ``NoiseError/decryptionFailed`` on a bad tag or short input (the
    ///   nonce is then not advanced); ``NoiseError/nonceExhausted`` at 2^64-1.
    public mutating func decrypt(ad: [UInt8] = [], ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        try Self.decrypt(key: key, nonce: &nonce, ad: ad, ciphertext: ciphertext)
    }

    /// `EncryptWithAd` into a lent buffer, allocating nothing.
    ///
    /// - Parameters:
    ///   - ad: associated data.
    ///   - plaintext: the bytes to encrypt; may start at `output`'s address (in place).
    ///   - output: receives ciphertext then tag.
    /// - Returns: the bytes written (`plaintext.count + 16` when keyed).
    /// - Throws: ``NoiseError/bufferTooSmall`` or ``NoiseError/nonceExhausted``.
    public mutating func encrypt(
        ad: UnsafeRawBufferPointer, plaintext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(NoiseError) -> Int {
        guard let key else { return try copyThrough(plaintext, into: output) }
        guard output.count >= plaintext.count + NoiseConstants.tagLength else { throw .bufferTooSmall }
        let current = try Self.takeNonce(&nonce)
        return ChaChaPoly.seal(key: key, nonce: current, ad: ad, plaintext: plaintext, into: output)
    }

    /// `DecryptWithAd` into a lent buffer, allocating nothing.
    ///
    /// - Parameters:
    ///   - ad: associated data.
    ///   - ciphertext: ciphertext then tag; may start at `output`'s address (in place).
    ///   - output: receives the plaintext; holds garbage after a failure.
    /// - Returns: the plaintext length.
    /// - Throws: ``NoiseError/decryptionFailed`` (nonce not advanced),
    ///   ``NoiseError/bufferTooSmall`` or ``NoiseError/nonceExhausted``.
    public mutating func decrypt(
        ad: UnsafeRawBufferPointer, ciphertext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(NoiseError) -> Int {
        guard let key else { return try copyThrough(ciphertext, into: output) }
        guard ciphertext.count >= NoiseConstants.tagLength else { throw .decryptionFailed }
        guard output.count >= ciphertext.count - NoiseConstants.tagLength else { throw .bufferTooSmall }
        guard nonce != NoiseConstants.reservedNonce else { throw .nonceExhausted }
        guard let length = ChaChaPoly.open(key: key, nonce: nonce, ad: ad, ciphertext: ciphertext, into: output) else {
            throw .decryptionFailed
        }
        nonce += 1
        return length
    }

    /// `Rekey()`: replaces the key with `REKEY(k)`; the nonce is unchanged. Does
    /// nothing without a key.
    public mutating func rekey() {
        guard let key else { return }
        self.key = ChaChaPoly.rekey(key)
    }

    /// `EncryptWithAd` on a key and nonce held elsewhere: the handshake's
    /// `SymmetricState`, which copies them to roll back a message that fails.
    ///
    /// - Parameters:
    ///   - key: the key, or nil to pass `plaintext` through.
    ///   - nonce: the nonce to use; advanced on success.
    ///   - ad: associated data.
    ///   - plaintext: the bytes to encrypt.
    /// - Returns: ciphertext then tag when keyed, else `plaintext`.
    /// - Throws: ``NoiseError/nonceExhausted`` when the nonce is 2^64-1.
    static func encrypt(
        key: CipherKey?, nonce: inout UInt64, ad: [UInt8], plaintext: [UInt8]
    ) throws(NoiseError) -> [UInt8] {
        guard let key else { return plaintext }
        let current = try takeNonce(&nonce)
        return ChaChaPoly.seal(key: key, nonce: current, ad: ad, plaintext: plaintext)
    }

    /// `DecryptWithAd` on a key and nonce held elsewhere (see
    /// ``encrypt(key:nonce:ad:plaintext:)``).
    ///
    /// - Parameters:
    ///   - key: the key, or nil to pass `ciphertext` through.
    ///   - nonce: the nonce to use; advanced on success only.
    ///   - ad: associated data.
    ///   - ciphertext: ciphertext then tag.
    /// - Returns: the plaintext.
    /// - Throws: ``NoiseError/decryptionFailed`` or ``NoiseError/nonceExhausted``.
    static func decrypt(
        key: CipherKey?, nonce: inout UInt64, ad: [UInt8], ciphertext: [UInt8]
    ) throws(NoiseError) -> [UInt8] {
        guard let key else { return ciphertext }
        guard nonce != NoiseConstants.reservedNonce else { throw .nonceExhausted }
        guard let plaintext = ChaChaPoly.open(key: key, nonce: nonce, ad: ad, ciphertext: ciphertext) else {
            throw .decryptionFailed
        }
        nonce += 1
        return plaintext
    }

    /// Returns `nonce` and advances it, refusing the reserved 2^64-1.
    private static func takeNonce(_ nonce: inout UInt64) throws(NoiseError) -> UInt64 {
        guard nonce != NoiseConstants.reservedNonce else { throw .nonceExhausted }
        defer { nonce += 1 }
        return nonce
    }

    /// Copies `input` to `output` unchanged (the keyless case).
    private func copyThrough(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(NoiseError) -> Int {
        guard output.count >= input.count else { throw .bufferTooSmall }
        if let source = input.baseAddress, let target = output.baseAddress, source != UnsafeRawPointer(target) {
            target.copyMemory(from: source, byteCount: input.count)
        }
        return input.count
    }
}
