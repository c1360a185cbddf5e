/// Installing the keys handshakes make, and the simultaneous-initiation rule.
extension SessionEndpoint {
    /// Installs keys for `peer`: as current when already confirmed (reporting the
    /// session), otherwise as next until an authenticated packet proves them.
    ///
    /// - Parameters:
    ///   - keys: the keys a handshake just derived.
    ///   - confirmed: whether they may be used for sending at once.
    ///   - peer: the peer the handshake authenticated.
    ///   - address: where the handshake message came from.
    ///   - fresh: whether that message is bound to this side's fresh ephemeral key, so
    ///     that it proves the peer is there now: only then does it move the peer's
    ///     address, count as an answer and postpone key erasure. A replayable IK
    ///     initiation does none of these; its keys count once a packet on them arrives.
    ///   - now: the current time.
    /// - Returns: how many queued payloads went out on the keys.
    @discardableResult
    mutating func install(
        _ keys: TransportKeys, confirmed: Bool, for peer: PeerID, address: PeerAddress, fresh: Bool = true,
        now: Instant
    ) -> Int {
        let known = peers[peer]
        var state = known ?? PeerSessionState(address: address, now: now)
        if fresh {
            // A message bound to this side's fresh ephemeral key proves the peer is there.
            state.address = address
            state.lastActive = now
            unconfirmedPeers.remove(peer)
        }
        if !keys.isInitiator, !confirmed, let waiting = state.next, initiations[waiting.localIndex] != nil {
            // `next` holds keys of this side's own unfinished handshake, which wins
            // (the peer yields): the peer's keys are not kept.
            if known == nil { peers[peer] = state }
            return 0
        }
        keyOwners[keys.localIndex] = peer
        if fresh {
            state.timers.timersSessionDerived(now: now)
            state.timers.timersAnyAuthenticatedPacketReceived(now: now)
        } else if known == nil {
            // Nothing but this initiation vouches for the peer: it is forgotten soon
            // unless a packet on the keys arrives.
            state.timers.timersUnconfirmedPeerCreated(now: now)
            unconfirmedPeers.insert(peer)
        } else {
            state.timers.timersReplayableSessionDerived(now: now)
        }
        if confirmed {
            promote(keys, of: peer, in: &state, now: now)
        } else {
            if let stale = state.next { keyOwners[stale.localIndex] = nil }
            state.next = keys
        }
        store(state, for: peer)
        return confirmed ? flushQueue(of: peer, now: now) : 0
    }

    /// Makes `keys` current, reporting the session the first time; the old current
    /// keeps receiving until ``SessionTimer/discardPreviousSession``.
    mutating func promote(_ keys: TransportKeys, of peer: PeerID, in state: inout PeerSessionState, now: Instant) {
        if let old = state.current {
            if let dropped = state.previous { keyOwners[dropped.localIndex] = nil }
            state.previous = old
            state.timers.timersSessionRotated(now: now)
        }
        state.current = keys
        if state.next?.localIndex == keys.localIndex { state.next = nil }
        unconfirmedPeers.remove(peer)
        if !state.reported {
            state.reported = true
            events.append(.established(peer: peer, address: state.address))
        }
    }

    /// Sends what waited for the session, now that it can send.
    /// - Returns: how many payloads went out.
    @discardableResult
    mutating func flushQueue(of peer: PeerID, now: Instant) -> Int {
        guard var state = peers[peer], state.current != nil, !state.queued.isEmpty else { return 0 }
        let queued = state.queued
        state.queued = []
        peers[peer] = state
        var sent = 0
        for inner in queued {
            if sealAndQueue(inner, to: peer, now: now) { sent += 1 } else { peers[peer]?.enqueue(inner) }
        }
        return sent
    }

    // MARK: Simultaneous initiation

    /// Whether this side's ID comes before `peer`'s in byte order.
    func precedes(_ peer: PeerID) -> Bool {
        identity.peerID.publicKey < peer.publicKey
    }

    /// Whether a handshake `peer` initiated must not become current: this side has an
    /// unfinished handshake with `peer` of its own, and the lower ID's handshake wins.
    func keepsOwnHandshake(against peer: PeerID) -> Bool {
        precedes(peer) && isInitiating(with: peer)
    }

    /// Whether `next` keys, on which `peer` just proved it holds them, may become current.
    ///
    /// Not while this side's own handshake is unfinished and wins (a packet the higher
    /// peer sealed on keys it then abandoned is delivered but makes nothing current);
    /// not keys that lost a crossing; and, at the lower peer, not keys of the higher
    /// peer's handshake older than the lower peer's own current keys: the higher peer
    /// abandoned that handshake when the lower peer's completed.
    func mayPromote(_ next: TransportKeys, over current: TransportKeys?, of peer: PeerID) -> Bool {
        guard !next.isInitiator else { return true }
        if next.lostCrossing || keepsOwnHandshake(against: peer) { return false }
        guard precedes(peer), let current, current.isInitiator else { return true }
        return next.sequence > current.sequence
    }

    /// Whether this side, the higher peer, must abandon the XX handshake `pending` on
    /// learning from message 2 that it is with `peer`: a handshake `peer` initiated
    /// completed here while this one ran (its peer unknown, ``yieldIfCrossed(by:)``
    /// could not see it). The lower peer's handshake wins.
    func yieldsLateToCrossing(_ pending: PendingInitiation, with peer: PeerID) -> Bool {
        guard !precedes(peer), let current = peers[peer]?.current else { return false }
        return !current.isInitiator && current.created >= pending.started
    }

    /// Called when this side completes, as responder, a handshake `peer` initiated, or
    /// makes its keys current: if `peer`'s ID is lower, abandons this side's unfinished
    /// handshakes with it and the keys they made (`peer` never makes them current while
    /// its own is unfinished).
    mutating func yieldIfCrossed(by peer: PeerID) {
        guard !precedes(peer) else { return }
        for (index, pending) in initiations where pending.peer == peer {
            initiations[index] = nil
            keyOwners[index] = nil
            guard let position = peers.index(forKey: peer), let slot = peers.values[position].slot(for: index) else {
                continue
            }
            peers.values[position][slot] = nil
        }
    }
}
