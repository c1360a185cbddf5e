/// The stream handshake: Noise `XX` (or `XXpsk3`) messages in cleartext frames, then the
/// responder's encrypted confirm record.
///
/// ```
/// initiator                                   responder
///   header, [kind ‖ message 1    ─────────▶   with a swarm secret, nothing at all
///     (‖ sentAt ‖ mac)]                       answers a bad mac or a stale time
///                                ◀─────────   header, [message 2 (responder identity)]
///   [message 3 (initiator identity)] ─────▶   established
///                                ◀─────────   chunk: confirm record
///   established
/// ```
extension StreamSession {
    /// Writes Noise message 1 behind the header and the handshake kind.
    mutating func startInitiation(_ handshake: NoiseHandshake) -> NoiseHandshake {
        var handshake = handshake
        do {
            // XX's message 1 travels before any key is agreed: its payload stays empty.
            let message = try handshake.writeMessage(payload: [])
            let body = StreamWire.makeInitiation(kind: kind, noiseMessage: message)
            if let admission {
                wireOutput += admission.makeOpening(body: body, sentAt: wallClock)
                headerQueued = true
            } else {
                queueCleartextFrame(body)
            }
        } catch {
            fatalError("a fresh Noise handshake refused its first message: \(error)")
        }
        return handshake
    }

    /// Responder: checks the swarm MAC (with a swarm secret), reads message 1 and
    /// answers with message 2, which proves its identity.
    ///
    /// Without a valid MAC the responder fails with ``StreamError/invalidMAC``, with one
    /// whose time is too far from ``wallClock`` with ``StreamError/staleOpening``, before
    /// any Noise work and without sending anything at all.
    mutating func handleInitiation(_ frame: [UInt8], _ handshake: NoiseHandshake) {
        var frame = frame
        if let admission {
            switch admission.verify(firstFrame: frame, now: wallClock) {
            case .admitted(let body): frame = body
            case .invalidMAC: return fail(.invalidMAC, notifyPeer: false)
            case .stale: return fail(.staleOpening, notifyPeer: false)
            }
            peerAdmitted = true
        }
        if let abort = abortReason(in: frame) { return fail(abort.error, notifyPeer: false) }
        guard let (kind, message) = StreamWire.consumeInitiation(frame), kind.messageCount == 3 else {
            return fail(.handshakeFailed, notifyPeer: true)
        }
        // XX and XXpsk3 differ only in the psk: a mismatch means one side has a secret.
        guard kind == self.kind else { return fail(.wrongSwarm, notifyPeer: true) }
        var handshake = handshake
        do {
            _ = try handshake.readMessage(message)
            let response = try handshake.writeMessage(payload: identityPayload)
            queueCleartextFrame(response)
            state = .responderAwaitingCompletion(handshake)
        } catch {
            fail(Self.streamError(for: error), notifyPeer: true)
        }
    }

    /// Reads a handshake message that carries the other side's identity (XX message 2
    /// or 3).
    /// - Returns: the peer whose Ed25519 key the payload proves to own the Noise static
    ///   key, or `nil` when it proves nothing.
    /// - Throws: what Noise throws for a message that does not decrypt.
    static func readIdentity(_ frame: [UInt8], _ handshake: inout NoiseHandshake) throws(NoiseError) -> PeerID? {
        let payload = try handshake.readMessage(frame)
        return HandshakePayload.verifiedPeer(in: payload, staticKey: handshake.remoteStaticKey)
    }

    /// Initiator: reads message 2, checks the responder's identity, and sends message 3.
    mutating func handleResponse(_ frame: [UInt8], _ handshake: NoiseHandshake) {
        if let abort = abortReason(in: frame) { return fail(abort.error, notifyPeer: false) }
        var handshake = handshake
        do {
            guard let peer = try Self.readIdentity(frame, &handshake) else {
                return fail(.handshakeFailed, notifyPeer: true)
            }
            if case .initiator(let expected?) = role, expected != peer {
                return fail(.unexpectedPeer(expected: expected, actual: peer), notifyPeer: true)
            }
            let completion = try handshake.writeMessage(payload: identityPayload)
            keys = try handshake.transportKeys()
            queueCleartextFrame(completion)
            state = .initiatorAwaitingConfirmation(Transport(peer: peer))
        } catch {
            fail(Self.streamError(for: error), notifyPeer: true)
        }
    }

    /// Responder: reads message 3, checks the initiator's identity, and confirms.
    mutating func handleCompletion(_ frame: [UInt8], _ handshake: NoiseHandshake) {
        if let abort = abortReason(in: frame) { return fail(abort.error, notifyPeer: false) }
        var handshake = handshake
        do {
            guard let peer = try Self.readIdentity(frame, &handshake) else {
                return fail(.handshakeFailed, notifyPeer: true)
            }
            var keys = try handshake.transportKeys()
            // The confirm record is the first chunk: nothing else is queued yet.
            state = .modifying
            guard sealControlRecord(.confirm, with: &keys.sending) else { return }
            self.keys = consume keys
            state = .established(Transport(peer: peer))
            events.append(.established(peer: peer))
        } catch {
            fail(Self.streamError(for: error), notifyPeer: true)
        }
    }

    /// Initiator: the responder's first chunk must be its confirm record.
    mutating func handleConfirmation(_ frame: [UInt8], _ transport: Transport) {
        if let abort = abortReason(in: frame) { return fail(abort.error, notifyPeer: false) }
        var frame = frame
        state = .modifying
        guard let length = Self.open(&frame, with: &keys) else {
            return fail(.authenticationFailed, notifyPeer: false)
        }
        guard length == StreamConstants.recordTypeSize, frame[0] == StreamRecordType.confirm.rawValue else {
            return fail(.malformedFrame, notifyPeer: false)
        }
        state = .established(transport)
        events.append(.established(peer: transport.peer))
    }

    /// The reason an abort frame gives, when `frame` is one (a one-byte body); an
    /// unknown reason byte reads as ``StreamAbortReason/handshakeFailed``.
    func abortReason(in frame: [UInt8]) -> StreamAbortReason? {
        guard frame.count == StreamConstants.abortFrameBody else { return nil }
        return StreamAbortReason(rawValue: frame[0]) ?? .handshakeFailed
    }

    /// The stream error for a failed handshake step: a message that does not
    /// authenticate means another prologue (swarm ID) or psk (swarm secret).
    static func streamError(for error: NoiseError) -> StreamError {
        error == .decryptionFailed ? .wrongSwarm : .handshakeFailed
    }
}
