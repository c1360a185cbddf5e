import CSodium

/// The baseline of `bench handshakes`: the libsodium calls of one complete
/// `Noise_IK_25519_ChaChaPoly_BLAKE2b` handshake, both sides, and nothing else.
///
/// Counted from the Noise specification (sections 5 and 7.5) for IK, per handshake:
/// - X25519: 2 key generations (`crypto_scalarmult_base`, one ephemeral per side) and
///   8 DH (`es`, `ss`, `ee`, `se` at each side);
/// - 2 Ed25519 → X25519 public-key conversions (the initiator's for the responder key it
///   expects, the responder's for the identity in the payload);
/// - 74 BLAKE2b-512 hashes, 37 per side: `MixHash` of the prologue, of the responder
///   key, of each ephemeral key and of each of the three handshake ciphertexts, and two
///   hashes per HMAC, three HMACs per HKDF, for four `MixKey`s and one `Split`;
/// - 6 ChaCha20-Poly1305 calls on the handshake payloads (the initiator's static key,
///   its identity payload and the responder's empty payload, each sealed once and opened
///   once) with the 64-byte handshake hash as associated data;
/// - 4 on the two empty confirming transport packets (each sealed and opened, with the
///   14-byte transport header as associated data).
///
/// Every input has the size Noise gives it; the contents are fixed bytes, which costs
/// libsodium the same. All buffers are allocated once, so the loop measures the
/// calls alone.
///
/// - Warning: call ``release()`` once when done; the value must not be used after.
struct NoiseCryptoFloor {
    /// The operations, for the bench's detail line.
    static let operationsText =
        "X25519 ×10 (2 keygen + 8 DH), Ed25519→X25519 ×2, BLAKE2b-512 ×74, ChaCha20-Poly1305 ×10"

    /// The prologue Starling binds: "starling", the version byte, the 32-byte swarm ID.
    static let prologueSize = 41
    static let hashLength = 64
    static let blockLength = 128

    private let stateSize = crypto_generichash_statebytes()
    private let state: UnsafeMutableRawPointer
    /// Hash input scratch (one block plus the largest message) and digest.
    private let input: UnsafeMutablePointer<UInt8>
    private let digest: UnsafeMutablePointer<UInt8>
    /// X25519 keys and output.
    private let secret: UnsafeMutablePointer<UInt8>
    private let point: UnsafeMutablePointer<UInt8>
    private let shared: UnsafeMutablePointer<UInt8>
    /// An Ed25519 public key and its X25519 form.
    private let edPublic: UnsafeMutablePointer<UInt8>
    private let converted: UnsafeMutablePointer<UInt8>
    /// AEAD key, nonce, associated data, plaintext, ciphertext out, and the sealed
    /// messages that the opening side checks.
    private let key: UnsafeMutablePointer<UInt8>
    private let nonce: UnsafeMutablePointer<UInt8>
    private let plaintext: UnsafeMutablePointer<UInt8>
    private let ciphertext: UnsafeMutablePointer<UInt8>
    private let opened: UnsafeMutablePointer<UInt8>
    /// Sealed messages by plaintext size (0, 32, 33) and associated-data size (64, 14).
    private var sealed: [Int: UnsafeMutablePointer<UInt8>] = [:]

    init() {
        _ = sodium_init()
        state = UnsafeMutableRawPointer.allocate(byteCount: stateSize, alignment: 64)
        func bytes(_ count: Int, _ value: UInt8) -> UnsafeMutablePointer<UInt8> {
            let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
            pointer.initialize(repeating: value, count: count)
            return pointer
        }
        input = bytes(Self.blockLength + 256, 0x36)
        digest = bytes(Self.hashLength, 0)
        secret = bytes(32, 0x11)
        point = bytes(32, 0)
        shared = bytes(32, 0)
        edPublic = bytes(32, 0)
        converted = bytes(32, 0)
        key = bytes(32, 0x22)
        nonce = bytes(12, 0)
        plaintext = bytes(64, 0x33)
        ciphertext = bytes(64 + 16, 0)
        opened = bytes(64, 0)
        crypto_scalarmult_base(point, secret)
        let edSecret = bytes(64, 0)
        crypto_sign_seed_keypair(edPublic, edSecret, secret)
        edSecret.deallocate()
        for (length, adLength) in [(0, 64), (32, 64), (33, 64), (0, 14)] {
            let message = bytes(length + 16, 0)
            crypto_aead_chacha20poly1305_ietf_encrypt(
                message, nil, plaintext, UInt64(length), input, UInt64(adLength), nil, nonce, key)
            sealed[length * 100 + adLength] = message
        }
    }

    /// Frees the buffers.
    func release() {
        state.deallocate()
        for pointer in [
            input, digest, secret, point, shared, edPublic, converted, key, nonce, plaintext, ciphertext, opened,
        ] {
            pointer.deallocate()
        }
        for pointer in sealed.values { pointer.deallocate() }
    }

    /// The crypto of one complete handshake, both sides. Returns a byte of the last
    /// output so that the work cannot be dropped.
    mutating func handshake() -> Int {
        var check = 0
        for initiator in [true, false] {
            check &+= side(initiator: initiator)
        }
        // The expected responder key (initiator) and the payload identity (responder).
        for _ in 0..<2 { check &+= Int(crypto_sign_ed25519_pk_to_curve25519(converted, edPublic)) }
        // The two confirming empty transport packets, each sealed and opened.
        for _ in 0..<2 {
            check &+= seal(length: 0, adLength: 14)
            check &+= open(length: 0, adLength: 14)
        }
        return check &+ Int(digest[0]) &+ Int(converted[0])
    }

    /// One side's share: 37 hashes, 4 DH, 1 key generation, 3 AEAD calls.
    private mutating func side(initiator: Bool) -> Int {
        var check = 0
        mixHash(Self.prologueSize)
        mixHash(32)  // pre-message: the responder's static key
        // Message 1: e, es, s, ss, payload.
        if initiator { check &+= Int(crypto_scalarmult_base(point, secret)) }
        mixHash(32)
        check &+= dh()
        hkdf(inputLength: 32)
        check &+= initiator ? seal(length: 32, adLength: 64) : open(length: 32, adLength: 64)
        mixHash(48)
        check &+= dh()
        hkdf(inputLength: 32)
        check &+= initiator ? seal(length: 33, adLength: 64) : open(length: 33, adLength: 64)
        mixHash(49)
        // Message 2: e, ee, se, empty payload.
        if !initiator { check &+= Int(crypto_scalarmult_base(point, secret)) }
        mixHash(32)
        check &+= dh()
        hkdf(inputLength: 32)
        check &+= dh()
        hkdf(inputLength: 32)
        check &+= initiator ? open(length: 0, adLength: 64) : seal(length: 0, adLength: 64)
        mixHash(16)
        // Split.
        hkdf(inputLength: 0)
        return check
    }

    /// BLAKE2b-512 of `length` bytes.
    private func hash(_ length: Int) {
        let opaque = OpaquePointer(state)
        crypto_generichash_init(opaque, nil, 0, Self.hashLength)
        crypto_generichash_update(opaque, input, UInt64(length))
        crypto_generichash_final(opaque, digest, Self.hashLength)
    }

    /// `MixHash`: `h || data`.
    private func mixHash(_ dataLength: Int) { hash(Self.hashLength + dataLength) }

    /// `HMAC-BLAKE2b`: an inner hash over a block and the message, an outer over a block
    /// and the inner digest.
    private func hmac(messageLength: Int) {
        hash(Self.blockLength + messageLength)
        hash(Self.blockLength + Self.hashLength)
    }

    /// Noise `HKDF` with two outputs: three HMACs.
    private func hkdf(inputLength: Int) {
        hmac(messageLength: inputLength)
        hmac(messageLength: 1)
        hmac(messageLength: Self.hashLength + 1)
    }

    private func dh() -> Int { Int(crypto_scalarmult(shared, secret, point)) }

    private func seal(length: Int, adLength: Int) -> Int {
        Int(
            crypto_aead_chacha20poly1305_ietf_encrypt(
                ciphertext, nil, plaintext, UInt64(length), input, UInt64(adLength), nil, nonce, key))
    }

    private func open(length: Int, adLength: Int) -> Int {
        Int(
            crypto_aead_chacha20poly1305_ietf_decrypt(
                opened, nil, nil, sealed[length * 100 + adLength]!, UInt64(length + 16), input, UInt64(adLength),
                nonce, key))
    }
}
