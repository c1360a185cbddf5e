/// What each side puts inside its encrypted handshake payload: its Ed25519 identity.
///
/// Noise authenticates X25519 static keys. A peer ID is the Ed25519 key, whose X25519
/// form can be computed but not inverted, so each side sends its Ed25519 key and the
/// receiver checks that it converts to the static key Noise authenticated.
///
/// ```
/// 0        1                      33
/// | format | Ed25519 public key   | rest
/// ```
/// The rest is the 12-byte ``HandshakeTimestamp`` in IK message 1 (required there) and
/// empty in XX messages 2 and 3; a receiver ignores bytes it does not expect.
struct HandshakePayload: Equatable, Sendable {
    /// The payload format this build writes.
    static let format: UInt8 = 1
    /// Encoded size.
    static let size = 1 + Key32.size

    /// The sender's identity.
    var peerID: PeerID

    /// The encoded bytes.
    var encoded: [UInt8] { [Self.format] + peerID.bytes }

    /// Decodes a payload and checks that `peerID` is the owner of `staticKey`.
    /// - Returns: the peer ID, or nil when the payload is malformed or does not match.
    static func verifiedPeer(in payload: [UInt8], staticKey: Key32?) -> PeerID? {
        guard let staticKey, let peer = claimedPeer(in: payload),
            let converted = try? peer.x25519PublicKey(), converted == staticKey
        else { return nil }
        return peer
    }

    /// Decodes a payload without checking it: the peer ID it claims, which the caller
    /// must check against the static key the handshake authenticated.
    /// - Returns: the peer ID, or nil when the payload is malformed.
    static func claimedPeer(in payload: [UInt8]) -> PeerID? {
        guard payload.count >= size, payload[0] == format, let key = Key32(payload[1..<size]) else { return nil }
        return PeerID(publicKey: key)
    }
}
