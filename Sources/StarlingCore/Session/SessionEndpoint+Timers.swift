/// Deadlines: the schedule behind ``pollTimeout()``, handshake retransmission, and
/// each peer's ``SessionTimers``.
extension SessionEndpoint {
    // MARK: ProtocolCore

    public func pollTimeout() -> Instant? {
        deadlines.earliest
    }

    public mutating func handleTimeout(now: Instant) {
        defer { settleDeadlines() }
        while let owner = nextDue(now: now) {
            switch owner {
            case .initiation(let index):
                expiredRetransmitHandshake(index, now: now)
            case .responder(let index):
                if let responder = responders[index], responder.expires <= now { removeResponder(index) }
            case .peer(let peer):
                runTimers(of: peer, now: now)
            }
            let next = deadline(of: owner)
            deadlines.schedule(owner, at: next)
        }
    }

    // MARK: The schedule

    /// Saves `state` and notes its timers' deadline; use it whenever timers changed.
    mutating func store(_ state: PeerSessionState, for peer: PeerID) {
        peers[peer] = state
        deadlines.schedule(.peer(peer), at: state.timers.pollTimeout())
    }

    /// Saves `pending` and notes its deadline.
    mutating func store(_ pending: PendingInitiation, at index: UInt32) {
        initiations[index] = pending
        deadlines.schedule(.initiation(index), at: pending.deadline)
    }

    /// Saves `responder` and notes its expiry.
    mutating func store(_ responder: PendingResponder, at index: UInt32) {
        responders[index] = responder
        respondersByInitiation[responder.initiation] = index
        deadlines.schedule(.responder(index), at: responder.expires)
    }

    /// Forgets the responder at `index`.
    mutating func removeResponder(_ index: UInt32) {
        guard let responder = responders.removeValue(forKey: index) else { return }
        if respondersByInitiation[responder.initiation] == index { respondersByInitiation[responder.initiation] = nil }
    }

    /// The real deadline of `owner`, `nil` when it has none or is gone.
    ///
    /// Mutating only to read a peer's timers in place (``peers`` read by value would
    /// copy the peer's whole state); it changes nothing.
    mutating func deadline(of owner: DeadlineOwner) -> Instant? {
        switch owner {
        case .peer(let peer):
            guard let position = peers.index(forKey: peer) else { return nil }
            return peers.withValue(at: position) { $0.timers.pollTimeout() }
        case .initiation(let index): return initiations[index]?.deadline
        case .responder(let index): return responders[index]?.expires
        }
    }

    /// Makes ``pollTimeout()`` exact again; every public input ends with it.
    ///
    /// It works on ``deadlines`` in place, step by step: a closure reading the owners'
    /// deadlines would capture (copy) the whole endpoint.
    mutating func settleDeadlines() {
        while let top = deadlines.liveTop() {
            let actual = deadline(of: top.owner)
            if actual == top.deadline { return }
            deadlines.correctTop(to: actual)
        }
    }

    /// Removes and returns an owner whose deadline is at or before `now`.
    mutating func nextDue(now: Instant) -> DeadlineOwner? {
        settleDeadlines()
        return deadlines.removeTop(dueBy: now)
    }

    /// The earliest deadline found by visiting every owner: the reference that tests
    /// compare ``pollTimeout()`` with.
    func earliestDeadlineByScanning() -> Instant? {
        let all =
            initiations.values.map(\.deadline) + responders.values.map(\.expires)
            + peers.values.compactMap { $0.timers.pollTimeout() }
        return all.min()
    }

    // MARK: Expiry handlers

    /// Handles an initiation whose deadline passed: retransmits (a fresh initiation
    /// before the response; after it, XX's message 3 or IK's empty packet), or gives up.
    mutating func expiredRetransmitHandshake(_ index: UInt32, now: Instant) {
        guard var pending = initiations[index], pending.deadline <= now else { return }
        let decision = HandshakeBackoff.decide(
            attemptsSent: pending.attempt + 1, firstSentAt: pending.started, now: now)
        switch (decision, pending.confirming) {
        case (.retransmit(let attempt), let confirming?):
            pending.attempt = attempt
            pending.deadline = HandshakeBackoff.retransmitDeadline(
                afterAttempt: attempt, sentAt: now, firstSentAt: pending.started, using: &random)
            store(pending, at: index)
            switch confirming.resend {
            case .completion(let message):
                outbox.append((peers[confirming.peer]?.address ?? pending.address, message))
            case .keepalive:
                // The keys may have been replaced meanwhile: then there is nothing to confirm.
                guard peers[confirming.peer]?.current?.localIndex == index else {
                    initiations[index] = nil
                    return
                }
                sealAndQueue([], to: confirming.peer, now: now)
            }
        case (.retransmit(let attempt), nil):
            initiations[index] = nil
            startInitiation(
                to: pending.address, expecting: pending.expected, started: pending.started, attempt: attempt,
                now: now, sawAuthenticationFailure: pending.sawAuthenticationFailure)
        case (.giveUp(let timeout), let confirming):
            initiations[index] = nil
            // IK: the session stands; the responder confirms it with its first packet.
            if case .keepalive? = confirming?.resend { return }
            if let confirming { discardUnconfirmedKeys(index, of: confirming.peer) }
            let error: SessionError =
                pending.sawAuthenticationFailure
                ? .authenticationFailed : .handshakeTimedOut(attempts: timeout.attempts)
            events.append(.handshakeFailed(address: pending.address, expected: pending.expected, error: error))
            if let expected = pending.expected, let state = peers[expected], state.localIndices.isEmpty {
                // Nothing will carry the queued payloads: forget them with the peer.
                forget(expected)
            }
        }
    }

    /// Retransmits at once every handshake initiation to `address` that has had no
    /// response yet: a new way to that address was found (in the super-peer topology, a
    /// relay through a super-peer, ``OverlayCore/takeNewRelayRoutes()``), and the backoff's
    /// next retransmission may be seconds away (after the third attempt, 4 s). The
    /// retransmission counts as one of the handshake's attempts (``HandshakeBackoff``).
    ///
    /// - Parameters:
    ///   - address: where the handshakes go.
    ///   - now: the current time.
    public mutating func retryHandshakes(to address: PeerAddress, now: Instant) {
        defer { settleDeadlines() }
        let waiting = initiations.compactMap { index, pending in
            pending.address == address && pending.confirming == nil && pending.deadline > now ? index : nil
        }
        for index in waiting.sorted() {
            guard var pending = initiations[index] else { continue }
            pending.deadline = now
            initiations[index] = pending
            expiredRetransmitHandshake(index, now: now)
        }
    }

    /// Forgets keys that the peer never confirmed.
    mutating func discardUnconfirmedKeys(_ localIndex: UInt32, of peer: PeerID) {
        keyOwners[localIndex] = nil
        guard var state = peers[peer], state.next?.localIndex == localIndex else { return }
        state.next = nil
        if state.localIndices.isEmpty { forget(peer) } else { peers[peer] = state }
    }

    /// Runs the timers of `peer` that are due.
    mutating func runTimers(of peer: PeerID, now: Instant) {
        guard var state = peers[peer] else { return }
        let due = state.timers.removeExpired(now: now)
        peers[peer] = state
        for timer in due {
            switch timer {
            case .sendKeepalive:
                // Nothing went back since data arrived: say this side is alive.
                sealAndQueue([], to: peer, now: now)
            case .newHandshake:
                // Data went out and nothing authenticated came back: the keys or the
                // path may be gone.
                startRekey(with: peer, now: now)
            case .zeroKeyMaterial:
                expiredZeroKeyMaterial(of: peer)
                return
            case .discardPreviousSession:
                expiredDiscardPreviousSession(of: peer)
            }
        }
    }

    /// No session with `peer` was derived for ``SessionConstants/zeroKeyMaterialAfter``:
    /// forgets everything about it and reports the session expired.
    mutating func expiredZeroKeyMaterial(of peer: PeerID) {
        guard let state = forget(peer) else { return }
        if state.reported { events.append(.closed(peer: peer, reason: .expired)) }
    }

    /// The grace of the keys a rekey replaced is over: they receive no more.
    mutating func expiredDiscardPreviousSession(of peer: PeerID) {
        guard let previous = peers[peer]?.previous else { return }
        keyOwners[previous.localIndex] = nil
        peers[peer]?.previous = nil
    }
}

/// Whose deadline an entry of the endpoint's ``DeadlineSchedule`` is.
enum DeadlineOwner: Hashable, Sendable {
    /// A peer's ``SessionTimers``.
    case peer(PeerID)
    /// A ``PendingInitiation``'s retransmission, by local index.
    case initiation(UInt32)
    /// A ``PendingResponder``'s expiry, by local index.
    case responder(UInt32)
}
