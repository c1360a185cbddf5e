/// The peers that this peer reaches only through a super-peer, by their member address:
/// session datagrams to such an address go to the super-peer in a relay instead.
///
/// At most ``OverlayConstants/maximumRelayRoutes`` routes, one per peer; a route to a new
/// peer beyond that is refused.
struct RelayRoutes: Sendable {
    /// How one peer is reached.
    struct Route: Equatable, Sendable {
        /// The peer, at the address the route is filed under.
        var peer: PeerID
        /// The super-peer that relays.
        var superPeer: PeerID
        /// Where the super-peer receives overlay datagrams.
        var via: PeerAddress
    }

    private var byAddress: [PeerAddress: Route] = [:]
    private var addressOfPeer: [PeerID: PeerAddress] = [:]

    /// Whether no peer needs a relay (the session layer's datagrams then go out untouched).
    var isEmpty: Bool { byAddress.isEmpty }

    /// The route for datagrams to `address`, if they need one.
    func route(to address: PeerAddress) -> Route? { byAddress[address] }

    /// The route to `peer`, if it needs one.
    func route(toPeer peer: PeerID) -> Route? { addressOfPeer[peer].flatMap { byAddress[$0] } }

    /// Files `route` under `address`, replacing the peer's previous route.
    /// - Returns: `false` when the table is full and `route` was not filed.
    mutating func set(_ route: Route, at address: PeerAddress) -> Bool {
        removeRoute(to: route.peer)
        if let other = byAddress[address] { removeRoute(to: other.peer) }
        guard byAddress.count < OverlayConstants.maximumRelayRoutes else { return false }
        byAddress[address] = route
        addressOfPeer[route.peer] = address
        return true
    }

    /// Forgets the route to `peer`.
    mutating func removeRoute(to peer: PeerID) {
        if let address = addressOfPeer.removeValue(forKey: peer) { byAddress[address] = nil }
    }

    /// Forgets the route to `peer` and every route through it (it failed or left).
    mutating func remove(peer: PeerID) {
        removeRoute(to: peer)
        for (address, route) in byAddress where route.superPeer == peer {
            byAddress[address] = nil
            addressOfPeer[route.peer] = nil
        }
    }
}
