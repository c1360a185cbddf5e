extension MembershipCore {
    /// Applies gossiped updates in order.
    mutating func apply(_ updates: [MemberUpdate], now: Instant) {
        for update in updates {
            switch update.state {
            case .alive: applyAlive(update, now: now)
            case .suspect: applySuspect(update, now: now)
            case .dead: applyDead(update, now: now)
            case .left: applyLeft(update, now: now)
            }
        }
    }

    /// SWIM's alive rule: a new member joins; a known one is updated only by a higher
    /// incarnation, which also ends a suspicion or failure.
    mutating func applyAlive(_ update: MemberUpdate, now: Instant) {
        if update.member == localID {
            if update.incarnation > incarnation, !hasLeft { refute(above: update.incarnation, penalize: false) }
            return
        }
        guard var member = table[update.member] else {
            let member = Member(
                id: update.member, address: update.address, incarnation: update.incarnation, state: .alive,
                stateChangedAt: now)
            insert(member)
            events.append(.joined(member))
            broadcasts.enqueue(update, isJoin: true)
            return
        }
        guard update.incarnation > member.incarnation else { return }
        let previousState = member.state
        let previousAddress = member.address
        member.incarnation = update.incarnation
        member.address = update.address
        store(member, state: .alive, now: now)
        suspicions.remove(member.id)
        broadcasts.enqueue(update)
        let stored = table[member.id] ?? member
        switch previousState {
        case .alive: break
        case .suspect, .dead: events.append(.aliveAgain(stored))
        case .left: events.append(.joined(stored))
        }
        if previousAddress != update.address { events.append(.addressChanged(stored, previous: previousAddress)) }
    }

    /// SWIM's suspect rule, with Lifeguard's confirmations for an existing suspicion.
    mutating func applySuspect(_ update: MemberUpdate, now: Instant) {
        if update.member == localID {
            if update.incarnation >= incarnation, !hasLeft {
                refute(above: update.incarnation, penalize: true, accuser: update.accuser)
            }
            return
        }
        guard var member = table[update.member], update.incarnation >= member.incarnation else { return }
        let accuser = update.accuser ?? localID
        switch member.state {
        case .dead, .left:
            return
        case .suspect:
            if update.incarnation > member.incarnation {
                member.incarnation = update.incarnation
                store(member, state: .suspect, now: now)
            }
            if suspicions.confirm(member.id, by: accuser) { broadcasts.enqueue(update) }
        case .alive:
            member.incarnation = update.incarnation
            store(member, state: .suspect, now: now)
            let members = liveCount + 1
            let minimum = SuspicionTimeout.minimum(
                probeInterval: adaptedProbeInterval, members: members,
                suspicionMultiplier: configuration.suspicionMultiplier)
            let suspicion = Suspicion(
                accuser: accuser, start: now,
                expected: SuspicionTimeout.expectedConfirmations(
                    suspicionMultiplier: configuration.suspicionMultiplier, members: members),
                minimum: minimum, maximum: minimum * configuration.suspicionMaxTimeoutMultiplier)
            suspicions.start(suspicion, of: member.id)
            broadcasts.enqueue(update)
            events.append(.suspected(table[member.id] ?? member))
        }
    }

    /// SWIM's confirm (dead) rule.
    mutating func applyDead(_ update: MemberUpdate, now: Instant) {
        applyDeparture(update, as: .dead, now: now)
    }

    /// A graceful departure.
    mutating func applyLeft(_ update: MemberUpdate, now: Instant) {
        applyDeparture(update, as: .left, now: now)
    }

    /// The rule dead and left share: news about this peer is refuted (a false death
    /// costs local health, a stale leave does not); a member still live (for a death) or
    /// not yet gone (for a leave) at an incarnation no newer than the update's takes
    /// `state`, and the news is passed on.
    private mutating func applyDeparture(_ update: MemberUpdate, as state: MemberState, now: Instant) {
        if update.member == localID {
            if update.incarnation >= incarnation, !hasLeft {
                refute(
                    above: update.incarnation, penalize: state == .dead, accuser: state == .dead ? update.accuser : nil)
            } else if state == .dead, let accuser = update.accuser, !hasLeft {
                answerStaleAccusation(by: accuser, now: now)
            }
            return
        }
        guard var member = table[update.member], update.incarnation >= member.incarnation,
            state == .dead ? member.state.isLive : member.state != .left
        else { return }
        member.incarnation = update.incarnation
        store(member, state: state, now: now)
        suspicions.remove(member.id)
        broadcasts.enqueue(update)
        let stored = table[member.id] ?? member
        events.append(state == .dead ? .failed(stored) : .left(stored))
    }

    /// Raises this peer's incarnation above `other` and announces it alive.
    ///
    /// A refutation of a suspicion or a death does not wait for gossip rounds: every
    /// member that heard the accusation declares this peer failed when its own timer
    /// runs out, and a peer that was accused is often one that is behind, whose gossip
    /// rounds are shed. So it also goes at once, in one small message each, to the
    /// accuser and to as many random live members as an update is retransmitted to,
    /// who pass it on.
    /// - Parameters:
    ///   - penalize: whether this refutes a suspicion or death (Lifeguard raises the LHM).
    ///   - accuser: who raised the suspicion or death, when known.
    mutating func refute(above other: UInt32, penalize: Bool, accuser: PeerID? = nil) {
        digest.toggle(localID, incarnation: incarnation)
        incarnation = max(incarnation, other) &+ 1
        digest.toggle(localID, incarnation: incarnation)
        statistics.refutations += 1
        let update = ownRecord
        broadcasts.enqueue(update)
        guard penalize else { return }
        localHealth.apply(1)
        var targets = sampleLiveMembers(
            BroadcastQueue.retransmitLimit(multiplier: configuration.retransmitMultiplier, members: liveCount + 1))
        if let accuser, accuser != localID, table[accuser]?.state.isLive ?? false, !targets.contains(accuser) {
            targets.append(accuser)
        }
        for id in targets {
            guard let address = table[id]?.address else { continue }
            send(.gossip(sender: localID, updates: [update]), to: address)
        }
    }

    /// A death of this peer at an incarnation it has already refuted means the accuser
    /// holds a stale record of it, which gossip will not mend: everyone else knows the
    /// newer one and passes the old news on no more.
    /// So the accuser gets this peer's current record directly (at most once per probe
    /// interval).
    mutating func answerStaleAccusation(by accuser: PeerID, now: Instant) {
        guard accuser != localID, let address = table[accuser]?.address,
            notices.mayNotify(accuser, now: now, interval: adaptedProbeInterval)
        else { return }
        let update = ownRecord
        send(.gossip(sender: localID, updates: [update]), to: address)
    }

    /// Declares failed every suspect whose timeout has passed. Call when
    /// ``MembershipTimer/suspicion`` fires.
    mutating func expireSuspicions(now: Instant) {
        guard !suspicions.isEmpty, !timing.defersAccusations(at: now) else { return }
        for id in suspicions.popExpired(now: now) {
            guard let member = table[id], member.state == .suspect else { continue }
            applyDead(
                MemberUpdate(
                    state: .dead, incarnation: member.incarnation, member: id, address: member.address,
                    accuser: localID),
                now: now)
        }
    }

    /// Adds a new member to the table and to a random place in the probe list.
    mutating func insert(_ member: Member) {
        table[member.id] = member
        if member.state.isLive { digest.toggle(member.id, incarnation: member.incarnation) }
        order.append(member.id)
        stateCounts[Int(member.state.rawValue)] += 1
        let position = Int.random(in: 0...probeList.count, using: &random)
        probeList.insert(member.id, at: position)
        if position < probeIndex { probeIndex += 1 }
        hasJoined = true
    }

    /// Saves `member` with `state`, keeping the per-state counts and the digest.
    mutating func store(_ member: Member, state: MemberState, now: Instant) {
        var member = member
        if let old = table[member.id] {
            stateCounts[Int(old.state.rawValue)] -= 1
            if old.state.isLive { digest.toggle(old.id, incarnation: old.incarnation) }
        }
        if table[member.id]?.state != state { member.stateChangedAt = now }
        member.state = state
        stateCounts[Int(state.rawValue)] += 1
        if state.isLive { digest.toggle(member.id, incarnation: member.incarnation) }
        table[member.id] = member
    }
}
