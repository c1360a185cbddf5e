/// How far another peer is estimated to be: a round trip, and what it rests on.
public struct DistanceEstimate: Equatable, Sendable {
    /// What an estimate rests on.
    public enum Basis: Equatable, Sendable {
        /// The median of the round trips this peer measured to it lately (probes and
        /// echoes).
        case measured
        /// The distance between the two peers' network coordinates.
        case coordinates
    }

    /// The estimated round trip.
    public var roundTrip: Duration
    /// What it rests on.
    public var basis: Basis

    /// An estimate from its parts.
    public init(roundTrip: Duration, basis: Basis) {
        self.roundTrip = roundTrip
        self.basis = basis
    }
}

/// A peer with the estimate of how far it is, if there is one.
public struct RankedPeer: Equatable, Sendable {
    /// The peer.
    public var id: PeerID
    /// How far it is; nil when neither a round trip nor a coordinate is known.
    public var estimate: DistanceEstimate?

    /// A ranked peer from its parts.
    public init(id: PeerID, estimate: DistanceEstimate?) {
        self.id = id
        self.estimate = estimate
    }
}
