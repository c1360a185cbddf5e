/// The shape of the overlay a peer takes part in: one switch, the same calls.
///
/// Every topology runs SWIM membership, Kademlia routing and spreading among all peers;
/// what differs is who answers lookups and provider queries:
/// - ``pure``: all peers are equal; lookups walk the Kademlia overlay (a few hops).
/// - ``hybrid(_:)``: index servers hold the peers' signed records and provider entries
///   (as Napster's servers or BitTorrent's trackers did) and answer lookups in one round
///   trip; data still flows peer to peer. Several index servers share the key space by
///   rendezvous hashing, each key held by ``HybridConfiguration/replication`` of them;
///   when no index answers, lookups fall back to the Kademlia overlay by themselves.
/// - ``superPeer(_:)``: peers elect super-peers by capacity, uptime and reachability
///   when the swarm needs more of them (Gnutella 0.6 ultrapeers); every leaf keeps links
///   to ``SuperPeerConfiguration/superPeersPerLeaf`` super-peers and fails over, and a
///   super-peer holds its leaves' signed records and query routing filters (see
///   ``SuperPeerCore``). In this release lookups and searches still take the pure
///   overlay's paths (Kademlia, floods); answers by super-peers for their leaves and
///   query routing among super-peers come next.
///
/// The calls of a `Peer` (connect by ID, look up, provide and find a service,
/// broadcast, search, echo, members, request/response) behave the same in every
/// topology; ``OverlayEvent/topology(_:)`` reports the role a peer holds and the index
/// servers it finds and loses.
public enum Topology: Equatable, Sendable, CustomStringConvertible {
    /// All peers equal (the default).
    case pure
    /// Index servers answer lookups; data flows peer to peer.
    case hybrid(HybridConfiguration)
    /// Elected super-peers serve their leaves.
    case superPeer(SuperPeerConfiguration)

    /// The role this topology gives the local peer.
    public var role: TopologyRole {
        switch self {
        case .pure: .peer
        case .hybrid(let hybrid): hybrid.role == .index ? .index : .client
        case .superPeer(let superPeer): superPeer.rolePolicy == .alwaysSuperPeer ? .superPeer : .leaf
        }
    }

    public var description: String {
        switch self {
        case .pure: "pure"
        case .hybrid: "hybrid"
        case .superPeer: "super-peer"
        }
    }
}

/// The role a peer holds in its topology.
public enum TopologyRole: String, Equatable, Sendable, CaseIterable, CustomStringConvertible {
    /// A peer of a pure overlay.
    case peer
    /// An index server of a hybrid overlay.
    case index
    /// A peer of a hybrid overlay that registers with and asks index servers.
    case client
    /// An elected (or configured) super-peer of a super-peer overlay.
    case superPeer = "super-peer"
    /// A peer of a super-peer overlay served by super-peers.
    case leaf

    public var description: String { rawValue }
}
