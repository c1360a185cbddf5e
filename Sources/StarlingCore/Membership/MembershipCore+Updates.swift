extension MembershipCore {
    /// Applies gossiped updates in order.
    mutating func apply(_ updates: [MemberUpdate], now: Instant) {
        for update in updates {
            switch update.state {
            case .alive: applyAlive(update, now: now)
            case .suspect, .dead: applyAccusation(update, now: now)
            case .left: applyLeft(update, now: now)
            }
        }
    }

    /// SWIM's alive rule, for claims only the member can sign: a new member joins; a
    /// known one is updated only by a higher incarnation, which also ends a suspicion or
    /// failure. A claim is verified only once it is known to be news, so the repeats
    /// that gossip delivers cost a comparison. A newer claim of this peer's own is one
    /// it signed before a restart: it raises its incarnation above it.
    mutating func applyAlive(_ update: MemberUpdate, now: Instant) {
        if update.member == localID {
            if update.incarnation > incarnation, !hasLeft, verifyClaim(update, now: now) {
                refute(above: update.incarnation, penalize: false)
            }
            return
        }
        guard var member = table[update.member] else {
            guard admitsNewMember(update.member) else {
                statistics.outOfViewIgnored += 1
                return
            }
            guard table.count < configuration.maximumMembers else {
                statistics.membersRefused += 1
                return
            }
            guard verifyClaim(update, now: now) else { return }
            let member = Member(
                id: update.member, address: update.address, incarnation: update.incarnation, state: .alive,
                stateChangedAt: now, signature: update.signature)
            insert(member)
            events.append(.joined(member))
            broadcasts.enqueue(update, isJoin: true)
            return
        }
        guard update.incarnation > member.incarnation, verifyClaim(update, now: now) else { return }
        let previousState = member.state
        let previousAddress = member.address
        member.incarnation = update.incarnation
        member.address = update.address
        member.signature = update.signature
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

    /// A graceful departure: the member's own signed claim, at an incarnation no older
    /// than the one held. A leave of this peer's own, from before a restart, is refuted.
    mutating func applyLeft(_ update: MemberUpdate, now: Instant) {
        if update.member == localID {
            if update.incarnation >= incarnation, !hasLeft, verifyClaim(update, now: now) {
                refute(above: update.incarnation, penalize: false)
            }
            return
        }
        guard var member = table[update.member], update.incarnation >= member.incarnation, member.state != .left,
            verifyClaim(update, now: now)
        else { return }
        member.incarnation = update.incarnation
        member.address = update.address
        member.signature = update.signature
        store(member, state: .left, now: now)
        suspicions.remove(member.id)
        broadcasts.enqueue(update)
        events.append(.left(table[member.id] ?? member))
    }

    /// A suspicion or a death reported by another peer: hearsay, since anyone can send
    /// it. Of this peer, one at its current incarnation is refuted, one at an incarnation
    /// it never claimed is forged and ignored, and a death at an older one is answered
    /// with its current record. Of a member held live, it starts a suspicion (or confirms
    /// one, Lifeguard) and this peer probes the member ahead of its turn: only its own
    /// probe going unanswered can make the suspicion a failure (``expireSuspicions(now:)``).
    /// The incarnation held never moves: only the member's claims raise it.
    mutating func applyAccusation(_ update: MemberUpdate, now: Instant) {
        if update.member == localID {
            guard !hasLeft else { return }
            if update.incarnation == incarnation {
                refute(above: incarnation, penalize: true, accuser: update.accuser)
            } else if update.incarnation > incarnation {
                statistics.implausibleAccusations += 1
            } else if update.state == .dead, let accuser = update.accuser {
                answerStaleAccusation(by: accuser, now: now)
            }
            return
        }
        guard let member = table[update.member], member.state.isLive, update.incarnation >= member.incarnation
        else { return }
        let accuser = update.accuser ?? member.id
        if member.state == .suspect {
            if update.state == .dead, let suspicion = suspicions.noteVerdict(of: member.id),
                suspicion.ownProbeFailed
            {
                declareFailed(member, now: now)
            } else if suspicions.confirm(member.id, by: accuser) {
                broadcasts.enqueue(update)
            }
            return
        }
        startSuspicion(of: member, accuser: accuser, ownProbeFailed: false, now: now)
        if update.state == .dead { _ = suspicions.noteVerdict(of: member.id) }
        broadcasts.enqueue(update)
        requestCheck(of: member.id, now: now)
    }

    /// This peer's own probe of `id`, direct and indirect, went unanswered: the evidence
    /// a suspicion needs before it may become a failure. A suspicion whose timeout has
    /// already passed, or of a member another peer has declared failed, ends in failure
    /// now.
    mutating func noteOwnProbeFailed(of id: PeerID, now: Instant) {
        guard let member = table[id], member.state.isLive else { return }
        guard member.state == .suspect, let suspicion = suspicions.noteOwnProbeFailed(of: id) else {
            startSuspicion(of: member, accuser: localID, ownProbeFailed: true, now: now)
            broadcasts.enqueue(accusation(of: member))
            return
        }
        if suspicion.awaitsOwnProbe || suspicion.verdictHeard {
            declareFailed(member, now: now)
        } else if suspicions.confirm(id, by: localID) {
            broadcasts.enqueue(accusation(of: member))
        }
    }

    /// This peer's own probe of `id` was answered: a suspicion that waited for it (its
    /// timeout passed on hearsay alone) starts over, and the suspect, told of it by the
    /// probe, refutes.
    mutating func noteOwnProbeAnswered(by id: PeerID, now: Instant) {
        guard let suspicion = suspicions[id], suspicion.awaitsOwnProbe else { return }
        suspicions.start(
            Suspicion(
                accuser: suspicion.firstAccuser, start: now, expected: suspicion.expected,
                minimum: suspicion.minimum, maximum: suspicion.maximum),
            of: id)
    }

    /// Marks `member` suspect and starts its Lifeguard timeout.
    private mutating func startSuspicion(of member: Member, accuser: PeerID, ownProbeFailed: Bool, now: Instant) {
        store(member, state: .suspect, now: now)
        let members = liveCount + 1
        let minimum = SuspicionTimeout.minimum(
            probeInterval: adaptedProbeInterval, members: members,
            suspicionMultiplier: configuration.suspicionMultiplier)
        var suspicion = Suspicion(
            accuser: accuser, start: now,
            expected: SuspicionTimeout.expectedConfirmations(
                suspicionMultiplier: configuration.suspicionMultiplier, members: members),
            minimum: minimum, maximum: minimum * configuration.suspicionMaxTimeoutMultiplier)
        suspicion.ownProbeFailed = ownProbeFailed
        suspicions.start(suspicion, of: member.id)
        events.append(.suspected(table[member.id] ?? member))
    }

    /// This peer's own accusation of `member`, as it gossips it.
    private func accusation(of member: Member, state: MemberState = .suspect) -> MemberUpdate {
        MemberUpdate(
            state: state, incarnation: member.incarnation, member: member.id, address: member.address,
            accuser: localID)
    }

    /// Declares `member` failed on this peer's own evidence, and says so.
    private mutating func declareFailed(_ member: Member, now: Instant) {
        store(member, state: .dead, now: now)
        suspicions.remove(member.id)
        broadcasts.enqueue(accusation(of: member, state: .dead))
        events.append(.failed(table[member.id] ?? member))
    }

    /// Whether `update` carries its member's signature, within this core's verification
    /// budget: a claim the shared verifier already knows costs nothing, a new one a
    /// token (``MembershipConstants/claimVerificationsPerSecond``); without tokens it is
    /// dropped for now.
    mutating func verifyClaim(_ update: MemberUpdate, now: Instant) -> Bool {
        let elapsed = now - verificationTokensAt
        verificationTokensAt = now
        verificationTokens = min(
            MembershipConstants.claimVerificationBurst,
            verificationTokens + MembershipConstants.claimVerificationsPerSecond * (elapsed / .seconds(1)))
        switch claimVerifier.verify(update, swarmID: swarmID, mayCompute: verificationTokens >= 1) {
        case .valid(let computed):
            if computed {
                verificationTokens -= 1
                statistics.claimsVerified += 1
            }
            return true
        case .invalid:
            verificationTokens -= 1
            statistics.claimsVerified += 1
            statistics.forgedClaims += 1
            return false
        case .unchecked:
            statistics.claimsDeferred += 1
            return false
        }
    }

    /// Raises this peer's incarnation above `other` and announces it alive.
    ///
    /// `other` is always an incarnation this peer signed (accusations at any other are
    /// ignored), so the number only ever rises by one per refutation and cannot be
    /// pushed to the top of its range by anyone else; at the top it stays.
    ///
    /// A refutation of a suspicion or a death does not wait for gossip rounds: every
    /// member that heard the accusation probes this peer, and a peer that was accused is
    /// often one that is behind, whose gossip rounds are shed. So it also goes at once,
    /// in one small message each, to the accuser and to as many random live members as
    /// an update is retransmitted to, who pass it on.
    /// - Parameters:
    ///   - penalize: whether this refutes a suspicion or death (Lifeguard raises the LHM).
    ///   - accuser: who raised the suspicion or death, when known.
    mutating func refute(above other: UInt32, penalize: Bool, accuser: PeerID? = nil) {
        let highest = max(incarnation, other)
        guard highest < UInt32.max else { return }
        digest.toggle(localID, incarnation: incarnation)
        incarnation = highest + 1
        digest.toggle(localID, incarnation: incarnation)
        ownSignature = MemberClaim.sign(
            swarmID: swarmID, state: .alive, incarnation: incarnation, address: localAddress, with: identity)
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

    /// Acts on every suspicion whose timeout has passed: one this peer's own probe
    /// confirmed becomes a failure; one that rests on hearsay alone waits for this
    /// peer's own probe of the suspect, which is moved ahead of its turn. Call when
    /// ``MembershipTimer/suspicion`` fires.
    mutating func expireSuspicions(now: Instant) {
        guard !suspicions.isEmpty, !timing.defersAccusations(at: now) else { return }
        for (id, suspicion) in suspicions.popExpired(now: now) {
            guard let member = table[id], member.state == .suspect else { continue }
            if suspicion.ownProbeFailed {
                declareFailed(member, now: now)
            } else {
                suspicions.park(suspicion, of: id)
                requestCheck(of: id, now: now)
            }
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
