/// What a ``DiscoveryCore`` reports to its user.
public enum DiscoveryEvent: Hashable, Sendable {
    /// A verified record of a peer not held before.
    case discovered(SignedPeerRecord)
    /// A verified record that replaced one with a lower sequence number.
    case updated(SignedPeerRecord)
    /// A held record expired and was dropped.
    case expired(PeerID)
    /// A `whoHas` query was answered; the record is the newest held for the peer.
    case answered(SignedPeerRecord)
    /// A `whoHas` query got no valid answer within ``DiscoveryConfiguration/queryTimeout``.
    case queryTimedOut(PeerID)
}
