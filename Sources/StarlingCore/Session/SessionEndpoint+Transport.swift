/// Transport data: sealing, opening, confirming keys, roaming, and delivering.
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
        // Authenticated: the peer may have moved; answer where it is now.
        state.address = source
        state.timers.timersAnyAuthenticatedPacketReceived(now: now)
        if !plaintext.isEmpty { state.timers.timersDataReceived(now: now) }
        // The peer proved it holds these keys: the handshake that made them is done.
        initiations[keys.localIndex] = nil
        var promoted = false
        if slot == \PeerSessionState.next, mayPromote(keys, over: state.current, of: peer) {
            // Keys from a replayable IK initiation count as derived only now.
            state.timers.timersSessionDerived(now: now)
            keys.answersKeepalives = !keys.isInitiator
            promote(keys, of: peer, in: &state, now: now)
            promoted = true
        }
        store(state, for: peer)
        if promoted {
            // The peer's handshake completed here: if it crossed one of ours, ours yields.
            if !keys.isInitiator { yieldIfCrossed(by: peer) }
            // Tell the peer its keys arrived, unless queued data just did.
            if flushQueue(of: peer, now: now) == 0 { sealAndQueue([], to: peer, now: now) }
        } else if slot == \PeerSessionState.current, SessionTimers.wantsRekey(receivingOnKeysAged: now - keys.created) {
            startRekey(with: peer, now: now)
        } else if slot == \PeerSessionState.current, plaintext.isEmpty, keys.answersKeepalives,
            now - keys.created < SessionConstants.rekeyAttemptTime
        {
            // Perhaps the IK initiator resending its first packet: our answer was lost.
            sealAndQueue([], to: peer, now: now)
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

    /// Seals `inner` on `peer`'s current keys (or those in `slot`) and queues the
    /// datagram; an empty `inner` is a keepalive. Starts a new handshake when the keys
    /// are due for one.
    /// - Returns: false, sending nothing, when there are no such keys or they may no
    ///   longer send.
    @discardableResult
    mutating func sealAndQueue(
        _ inner: [UInt8], to peer: PeerID, now: Instant,
        on slot: WritableKeyPath<PeerSessionState, TransportKeys?> = \.current
    ) -> Bool {
        guard var state = peers[peer], var keys = state[keyPath: slot], keys.canSend(now: now) else { return false }
        var datagram: [UInt8] = []
        datagram.reserveCapacity(TransportHeader.size + inner.count + TransportHeader.tagSize)
        inner.withUnsafeBytes { keys.seal($0, into: &datagram) }
        state[keyPath: slot] = keys
        if !inner.isEmpty { state.timers.timersDataSent(now: now, using: &random) }
        state.timers.timersAnyAuthenticatedPacketSent(now: now)
        store(state, for: peer)
        outbox.append((state.address, datagram))
        let due = SessionTimers.wantsRekey(
            isInitiator: keys.isInitiator, age: now - keys.created, sent: keys.sendCounter,
            messageLimit: rekeyAfterMessages)
        if due { startRekey(with: peer, now: now) }
        return true
    }
}
