extension MembershipCore {
    // MARK: Checks: this peer's own probes of members others suspect

    /// Queues a check of `id`: a probe of this peer's own, ahead of the round-robin
    /// order and besides it, started at once while fewer than
    /// ``MembershipConstants/concurrentChecks`` run. Hearsay (another peer's suspicion
    /// or verdict) leads here and nowhere else: only a check or a regular probe that goes
    /// unanswered lets a suspicion become a failure (``noteOwnProbeFailed(of:now:)``).
    mutating func requestCheck(of id: PeerID, now: Instant) {
        guard probe?.target != id, !checks.contains(where: { $0.target == id }), !urgentProbes.contains(id),
            urgentProbes.count < MembershipConstants.urgentProbesHeld
        else { return }
        urgentProbes.append(id)
        startQueuedChecks(now: now)
    }

    /// Starts queued checks while slots are free.
    mutating func startQueuedChecks(now: Instant) {
        while checks.count < MembershipConstants.concurrentChecks, !urgentProbes.isEmpty {
            let id = urgentProbes.removeFirst()
            guard let member = table[id], member.state.isLive, probe?.target != id else { continue }
            let sequence = makeSequence()
            send(
                .ping(
                    sequence: sequence, target: id, sender: localID, digest: digest.total,
                    updates: buddyNotice(for: member)),
                to: member.address)
            checks.append(
                ProbeInFlight(
                    sequence: sequence, target: id, indirectAt: now + localHealth.scale(adaptedProbeTimeout),
                    endAt: now + localHealth.scale(adaptedProbeInterval), sentAt: now))
            statistics.urgentProbes += 1
        }
    }

    /// Sends the ping requests of checks whose target has not answered in time, ends the
    /// checks that stayed unanswered, and starts queued ones. A peer that is behind
    /// decides later, as for its regular probes.
    mutating func serviceChecks(now: Instant) {
        guard !checks.isEmpty || !urgentProbes.isEmpty else { return }
        for index in checks.indices {
            guard let at = checks[index].indirectAt, at <= now else { continue }
            var check = checks[index]
            sendPingRequests(for: &check)
            checks[index] = check
        }
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
        for check in checks {
            let due = check.indirectAt.map { min($0, check.endAt) } ?? check.endAt
            if earliest.map({ due < $0 }) ?? true { earliest = due }
        }
        return earliest
    }
}
