/// Transport data: sealing, opening, confirming keys, roaming, and delivering.
///
/// The per-datagram paths change the peer's state in place, through its index in
/// ``peers`` (see `PeerSessionState+Transport.swift`): copying a ``PeerSessionState``
/// out and back would retain everything it holds, and recording a packet in a copied
/// ``TransportKeys`` would copy its replay window.
extension SessionEndpoint {
    mutating func handleTransport(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        guard let header = TransportHeader.parse(datagram) else { return drop(.malformed) }
        guard let peer = keyOwners[header.receiverIndex], let position = peers.index(forKey: peer) else {
            return drop(.unknownReceiverIndex)
        }
        let opened: PeerSessionState.Opened
        switch peers.values[position].open(datagram, header: header, from: source, now: now, into: &plaintext) {
        case .opened(let result): opened = result
        case .dropped(let reason): return drop(reason)
        }
        // The peer proved it holds these keys: the handshake that made them is done.
        if !initiations.isEmpty { initiations[header.receiverIndex] = nil }
        let slot = opened.slot
        // Rare (once per handshake): this path copies the state out and stores it back.
        if slot == .next, case var state = peers.values[position], var keys = state.next,
            mayPromote(keys, over: state.current, of: peer)
        {
            // Keys from a replayable IK initiation count as derived only now.
            state.timers.timersSessionDerived(now: now)
            keys.answersKeepalives = !keys.isInitiator
            promote(keys, of: peer, in: &state, now: now)
            store(state, for: peer)
            // The peer's handshake completed here: if it crossed one of ours, ours yields.
            if !opened.isInitiator { yieldIfCrossed(by: peer) }
            // Tell the peer its keys arrived, unless queued data just did.
            if flushQueue(of: peer, now: now) == 0 { sealAndQueue([], to: peer, now: now) }
        } else {
            deadlines.schedule(.peer(peer), at: opened.deadline)
            if slot == .current, SessionTimers.wantsRekey(receivingOnKeysAged: now - opened.created) {
                startRekey(with: peer, now: now)
            } else if slot == .current, plaintext.isEmpty, opened.answersKeepalives,
                now - opened.created < SessionConstants.rekeyAttemptTime
            {
                // Perhaps the IK initiator resending its first packet: our answer was lost.
                sealAndQueue([], to: peer, now: now)
            }
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
        _ inner: [UInt8], to peer: PeerID, now: Instant, on slot: PeerSessionState.KeySlot = .current
    ) -> Bool {
        guard let position = peers.index(forKey: peer) else { return false }
        return inner.withUnsafeBytes { sealAndQueue(prefix: .none, $0, to: peer, at: position, on: slot, now: now) }
    }

    /// Seals `prefix` (when given) then `rest` as one inner message on the keys in
    /// `slot` of `peer`, which is at `position` in ``peers``, and queues the datagram;
    /// see ``sealAndQueue(_:to:now:on:)``.
    @discardableResult
    mutating func sealAndQueue(
        prefix: InnerPrefix, _ rest: UnsafeRawBufferPointer, to peer: PeerID,
        at position: [PeerID: PeerSessionState].Index,
        on slot: PeerSessionState.KeySlot, now: Instant
    ) -> Bool {
        var datagram = spareBuffers.popLast() ?? []
        guard
            let sealed = peers.values[position].seal(
                prefix: prefix, rest, on: slot, now: now, messageLimit: rekeyAfterMessages, random: &random,
                into: &datagram)
        else {
            spareBuffers.append(datagram)
            return false
        }
        deadlines.schedule(.peer(peer), at: sealed.deadline)
        outbox.append((sealed.address, datagram))
        if sealed.wantsRekey { startRekey(with: peer, now: now) }
        return true
    }
}
