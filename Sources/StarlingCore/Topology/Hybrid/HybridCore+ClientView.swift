extension HybridCore {
    // MARK: Client views

    /// Takes the number of members membership holds, this peer included: an index server
    /// reports it in its `indexes` answers, and a client counts the swarm by it as well as
    /// by those reports (``prefersPartialView``), but only while it holds every member:
    /// what a partial view holds says nothing of the swarm (a client that learned of the
    /// index servers from members, whose answers carry no count, would otherwise go back
    /// to a full view at once).
    public mutating func setHeldMembers(_ count: Int) {
        guard count != heldMembers, !prefersPartialView else { return }
        heldMembers = count
        updateViewPreference()
    }

    /// How long a member a client's partial view took stays even if it is no index
    /// server this peer knows: long enough for an index list to name it.
    public var featuredGrace: Duration { configuration.indexListInterval * 2 }

    /// Takes the count index server `id` reported.
    mutating func noteReportedMembers(_ members: UInt32, by id: PeerID) {
        guard indexes[id]?.reportedMembers != members else { return }
        indexes[id]?.reportedMembers = members
        let counts = indexes.values.map(\.reportedMembers).filter { $0 > 0 }.sorted()
        reportedMembers = counts.isEmpty ? 0 : Int(counts[counts.count / 2])
        updateViewPreference()
    }

    /// Works out ``prefersPartialView`` again. A client holds only the index servers
    /// once the swarm counts ``HybridConfiguration/clientViewThreshold`` members or more
    /// (the median of the index servers' reports, so that one lying server moves nothing,
    /// or what it holds itself when that is more), and every member again once the
    /// reports (or, before any came, what it held when it went partial) fall below half of
    /// it (hysteresis). Reports stay when their index servers are lost: a client whose
    /// lookups fell back to the Kademlia overlay keeps its partial view.
    mutating func updateViewPreference() {
        // A partial view counts by the reports alone once there are any.
        let members =
            prefersPartialView && reportedMembers > 0 ? reportedMembers : max(heldMembers, reportedMembers)
        let prefers =
            role == .client && !indexes.isEmpty
            && MembershipView.wanted(
                forMembers: members, threshold: configuration.clientViewThreshold,
                now: prefersPartialView ? .partial : .full) == .partial
        guard prefers != prefersPartialView else { return }
        prefersPartialView = prefers
        refreshFeatured()
    }

    /// Works out ``featuredMembers`` again: an index server whose clients may hold partial
    /// views (its own ``HybridConfiguration/clientViewThreshold`` is set) features its
    /// fellows (they hold every member, and a scoped answer carries them to clients; its
    /// push-pulls and syncs then go to them first); a client with a partial view every
    /// index server it knows, and one with a full view nobody (a full view's push-pulls
    /// go to featured members first: they would all go to the index servers).
    mutating func refreshFeatured() {
        let featuresFellows = role == .index && configuration.clientViewThreshold > 0
        let featured: Set<PeerID> =
            featuresFellows || prefersPartialView ? Set(indexes.keys.filter { $0 != localID }) : []
        guard featured != featuredMembers else { return }
        featuredMembers = featured
        featuredVersion &+= 1
    }
}
