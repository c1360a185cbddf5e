public import StarlingCore

extension NodeSwarm {
    /// The overlay of peer `index` in a hybrid swarm whose first `indexes` peers are
    /// index servers: they know the first one, and every other peer is a client told only
    /// the first index server's address (it learns the others from it), holding a
    /// partial view from `clientViewThreshold` members on
    /// (``StarlingCore/HybridConfiguration/clientViewThreshold``; 0, never, by default).
    public static func hybridOverlay(
        ofPeer index: Int, indexes: Int, clientViewThreshold: Int = 0, base: OverlayConfiguration = .simulation
    ) -> OverlayConfiguration {
        var overlay = base
        let first = address(ofPeer: 0)
        var hybrid: HybridConfiguration = index < indexes ? .index(fellows: [first]) : .client(indexes: [first])
        hybrid.clientViewThreshold = clientViewThreshold
        overlay.topology = .hybrid(hybrid)
        return overlay
    }

    /// Whether every peer after the first `indexes` has its record held by each index
    /// server of `live` that should hold its peer ID, by rendezvous placement among
    /// `live` (all index servers by default).
    public func isRegistered(indexes: Int, live: [SimNodeID]? = nil) -> Bool {
        let live = live ?? Array(nodes.prefix(indexes))
        var byID: [PeerID: SimNodeID] = [:]
        for node in live { byID[peerID(of: node)] = node }
        let now = network.now
        return nodes.dropFirst(indexes).allSatisfy { client in
            let id = peerID(of: client)
            let holders = IndexPlacement.holders(of: RoutingKey(peer: id), among: byID.keys, count: 2)
            return holders.allSatisfy { holder in
                overlay(of: byID[holder]!).hybrid?.store?.record(of: id, now: now) != nil
            }
        }
    }
}
