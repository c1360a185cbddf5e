/// Which key a Noise handshake was missing or did not expect.
public enum NoiseKeyRole: Equatable, Sendable {
    /// This side's static key pair `s`.
    case localStatic
    /// The peer's static public key `rs`, known before the handshake.
    case remoteStatic
    /// A 32-byte pre-shared key.
    case presharedKey
    /// This side's ephemeral key pair (given directly only by tests).
    case localEphemeral
}

/// Why a Noise operation failed.
///
/// Every failure of a handshake or cipher state is one of these; no input, however
/// hostile, makes Noise code trap.
public enum NoiseError: Error, Equatable, Sendable {
    /// The protocol name is malformed, or names a DH, cipher or hash other than
    /// `25519`, `ChaChaPoly` and `BLAKE2b`.
    case unsupportedProtocolName(String)
    /// The handshake pattern or one of its modifiers is unknown or misplaced.
    case unsupportedPattern(String)
    /// A key or pre-shared key is not 32 bytes, or a static public key does not match
    /// its secret key.
    case invalidKey(NoiseKeyRole)
    /// The pattern needs a key that was not given (or fewer pre-shared keys than it uses).
    case missingKey(NoiseKeyRole)
    /// A key was given that the pattern does not pre-share (or more pre-shared keys
    /// than it uses); refused so that a caller never believes an unused key was checked.
    case unexpectedKey(NoiseKeyRole)
    /// It is the peer's turn: `writeMessage` was called where a read was due, or the reverse.
    case outOfTurn
    /// The handshake already finished; use the transport cipher states instead.
    case handshakeAlreadyComplete
    /// `split()` was called before the last handshake message.
    case handshakeNotComplete
    /// A message (input or output) would exceed ``NoiseConstants/maximumMessageLength``.
    case messageTooLarge
    /// A handshake message is too short for the keys and tag it must carry.
    case invalidMessageLength
    /// Authentication failed: the message was altered, or the keys or pre-shared key differ.
    case decryptionFailed
    /// A Diffie-Hellman result was all zeros: the peer sent a low-order public key.
    case invalidSharedSecret
    /// The cipher state's nonce reached 2^64-1; the session must end or rekey into a
    /// new session (rekeying does not reset the nonce).
    case nonceExhausted
    /// The output buffer lent to an in-place operation is too small.
    case bufferTooSmall
}
