extension DiscoveryCore {
    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        guard isEnabled else { return drop(.disabled) }
        // Rate limits come before any parsing or cryptography: the source host first, so
        // one flooding neighbour spends only its own tokens, then everyone together.
        guard sourceLimiter.allow(source, now: now), globalLimiter.allow(0, now: now) else {
            return drop(.rateLimited)
        }
        let wall = wallClock(at: now)
        let message: DiscoveryMessage
        do {
            let decoded = try envelope.decode(Array(datagram))
            if let sentAt = decoded.sentAt, !Self.isWithinReplayWindow(sentAt: sentAt, now: wall) {
                return drop(.outsideReplayWindow)
            }
            message = decoded.message
        } catch {
            return drop(error)
        }
        switch message {
        case .beacon(let record):
            if let refusal = accept(record, now: wall) { drop(refusal) }
        case .whoHas(let wanted, let asker):
            handleQuery(wanted: wanted, asker: asker, from: source, now: now, wall: wall)
        case .iHave(let record):
            handleAnswer(record, now: wall)
        }
    }

    /// Whether a sealed message sent at `sentAt` may be accepted at `now`: within
    /// ``DiscoveryConstants/replayWindow`` either way.
    /// - Parameters:
    ///   - sentAt: the sender's time, from the sealed plaintext.
    ///   - now: the receiver's wall-clock time.
    /// - Returns: `true` when the message is fresh enough.
    public static func isWithinReplayWindow(sentAt: UnixTime, now: UnixTime) -> Bool {
        let window = UInt64(DiscoveryConstants.replayWindow.components.seconds)
        let difference = sentAt > now ? sentAt.seconds - now.seconds : now.seconds - sentAt.seconds
        return difference <= window
    }

    /// Verifies `record` and keeps it when it is another peer's newest, reporting it.
    /// - Returns: nil when the record is held now (new, updated, or already the newest
    ///   held), else why it was refused; a stale record returns ``DiscoveryDrop/stale``.
    mutating func accept(_ record: SignedPeerRecord, now wall: UnixTime) -> DiscoveryDrop? {
        guard record.record.peerID != localPeer else { return .own }
        let outcome: RecordBook.Outcome
        do {
            outcome = try book.insert(record, now: wall)
        } catch {
            return .badRecord
        }
        switch outcome {
        case .added: events.append(.discovered(record))
        case .replaced: events.append(.updated(record))
        case .stale: return .stale
        case .full: return .tableFull
        }
        return nil
    }

    /// Learns the asker's record, then answers by unicast to `source` when the wanted
    /// peer is this one (always) or one whose valid record is held (within the answer rate).
    private mutating func handleQuery(
        wanted: PeerID, asker: SignedPeerRecord, from source: PeerAddress, now: Instant, wall: UnixTime
    ) {
        switch accept(asker, now: wall) {
        case nil, .stale?, .tableFull?: break
        case let refusal?: return drop(refusal)
        }
        if wanted == localPeer {
            return send(.iHave(ownRecord), to: source, now: now)
        }
        guard let held = book[wanted], (try? held.verify(now: wall)) != nil else { return }
        guard answerLimiter.allow(0, now: now) else { return drop(.rateLimited) }
        send(.iHave(held), to: source, now: now)
    }

    /// Takes an answer to a pending query: keeps the record and reports the query answered.
    private mutating func handleAnswer(_ record: SignedPeerRecord, now wall: UnixTime) {
        let peer = record.record.peerID
        guard pendingQueries[peer] != nil else { return drop(.unsolicited) }
        switch accept(record, now: wall) {
        case nil, .stale?:
            pendingQueries[peer] = nil
            if let held = book[peer] { events.append(.answered(held)) }
        case let refusal?:
            drop(refusal)
        }
    }
}
