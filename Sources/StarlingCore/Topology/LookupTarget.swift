/// What a lookup answered by a topology (index servers, super-peers) looks for, and
/// what it hands back to the Kademlia overlay when the topology cannot answer it.
public enum LookupTarget: Hashable, Sendable {
    /// A peer's record.
    case peer(PeerID)
    /// The providers of a service.
    case service(String)
    /// The local record stored where the topology keeps it, after `provide(service:)`.
    case provide(String)
}
