extension SuperPeerCore {
    /// Attaches to more super-peers while this leaf has fewer links than
    /// ``SuperPeerConfiguration/superPeersPerLeaf``: known fresh super-peers with free
    /// slots that have not refused it lately, drawn at random with weight their free
    /// slots (so that leaves spread over the less loaded). Super-peers whose adverts
    /// rose within the last 3 advert intervals go first: one lost a moment ago still
    /// counts as fresh, but its adverts have stopped. When every super-peer it knows is
    /// full, it attaches to one of them anyway, to be refused with others that have room
    /// (a leaf of a 10,000-peer swarm that knew one full super-peer waited for adverts
    /// that never came).
    mutating func fillLinks(now: Instant) {
        guard role == .leaf else { return }
        var missing = configuration.superPeersPerLeaf - links.count
        guard missing > 0 else { return }
        let eligible = known.values.filter { entry in
            entry.advert.isSuperPeer && entry.advert.freeSlots > 0 && isFresh(entry) && links[entry.advert.id] == nil
                && (refusedUntil[entry.advert.id].map { $0 <= now } ?? true)
        }
        let rising = eligible.filter { now - $0.refreshedAt < configuration.advertInterval * 3 }
        var candidates = (rising.count >= missing ? rising : eligible).map(\.advert).sorted { $0.id < $1.id }
        if candidates.isEmpty, links.values.allSatisfy(\.isAttached),
            askedFullSuperPeerAt.map({ now - $0 >= configuration.advertInterval }) ?? true
        {
            // Every super-peer known is full: one, refusing, names others with room (at
            // most one asked per advert interval; a swarm that is full elects more).
            let full = known.values.filter { entry in
                isFreshSuperPeer(entry) && links[entry.advert.id] == nil
                    && (refusedUntil[entry.advert.id].map { $0 <= now } ?? true)
            }.map(\.advert.id).sorted()
            if let asked = full.randomElement(using: &random), let address = memberAddresses[asked] {
                askedFullSuperPeerAt = now
                sendAttach(to: asked, address: address, now: now)
            }
            return
        }
        while missing > 0, !candidates.isEmpty {
            let total = candidates.reduce(0) { $0 + Int($1.freeSlots) }
            var pick = Int.random(in: 0..<total, using: &random)
            var index = 0
            while pick >= Int(candidates[index].freeSlots) {
                pick -= Int(candidates[index].freeSlots)
                index += 1
            }
            let chosen = candidates.remove(at: index)
            guard let address = memberAddresses[chosen.id] else { continue }
            sendAttach(to: chosen.id, address: address, now: now)
            missing -= 1
        }
    }

    /// Sends this leaf's record and filter to `superPeer`; the link waits for the answer.
    mutating func sendAttach(to superPeer: PeerID, address: PeerAddress, now: Instant, replacing: PeerID? = nil) {
        let isAttached = links[superPeer]?.isAttached ?? false
        if isAttached, links[superPeer]?.address != address { neighbourVersion &+= 1 }
        links[superPeer] = SuperPeerLink(
            address: address, isAttached: isAttached, lastHeard: now,
            nextKeepaliveAt: now + configuration.leaseDuration / 3,
            replacing: replacing ?? links[superPeer]?.replacing, sentSequence: localRecord.record.sequence,
            heldSequence: links[superPeer]?.heldSequence ?? 0, awaitingSince: now, rtt: links[superPeer]?.rtt)
        statistics.attachesSent += 1
        send(.attach(record: localRecord, filter: localFilter), to: address)
    }

    /// A super-peer's answer to an attach or a keepalive.
    mutating func handleAttachReply(
        from sender: PeerID, at source: PeerAddress, refusal: SuperPeerRefusal?,
        alternatives: [SuperPeerAlternative], now: Instant
    ) {
        guard var link = links[sender], link.address == source else {
            statistics.unexpectedMessages += 1
            // Accepted by a super-peer this leaf no longer wants (late answer): release it.
            if refusal == nil, links[sender] == nil, let address = memberAddresses[sender], address == source {
                send(.detach(sender: localID, reason: .leaving), to: address)
            }
            return
        }
        if let sent = link.awaitingSince {
            let sample = now - sent
            link.rtt = link.rtt.map { $0.updated(with: sample) } ?? RTTEstimate(firstSample: sample)
            link.awaitingSince = nil
        }
        link.missedKeepalives = 0
        guard let refusal else {
            link.lastHeard = now
            let acknowledged = link.sentSequence
            if let acknowledged { link.heldSequence = max(link.heldSequence, acknowledged) }
            link.sentSequence = nil
            if !link.isAttached {
                link.isAttached = true
                neighbourVersion &+= 1
                events.append(.attached(superPeer: sender))
                advertsAwaitingMembers = [:]
            }
            if let replaced = link.replacing {
                link.replacing = nil
                if let old = links.removeValue(forKey: replaced) {
                    neighbourVersion &+= 1
                    send(.detach(sender: localID, reason: .leaving), to: old.address)
                    if old.isAttached { events.append(.detached(superPeer: replaced, cause: .local)) }
                    statistics.rebalances += 1
                }
            }
            links[sender] = link
            if acknowledged != nil { provideAnswered(by: sender, stored: true, now: now) }
            return
        }
        statistics.refusalsReceived += 1
        if refusal == .notAttached, role == .leaf {
            // The super-peer lost this leaf (lease, restart): attach again in full.
            sendAttach(to: sender, address: link.address, now: now)
            return
        }
        links[sender] = nil
        neighbourVersion &+= 1
        provideAnswered(by: sender, stored: false, now: now)
        if link.isAttached { events.append(.detached(superPeer: sender, cause: .refused(refusal))) }
        refusedUntil[sender] = now + configuration.refusalBackoff
        if refusal == .notSuperPeer, known.removeValue(forKey: sender) != nil { superPeersChanged() }
        for alternative in alternatives where known[alternative.id] == nil && alternative.id != localID {
            // A hint: tried like an advert with one free slot; a wrong one refuses.
            let hint = SuperPeerAdvert(
                id: alternative.id, address: alternative.address, score: 0, leafCount: 0, freeSlots: 1,
                superPeers: 0, roleEpoch: 0, sequence: 0, isSuperPeer: true)
            guard memberAddresses[alternative.id] != nil else {
                // Not held: news of a super-peer not held, to a leaf looking for any.
                if !isOnASuperPeer { heardOfUnheld(hint) }
                continue
            }
            guard known.count < SuperPeerConstants.maximumKnownSuperPeers else { continue }
            known[alternative.id] = KnownSuperPeer(advert: hint, refreshedAt: now, filter: nil, isFirstHand: false)
            superPeersChanged()
        }
        fillLinks(now: now)
    }

    /// A detach from either side: a leaf leaves this super-peer, or a super-peer ends
    /// this leaf's link. A handover from the leaf this super-peer offered its role to
    /// means the leaf took it: this super-peer demotes.
    /// Only a detach from the address the link uses counts.
    mutating func handleDetach(from sender: PeerID, at source: PeerAddress, reason: SuperPeerDetachReason, now: Instant)
    {
        if held[sender]?.address == source {
            held[sender] = nil
            neighbourVersion &+= 1
            unionChanged = true
            events.append(.leafDetached(sender, cause: .detached(reason)))
            if reason == .handover, sender == handoverOfferedTo, role == .superPeer {
                handoverOfferedTo = nil
                statistics.handoversGiven += 1
                demote(now: now)
                return
            }
        }
        if let link = links[sender], link.address == source {
            links[sender] = nil
            neighbourVersion &+= 1
            if link.isAttached { events.append(.detached(superPeer: sender, cause: .detached(reason))) }
            if reason == .demoted, known.removeValue(forKey: sender) != nil { superPeersChanged() }
            fillLinks(now: now)
        }
    }

    /// A leaf's periodic work: attaches that got no answer, keepalives due or missed,
    /// links whose super-peer stopped answering, missing links, and moving off an
    /// overloaded one.
    ///
    /// A keepalive unanswered within the link's reply timeout (RTT-based) is sent again
    /// at once; a second one in a row unanswered ends the link (the super-peer is
    /// unresponsive), well before its lease would run out.
    mutating func maintainLinks(now: Instant) {
        guard role == .leaf else { return }
        for (id, link) in links.sorted(by: { $0.key < $1.key }) {
            let unanswered = link.awaitingSince.map { now - $0 >= link.replyTimeout(configuration) } ?? false
            if !link.isAttached, now - link.lastHeard >= configuration.attachTimeout {
                links[id] = nil
                neighbourVersion &+= 1
                statistics.attachTimeouts += 1
                refusedUntil[id] = now + configuration.refusalBackoff
            } else if link.isAttached,
                now - link.lastHeard >= configuration.leaseDuration
                    || (unanswered && link.missedKeepalives + 1 >= SuperPeerConstants.keepalivesMissedBeforeDown)
            {
                links[id] = nil
                neighbourVersion &+= 1
                if unanswered { statistics.keepalivesMissed += 1 }
                events.append(.detached(superPeer: id, cause: .unresponsive))
                refusedUntil[id] = now + configuration.refusalBackoff
            } else if link.isAttached, unanswered || link.nextKeepaliveAt <= now {
                var renewed = link
                if unanswered {
                    renewed.missedKeepalives += 1
                    statistics.keepalivesMissed += 1
                }
                renewed.nextKeepaliveAt = now + configuration.leaseDuration / 3
                renewed.awaitingSince = now
                links[id] = renewed
                send(
                    .keepalive(leaf: localID, recordSequence: localRecord.record.sequence, candidacy: candidacy),
                    to: link.address)
            }
        }
        fillLinks(now: now)
        rebalance(now: now)
    }

    /// Moves one link from the most loaded of this leaf's super-peers, when it holds more
    /// than `(1 + margin)` times the fair share `leavesPerSuperPeer × superPeersPerLeaf`,
    /// to the least loaded known super-peer below the fair share. Each leaf of an
    /// overloaded super-peer moves with probability `excess / load`, spread over the
    /// maintenance rounds of one advert interval (the load figures' refresh), so that
    /// about the excess moves and not every leaf at once.
    mutating func rebalance(now: Instant) {
        guard links.count == configuration.superPeersPerLeaf, links.values.allSatisfy(\.isAttached) else { return }
        let fair = configuration.leavesPerSuperPeer * configuration.superPeersPerLeaf
        let loads = links.keys.compactMap { id in known[id].map { (id, Int($0.advert.leafCount)) } }
        guard let heaviest = loads.max(by: { ($0.1, $0.0) < ($1.1, $1.0) }),
            Double(heaviest.1) > Double(fair) * (1 + configuration.hysteresisMargin)
        else { return }
        // A leaf hears its super-peers' load every leafAdvertRounds advert intervals.
        let refresh = configuration.advertInterval * SuperPeerConstants.leafAdvertRounds
        let rounds = max(1.0, refresh / configuration.attachTimeout)
        let chance = Double(heaviest.1 - fair) / Double(heaviest.1) / rounds
        // Drawn before the known super-peers are searched: most rounds move nothing.
        guard Double.random(in: 0..<1, using: &random) < chance else { return }
        let lightest = known.values.filter { entry in
            isFreshSuperPeer(entry) && links[entry.advert.id] == nil
                && Int(entry.advert.leafCount) < fair && entry.advert.freeSlots > 0
                && (refusedUntil[entry.advert.id].map { $0 <= now } ?? true)
        }.min { ($0.advert.leafCount, $0.advert.id) < ($1.advert.leafCount, $1.advert.id) }
        guard let lightest, let address = memberAddresses[lightest.advert.id] else { return }
        sendAttach(to: lightest.advert.id, address: address, now: now, replacing: heaviest.0)
    }
}
