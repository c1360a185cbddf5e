/// Transport data: opening, confirming keys, roaming, and delivering.
extension SessionEndpoint {
    mutating func handleTransport(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        guard let header = TransportHeader.parse(datagram) else { return drop(.malformed) }
        guard let peer = keyOwners[header.receiverIndex], var state = peers[peer],
            let slot = state.slot(for: header.receiverIndex), var keys = state[keyPath: slot]
        else { return drop(.unknownReceiverIndex) }
        if let reason = keys.open(datagram, header: header, now: now, into: &plaintext) {
            return drop(reason)
        }
        state[keyPath: slot] = keys
        state.lastReceived = now
        // Authenticated: the peer may have moved; answer where it is now.
        state.address = source
        var acknowledge = false
        if slot == \PeerSessionState.next {
            // The peer proved it has the new keys.
            promote(keys, of: peer, in: &state, now: now)
            acknowledge = true
        } else if slot == \PeerSessionState.current {
            state.confirmationDeadline = nil
        }
        peers[peer] = state
        if acknowledge {
            flushQueue(of: peer, now: now)
            // Tell the peer its keys arrived, unless data already went back.
            if peers[peer]?.lastSent != now { sealAndQueue([], to: peer, now: now) }
        }
        deliver(plaintext, from: peer)
    }

    /// Hands a decrypted inner message to the user (an empty one is a keepalive).
    mutating func deliver(_ inner: [UInt8], from peer: PeerID) {
        guard let first = inner.first else { return }
        switch InnerType(rawValue: first) {
        case .datagram:
            events.append(.datagram(peer: peer, payload: Array(inner.dropFirst())))
        case nil:
            drop(.unknownType)
        }
    }

    // MARK: Timers

    public func pollTimeout() -> Instant? {
        var earliest: Instant?
        func consider(_ deadline: Instant?) {
            guard let deadline else { return }
            if earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        for pending in initiations.values { consider(pending.deadline) }
        for responder in responders.values { consider(responder.expires) }
        for state in peers.values { consider(state.earliestDeadline()) }
        return earliest
    }

    public mutating func handleTimeout(now: Instant) {
        expireInitiations(now: now)
        responders = responders.filter { $0.value.expires > now }
        for peer in Array(peers.keys) { runTimers(of: peer, now: now) }
    }

    /// Retransmits initiations whose deadline passed (a fresh handshake and index, or
    /// for XX after message 2 the same message 3), or gives up and reports why.
    mutating func expireInitiations(now: Instant) {
        for (index, pending) in initiations where pending.deadline <= now {
            let decision = HandshakeBackoff.decide(
                attemptsSent: pending.attempt + 1, firstSentAt: pending.started, now: now)
            switch (decision, pending.completion) {
            case (.retransmit(let attempt), let completion?):
                initiations[index]?.attempt = attempt
                initiations[index]?.deadline = HandshakeBackoff.retransmitDeadline(
                    afterAttempt: attempt, sentAt: now, firstSentAt: pending.started, using: &random)
                outbox.append((peers[completion.peer]?.address ?? pending.address, completion.message))
            case (.retransmit(let attempt), nil):
                initiations[index] = nil
                startInitiation(
                    to: pending.address, expecting: pending.expected, started: pending.started, attempt: attempt,
                    now: now, sawAuthenticationFailure: pending.sawAuthenticationFailure)
            case (.giveUp(let timeout), let completion):
                initiations[index] = nil
                if let completion { discardUnconfirmedKeys(index, of: completion.peer) }
                let error: SessionError =
                    pending.sawAuthenticationFailure
                    ? .authenticationFailed : .handshakeTimedOut(attempts: timeout.attempts)
                events.append(.handshakeFailed(address: pending.address, expected: pending.expected, error: error))
                if let expected = pending.expected, peers[expected]?.current == nil {
                    // Nothing will carry the queued payloads: forget them with the peer.
                    peers[expected] = nil
                }
            }
        }
    }

    /// Forgets keys that the peer never confirmed.
    mutating func discardUnconfirmedKeys(_ localIndex: UInt32, of peer: PeerID) {
        keyOwners[localIndex] = nil
        guard var state = peers[peer], state.next?.localIndex == localIndex else { return }
        state.next = nil
        peers[peer] = state.current == nil ? nil : state
    }

    /// Runs one peer's timers: expiry, the previous keys' grace, confirmations and
    /// keepalives.
    mutating func runTimers(of peer: PeerID, now: Instant) {
        guard var state = peers[peer] else { return }
        if now >= state.lastReceived + SessionConstants.zeroKeyMaterialAfter {
            close(peer)
            if state.reported { replaceLastClose(of: peer, with: .expired) }
            return
        }
        if let expires = state.previousExpires, now >= expires, let previous = state.previous {
            keyOwners[previous.localIndex] = nil
            state.previous = nil
            state.previousExpires = nil
        }
        peers[peer] = state
        if let deadline = state.confirmationDeadline, now >= deadline {
            if state.confirmationAttempts >= HandshakeBackoff.maximumAttempts() {
                peers[peer]?.confirmationDeadline = nil
            } else {
                sendConfirmation(to: peer, now: now)
            }
        }
        if let current = peers[peer], current.current != nil, current.lastReceived > current.lastSent,
            now >= current.lastReceived + SessionConstants.keepaliveTimeout
        {
            sealAndQueue([], to: peer, now: now)
        }
    }

    /// Rewrites the `closed(…, .local)` event just queued by ``close(_:)`` as `reason`.
    mutating func replaceLastClose(of peer: PeerID, with reason: SessionCloseReason) {
        if case .closed(peer, .local)? = events.last {
            events.removeLast()
            events.append(.closed(peer: peer, reason: reason))
        }
    }
}
