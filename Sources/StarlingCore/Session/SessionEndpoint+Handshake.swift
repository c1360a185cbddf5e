/// Handshakes: initiating, answering and completing them.
extension SessionEndpoint {
    var presharedKeys: [[UInt8]] { configuration.swarmSecret.map { [$0] } ?? [] }

    /// Sends attempt `attempt` (0 for the first) of a handshake to `address`.
    mutating func startInitiation(
        to address: PeerAddress, expecting expected: PeerID?, started: Instant, attempt: Int, now: Instant,
        sawAuthenticationFailure: Bool = false
    ) {
        // This side's own handshakes have their own table: no flood of initiations
        // from others can refuse them.
        guard initiations.count < configuration.maximumPendingHandshakes else {
            events.append(.handshakeFailed(address: address, expected: expected, error: .tooManyHandshakes))
            return
        }
        let remoteStatic = expected.flatMap { staticKey(of: $0) }
        let kind = HandshakeKind.choose(
            knowsResponderKey: remoteStatic != nil, hasSwarmSecret: configuration.swarmSecret != nil)
        do {
            var handshake = try makeHandshake(kind, initiator: true, remoteStatic: remoteStatic)
            // IK sends the identity payload and a timestamp in message 1 (encrypted to
            // the responder's key); XX's message 1 is in the clear, so XX sends the
            // identity in message 3.
            let payload =
                kind.messageCount == 2
                ? HandshakePayload(peerID: identity.peerID).encoded + nextTimestamp(now: now).encoded : []
            let message = try handshake.writeMessage(payload: payload)
            let index = newIndex()
            var datagram = HandshakeInitiation(kind: kind, senderIndex: index, noiseMessage: message).encoded()
            stampInitiation(&datagram, kind: kind, to: expected, at: address, now: now)
            let deadline = HandshakeBackoff.retransmitDeadline(
                afterAttempt: attempt, sentAt: now, firstSentAt: started, using: &random)
            var pending = PendingInitiation(
                handshake: handshake, kind: kind, address: address, expected: expected, started: started,
                attempt: attempt, deadline: deadline, sawAuthenticationFailure: sawAuthenticationFailure)
            pending.sent = datagram
            store(pending, at: index)
            outbox.append((address, datagram))
        } catch {
            // Our own keys and the expected peer's key were checked; nothing else fails.
            events.append(.handshakeFailed(address: address, expected: expected, error: .authenticationFailed))
        }
    }

    /// Starts a handshake with `peer`, an established peer, unless one is running.
    mutating func startRekey(with peer: PeerID, now: Instant) {
        guard let state = peers[peer], !isInitiating(with: peer) else { return }
        startInitiation(to: state.address, expecting: peer, started: now, attempt: 0, now: now)
    }

    mutating func makeHandshake(_ kind: HandshakeKind, initiator: Bool, remoteStatic: Key32?) throws(NoiseError)
        -> NoiseHandshake
    {
        try NoiseHandshake(
            noiseProtocol: kind.noiseProtocol, initiator: initiator, prologue: configuration.prologue,
            localStatic: staticKeys, remoteStatic: remoteStatic, presharedKeys: presharedKeys, generator: &random)
    }

    /// The X25519 static key of `peer` (the form of its Ed25519 ID that Noise
    /// authenticates), from the cache when it was converted before; nil for an ID that
    /// is not a valid Ed25519 key.
    mutating func staticKey(of peer: PeerID) -> Key32? {
        if let key = staticKeyCache[peer] { return key }
        guard let key = try? peer.x25519PublicKey() else { return nil }
        if staticKeyCache.count >= SessionConstants.maximumCachedStaticKeys {
            staticKeyCache.removeAll(keepingCapacity: true)
        }
        staticKeyCache[peer] = key
        return key
    }

    /// The peer whose identity `payload` carries, when it owns `remoteStatic`, the
    /// static key the handshake authenticated; see ``HandshakePayload``.
    mutating func verifiedPeer(in payload: [UInt8], remoteStatic: Key32?) -> PeerID? {
        guard let remoteStatic, let peer = HandshakePayload.claimedPeer(in: payload),
            staticKey(of: peer) == remoteStatic
        else { return nil }
        return peer
    }

    /// Answers an initiation that passed ``admit(_:datagram:from:now:)``: IK completes
    /// here (keys wait for confirmation), XX sends message 2 and waits for message 3.
    mutating func handleInitiation(
        _ initiation: HandshakeInitiation, datagram: [UInt8], from source: PeerAddress, now: Instant
    ) {
        guard admit(initiation, datagram: datagram, from: source, now: now) else { return }
        do {
            var handshake = try makeHandshake(initiation.kind, initiator: false, remoteStatic: nil)
            let payload = try handshake.readMessage(initiation.noiseMessage)
            if initiation.kind.messageCount == 2 {
                answerIK(initiation, handshake: &handshake, payload: payload, from: source, now: now)
                return
            }
            let index = newIndex()
            let message = try handshake.writeMessage(payload: HandshakePayload(peerID: identity.peerID).encoded)
            var response = HandshakeResponse(
                kind: initiation.kind, receiverIndex: initiation.senderIndex, senderIndex: index,
                noiseMessage: message
            ).encoded()
            stampResponse(&response, kind: initiation.kind, to: nil)
            store(
                PendingResponder(
                    handshake: handshake, kind: initiation.kind, remoteIndex: initiation.senderIndex,
                    address: source, expires: now + SessionConstants.rekeyTimeout * 2,
                    initiation: initiation.noiseMessage, response: response),
                at: index)
            outbox.append((source, response))
        } catch {
            drop(.decryptionFailed)
        }
    }

    /// Completes an IK initiation whose message 1 `handshake` has read: checks the
    /// identity and the timestamp, answers, and installs keys that wait for confirmation.
    mutating func answerIK(
        _ initiation: HandshakeInitiation, handshake: inout NoiseHandshake, payload: [UInt8],
        from source: PeerAddress, now: Instant
    ) {
        guard let peer = verifiedPeer(in: payload, remoteStatic: handshake.remoteStaticKey),
            payload.count >= HandshakePayload.size + HandshakeTimestamp.size,
            let timestamp = HandshakeTimestamp(
                payload[HandshakePayload.size..<HandshakePayload.size + HandshakeTimestamp.size])
        else { return drop(.decryptionFailed) }
        if let state = peers[peer], let latest = state.latestTimestamp, timestamp <= latest {
            // Not newer than one already accepted: a copy or a replay. A copy of the last
            // one from where it came, while its keys wait, gets the same answer again.
            if state.initiationAnswered == initiation.noiseMessage, let sent = state.responseSent,
                sent.address == source, state.next?.localIndex == sent.localIndex
            {
                outbox.append((source, sent.bytes))
            }
            return drop(.handshakeReplayed)
        }
        guard peers[peer] != nil || roomForNewPeer(now: now) else { return drop(.sessionTableFull) }
        do {
            let index = newIndex()
            let message = try handshake.writeMessage(payload: [])
            var response = HandshakeResponse(
                kind: initiation.kind, receiverIndex: initiation.senderIndex, senderIndex: index,
                noiseMessage: message
            ).encoded()
            stampResponse(&response, kind: initiation.kind, to: peer)
            outbox.append((source, response))
            var keys = try makeKeys(
                &handshake, local: index, remote: initiation.senderIndex, initiator: false, peer: peer, now: now)
            keys.lostCrossing = keepsOwnHandshake(against: peer)
            yieldIfCrossed(by: peer)
            install(keys, confirmed: false, for: peer, address: source, fresh: false, now: now)
            guard let position = peers.index(forKey: peer) else { return }
            peers.withValue(at: position) { state in
                state.latestTimestamp = timestamp
                state.initiationAnswered = initiation.noiseMessage
                state.responseSent = (source, index, response)
            }
        } catch {
            drop(.decryptionFailed)
        }
    }

    /// Completes this side's initiation with the responder's message 2.
    mutating func handleResponse(
        _ response: HandshakeResponse, datagram: [UInt8], from source: PeerAddress, now: Instant
    ) {
        let index = response.receiverIndex
        guard var pending = initiations[index], pending.kind == response.kind else {
            return drop(.unknownReceiverIndex)
        }
        guard verifyMAC1(datagram, at: datagram.count - HandshakeResponse.trailerSize, kind: response.kind) else {
            return drop(.invalidMAC)
        }
        guard pending.confirming == nil else { return drop(.handshakeReplayed) }
        do {
            let payload = try pending.handshake.readMessage(response.noiseMessage)
            if pending.kind.messageCount == 2 {
                // IK: the responder's key was known and is now proven.
                guard let peer = pending.expected else { return drop(.handshakeFailed) }
                let keys = try makeKeys(
                    &pending.handshake, local: index, remote: response.senderIndex, initiator: true, peer: peer,
                    now: now)
                // The initiation stays pending, resending an empty packet on the keys,
                // until the responder proves it has them.
                pending.confirming = (peer, .keepalive)
                store(pending, at: index)
                // Queued data on the new keys confirms them; otherwise an empty packet does.
                if install(keys, confirmed: true, for: peer, address: source, now: now) == 0 {
                    sealAndQueue([], to: peer, now: now)
                }
                return
            }
            guard let peer = verifiedPeer(in: payload, remoteStatic: pending.handshake.remoteStaticKey) else {
                initiations[index]?.sawAuthenticationFailure = true
                return drop(.handshakeFailed)
            }
            if let expected = pending.expected, expected != peer {
                initiations[index] = nil
                let error = SessionError.unexpectedPeer(expected: expected, actual: peer)
                events.append(.handshakeFailed(address: pending.address, expected: expected, error: error))
                return
            }
            if yieldsLateToCrossing(pending, with: peer) {
                // The peer's handshake, which wins, completed here while this one ran.
                initiations[index] = nil
                return
            }
            let message = try pending.handshake.writeMessage(
                payload: HandshakePayload(peerID: identity.peerID).encoded)
            let keys = try makeKeys(
                &pending.handshake, local: index, remote: response.senderIndex, initiator: true, peer: peer, now: now)
            let completion = HandshakeCompletion(receiverIndex: response.senderIndex, noiseMessage: message).encoded()
            // The initiation stays pending until the responder proves it accepted message 3.
            pending.confirming = (peer, .completion(completion))
            store(pending, at: index)
            install(keys, confirmed: false, for: peer, address: source, now: now)
            outbox.append((source, completion))
        } catch {
            // A forged or wrong-swarm response: remember it for the error, keep waiting.
            initiations[index]?.sawAuthenticationFailure = true
            drop(.decryptionFailed)
        }
    }

    /// Completes an XX handshake this side answered, with the initiator's message 3.
    mutating func handleCompletion(_ completion: HandshakeCompletion, from source: PeerAddress, now: Instant) {
        guard let pending = responders[completion.receiverIndex] else {
            // A byte-identical retransmission of the message 3 that made a session: the
            // initiator missed our confirmation, so send it again.
            if let peer = keyOwners[completion.receiverIndex], let state = peers[peer],
                state.completionReceived == completion.noiseMessage,
                let slot = state.slot(for: completion.receiverIndex)
            {
                sealAndQueue([], to: peer, now: now, on: slot)
                return
            }
            return drop(.unknownReceiverIndex)
        }
        var handshake = pending.handshake
        do {
            let payload = try handshake.readMessage(completion.noiseMessage)
            removeResponder(completion.receiverIndex)
            guard let peer = verifiedPeer(in: payload, remoteStatic: handshake.remoteStaticKey) else {
                return drop(.decryptionFailed)
            }
            guard peers[peer] != nil || roomForNewPeer(now: now) else { return drop(.sessionTableFull) }
            let keys = try makeKeys(
                &handshake, local: completion.receiverIndex, remote: pending.remoteIndex, initiator: false,
                peer: peer, now: now)
            // Simultaneous initiation, and ours wins: the peer abandons its handshake
            // when ours completes there, so this one is consumed without effect.
            guard !keepsOwnHandshake(against: peer) else { return }
            yieldIfCrossed(by: peer)
            if precedes(peer), peers[peer]?.current?.isInitiator == true {
                // Ours may have won a crossing with this handshake after all, and then the
                // peer abandoned it: keep the keys waiting and ask with an empty packet on
                // them. Only a peer that still holds them answers, which makes them current.
                install(keys, confirmed: false, for: peer, address: source, now: now)
                peers[peer]?.completionReceived = completion.noiseMessage
                sealAndQueue([], to: peer, now: now, on: .next)
                return
            }
            let flushed = install(keys, confirmed: true, for: peer, address: source, now: now)
            peers[peer]?.completionReceived = completion.noiseMessage
            // The initiator waits for proof that message 3 arrived: an empty packet,
            // unless queued data already went.
            if flushed == 0 { sealAndQueue([], to: peer, now: now) }
        } catch {
            drop(.wrongSwarm)
        }
    }

    /// Derives this side's transport keys from a completed handshake.
    mutating func makeKeys(
        _ handshake: inout NoiseHandshake, local: UInt32, remote: UInt32, initiator: Bool, peer: PeerID,
        now: Instant
    ) throws(NoiseError) -> TransportKeys {
        let split = try handshake.transportKeys()
        guard let sendKey = split.sending.key, let receiveKey = split.receiving.key else {
            throw .handshakeNotComplete
        }
        keysDerived += 1
        return TransportKeys(
            localIndex: local, remoteIndex: remote, isInitiator: initiator, created: now, sequence: keysDerived,
            peer: peer, sendKey: sendKey, receiveKey: receiveKey)
    }
}
