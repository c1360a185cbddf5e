/// What the topology layer of an ``OverlayCore`` reports: roles, index servers, and
/// links between leaves and super-peers.
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
    /// Super-peer overlay: this leaf is now held by `superPeer`.
    case attached(superPeer: PeerID)
    /// Super-peer overlay: this leaf's link to `superPeer` ended (it attaches elsewhere).
    case detached(superPeer: PeerID)
    /// Super-peer overlay: this super-peer now holds `leaf`.
    case leafAttached(PeerID)
    /// Super-peer overlay: this super-peer no longer holds `leaf`.
    case leafDetached(PeerID)

    public var description: String {
        switch self {
        case .role(let role): "role \(role)"
        case .indexUp(let id, let address): "index up \(id.shortDescription) at \(address)"
        case .indexDown(let id): "index down \(id.shortDescription)"
        case .fallbackStarted: "fallback to Kademlia started"
        case .fallbackEnded: "fallback to Kademlia ended"
        case .attached(let superPeer): "attached to super-peer \(superPeer.shortDescription)"
        case .detached(let superPeer): "detached from super-peer \(superPeer.shortDescription)"
        case .leafAttached(let leaf): "leaf \(leaf.shortDescription) attached"
        case .leafDetached(let leaf): "leaf \(leaf.shortDescription) detached"
        }
    }
}
