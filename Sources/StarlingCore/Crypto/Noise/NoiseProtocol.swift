/// A full Noise protocol name, such as `Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b`, parsed
/// and checked (spec section 8).
///
/// Starling implements one DH function, one cipher and one hash, so only the pattern
/// varies; any other DH, cipher or hash name is refused.
public struct NoiseProtocol: Sendable, Equatable {
    /// The full protocol name; its bytes seed the handshake hash.
    public let name: String
    /// The handshake pattern it names.
    public let pattern: HandshakePattern

    /// Parses and checks a full protocol name.
    ///
    /// - Parameter name: `Noise_<pattern>_25519_ChaChaPoly_BLAKE2b`.
    /// - Throws: ``NoiseError/unsupportedProtocolName(_:)`` when the name is malformed
    ///   or names another DH, cipher or hash; ``NoiseError/unsupportedPattern(_:)`` when
    ///   the pattern part is unknown.
    public init(name: String) throws(NoiseError) {
        let parts = name.split(separator: NoiseConstants.nameSeparator, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == NoiseConstants.protocolPrefix, parts[2] == NoiseConstants.dhName,
            parts[3] == NoiseConstants.cipherName, parts[4] == NoiseConstants.hashName
        else { throw .unsupportedProtocolName(name) }
        self.name = name
        self.pattern = try HandshakePattern(name: String(parts[1]))
    }

    /// The protocol for `pattern` with Starling's DH, cipher and hash.
    ///
    /// - Parameter pattern: the handshake pattern.
    public init(pattern: HandshakePattern) {
        self.pattern = pattern
        self.name = [
            NoiseConstants.protocolPrefix, pattern.name, NoiseConstants.dhName, NoiseConstants.cipherName,
            NoiseConstants.hashName,
        ].joined(separator: String(NoiseConstants.nameSeparator))
    }
}
