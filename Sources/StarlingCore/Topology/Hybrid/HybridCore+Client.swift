extension HybridCore {
    // MARK: Finding index servers

    /// Asks every configured address that is due for its index list; each is asked
    /// again after a doubling back-off until one answers.
    mutating func askBootstrapAddresses(now: Instant) {
        let due = bootstrap.filter { $0.value <= now }.map(\.key)
        guard !due.isEmpty else { return }
        for address in due {
            bootstrap[address] = now + bootstrapBackoff
            send(.listIndexes(request: 0, fromIndex: role == .index), to: address, as: .list(index: nil), now: now)
        }
        bootstrapBackoff = min(bootstrapBackoff * 2, HybridConstants.maximumIndexRetry)
    }

    /// While no index server is known, adds a member at `address` to the bootstrap
    /// addresses, up to ``HybridConstants/bootstrapMembers`` of them, due with the
    /// configured ones' next retry: asked only once those left a request unanswered, then
    /// at the same back-off. Every hybrid peer answers with the index servers it knows
    /// up, so that a join storm on the configured index servers does not leave newcomers
    /// without any.
    mutating func keepMemberForIndexes(at address: PeerAddress) {
        guard bootstrapMembers.count < HybridConstants.bootstrapMembers, address != localAddress,
            bootstrap[address] == nil
        else { return }
        bootstrapMembers.append(address)
        bootstrap[address] = bootstrap.values.min() ?? latestNow
    }

    /// Takes an index list: the responder (first, when it is an index server) is up, and
    /// holds `members`; servers it lists are learned.
    mutating func learnIndexes(_ entries: [IndexEntry], members: UInt32, from source: PeerAddress, now: Instant) {
        for (position, entry) in entries.enumerated() where entry.id != localID {
            let isResponder = position == 0 && entry.address == source
            if var state = indexes[entry.id] {
                guard isResponder else { continue }
                let wasUp = state.isUp
                state.address = entry.address
                state.noteAnswer(roundTrip: nil)
                indexes[entry.id] = state
                indexStatusChanged(entry.id, wasUp: wasUp, now: now)
            } else {
                guard indexes.count < HybridConstants.maximumIndexes else { break }
                indexes[entry.id] = IndexServerState(address: entry.address)
                bootstrap[entry.address] = nil
                for member in bootstrapMembers { bootstrap[member] = nil }
                bootstrapMembers = []
                refreshFeatured()
                indexStatusChanged(entry.id, wasUp: false, now: now)
            }
            if isResponder { noteReportedMembers(members, by: entry.id) }
        }
    }

    // MARK: Answers and timeouts

    /// Takes the answer to `request`.
    mutating func handleAnswer(_ message: IndexMessage, to request: IndexRequest, now: Instant) {
        if let index = request.index, var state = indexes[index] {
            let wasUp = state.isUp
            state.noteAnswer(roundTrip: now - request.sentAt)
            indexes[index] = state
            indexStatusChanged(index, wasUp: wasUp, now: now)
        }
        switch (request.kind, message) {
        case (.list, .indexes(_, let members, let entries)):
            learnIndexes(entries, members: members, from: request.destination, now: now)
        case (.register(let index, let sequence), .registered(_, let status, let lifetime)):
            registrationAnswered(at: index, sequence: sequence, status: status, lifetime: lifetime, now: now)
        case (.lookup(let id, let index), .records(_, let records)):
            lookupAnswered(id, by: index, records: records, now: now)
        default:
            statistics.unexpectedAnswers += 1
        }
    }

    /// Ends the waits that are due: a timed-out request counts against its server, and
    /// what it was for moves on (the next holder, a retransmission, the fallback).
    mutating func expireRequests(now: Instant) {
        while let first = deadlines.min, first.at <= now {
            deadlines.removeMin()
            guard let request = pending.removeValue(forKey: first.request) else { continue }
            statistics.requestTimeouts += 1
            if let index = request.index, var state = indexes[index] {
                let wasUp = state.isUp
                state.noteTimeout(now: now)
                indexes[index] = state
                indexStatusChanged(index, wasUp: wasUp, now: now)
            }
            switch request.kind {
            case .list: break
            case .register(let index, let sequence):
                registrationTimedOut(at: index, sequence: sequence, now: now)
            case .lookup(let id, _):
                guard lookups[id] != nil else { continue }
                lookups[id]!.timeouts += 1
                askNext(id, now: now)
            }
        }
    }

    // MARK: Registration

    /// The index servers that should hold this peer's record: for its peer ID and for
    /// each service, the `replication` up servers that hold that key.
    func desiredHolders() -> [PeerID] {
        let up = upIndexes
        var keys = [RoutingKey(peer: localID)]
        keys += record.record.services.map { RoutingKey(service: $0) }
        var holders: [PeerID] = []
        for key in keys {
            for holder in IndexPlacement.holders(of: key, among: up, count: configuration.replication)
            where !holders.contains(holder) {
                holders.append(holder)
            }
        }
        return holders
    }

    /// Registers the current record with every holder that lacks it or is due a refresh.
    mutating func refreshRegistrations(now: Instant) {
        nextRefreshAt = nil
        let sequence = record.record.sequence
        for holder in desiredHolders() {
            if let registration = registrations[holder], registration.sequence == sequence,
                registration.refreshAt > now
            {
                noteRefresh(registration.refreshAt)
                continue
            }
            register(at: holder, attempt: 1, now: now)
        }
    }

    /// Sends a registration of the current record to `holder`.
    mutating func register(at holder: PeerID, attempt: Int, now: Instant) {
        guard let state = indexes[holder] else { return }
        let sequence = record.record.sequence
        let lifetime = UInt16(clamping: configuration.registrationLifetime.components.seconds)
        // Waits for the answer (or the timeout) before deciding again.
        let wait = state.requestTimeout(configuration)
        registrations[holder] = Registration(
            sequence: sequence, stored: false, refreshAt: now + wait, attempts: attempt)
        noteRefresh(now + wait)
        send(
            .register(request: 0, lifetime: lifetime, record: record), to: state.address,
            as: .register(index: holder, sequence: sequence), now: now)
    }

    /// Takes an index server's answer to a registration.
    mutating func registrationAnswered(
        at index: PeerID, sequence: UInt64, status: IndexRegistrationStatus, lifetime: UInt16, now: Instant
    ) {
        if status.isStored {
            statistics.registrationsStored += 1
        } else {
            statistics.registrationsRefused += 1
        }
        guard sequence == record.record.sequence else { return }
        // Refresh after a third of the lifetime granted; after a refusal, at the same
        // pace (a full or rate-limiting server may have room by then).
        let granted = Duration.seconds(Int64(max(lifetime, 3)))
        let refreshAfter = jittered(status.isStored ? granted / 3 : configuration.registrationLifetime / 3)
        registrations[index] = Registration(
            sequence: sequence, stored: status.isStored, refreshAt: now + refreshAfter, attempts: 0)
        noteRefresh(now + refreshAfter)
        provideProgressed(at: index, sequence: sequence, stored: status.isStored, now: now)
    }

    /// A registration went unanswered: send it again, up to
    /// ``HybridConstants/registrationAttempts``; then give up until the next refresh.
    mutating func registrationTimedOut(at index: PeerID, sequence: UInt64, now: Instant) {
        guard sequence == record.record.sequence, let registration = registrations[index],
            registration.sequence == sequence
        else { return }
        if registration.attempts < HybridConstants.registrationAttempts, indexes[index]?.isUp == true {
            register(at: index, attempt: registration.attempts + 1, now: now)
            return
        }
        let retryAt = now + jittered(configuration.registrationLifetime / 3)
        registrations[index] = Registration(sequence: sequence, stored: false, refreshAt: retryAt, attempts: 0)
        noteRefresh(retryAt)
        provideProgressed(at: index, sequence: sequence, stored: false, now: now)
    }

    /// `interval` less up to a quarter of it, at random. Registrations that started
    /// together (a join storm, every client finding a new index server at once) would
    /// otherwise be refreshed, and retried after a refusal, at the same instants for
    /// ever: at 10,000 peers some 6,600 reached one index server at once every 10 s, past
    /// its burst of 4,096, and the refused ones came back in the same burst.
    mutating func jittered(_ interval: Duration) -> Duration {
        interval - interval * Double.random(in: 0..<0.25, using: &random)
    }

    /// Moves the next registration refresh earlier to `time` if needed.
    mutating func noteRefresh(_ time: Instant) {
        if nextRefreshAt == nil || time < nextRefreshAt! { nextRefreshAt = time }
    }
}
