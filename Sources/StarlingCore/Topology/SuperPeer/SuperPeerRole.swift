/// The role of a peer in a super-peer overlay.
///
/// A ``superPeer`` indexes its leaves' records and filters, answers for them and routes
/// queries among super-peers; a ``leaf`` keeps links to a few super-peers and carries
/// little of the swarm's query traffic.
public enum SuperPeerRole: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// An ordinary peer, attached to super-peers.
    case leaf
    /// A peer elected (or configured) to serve leaves.
    case superPeer

    /// `leaf` or `super-peer`.
    public var description: String {
        switch self {
        case .leaf: "leaf"
        case .superPeer: "super-peer"
        }
    }
}

/// Which roles a peer may take: elected, or forced by the application.
public enum SuperPeerRolePolicy: Equatable, Hashable, Sendable {
    /// The election decides (only a directly reachable peer can be elected).
    case automatic
    /// This peer is a super-peer from its start and never demotes (a well-provisioned
    /// server the operator chose). It wins over the election and over reachability.
    case alwaysSuperPeer
    /// This peer stays a leaf (a phone, a peer behind NAT, a peer on a metered link).
    case neverSuperPeer
}
