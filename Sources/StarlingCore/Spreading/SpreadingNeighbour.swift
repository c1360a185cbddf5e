/// One spreading neighbour as ``SpreadingCore/setNeighbours(_:position:)`` takes it:
/// where it is, and, for a leaf a super-peer holds, the filter that gates queries to it.
public struct SpreadingNeighbour: Equatable, Sendable {
    /// Where the neighbour receives spreading messages.
    public var address: PeerAddress
    /// The leaf's query routing filter, or `nil` for a peer of a flat overlay or another
    /// super-peer.
    ///
    /// With a filter, the neighbour is a leaf this super-peer holds: it receives a query
    /// only if ``QueryRoutingFilter/mightMatch(queryKeywords:)`` holds for the query's
    /// keywords (``QueryRoutingFilter/keywords(ofQuery:)`` of its payload: UTF-8 text
    /// split into words; a payload that is not UTF-8 text, or has no words, reaches no
    /// leaf), and it receives every gossip message, outside the fanout sample. Hits,
    /// notices and echoes are not filtered.
    public var queryFilter: QueryRoutingFilter?

    /// A neighbour at `address`, a leaf gated by `queryFilter` when one is given.
    public init(address: PeerAddress, queryFilter: QueryRoutingFilter? = nil) {
        self.address = address
        self.queryFilter = queryFilter
    }
}

/// Where a peer stands in the spreading graph: whether it passes on what it receives.
public enum SpreadingPosition: Equatable, Sendable {
    /// A peer of a flat overlay, or a super-peer: it forwards gossip (to
    /// ``SpreadingConfiguration/fanout`` random unfiltered neighbours and every leaf
    /// neighbour) and floods queries while their TTL lasts.
    case relay
    /// A leaf of the super-peer topology: it sends what it originates to every neighbour
    /// (its super-peers) and forwards nothing it receives, neither gossip nor queries;
    /// the super-peers spread among themselves. It still passes hits back and answers
    /// echoes.
    case leaf
}
