/// The two transport cipher states of a finished handshake, named by direction: what
/// ``NoiseHandshake/split()`` returns.
///
/// Non-copyable, as its cipher states are: use them in place, or move each out of the
/// pair (`var sending = pair.initiatorToResponder`), which frozen layout allows from
/// other modules too.
@frozen
public struct NoiseCipherPair: ~Copyable, Sendable {
    /// Encrypts the initiator's messages (and decrypts them at the responder).
    public var initiatorToResponder: CipherState
    /// Encrypts the responder's messages (and decrypts them at the initiator).
    public var responderToInitiator: CipherState
}

/// The two transport cipher states of a finished handshake, named for this side.
///
/// Non-copyable, as its cipher states are: keep it where the session lives and lend
/// its states with `inout`, or move them out (frozen layout allows it from other modules).
@frozen
public struct NoiseTransportKeys: ~Copyable, Sendable {
    /// Encrypts what this side sends.
    public var sending: CipherState
    /// Decrypts what this side receives.
    public var receiving: CipherState
    /// The final handshake hash, for channel binding.
    public let handshakeHash: [UInt8]
}

/// One side of a Noise handshake (spec section 5.3), with any supported pattern.
///
/// ### Purpose
/// Sans-I/O: it turns payloads into handshake messages and back, and hands over the
/// transport cipher states at the end. It never reads a clock or the system random
/// number generator: the ephemeral key comes from the generator passed to the
/// initialiser.
///
/// ### Usage
/// 1. Create it with the protocol name, role, prologue and the keys the pattern needs.
/// 2. While not ``isComplete``: if ``isMyTurn``, call ``writeMessage(payload:)`` and
///    send the result; otherwise pass the peer's next message to ``readMessage(_:)``.
/// 3. Call ``transportKeys()`` (or ``split()``) for the transport cipher states.
///
/// A message that fails to read (bad length, bad tag, invalid key) throws and leaves
/// the handshake exactly as it was, so a forged datagram cannot break a pending
/// handshake; the genuine message can still be read afterwards.
///
/// - Warning: a value type. Copies are independent handshakes sharing one ephemeral
///   key; never let two copies both write messages.
public struct NoiseHandshake: Sendable {
    /// The protocol being run.
    public let noiseProtocol: NoiseProtocol
    /// True on the initiator's side.
    public let isInitiator: Bool
    private var state: HandshakeState

    /// Starts a handshake whose ephemeral key comes from `generator`.
    ///
    /// - Parameters:
    ///   - protocolName: the full name, e.g. `Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b`.
    ///   - initiator: true for the side that sends the first message.
    ///   - prologue: bytes both sides must agree on; bound into the handshake hash.
    ///   - localStatic: this side's X25519 key pair; required when the pattern uses it,
    ///     ignored otherwise.
    ///   - remoteStatic: the peer's static public key, given exactly when the pattern
    ///     pre-shares it (the `K` and the `IK`/`NK`/`XK` responder key).
    ///   - presharedKeys: one 32-byte key per psk modifier, in order.
    ///   - generator: the source of the ephemeral key; pass ``SecureRandom`` in production.
    /// - Throws: ``NoiseError/unsupportedProtocolName(_:)``,
    ///   ``NoiseError/unsupportedPattern(_:)``, ``NoiseError/invalidKey(_:)``,
    ///   ``NoiseError/missingKey(_:)`` or ``NoiseError/unexpectedKey(_:)``.
    public init(
        protocolName: String, initiator: Bool, prologue: [UInt8] = [],
        localStatic: (secret: [UInt8], public: Key32)? = nil, remoteStatic: Key32? = nil,
        presharedKeys: [[UInt8]] = [], generator: inout some RandomNumberGenerator
    ) throws(NoiseError) {
        let noiseProtocol = try NoiseProtocol(name: protocolName)
        try self.init(
            noiseProtocol: noiseProtocol, initiator: initiator, prologue: prologue,
            localStatic: Self.checkedStatic(localStatic, for: noiseProtocol, initiator: initiator),
            remoteStatic: remoteStatic, presharedKeys: presharedKeys, ephemeral: NoiseKeyPair(using: &generator))
    }

    /// Starts a handshake for an already parsed protocol; see
    /// ``init(protocolName:initiator:prologue:localStatic:remoteStatic:presharedKeys:generator:)``.
    ///
    /// - Parameters:
    ///   - noiseProtocol: the protocol to run.
    ///   - initiator: true for the side that sends the first message.
    ///   - prologue: bytes both sides must agree on.
    ///   - localStatic: this side's X25519 key pair, when the pattern uses it.
    ///   - remoteStatic: the peer's static public key, when the pattern pre-shares it.
    ///   - presharedKeys: one 32-byte key per psk modifier, in order.
    ///   - generator: the source of the ephemeral key.
    /// - Throws: ``NoiseError/invalidKey(_:)``, ``NoiseError/missingKey(_:)`` or
    ///   ``NoiseError/unexpectedKey(_:)``.
    public init(
        noiseProtocol: NoiseProtocol, initiator: Bool, prologue: [UInt8] = [],
        localStatic: (secret: [UInt8], public: Key32)? = nil, remoteStatic: Key32? = nil,
        presharedKeys: [[UInt8]] = [], generator: inout some RandomNumberGenerator
    ) throws(NoiseError) {
        try self.init(
            noiseProtocol: noiseProtocol, initiator: initiator, prologue: prologue,
            localStatic: Self.checkedStatic(localStatic, for: noiseProtocol, initiator: initiator),
            remoteStatic: remoteStatic, presharedKeys: presharedKeys, ephemeral: NoiseKeyPair(using: &generator))
    }

    /// Starts a handshake with a static key pair already checked, so that nothing
    /// re-derives its public key: what an endpoint that makes many handshakes with one
    /// static key uses.
    ///
    /// - Parameters:
    ///   - noiseProtocol: the protocol to run.
    ///   - initiator: true for the side that sends the first message.
    ///   - prologue: bytes both sides must agree on.
    ///   - localStatic: this side's X25519 key pair, used when the pattern needs it.
    ///   - remoteStatic: the peer's static public key, when the pattern pre-shares it.
    ///   - presharedKeys: one 32-byte key per psk modifier, in order.
    ///   - generator: the source of the ephemeral key.
    /// - Throws: ``NoiseError/missingKey(_:)``, ``NoiseError/unexpectedKey(_:)`` or
    ///   ``NoiseError/invalidKey(_:)`` for the remote and preshared keys.
    init(
        noiseProtocol: NoiseProtocol, initiator: Bool, prologue: [UInt8], localStatic: NoiseKeyPair,
        remoteStatic: Key32?, presharedKeys: [[UInt8]], generator: inout some RandomNumberGenerator
    ) throws(NoiseError) {
        try self.init(
            noiseProtocol: noiseProtocol, initiator: initiator, prologue: prologue,
            localStatic: noiseProtocol.pattern.needsLocalStatic(initiator: initiator) ? localStatic : nil,
            remoteStatic: remoteStatic, presharedKeys: presharedKeys, ephemeral: NoiseKeyPair(using: &generator))
    }

    /// Starts a handshake with a fixed ephemeral secret key, for test vectors only.
    ///
    /// - Warning: reusing an ephemeral key across handshakes destroys their security.
    /// - Parameters:
    ///   - protocolName: the full protocol name.
    ///   - initiator: true for the side that sends the first message.
    ///   - prologue: bytes both sides must agree on.
    ///   - localStatic: this side's X25519 key pair, when the pattern uses it.
    ///   - remoteStatic: the peer's static public key, when the pattern pre-shares it.
    ///   - presharedKeys: one 32-byte key per psk modifier, in order.
    ///   - localEphemeralSecret: the 32-byte ephemeral secret key.
    /// - Throws: as the other initialisers, and ``NoiseError/invalidKey(_:)`` with
    ///   ``NoiseKeyRole/localEphemeral`` unless the secret is 32 bytes.
    public init(
        protocolName: String, initiator: Bool, prologue: [UInt8] = [],
        localStatic: (secret: [UInt8], public: Key32)? = nil, remoteStatic: Key32? = nil,
        presharedKeys: [[UInt8]] = [], localEphemeralSecret: [UInt8]
    ) throws(NoiseError) {
        guard let ephemeral = NoiseKeyPair(secret: localEphemeralSecret) else { throw .invalidKey(.localEphemeral) }
        let noiseProtocol = try NoiseProtocol(name: protocolName)
        let staticPair = try Self.checkedStatic(localStatic, for: noiseProtocol, initiator: initiator)
        try self.init(
            noiseProtocol: noiseProtocol, initiator: initiator, prologue: prologue, localStatic: staticPair,
            remoteStatic: remoteStatic, presharedKeys: presharedKeys, ephemeral: ephemeral)
    }

    /// The static key pair the pattern needs, checked: its public key must be the one
    /// `secret` derives. `nil` when the pattern uses no local static key.
    /// - Throws: ``NoiseError/missingKey(_:)`` or ``NoiseError/invalidKey(_:)``.
    private static func checkedStatic(
        _ localStatic: (secret: [UInt8], public: Key32)?, for noiseProtocol: NoiseProtocol, initiator: Bool
    ) throws(NoiseError) -> NoiseKeyPair? {
        guard noiseProtocol.pattern.needsLocalStatic(initiator: initiator) else { return nil }
        guard let localStatic else { throw .missingKey(.localStatic) }
        guard let pair = NoiseKeyPair(secret: localStatic.secret), pair.publicKey == localStatic.public else {
            throw .invalidKey(.localStatic)
        }
        return pair
    }

    /// Checks the remaining keys against the pattern, then runs `Initialize`.
    ///
    /// - Parameter staticPair: the checked local static key pair, exactly when the
    ///   pattern needs one.
    private init(
        noiseProtocol: NoiseProtocol, initiator: Bool, prologue: [UInt8], localStatic staticPair: NoiseKeyPair?,
        remoteStatic: Key32?, presharedKeys: [[UInt8]], ephemeral: NoiseKeyPair
    ) throws(NoiseError) {
        let pattern = noiseProtocol.pattern
        let needsRemote = pattern.needsRemoteStatic(initiator: initiator)
        if needsRemote && remoteStatic == nil { throw .missingKey(.remoteStatic) }
        if !needsRemote && remoteStatic != nil { throw .unexpectedKey(.remoteStatic) }
        if presharedKeys.count < pattern.presharedKeyCount { throw .missingKey(.presharedKey) }
        if presharedKeys.count > pattern.presharedKeyCount { throw .unexpectedKey(.presharedKey) }
        guard presharedKeys.allSatisfy({ $0.count == NoiseConstants.presharedKeyLength }) else {
            throw .invalidKey(.presharedKey)
        }
        self.noiseProtocol = noiseProtocol
        self.isInitiator = initiator
        state = try HandshakeState(
            noiseProtocol: noiseProtocol, initiator: initiator, prologue: prologue, localStatic: staticPair,
            remoteStatic: remoteStatic, presharedKeys: presharedKeys.map { SecretBytes($0) },
            localEphemeral: ephemeral)
    }

    /// True once every handshake message has been written or read.
    public var isComplete: Bool { state.isComplete }

    /// True when the next step is ``writeMessage(payload:)`` rather than ``readMessage(_:)``.
    public var isMyTurn: Bool { !state.isComplete && state.isWriteTurn }

    /// The handshake hash `h` so far; after completion it identifies the session
    /// (channel binding).
    public var handshakeHash: [UInt8] { state.symmetric.handshakeHash }

    /// The peer's static public key, once known (pre-shared or received).
    public var remoteStaticKey: Key32? { state.remoteStatic }

    /// Writes the next handshake message, carrying `payload`.
    ///
    /// The payload is encrypted once the pattern has mixed in a key; in the first
    /// message of `NN`, `XX` and similar it travels in the clear.
    /// - Parameter payload: application bytes to send with the message.
    /// - Returns: the message to send.
    /// - Throws: ``NoiseError/outOfTurn``, ``NoiseError/handshakeAlreadyComplete``,
    ///   ``NoiseError/messageTooLarge`` or ``NoiseError/invalidSharedSecret``; the
    ///   handshake is unchanged after a throw.
    public mutating func writeMessage(payload: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        guard !state.isComplete else { throw .handshakeAlreadyComplete }
        guard state.isWriteTurn else { throw .outOfTurn }
        var next = state
        let message = try next.writeMessage(payload: payload)
        state = next
        return message
    }

    /// Reads the peer's next handshake message.
    ///
    /// - Parameter message: the received bytes, exactly one Noise message.
    /// - Returns: the payload the peer sent with it.
    /// - Throws: ``NoiseError/outOfTurn``, ``NoiseError/handshakeAlreadyComplete``,
    ///   ``NoiseError/messageTooLarge``, ``NoiseError/invalidMessageLength``,
    ///   ``NoiseError/decryptionFailed`` or ``NoiseError/invalidSharedSecret``; the
    ///   handshake is unchanged after a throw.
    public mutating func readMessage(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard !state.isComplete else { throw .handshakeAlreadyComplete }
        guard !state.isWriteTurn else { throw .outOfTurn }
        var next = state
        let payload = try next.readMessage(message)
        state = next
        return payload
    }

    /// `Split()`: the transport cipher states, named by direction.
    ///
    /// In the one-way patterns `N`, `K` and `X` only `initiatorToResponder` may be used.
    /// Each call makes new cipher states at nonce 0: call it once, and keep what it
    /// returns as the only cipher states of the session.
    /// - Returns: the cipher states for initiator-to-responder and responder-to-initiator traffic.
    /// - Throws: ``NoiseError/handshakeNotComplete`` before the last message.
    public func split() throws(NoiseError) -> NoiseCipherPair {
        guard state.isComplete else { throw .handshakeNotComplete }
        return state.symmetric.split()
    }

    /// The transport cipher states, named for this side.
    ///
    /// In the one-way patterns the responder must never use `sending` and the initiator
    /// never `receiving`.
    /// - Returns: this side's sending and receiving cipher states and the handshake hash.
    /// - Throws: ``NoiseError/handshakeNotComplete`` before the last message.
    public func transportKeys() throws(NoiseError) -> NoiseTransportKeys {
        let pair = try split()
        if isInitiator {
            return NoiseTransportKeys(
                sending: pair.initiatorToResponder, receiving: pair.responderToInitiator, handshakeHash: handshakeHash)
        }
        return NoiseTransportKeys(
            sending: pair.responderToInitiator, receiving: pair.initiatorToResponder, handshakeHash: handshakeHash)
    }
}
