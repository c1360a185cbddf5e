extension SuperPeerCore {
    /// One election round (``SuperPeerElection`` has the rules): an eligible leaf may
    /// promote, one of the weakest of too many super-peers demotes.
    mutating func runElection(now: Instant) {
        guard configuration.rolePolicy == .automatic else { return }
        let holdPassed = !hasChangedRole || now - roleChangedAt >= configuration.minimumRoleHold
        guard holdPassed else { return }
        let members = estimatedMembers
        let superPeers = estimatedSuperPeers
        let ratio = configuration.leavesPerSuperPeer
        let margin = configuration.hysteresisMargin
        let target = SuperPeerElection.target(members: members, ratio: ratio)
        switch role {
        case .leaf:
            guard configuration.isDirectlyReachable, now - startedAt >= configuration.minimumUptime,
                isOnASuperPeer || !knowsSuperPeerWithRoom,
                SuperPeerElection.needsMore(members: members, superPeers: superPeers, ratio: ratio, margin: margin)
            else {
                shortageRounds = 0
                return
            }
            shortageRounds = min(shortageRounds + 1, SuperPeerConstants.maximumShortageRounds)
            let weight = SuperPeerElection.promotionWeight(score: score, reference: medianSuperPeerScore)
            let aim =
                membershipHeldFullState
                ? Double(target) : SuperPeerElection.share(members: members, ratio: ratio)
            let chance = SuperPeerElection.promotionProbability(
                members: members, superPeers: superPeers, target: aim, weight: weight, rounds: shortageRounds)
            if Double.random(in: 0..<1, using: &random) < chance { promote(now: now) }
        case .superPeer:
            guard SuperPeerElection.hasTooMany(members: members, superPeers: superPeers, ratio: ratio, margin: margin)
            else { return }
            let me = (leaves: self.held.count, score: score, id: localID)
            let weaker = known.values.count { entry in
                isFreshSuperPeer(entry)
                    && SuperPeerElection.isWeaker(
                        (Int(entry.advert.leafCount), entry.advert.score, entry.advert.id), than: me)
            }
            if weaker < SuperPeerElection.demotionCount(superPeers: superPeers, target: target) { demote(now: now) }
        }
    }

    /// Whether a link of this leaf's is attached.
    var isOnASuperPeer: Bool { links.values.contains(where: \.isAttached) }

    /// Whether a super-peer this peer knows has free slots. A leaf that knows one but is
    /// on none yet does not promote: it has heard of a sample of the super-peers and
    /// counts too few (in a 10,000-peer swarm such leaves made the super-peers half as
    /// many again as the target); it attaches first and judges by what its super-peers
    /// count.
    var knowsSuperPeerWithRoom: Bool {
        known.values.contains { isFreshSuperPeer($0) && $0.advert.freeSlots > 0 }
    }

    /// The super-peers this peer counts, or, for a leaf, what its super-peers report when
    /// that is more: the most any of its own super-peers reports or, on none yet, the
    /// median of what the super-peers it knows report (the same adverts its count of the
    /// members, ``estimatedMembers``, comes from). Super-peers hear from every other
    /// directly, while a leaf hears of most through samples passed on: a leaf on no
    /// super-peer of a 10,000-peer swarm knew 1 super-peer and took the 3,500 members the
    /// adverts reported, and promoted on that.
    public var estimatedSuperPeers: Int {
        let own = superPeerCount
        guard role == .leaf else { return own }
        let reported =
            links.isEmpty
            ? medianReport(\.superPeers)
            : links.keys.compactMap { id in known[id].map { Int($0.advert.superPeers) } }.max()
        return max(own, reported ?? 0)
    }

    /// Sets the role epoch for a role change at `now`: the wall-clock second, or one more
    /// than the last epoch when that is not later (so that epochs rise across restarts).
    mutating func advanceRoleEpoch(now: Instant) {
        let second = UInt32(clamping: (wallClockAtZero + (now - .zero)).seconds)
        roleEpoch = max(second, roleEpoch &+ 1)
        roleChangedAt = now
    }

    /// The median score of the known super-peers, 0 when none is known.
    var medianSuperPeerScore: UInt32 {
        let scores = known.values.filter(isFreshSuperPeer).map(\.advert.score).sorted()
        return scores.isEmpty ? 0 : scores[scores.count / 2]
    }

    /// Becomes a super-peer: leaves its own super-peers and tells every member.
    mutating func promote(now: Instant) {
        guard role == .leaf else { return }
        role = .superPeer
        neighbourVersion &+= 1
        welcome = nil
        advanceRoleEpoch(now: now)
        hasChangedRole = true
        statistics.promotions += 1
        for (id, link) in links.sorted(by: { $0.key < $1.key }) {
            send(.detach(sender: localID, reason: .promoted), to: link.address)
            if link.isAttached { events.append(.detached(superPeer: id, cause: .local)) }
        }
        links = [:]
        events.append(.roleChanged(from: .leaf, to: .superPeer))
        refreshLeafView()
        announceRole()
        nextAdvertAt = now + configuration.advertInterval
        unionChanged = true
    }

    /// Goes back to being a leaf: releases every leaf, tells every member, and attaches.
    mutating func demote(now: Instant) {
        guard role == .superPeer else { return }
        role = .leaf
        neighbourVersion &+= 1
        welcome = nil
        advanceRoleEpoch(now: now)
        hasChangedRole = true
        statistics.demotions += 1
        for (id, leaf) in held.sorted(by: { $0.key < $1.key }) {
            send(.detach(sender: localID, reason: .demoted), to: leaf.address)
            events.append(.leafDetached(id, cause: .local))
        }
        held = [:]
        events.append(.roleChanged(from: .superPeer, to: .leaf))
        refreshLeafView()
        announceRole()
        nextAdvertAt = nil
        fillLinks(now: now)
    }
}
