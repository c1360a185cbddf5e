internal import CSodium

/// An X25519 key pair held by this side of a handshake; the secret is wiped on release.
struct NoiseKeyPair: Sendable {
    /// The 32-byte secret scalar.
    let secret: SecretBytes
    /// The matching public key.
    let publicKey: Key32

    /// Derives the public key from `secret`, or returns nil unless it is 32 bytes.
    init?(secret: [UInt8]) {
        Sodium.ensureReady()
        guard secret.count == NoiseConstants.dhLength else { return nil }
        var publicBytes = [UInt8](repeating: 0, count: NoiseConstants.dhLength)
        guard crypto_scalarmult_base(&publicBytes, secret) == 0, let key = Key32(publicBytes) else { return nil }
        self.secret = SecretBytes(secret)
        self.publicKey = key
    }

    /// Wraps a secret and the public key the caller already derived from it, without
    /// checking them: for a static key pair whose public key is known.
    init(secret: [UInt8], trustedPublicKey: Key32) {
        self.secret = SecretBytes(secret)
        self.publicKey = trustedPublicKey
    }

    /// Makes a key pair from 32 bytes of `generator`'s output.
    init(using generator: inout some RandomNumberGenerator) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(NoiseConstants.dhLength)
        for _ in 0..<(NoiseConstants.dhLength / 8) {
            withUnsafeBytes(of: generator.next().littleEndian) { bytes.append(contentsOf: $0) }
        }
        defer { CipherKey.wipe(&bytes) }
        // Any 32 bytes clamp to a nonzero scalar, so this never fails; drawing again
        // keeps the code free of traps all the same.
        self = NoiseKeyPair(secret: bytes) ?? NoiseKeyPair(using: &generator)
    }

    /// `DH(key_pair, public_key)`: X25519.
    ///
    /// - Throws: ``NoiseError/invalidSharedSecret`` when the result is all zeros
    ///   (libsodium returns -1 for low-order public keys).
    func dh(_ remote: Key32) throws(NoiseError) -> [UInt8] {
        var shared = [UInt8](repeating: 0, count: NoiseConstants.dhLength)
        guard crypto_scalarmult(&shared, secret.bytes, remote.bytes) == 0 else { throw .invalidSharedSecret }
        return shared
    }
}

/// A Noise `HandshakeState` (spec section 5.3): runs a ``HandshakePattern`` token by token.
///
/// The public face is ``NoiseHandshake``, which checks turns and keys first and
/// applies each message to a copy, so a failed message leaves this state untouched.
struct HandshakeState: Sendable {
    /// The pattern being run.
    let pattern: HandshakePattern
    /// True on the initiator's side.
    let initiator: Bool
    /// `ck`, `h` and the handshake cipher state.
    private(set) var symmetric: SymmetricState
    /// `s`, when the pattern uses it.
    let localStatic: NoiseKeyPair?
    /// `e`, made up front so that no randomness is read later.
    let localEphemeral: NoiseKeyPair
    /// `rs`: pre-shared or received.
    private(set) var remoteStatic: Key32?
    /// `re`, once received.
    private(set) var remoteEphemeral: Key32?
    /// The pre-shared keys, used in order by `psk` tokens.
    private let presharedKeys: [SecretBytes]
    /// How many `psk` tokens have been processed.
    private var presharedKeysUsed = 0
    /// The index of the next handshake message.
    private(set) var messageIndex = 0

    /// `Initialize(...)`: seeds the symmetric state with the protocol name, prologue
    /// and pre-message public keys (initiator's first).
    ///
    /// The caller has checked that every key the pattern needs is present.
    init(
        noiseProtocol: NoiseProtocol, initiator: Bool, prologue: [UInt8], localStatic: NoiseKeyPair?,
        remoteStatic: Key32?, presharedKeys: [SecretBytes], localEphemeral: NoiseKeyPair
    ) throws(NoiseError) {
        pattern = noiseProtocol.pattern
        self.initiator = initiator
        self.localStatic = localStatic
        self.remoteStatic = remoteStatic
        self.presharedKeys = presharedKeys
        self.localEphemeral = localEphemeral
        symmetric = SymmetricState(protocolName: Array(noiseProtocol.name.utf8))
        symmetric.mixHash(prologue)
        for (tokens, isInitiatorSide) in [(pattern.initiatorPreMessage, true), (pattern.responderPreMessage, false)] {
            for token in tokens {
                // Only static keys are pre-shared by the supported patterns.
                guard token == .s else { throw .unsupportedPattern(pattern.name) }
                let key = isInitiatorSide == initiator ? localStatic?.publicKey : remoteStatic
                guard let key else { throw .missingKey(isInitiatorSide == initiator ? .localStatic : .remoteStatic) }
                symmetric.mixHash(key.bytes)
            }
        }
    }

    /// True after the last handshake message.
    var isComplete: Bool { messageIndex >= pattern.messages.count }
    /// True when the next message is this side's to write.
    var isWriteTurn: Bool { (messageIndex % 2 == 0) == initiator }
    /// True when the pattern has psk tokens, so `e` tokens also call `MixKey`.
    private var usesPresharedKeys: Bool { !presharedKeys.isEmpty }

    /// `WriteMessage(payload, message_buffer)` for the current message.
    ///
    /// - Throws: ``NoiseError/messageTooLarge``, ``NoiseError/invalidSharedSecret``, or
    ///   ``NoiseError/missingKey(_:)``.
    mutating func writeMessage(payload: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard payload.count <= NoiseConstants.maximumMessageLength else { throw .messageTooLarge }
        var message: [UInt8] = []
        for token in pattern.messages[messageIndex] {
            switch token {
            case .e:
                let publicKey = localEphemeral.publicKey.bytes
                message += publicKey
                symmetric.mixHash(publicKey)
                if usesPresharedKeys { symmetric.mixKey(publicKey) }
            case .s:
                guard let localStatic else { throw .missingKey(.localStatic) }
                message += try symmetric.encryptAndHash(localStatic.publicKey.bytes)
            case .ee, .es, .se, .ss:
                try mixDH(token)
            case .psk:
                try mixPresharedKey()
            }
        }
        message += try symmetric.encryptAndHash(payload)
        guard message.count <= NoiseConstants.maximumMessageLength else { throw .messageTooLarge }
        messageIndex += 1
        return message
    }

    /// `ReadMessage(message, payload_buffer)` for the current message.
    ///
    /// - Throws: ``NoiseError/messageTooLarge``, ``NoiseError/invalidMessageLength``,
    ///   ``NoiseError/decryptionFailed`` or ``NoiseError/invalidSharedSecret``.
    mutating func readMessage(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard message.count <= NoiseConstants.maximumMessageLength else { throw .messageTooLarge }
        var offset = 0
        for token in pattern.messages[messageIndex] {
            switch token {
            case .e:
                guard message.count - offset >= NoiseConstants.dhLength,
                    let key = Key32(message[offset..<offset + NoiseConstants.dhLength])
                else { throw .invalidMessageLength }
                offset += NoiseConstants.dhLength
                remoteEphemeral = key
                symmetric.mixHash(key.bytes)
                if usesPresharedKeys { symmetric.mixKey(key.bytes) }
            case .s:
                let length = NoiseConstants.dhLength + (symmetric.hasKey ? NoiseConstants.tagLength : 0)
                guard message.count - offset >= length else { throw .invalidMessageLength }
                let plaintext = try symmetric.decryptAndHash(Array(message[offset..<offset + length]))
                offset += length
                guard let key = Key32(plaintext) else { throw .invalidMessageLength }
                remoteStatic = key
            case .ee, .es, .se, .ss:
                try mixDH(token)
            case .psk:
                try mixPresharedKey()
            }
        }
        let rest = Array(message[offset...])
        if symmetric.hasKey && rest.count < NoiseConstants.tagLength { throw .invalidMessageLength }
        let payload = try symmetric.decryptAndHash(rest)
        messageIndex += 1
        return payload
    }

    /// `MixKey(DH(...))` for a DH token, choosing keys by token and role (spec section 5.3).
    private mutating func mixDH(_ token: NoiseToken) throws(NoiseError) {
        let localIsStatic: Bool
        let remoteIsStatic: Bool
        switch token {
        case .ee: (localIsStatic, remoteIsStatic) = (false, false)
        case .ss: (localIsStatic, remoteIsStatic) = (true, true)
        case .es: (localIsStatic, remoteIsStatic) = (!initiator, initiator)
        case .se: (localIsStatic, remoteIsStatic) = (initiator, !initiator)
        case .e, .s, .psk: return
        }
        guard let local = localIsStatic ? localStatic : localEphemeral else { throw .missingKey(.localStatic) }
        guard let remote = remoteIsStatic ? remoteStatic : remoteEphemeral else { throw .missingKey(.remoteStatic) }
        var shared = try local.dh(remote)
        symmetric.mixKey(shared)
        CipherKey.wipe(&shared)
    }

    /// `MixKeyAndHash(psk)` with the next pre-shared key.
    private mutating func mixPresharedKey() throws(NoiseError) {
        guard presharedKeysUsed < presharedKeys.count else { throw .missingKey(.presharedKey) }
        symmetric.mixKeyAndHash(presharedKeys[presharedKeysUsed].bytes)
        presharedKeysUsed += 1
    }
}
