internal import CSodium

/// Why a key could not be made, converted or used.
public enum CryptoError: Error, Equatable, Sendable {
    /// A seed or key of the wrong size.
    case invalidKeySize(expected: Int, actual: Int)
    /// The public key is not a valid Ed25519 point (so it has no X25519 form).
    case invalidPublicKey
    /// libsodium reported a failure it should not have.
    case sodiumFailure(String)
}

/// A peer's long-term Ed25519 key pair, from libsodium.
///
/// ### Purpose
/// The public half is the peer's ``PeerID``; the key pair signs the peer's records.
/// Its X25519 form (libsodium's birational map) is the peer's Noise static key.
///
/// The key pair is made from a 32-byte seed, which is all a key file stores.
///
/// - Warning: the secret key is wiped from memory when the last copy of the key pair
///   is released; do not copy ``seed`` into long-lived storage.
public struct IdentityKeyPair: Sendable {
    /// Size of the seed in bytes.
    public static let seedSize = 32
    /// Size of an Ed25519 signature in bytes.
    public static let signatureSize = 64

    /// The peer ID: the Ed25519 public key.
    public let peerID: PeerID
    private let secret: SecretBytes
    private let seedStorage: SecretBytes

    /// Derives the key pair from a 32-byte seed (deterministic).
    /// - Throws: ``CryptoError/invalidKeySize(expected:actual:)`` for any other size.
    public init(seed: some Collection<UInt8>) throws(CryptoError) {
        Sodium.ensureReady()
        let seedBytes = Array(seed)
        guard seedBytes.count == Self.seedSize else {
            throw .invalidKeySize(expected: Self.seedSize, actual: seedBytes.count)
        }
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        let status = crypto_sign_seed_keypair(&publicKey, &secretKey, seedBytes)
        guard status == 0, let key = Key32(publicKey) else { throw .sodiumFailure("crypto_sign_seed_keypair") }
        self.peerID = PeerID(publicKey: key)
        self.secret = SecretBytes(secretKey)
        self.seedStorage = SecretBytes(seedBytes)
    }

    /// Makes a new key pair from `generator`'s output.
    ///
    /// - Parameter generator: the randomness source; pass ``SecureRandom`` for real
    ///   keys, a seeded generator in tests.
    public static func generate(using generator: inout some RandomNumberGenerator) -> IdentityKeyPair {
        var seed = [UInt8]()
        seed.reserveCapacity(seedSize)
        for _ in 0..<(seedSize / 8) {
            withUnsafeBytes(of: generator.next()) { seed.append(contentsOf: $0) }
        }
        defer { seed.withUnsafeMutableBytes { sodium_memzero($0.baseAddress!, $0.count) } }
        // A 32-byte seed always yields a key pair.
        return try! IdentityKeyPair(seed: seed)
    }

    /// The 32-byte seed the key pair derives from (secret).
    public var seed: [UInt8] { seedStorage.bytes }

    /// Signs `message` with Ed25519.
    /// - Returns: the 64-byte detached signature.
    public func sign(_ message: some Collection<UInt8>) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: Self.signatureSize)
        let bytes = Array(message)
        _ = crypto_sign_detached(&signature, nil, bytes, UInt64(bytes.count), secret.bytes)
        return signature
    }

    /// The X25519 public key (the Noise static public key).
    public var x25519PublicKey: Key32 {
        // A key pair made by libsodium always has a valid public point.
        try! peerID.x25519PublicKey()
    }

    /// The X25519 secret key (the Noise static private key).
    /// - Warning: secret; do not log or store it.
    public var x25519SecretKey: [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(crypto_scalarmult_curve25519_BYTES))
        _ = crypto_sign_ed25519_sk_to_curve25519(&out, secret.bytes)
        return out
    }
}

extension PeerID {
    /// Checks an Ed25519 signature made by this peer.
    /// - Returns: true only for a valid signature of exactly `message`.
    public func verify(signature: some Collection<UInt8>, of message: some Collection<UInt8>) -> Bool {
        Sodium.ensureReady()
        let signatureBytes = Array(signature)
        guard signatureBytes.count == IdentityKeyPair.signatureSize else { return false }
        let messageBytes = Array(message)
        return crypto_sign_verify_detached(signatureBytes, messageBytes, UInt64(messageBytes.count), bytes) == 0
    }

    /// The X25519 form of this peer's key (its Noise static public key).
    /// - Throws: ``CryptoError/invalidPublicKey`` when the bytes are not a valid
    ///   Ed25519 point.
    public func x25519PublicKey() throws(CryptoError) -> Key32 {
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: Int(crypto_scalarmult_curve25519_BYTES))
        guard crypto_sign_ed25519_pk_to_curve25519(&out, bytes) == 0, let key = Key32(out) else {
            throw .invalidPublicKey
        }
        return key
    }
}
