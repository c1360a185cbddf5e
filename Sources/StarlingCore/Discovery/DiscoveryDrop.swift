/// Why a discovery core ignored a datagram; counted in ``DiscoveryCore/drops``.
public enum DiscoveryDrop: Error, Hashable, Sendable, CaseIterable {
    /// Discovery is off (no destinations configured).
    case disabled
    /// Too short, too long, truncated, trailing bytes or an invalid field.
    case malformed
    /// A protocol version this build does not speak.
    case unsupportedVersion
    /// A message type that is not discovery's.
    case unknownType
    /// Open in a private swarm, or sealed in an open one.
    case wrongMode
    /// A sealed message that fails authentication: another swarm, another secret, or altered.
    case unauthentic
    /// A sealed message whose sender time is outside ``DiscoveryConstants/replayWindow``.
    case outsideReplayWindow
    /// A record whose signature, expiry or signer does not verify.
    case badRecord
    /// A record with a sequence number no higher than the one held.
    case stale
    /// This peer's own record, looped back or replayed.
    case own
    /// The source host, or all sources together, exceeded their rate.
    case rateLimited
    /// The record table is full and the peer is new.
    case tableFull
    /// An answer for a peer this core did not ask about.
    case unsolicited
}
