extension OverlayCore {
    /// Keeps membership's view in step with the topology (``MembershipView``): the
    /// featured members are the super-peers this peer knows (super-peer topology) or the
    /// index servers (hybrid); a leaf or client of a large swarm holds only those
    /// (``SuperPeerConfiguration/leafViewThreshold``,
    /// ``HybridConfiguration/clientViewThreshold``) and forgets the members that are not
    /// (or no longer) featured once their grace ran out. A super-peer topology's leaf with
    /// a partial view, or super-peer, pulls the super-peers from a member when it hears of
    /// one it does not hold (``SuperPeerCore/unheldSuperPeerPullSpacing`` apart).
    /// In the pure topology, ``followPureView(now:)`` does the same with the Kademlia
    /// table's contacts. Called first in every ``absorb(now:)``, so that the members it
    /// makes membership forget are reported in the same pass; a few comparisons when
    /// nothing changed.
    mutating func followLeafView(now: Instant) {
        // In place: this runs after every input, and a copy of the core is not cheap.
        let policy: (heard: Bool, spacing: Duration?, version: UInt64, prefersPartialView: Bool)
        let heldFullState = membership.hasHeldFullState
        if let superPeerPolicy = withSuperPeerCore({ core in
            core.membershipHeldFullState = heldFullState
            return (
                core.takeHeardOfUnheldSuperPeer(), core.unheldSuperPeerPullSpacing, core.featuredVersion,
                core.prefersPartialView
            )
        }) {
            policy = superPeerPolicy
        } else if let version = hybrid?.featuredVersion, let prefersPartialView = hybrid?.prefersPartialView {
            policy = (false, nil, version, prefersPartialView)
        } else {
            return followPureView(now: now)
        }
        if policy.version != featuredVersion {
            featuredVersion = policy.version
            membership.setFeatured(superPeer?.featuredMembers ?? hybrid!.featuredMembers, now: now)
        }
        // Forgetting waits out a grace, so it is looked at again every so often (an advert
        // interval, an index list interval) as well as whenever the featured change.
        if membership.view == .partial, policy.version != retainedVersion || now >= nextRetainAt {
            retainedVersion = policy.version
            if hasSuperPeer {
                nextRetainAt = now + superPeer!.configuration.advertInterval
                membership.retain(superPeer!.featuredMembers, grace: superPeer!.featuredGrace, now: now)
            } else {
                nextRetainAt = now + hybrid!.configuration.indexListInterval
                membership.retain(hybrid!.featuredMembers, grace: hybrid!.featuredGrace, now: now)
                redrawNeighbours()
            }
        }
        let wanted: MembershipView = policy.prefersPartialView ? .partial : .full
        // Not before a featured member is held alive: a view that held nobody could pull
        // from nobody (a client that heard the index servers' count before its join was
        // answered).
        if wanted != membership.view,
            wanted == .full || membership.featured.contains(where: { membership.member($0)?.state == .alive })
        {
            // What membership holds before it forgets: the news of it may not have
            // reached the routing table yet (this runs before this input's events).
            let seeds =
                wanted == .partial && hybrid != nil
                ? membership.members.filter { $0.state == .alive }.map {
                    RoutingContact(peerID: $0.id, address: $0.address)
                } : nil
            membership.setView(wanted, now: now)
            if let seeds { announceInRoutingTables(seeds: seeds, now: now) }
        }
        if policy.heard { membership.refreshView(spacing: policy.spacing, now: now) }
    }

    /// A hybrid client that goes partial keeps the Kademlia table it built while it held
    /// every member, for the fallback, and looks itself up there (a bootstrap, from
    /// `seeds` and the table), so that the peers closest to it hold it too: a client that
    /// joined late held few members before the index servers' count sent it partial,
    /// and nobody else had it in a table.
    mutating func announceInRoutingTables(seeds: [RoutingContact], now: Instant) {
        internalLookups.insert(routing.bootstrap(seeds: seeds, now: now))
    }

    /// Draws a partial view's spreading neighbours anew, from the members it holds and
    /// its Kademlia table (``refillNeighbours(dropping:)``), every index list interval:
    /// neighbours drawn once would never include the peers that joined since, and those
    /// would be nobody's neighbour, out of reach of broadcasts.
    mutating func redrawNeighbours() {
        spreading.setNeighbours([:])
        refillNeighbours(dropping: localID)
    }
}
