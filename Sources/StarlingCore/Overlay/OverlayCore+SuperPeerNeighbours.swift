extension OverlayCore {
    /// Sets spreading's neighbours by role in the super-peer topology (Gnutella 0.6
    /// ultrapeer rules); does nothing in the other topologies.
    ///
    /// - A leaf's neighbours are the super-peers that hold it, and it is a
    ///   ``SpreadingPosition/leaf``: it sends what it originates to them and forwards
    ///   nothing it receives.
    /// - A leaf no super-peer holds yet (a young swarm, or one that lost all of its
    ///   super-peers) spreads as a peer of a pure overlay until one does: a random sample
    ///   of ``OverlayConfiguration/neighbourCount`` alive members (see
    ///   ``neighboursFollowRoles``), forwarding as they do.
    /// - A super-peer's neighbours are a random sample of up to
    ///   ``OverlayConfiguration/neighbourCount`` of the other super-peers it knows (fresh
    ///   adverts of alive members; a sampled one stays while it stays a super-peer, and
    ///   the sample is topped up at random), plus every leaf it holds, each with its query
    ///   routing filter, so that a query reaches a leaf only if it could match.
    ///
    /// Called after the inputs that can change it (super-peer messages, timeouts and
    /// membership news: ``superPeerNeighboursStale``); spreading is told only when the set
    /// changed.
    mutating func refreshSuperPeerNeighbours() {
        guard let core = superPeer else { return }
        var wanted: [PeerID: SpreadingNeighbour] = [:]
        let position: SpreadingPosition
        switch core.role {
        case .leaf:
            for (id, link) in core.links where link.isAttached {
                wanted[id] = SpreadingNeighbour(address: link.address)
            }
            if wanted.isEmpty {
                // No super-peer holds this leaf yet (a young swarm, or every one lost):
                // it spreads as a peer of a pure overlay meanwhile.
                position = .relay
                wanted = unattachedNeighbours()
            } else {
                position = .leaf
            }
        case .superPeer:
            position = .relay
            for (id, leaf) in core.held {
                wanted[id] = SpreadingNeighbour(address: leaf.address, queryFilter: leaf.filter)
            }
            // A candidate: a super-peer it knows (a fresh advert), alive, not held as a leaf.
            // Asked of the sample (at most `neighbourCount`) and, only when it must be
            // topped up, of every known super-peer: this runs after most inputs, and a
            // swarm of 10,000 peers has some 330 super-peers.
            func candidate(_ id: PeerID) -> PeerAddress? {
                guard wanted[id] == nil, core.superPeerAddress(of: id) != nil,
                    let member = membership.member(id), member.state == .alive
                else { return nil }
                return member.address
            }
            // The sampled super-peers that still qualify stay; the rest is drawn at random.
            var sampled: [(PeerID, PeerAddress)] = []
            for id in spreading.neighbours.keys.sorted() where spreading.queryFilters[id] == nil {
                guard sampled.count < configuration.neighbourCount, let address = candidate(id) else { continue }
                sampled.append((id, address))
            }
            if sampled.count < configuration.neighbourCount {
                let chosen = Set(sampled.map(\.0))
                let rest = core.known.keys.filter { !chosen.contains($0) }.sorted().compactMap { id in
                    candidate(id).map { (id, $0) }
                }
                sampled += rest.shuffled(using: &random).prefix(configuration.neighbourCount - sampled.count)
            }
            for (id, address) in sampled { wanted[id] = SpreadingNeighbour(address: address) }
        }
        let unchanged =
            spreading.position == position && spreading.neighbours.count == wanted.count
            && wanted.allSatisfy { id, neighbour in
                spreading.neighbours[id] == neighbour.address && spreading.queryFilters[id] == neighbour.queryFilter
            }
        guard !unchanged else { return }
        spreading.setNeighbours(wanted, position: position)
    }

    /// Whether spreading's neighbours follow the super-peer roles now: in the super-peer
    /// topology, but not on a leaf no super-peer holds, whose neighbours are drawn (and
    /// re-drawn as members join) as in a pure overlay.
    var neighboursFollowRoles: Bool {
        mutating get {
            withSuperPeerCore { $0.role == .superPeer || $0.links.contains { $0.value.isAttached } } ?? false
        }
    }

    /// The neighbours of a leaf no super-peer holds: the unfiltered neighbours it has that
    /// are still alive members (the pure overlay's sampling keeps them random as members
    /// join and fail), topped up at random from the alive members.
    mutating func unattachedNeighbours() -> [PeerID: SpreadingNeighbour] {
        var wanted: [PeerID: SpreadingNeighbour] = [:]
        for id in spreading.neighbours.keys.sorted()
        where spreading.queryFilters[id] == nil && wanted.count < configuration.neighbourCount {
            guard let member = membership.member(id), member.state == .alive else { continue }
            wanted[id] = SpreadingNeighbour(address: member.address)
        }
        guard wanted.count < configuration.neighbourCount, membership.aliveCount > wanted.count else { return wanted }
        let candidates = membership.members.filter { $0.state == .alive && wanted[$0.id] == nil }
        for member in candidates.shuffled(using: &random).prefix(configuration.neighbourCount - wanted.count) {
            wanted[member.id] = SpreadingNeighbour(address: member.address)
        }
        return wanted
    }
}

extension OverlayCore {
    /// Declares this peer's search keywords for the super-peer topology's query routing.
    ///
    /// There a query reaches a leaf only when every keyword of its text
    /// (``QueryRoutingFilter/keywords(ofQuery:)``) is among the words of this peer's ID
    /// text, of its service names, or of `keywords`; the leaf's super-peers learn the new
    /// filter at once. In the pure and hybrid topologies every flooded query reaches
    /// every peer within its TTL, and the keywords are ignored.
    /// - Parameters:
    ///   - keywords: texts whose words match queries; at most
    ///     ``SuperPeerConstants/maximumKeywords`` are kept, the rest ignored. An empty
    ///     list clears them.
    ///   - now: the current time.
    public mutating func setSearchKeywords(_ keywords: [String], now: Instant) {
        let now = advance(now)
        defer { absorb(now: now) }
        superPeer?.setKeywords(keywords, now: now)
    }
}
