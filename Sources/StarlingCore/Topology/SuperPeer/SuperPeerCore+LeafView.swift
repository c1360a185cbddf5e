extension SuperPeerCore {
    // MARK: Leaf views

    /// The swarm's size as this peer counts it, itself included: a super-peer takes the
    /// members it holds or, when that is more, what the super-peers' adverts add up to
    /// (``membersInAdverts``); a leaf takes the median of what the super-peers it hears
    /// from count (their adverts' ``SuperPeerAdvert/members``; the median, so that one
    /// lying advert moves nothing) when that is more than it holds itself, as it is once
    /// it holds only the super-peers.
    public var estimatedMembers: Int {
        let own = memberOrder.count + 1
        guard role == .leaf else { return max(own, membersInAdverts) }
        return max(own, medianReport(\.members) ?? 0)
    }

    /// The median of what the fresh adverts of super-peers that count the swarm (their
    /// ``SuperPeerAdvert/members`` above 0) report in `field`, nil when there is none:
    /// the median, so that one lying advert moves nothing.
    func medianReport<Field: BinaryInteger>(_ field: KeyPath<SuperPeerAdvert, Field>) -> Int? {
        let reported = known.values.compactMap { entry in
            entry.advert.members > 0 && isFreshSuperPeer(entry) ? Int(entry.advert[keyPath: field]) : nil
        }.sorted()
        return reported.isEmpty ? nil : reported[reported.count / 2]
    }

    /// The members the super-peers' adverts account for: the super-peers this peer knows
    /// (itself included when it is one) and the leaves they hold, each leaf held by
    /// ``SuperPeerConfiguration/superPeersPerLeaf`` of them. A super-peer's view of a
    /// swarm of thousands fills in over minutes of sync (at 10,000 peers it held 13 %
    /// and 31 % of the members 10 and 20 s in), and an election counted on it found too
    /// many super-peers for the members it saw and demoted them below the ratio; leaves
    /// attach within seconds, and the adverts say so. Each advert counts at most
    /// ``SuperPeerConfiguration/maximumLeaves`` leaves, so that a lying one adds little.
    var membersInAdverts: Int {
        var superPeers = role == .superPeer ? 1 : 0
        var leaves = role == .superPeer ? held.count : 0
        for entry in known.values where isFreshSuperPeer(entry) {
            superPeers += 1
            leaves += min(Int(entry.advert.leafCount), configuration.maximumLeaves)
        }
        return superPeers + leaves / max(1, configuration.superPeersPerLeaf)
    }

    /// Whether news of member `id` may change this peer's spreading neighbours (see
    /// ``OverlayCore``): any member's for a leaf no super-peer holds yet (it samples the
    /// members as a pure overlay's peer does), otherwise only a super-peer it knows, a
    /// super-peer it links to or a leaf it holds.
    public func affectsNeighbours(_ id: PeerID) -> Bool {
        if role == .leaf, !isOnASuperPeer { return true }
        return known[id] != nil || links[id] != nil || held[id] != nil
    }

    /// How long a member a leaf's partial view took stays even if no advert names it a
    /// super-peer: long enough for its adverts to arrive (the life of an advert).
    public var featuredGrace: Duration { advertLifetime }

    /// Whether an advert of a super-peer that is not a member here arrived since the last
    /// call at a leaf with a partial view or a super-peer (which then pulls the
    /// super-peers).
    public mutating func takeHeardOfUnheldSuperPeer() -> Bool {
        defer { heardOfUnheldSuperPeer = false }
        return heardOfUnheldSuperPeer
    }

    /// The least time between two pulls of the super-peers that news of one not held
    /// brings forward (see ``MembershipCore/refreshView(spacing:now:)``): membership's
    /// own for a leaf short of super-peers, which needs candidates now; the life of an
    /// advert (``featuredGrace``) for one on all its super-peers. Every answer carries
    /// every super-peer, and a leaf holds only those its adverts name: with hundreds of
    /// super-peers it forgets, one grace later, most of those a pull brought, and hears of
    /// them again. Pulling at each such advert kept the super-peers of a 10,000-peer swarm
    /// answering while its election settled.
    ///
    /// A super-peer pulls at most once per advert interval: news of super-peers comes in
    /// adverts, at that pace, so pulling sooner brings nothing new.
    public var unheldSuperPeerPullSpacing: Duration? {
        if role == .superPeer { return configuration.advertInterval }
        guard links.count >= configuration.superPeersPerLeaf else { return nil }
        return featuredGrace
    }

    /// Works out ``featuredMembers`` and ``prefersPartialView`` again: at each
    /// maintenance and role change. A leaf holds only the super-peers once it knows some
    /// and the swarm counts ``SuperPeerConfiguration/leafViewThreshold`` members or more,
    /// and holds every member again below half of that (hysteresis) or once it promotes.
    mutating func refreshLeafView() {
        var featured = Set(links.keys)
        for (id, entry) in known where isFreshSuperPeer(entry) { featured.insert(id) }
        if featured != featuredMembers {
            featuredMembers = featured
            featuredVersion &+= 1
        }
        let threshold = configuration.leafViewThreshold
        guard role == .leaf, threshold > 0, !featured.isEmpty else {
            prefersPartialView = false
            return
        }
        prefersPartialView =
            MembershipView.wanted(
                forMembers: estimatedMembers, threshold: threshold, now: prefersPartialView ? .partial : .full)
            == .partial
    }
}
