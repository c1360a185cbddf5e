extension MembershipCore {
    // MARK: Checks: this peer's own probes of members others suspect

    /// Queues a check of `id`: a direct ping of this peer's own, ahead of the round-robin
    /// order and besides it, started at once while fewer than
    /// ``MembershipConstants/concurrentChecks`` run. Hearsay (another peer's suspicion
    /// or verdict) leads here and nowhere else: only a check or a regular probe that goes
    /// unanswered lets a suspicion become a failure (``noteOwnProbeFailed(of:now:)``).
    /// A check asks no relays: the accuser's own probe already did, and a suspicion
    /// still leaves the suspect its timeout to refute (the check's ping tells it). A
    /// member this peer reaches only through another (``reachedThrough(_:)``) is checked
    /// through that one, with a ping request, not with a direct ping that cannot arrive.
    mutating func requestCheck(of id: PeerID, now: Instant) {
        guard probe?.target != id, !checks.contains(where: { $0.target == id }), !pendingChecks.contains(id),
            pendingChecks.count < MembershipConstants.pendingChecksHeld
        else { return }
        pendingChecks.append(id)
        startQueuedChecks(now: now)
    }

    /// Starts queued checks while slots are free.
    mutating func startQueuedChecks(now: Instant) {
        while checks.count < MembershipConstants.concurrentChecks, !pendingChecks.isEmpty {
            let id = pendingChecks.removeFirst()
            guard let member = table[id], member.state.isLive, probe?.target != id else { continue }
            let sequence = makeSequence()
            if let helper = indirectRoutes[id].flatMap({ table[$0] }), helper.state == .alive {
                send(
                    .pingRequest(sequence: sequence, target: id, targetAddress: member.address, sender: localID),
                    to: helper.address)
            } else {
                send(
                    .ping(
                        sequence: sequence, target: id, sender: localID, digest: sentDigest,
                        updates: buddyNotice(for: member)),
                    to: member.address)
            }
            checks.append(
                ProbeInFlight(
                    sequence: sequence, target: id, indirectAt: nil,
                    endAt: now + localHealth.scale(adaptedProbeInterval), sentAt: now))
            statistics.checksStarted += 1
        }
    }

    /// Ends the checks that stayed unanswered, and starts queued ones. A peer that is
    /// behind decides later, as for its regular probes.
    mutating func serviceChecks(now: Instant) {
        guard !checks.isEmpty || !pendingChecks.isEmpty else { return }
        let deferredUntil = timing.accusationsDeferredUntil.flatMap { now < $0 ? $0 : nil }
        var failed: [PeerID] = []
        checks.removeAll { check in
            guard check.endAt <= now, deferredUntil == nil else { return false }
            failed.append(check.target)
            return true
        }
        if let deferredUntil {
            for index in checks.indices where checks[index].endAt <= now { checks[index].endAt = deferredUntil }
        }
        for id in failed { noteOwnProbeFailed(of: id, now: now) }
        startQueuedChecks(now: now)
    }

    /// The earliest deadline of any check.
    var earliestCheckDeadline: Instant? {
        var earliest: Instant?
        for check in checks where earliest.map({ check.endAt < $0 }) ?? true { earliest = check.endAt }
        return earliest
    }
}
