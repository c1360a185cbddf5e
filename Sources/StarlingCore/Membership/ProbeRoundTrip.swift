/// A round trip a probe measured: the probe's target answered directly, from its member
/// address, with its network coordinate.
public struct ProbeRoundTrip: Equatable, Sendable {
    /// The member that answered.
    public var member: PeerID
    /// From the ping to its ack.
    public var rtt: Duration
    /// The coordinate the member's ack carried.
    public var coordinate: NetworkCoordinate

    /// A round trip from its parts.
    public init(member: PeerID, rtt: Duration, coordinate: NetworkCoordinate) {
        self.member = member
        self.rtt = rtt
        self.coordinate = coordinate
    }
}

extension MembershipCore {
    /// The round trips direct acks measured since the last call (at most
    /// ``MembershipConstants/roundTripsHeld``; the rest are not kept), oldest first, for
    /// the owner's network coordinates (``PeerDistances``).
    public mutating func takeRoundTrips() -> [ProbeRoundTrip] {
        defer { roundTrips.removeAll() }
        return roundTrips
    }
}
