/// Why a signed record was refused.
public enum RecordError: Error, Equatable, Sendable {
    /// The bytes are not a well-formed signed record.
    case malformed(WireError)
    /// The signature does not verify under the record's own peer ID.
    case badSignature
    /// The record expired at `expiresAt`, which is not after `now`.
    case expired(expiresAt: UnixTime, now: UnixTime)
    /// The record expires further ahead than ``RecordConstants/maximumLifetime`` allows.
    case expiryTooFar(expiresAt: UnixTime, limit: UnixTime)
    /// The record belongs to (or was to be signed by) another peer than expected.
    case wrongSigner(expected: PeerID, actual: PeerID)
}
