extension OverlayCore {
    /// Keeps a pure overlay's membership view in step with the swarm's size
    /// (``OverlayConfiguration/pureViewThreshold``): from the threshold on, membership
    /// holds only the contacts of the Kademlia table (its featured members, of this
    /// peer's own kind: ``FeaturedKind/own``), asks each contact it does not hold for its
    /// claim, and forgets the members that left the table
    /// (``OverlayConstants/pureViewGrace`` after they left, looked at every
    /// ``OverlayConstants/pureViewRetainInterval``); below half of it, every member again.
    /// It goes partial only when the table's count is at least half the threshold too,
    /// so that it does not go full again at once.
    ///
    /// - The swarm is counted by membership while the view is full, and by the table's
    ///   density (``RoutingTable/estimatedPeers``) always; a partial view by the table
    ///   alone, since what it holds says nothing of the swarm.
    /// - A peer looks itself up in the Kademlia overlay once its join is answered, from
    ///   the members the answer brought: the table then holds its nearest peers, which the
    ///   count needs and lookups of it find, where the members a seed's partial view
    ///   holds are the seed's neighbourhood, not this peer's.
    /// - Failure detection among the contacts is SWIM's, as in a full view; routing drops
    ///   the contacts membership finds failed, and the table's replacements take their
    ///   place. A spreading neighbour that is neither held nor in the table is replaced
    ///   at the same pace: nothing would tell if it failed.
    mutating func followPureView(now: Instant) {
        let threshold = configuration.pureViewThreshold
        guard threshold > 0 else { return }
        if !hasLookedItselfUp, membership.hasJoined {
            hasLookedItselfUp = true
            let seeds = membership.members.filter { $0.state == .alive }.map {
                RoutingContact(peerID: $0.id, address: $0.address)
            }
            if !seeds.isEmpty { announceInRoutingTables(seeds: seeds, now: now) }
        }
        let tableChanged = routing.table.version != featuredVersion
        if tableChanged {
            featuredVersion = routing.table.version
            estimatedPeers = routing.table.estimatedPeers
        }
        let counted = membership.view == .full ? max(membership.liveCount + 1, estimatedPeers) : estimatedPeers
        var wanted = MembershipView.wanted(forMembers: counted, threshold: threshold, now: membership.view)
        // Not partial on membership's count while the table's says the view would go
        // full again at once: it would pull a whole state, forget it, and so on.
        if wanted == .partial, estimatedPeers < threshold / 2 { wanted = .full }
        if wanted == .partial, membership.view == .full {
            // Featured first, so that the switch keeps them.
            featureKademliaContacts(switchingView: true, now: now)
        } else if wanted == .full, membership.view == .partial {
            membership.setView(.full, now: now)
            // A full view features nobody: its push-pulls and gossip would go to
            // featured members first.
            membership.setFeatured([], now: now)
            departedContacts = [:]
        } else if membership.view == .partial, tableChanged {
            featureKademliaContacts(now: now)
        }
        guard membership.view == .partial, now >= nextRetainAt else { return }
        nextRetainAt = now + OverlayConstants.pureViewRetainInterval
        let grace = OverlayConstants.pureViewGrace
        departedContacts = departedContacts.filter { now - $0.value < grace && membership.member($0.key) != nil }
        membership.retain(membership.featured.union(departedContacts.keys), now: now)
        // Neighbours that are neither held nor in the table: nothing would tell if they
        // failed, and broadcasts would go on to them.
        for peer in spreading.neighbours.keys.sorted()
        where membership.member(peer) == nil && routing.table.contact(for: peer) == nil {
            refillNeighbours(dropping: peer)
        }
        // Again every so often: a claim asked for may have been lost.
        featureKademliaContacts(now: now)
    }

    /// Makes the Kademlia table's contacts membership's featured members, switches
    /// membership to a partial view when asked to, and asks each contact membership does
    /// not hold for its claim.
    private mutating func featureKademliaContacts(switchingView: Bool = false, now: Instant) {
        let contacts = routing.table.contacts
        let featured = Set(contacts.map(\.peerID))
        for peer in membership.featured where !featured.contains(peer) { departedContacts[peer] = now }
        for peer in featured { departedContacts[peer] = nil }
        membership.setFeatured(featured, now: now)
        if switchingView { membership.setView(.partial, now: now) }
        for contact in contacts where membership.member(contact.peerID) == nil {
            membership.introduce(contact.peerID, at: contact.address, now: now)
        }
    }
}
