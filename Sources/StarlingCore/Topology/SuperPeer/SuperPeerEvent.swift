/// What a ``SuperPeerCore`` reports.
public enum SuperPeerEvent: Equatable, Sendable {
    /// This peer's role changed (election, or a forced role taking effect).
    case roleChanged(from: SuperPeerRole, to: SuperPeerRole)
    /// This leaf is now held by `superPeer` (it accepted the attach).
    case attached(superPeer: PeerID)
    /// This leaf's link to `superPeer` ended.
    case detached(superPeer: PeerID, cause: SuperPeerLinkEnd)
    /// This super-peer now holds `leaf`.
    case leafAttached(PeerID)
    /// This super-peer no longer holds `leaf`.
    case leafDetached(PeerID, cause: SuperPeerLinkEnd)
    /// A relayed `payload` from `origin` reached this peer through the super-peer at
    /// `via` (unauthenticated at this layer: the payload carries its own proof when it
    /// needs one).
    case relayed(origin: PeerID, payload: [UInt8], via: PeerAddress)
    /// A lookup the super-peers answered finished (``SuperPeerCore/findPeer(_:now:)``,
    /// ``SuperPeerCore/findProviders(service:now:)``, ``SuperPeerCore/provide(service:now:)``).
    case lookupFinished(LookupID, LookupResult)
    /// No super-peer could answer lookup `id`: the overlay must finish it through the
    /// Kademlia overlay, adding the requests and timeouts already spent.
    case fallback(LookupID, LookupTarget, requests: Int, timeouts: Int)
}

/// Why a link between a leaf and a super-peer ended.
public enum SuperPeerLinkEnd: Equatable, Sendable {
    /// Membership reported the other side failed or departed.
    case failed
    /// The other side sent a detach, or withdrew its advert.
    case detached(SuperPeerDetachReason)
    /// The super-peer refused the attach or the keepalive.
    case refused(SuperPeerRefusal)
    /// No answer within the attach timeout, or no keepalive within the lease.
    case unresponsive
    /// This peer changed role, or moved the link to a less loaded super-peer.
    case local
}
