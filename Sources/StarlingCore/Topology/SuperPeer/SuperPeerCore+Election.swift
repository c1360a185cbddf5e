extension SuperPeerCore {
    /// One election round (``SuperPeerElection`` has the rules): an eligible leaf may
    /// promote, one of the weakest of too many super-peers demotes, and any other
    /// super-peer holding a much stronger candidate may hand its role over to it.
    mutating func runElection(now: Instant) {
        guard configuration.rolePolicy == .automatic, roleHoldPassed(now: now) else { return }
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
            if SuperPeerElection.hasTooMany(members: members, superPeers: superPeers, ratio: ratio, margin: margin) {
                let me = (leaves: self.held.count, score: score, id: localID)
                let weaker = known.values.count { entry in
                    isFreshSuperPeer(entry)
                        && SuperPeerElection.isWeaker(
                            (Int(entry.advert.leafCount), entry.advert.score, entry.advert.id), than: me)
                }
                if weaker < SuperPeerElection.demotionCount(superPeers: superPeers, target: target) {
                    demote(now: now)
                    return
                }
            }
            handOverIfOutclassed(now: now)
        }
    }

    /// Whether this peer has held its role ``SuperPeerConfiguration/minimumRoleHold`` (or
    /// never changed it).
    func roleHoldPassed(now: Instant) -> Bool {
        !hasChangedRole || now - roleChangedAt >= configuration.minimumRoleHold
    }

    /// What this peer offers as a super-peer's successor, as its keepalives say: its
    /// score when the election could promote it now (a leaf, policy automatic, directly
    /// reachable, up ``SuperPeerConfiguration/minimumUptime``, its role held
    /// ``SuperPeerConfiguration/minimumRoleHold``), else 0.
    public var candidacy: UInt32 {
        guard role == .leaf, configuration.rolePolicy == .automatic, configuration.isDirectlyReachable,
            latestNow - startedAt >= configuration.minimumUptime, roleHoldPassed(now: latestNow)
        else { return 0 }
        return score
    }

    /// A super-peer's handover: when a leaf it holds offers a candidacy more than
    /// ``SuperPeerElection/handoverFactor`` times this peer's score, this peer offers that
    /// leaf (the strongest it holds, then the lowest ID) its role, with probability
    /// ``SuperPeerConstants/handoverChance`` per round. The leaf, if it can be elected,
    /// promotes and answers with a handover detach, and only then does this peer demote
    /// (``handleDetach(from:at:reason:now:)``): the strongest leaf of a swarm is often the
    /// strongest of each of its three super-peers, and it can take one role only.
    ///
    /// A swarm that starts at once elects its first super-peers before any is known, so
    /// before capacity can weigh (``SuperPeerElection/promotionWeight(score:reference:)``
    /// has no reference); handovers replace them with the strongest of their leaves. The
    /// count of super-peers does not change, every handover more than doubles the slot's
    /// score (so a slot changes hands a few times at most, and never back), and the
    /// chance per round keeps a leaf's super-peers from all handing over in the same round.
    mutating func handOverIfOutclassed(now: Instant) {
        handoverOfferedTo = nil
        guard let successor, let leaf = held[successor],
            Double.random(in: 0..<1, using: &random) < SuperPeerConstants.handoverChance
        else { return }
        handoverOfferedTo = successor
        statistics.handoversOffered += 1
        send(.handoverOffer(sender: localID), to: leaf.address)
    }

    /// A super-peer's offer of its role: taken (this leaf promotes and answers the
    /// super-peer with a handover detach, its other super-peers with promoted) when it
    /// comes from a super-peer this leaf is attached to, at the link's address, and this
    /// leaf can be elected now (``candidacy``); declined (ignored and counted) otherwise.
    mutating func handleHandoverOffer(from sender: PeerID, at source: PeerAddress, now: Instant) {
        guard role == .leaf, let link = links[sender], link.address == source, link.isAttached, candidacy > 0 else {
            statistics.handoverOffersDeclined += 1
            return
        }
        statistics.handoversTaken += 1
        promote(now: now, takingOverFrom: sender)
    }

    /// The leaf this super-peer would hand its role over to
    /// (``SuperPeerElection/hasStrongerSuccessor(score:candidacy:)``), as its last
    /// keepalives said: the strongest candidacy it holds, then the lowest ID; `nil` when
    /// none outclasses it (and always for a leaf).
    public var successor: PeerID? {
        let score = score
        return held.filter { SuperPeerElection.hasStrongerSuccessor(score: score, candidacy: $0.value.candidacy) }
            .max { ($0.value.candidacy, $1.key) < ($1.value.candidacy, $0.key) }?.key
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

    /// Becomes a super-peer: leaves its own super-peers (`takingOverFrom`, whose offer
    /// it takes, with a handover detach) and tells every member.
    mutating func promote(now: Instant, takingOverFrom offerer: PeerID? = nil) {
        guard role == .leaf else { return }
        role = .superPeer
        neighbourVersion &+= 1
        welcome = nil
        advanceRoleEpoch(now: now)
        hasChangedRole = true
        statistics.promotions += 1
        for (id, link) in links.sorted(by: { $0.key < $1.key }) {
            send(.detach(sender: localID, reason: id == offerer ? .handover : .promoted), to: link.address)
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
