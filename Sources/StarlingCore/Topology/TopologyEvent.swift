/// What the topology layer of an ``OverlayCore`` reports: roles and index servers.
public enum TopologyEvent: Hashable, Sendable, CustomStringConvertible {
    /// The local peer holds `role` (reported once at start and again on every change).
    case role(TopologyRole)
    /// An index server answered for the first time, or again after it was lost.
    case indexUp(PeerID, PeerAddress)
    /// An index server stopped answering, or membership found it suspect, failed or gone.
    case indexDown(PeerID)
    /// No index server answers: lookups and provider queries go to the Kademlia overlay,
    /// and this peer's services are provided there too.
    case fallbackStarted
    /// An index server answers again: lookups go to the indexes once more.
    case fallbackEnded

    public var description: String {
        switch self {
        case .role(let role): "role \(role)"
        case .indexUp(let id, let address): "index up \(id.shortDescription) at \(address)"
        case .indexDown(let id): "index down \(id.shortDescription)"
        case .fallbackStarted: "fallback to Kademlia started"
        case .fallbackEnded: "fallback to Kademlia ended"
        }
    }
}
