extension OverlayCore {
    /// Keeps membership's view in step with the super-peer topology (``MembershipView``):
    /// the featured members are the super-peers this peer knows; a leaf of a large swarm
    /// holds only those (``SuperPeerConfiguration/leafViewThreshold``), forgets the
    /// members that are not (or no longer) super-peers once their grace ran out, and
    /// pulls the super-peers from one of them when it hears of one it does not hold (at
    /// most once per advert lifetime once it is on all its super-peers).
    /// Called first in every ``absorb(now:)``, so that the members it makes membership
    /// forget are reported in the same pass; a few comparisons when nothing changed.
    mutating func followLeafView(now: Instant) {
        // In place: this runs after every input, and a copy of the core is not cheap.
        guard
            let (heard, spacing, version, prefersPartialView) = withSuperPeerCore({ core in
                (
                    core.takeHeardOfUnheldSuperPeer(), core.unheldSuperPeerPullSpacing, core.featuredVersion,
                    core.prefersPartialView
                )
            })
        else { return }
        if version != featuredVersion {
            featuredVersion = version
            membership.setFeatured(superPeer!.featuredMembers, now: now)
        }
        // Forgetting waits out a grace, so it is looked at again every advert interval
        // as well as whenever the super-peers change.
        if membership.view == .partial, version != retainedVersion || now >= nextRetainAt {
            retainedVersion = version
            nextRetainAt = now + superPeer!.configuration.advertInterval
            membership.retain(superPeer!.featuredMembers, grace: superPeer!.featuredGrace, now: now)
        }
        let wanted: MembershipView = prefersPartialView ? .partial : .full
        if wanted != membership.view { membership.setView(wanted, now: now) }
        if heard { membership.refreshView(spacing: spacing, now: now) }
    }
}
