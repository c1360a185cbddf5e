extension MembershipCore {
    // MARK: Commands

    /// Joins a cluster through any of `addresses`: sends each a push-pull of this
    /// peer's state and merges the first answers; resends at growing intervals until
    /// one answers or ``MembershipConfiguration/joinAttempts`` run out (never, by default).
    ///
    /// - Parameters:
    ///   - addresses: known members (seeds); this peer's own address is skipped.
    ///   - now: the current time.
    public mutating func join(_ addresses: [PeerAddress], now: Instant) {
        let now = advance(now)
        guard !hasLeft else { return }
        let seeds = addresses.filter { $0 != localAddress }
        guard !seeds.isEmpty else { return }
        for seed in seeds { sendState(to: seed, replyRequested: true, isJoin: true) }
        pendingJoin = PendingJoin(addresses: seeds, attempts: 1, retryAt: now + configuration.joinRetryInterval)
    }

    /// Leaves the cluster gracefully: announces `left` at the current incarnation
    /// directly to some live members (who spread it further), then stops: every later
    /// input is ignored and no timer is armed.
    /// - Parameter now: the current time.
    public mutating func leave(now: Instant) {
        _ = advance(now)
        guard !hasLeft else { return }
        hasLeft = true
        let update = MemberUpdate(
            state: .left, incarnation: incarnation, member: localID, address: localAddress,
            signature: MemberClaim.sign(
                swarmID: swarmID, state: .left, incarnation: incarnation, address: localAddress, with: identity))
        var candidates = order.filter { table[$0]?.state.isLive ?? false }
        let fanout = max(
            configuration.indirectChecks,
            BroadcastQueue.retransmitLimit(multiplier: configuration.retransmitMultiplier, members: liveCount + 1))
        var sent = 0
        while sent < fanout, !candidates.isEmpty {
            let id = candidates.swapRemoveRandom(using: &random)
            if let address = table[id]?.address {
                send(.gossip(sender: localID, updates: [update]), to: address)
                sent += 1
            }
        }
        broadcasts.removeAll()
        probe = nil
        relays = [:]
        suspicions.removeAll()
        pendingChecks = []
        checks = []
        pendingJoin = nil
        nextProbeAt = nil
        nextGossipAt = nil
        nextPushPullAt = nil
        nextReconnectAt = nil
    }

    // MARK: Push-pull

    /// Merges a peer's state and answers `source` with this peer's when asked: only the
    /// featured members when the request is scoped. The records of a scoped answer from a
    /// member this peer holds, at its address, are the ones a partial view of shared
    /// featured members takes new members from (``MembershipView``).
    mutating func handlePushPull(
        from sender: PeerID, replyRequested: Bool, isPartial: Bool, isScoped: Bool, records: [MemberUpdate],
        source: PeerAddress, now: Instant
    ) {
        admittingScoped = isScoped && !replyRequested && table[sender]?.address == source
        defer { admittingScoped = false }
        if !isPartial, !isScoped { hasHeldFullState = true }
        if !replyRequested {
            if pendingJoin != nil || pushPullRamp != nil { scheduleEarlyPull(afterAnswer: isPartial, now: now) }
            pendingJoin = nil
            hasJoined = true
        }
        for record in records {
            switch record.state {
            case .alive: applyAlive(record, now: now)
            case .left: applyLeft(record, now: now)
            // A remote failure is hearsay, like any accusation: it may start a suspicion
            // (and a probe of this peer's own) but never confirms one, since a state
            // exchange is not an independent probe.
            case .suspect, .dead:
                guard table[record.member]?.state != .suspect else { continue }
                applyAccusation(record, now: now)
            }
        }
        guard replyRequested else { return }
        if isScoped {
            sendScopedState(to: source, now: now)
        } else if takeStateReplyToken(now: now) {
            sendState(to: source, replyRequested: false)
        } else {
            statistics.partialStateReplies += 1
            sendPartialState(to: source)
        }
    }

    /// After a join, or an early exchange, was answered. A join starts early exchanges
    /// with random members, soon and then at doubling intervals: a partial answer (a join
    /// storm) leaves this peer's view incomplete, and news of members that joined at the
    /// same time may have died out while peers were busy. Once this peer's list is large
    /// (``MembershipConstants/smallStateMessages``) and a full answer has come, one more
    /// exchange, a little later, is enough. Either way the load of filling in newcomers
    /// spreads over the swarm instead of falling on the seed.
    mutating func scheduleEarlyPull(afterAnswer isPartial: Bool, now: Instant) {
        let last = MembershipConstants.earlyPushPulls
        if pendingJoin != nil {
            nextPushPullAt = now + randomFraction(of: configuration.probeInterval)
            pushPullRamp = 1
        } else if !isPartial, stateMessageCount > MembershipConstants.smallStateMessages,
            let step = pushPullRamp, step < last
        {
            let delay = configuration.probeInterval * (1 << (last - 1))
            nextPushPullAt = now + delay + randomFraction(of: delay / 2)
            pushPullRamp = last
        }
    }

    /// Takes the tokens of a full state answer, refilling the bucket at
    /// ``MembershipConstants/fullStateReplyMessagesPerInterval`` per probe interval.
    /// - Returns: whether a full answer may be sent.
    mutating func takeStateReplyToken(now: Instant) -> Bool {
        refillStateReplyTokens(now: now)
        let cost = min(Double(MembershipConstants.fullStateReplyMessagesPerInterval), Double(stateMessageCount))
        guard stateReplyTokens >= cost else { return false }
        stateReplyTokens -= cost
        return true
    }

    /// Takes the tokens of up to `wanted` messages of a state answer (a sync answer may
    /// be cut short; a full one may not).
    /// - Returns: how many messages may be sent.
    mutating func takeStateReplyTokens(upTo wanted: Int, now: Instant) -> Int {
        refillStateReplyTokens(now: now)
        let granted = min(wanted, Int(stateReplyTokens))
        stateReplyTokens -= Double(granted)
        return granted
    }

    private mutating func refillStateReplyTokens(now: Instant) {
        let capacity = Double(MembershipConstants.fullStateReplyMessagesPerInterval)
        let elapsed = now - stateReplyTokensAt
        stateReplyTokensAt = now
        stateReplyTokens = min(capacity, stateReplyTokens + capacity * (elapsed / configuration.probeInterval))
    }

    /// How many messages this peer's full state takes (estimated with records the size
    /// of this peer's own).
    var stateMessageCount: Int {
        let budget = configuration.maxMessageSize - MembershipMessage.pushPullHeaderSize
        return (order.count + 1) / max(1, budget / ownRecord.encodedSize) + 1
    }

    /// Answers a push-pull with this peer and a few random alive members, in one
    /// message: the asker counts as joined and learns the rest from gossip and its own
    /// later push-pulls.
    mutating func sendPartialState(to destination: PeerAddress) {
        var records = [ownRecord]
        let budget = configuration.maxMessageSize - MembershipMessage.pushPullHeaderSize - records[0].encodedSize
        var size = 0
        for id in sampleLiveMembers(MembershipConstants.partialStateMembers) {
            guard let member = table[id], member.state == .alive else { continue }
            let record = member.claim
            guard size + record.encodedSize <= budget else { break }
            size += record.encodedSize
            records.append(record)
        }
        send(
            .pushPull(sender: localID, replyRequested: false, isJoin: false, isPartial: true, members: records),
            to: destination)
    }

    /// Asks `destination` for its full list with one small message that carries only
    /// this peer's own record (an early pull after joining).
    mutating func sendPull(to destination: PeerAddress) {
        send(
            .pushPull(sender: localID, replyRequested: true, isJoin: false, isPartial: true, members: [ownRecord]),
            to: destination)
    }

    /// Sends this peer's full state, split into messages of at most the maximum size.
    mutating func sendState(to destination: PeerAddress, replyRequested: Bool, isJoin: Bool = false) {
        var records = [ownRecord]
        records.reserveCapacity(order.count + 1)
        for id in order {
            guard let member = table[id] else { continue }
            records.append(stateRecord(of: member))
        }
        sendRecords(records, to: destination, replyRequested: replyRequested, isJoin: isJoin, isPartial: false)
    }

    /// A member's record as state exchanges carry it: its own latest claim (alive, for a
    /// suspect too, or left), or this peer's accusation of a member it holds failed.
    func stateRecord(of member: Member) -> MemberUpdate {
        guard member.state == .dead else { return member.claim }
        return MemberUpdate(
            state: .dead, incarnation: member.incarnation, member: member.id, address: member.address,
            accuser: localID)
    }

    /// Sends `records` as push-pull messages of at most the maximum size, at most
    /// `maximumMessages` of them; only the first asks for a reply, so that one exchange
    /// gets one answer.
    mutating func sendRecords(
        _ records: [MemberUpdate], to destination: PeerAddress, replyRequested: Bool, isJoin: Bool,
        isPartial: Bool, isScoped: Bool = false, maximumMessages: Int = .max
    ) {
        let budget = configuration.maxMessageSize - MembershipMessage.pushPullHeaderSize
        var part: [MemberUpdate] = []
        var size = 0
        var sent = 0
        func flush(_ part: [MemberUpdate], into core: inout MembershipCore) {
            core.send(
                .pushPull(
                    sender: core.localID, replyRequested: replyRequested && sent == 0, isJoin: isJoin,
                    isPartial: isPartial, isScoped: isScoped, members: part),
                to: destination)
            sent += 1
        }
        for record in records {
            if size + record.encodedSize > budget, !part.isEmpty {
                flush(part, into: &self)
                guard sent < maximumMessages else { return }
                part.removeAll(keepingCapacity: true)
                size = 0
            }
            part.append(record)
            size += record.encodedSize
        }
        if !part.isEmpty { flush(part, into: &self) }
    }

    /// Exchanges state with a random alive member. Call when ``MembershipTimer/pushPull`` fires.
    mutating func pushPullTick(now: Instant) {
        nextPushPullAt = now + localHealth.scale(pushPullInterval)
        let isEarly = pushPullRamp != nil
        if let step = pushPullRamp {
            let early = configuration.probeInterval * (1 << min(step, 20))
            if step < MembershipConstants.earlyPushPulls, early < pushPullInterval {
                nextPushPullAt = now + early
                pushPullRamp = step + 1
            } else {
                pushPullRamp = nil
            }
        }
        // Featured members (a super-peer topology's super-peers) hold every member, and
        // leaves of a large swarm hold only them: state is exchanged among the featured.
        guard let member = randomAliveFeatured() ?? randomAliveMember() else { return }
        // A partial view only ever pulls the featured members, and only shared ones: a
        // scoped answer of this peer's own featured members carries their own records,
        // held already.
        guard view == .full else {
            if featuredKind == .shared { sendScopedPull(to: member.address) }
            return
        }
        // Early on, a small list is pushed too (one message or a few); a large one is only
        // pulled, so that a thousand newcomers do not each push it to the members they
        // happen to know first.
        if isEarly, stateMessageCount > MembershipConstants.smallStateMessages {
            sendPull(to: member.address)
        } else {
            sendState(to: member.address, replyRequested: true)
        }
    }

    /// Tries a push-pull with a random failed member. Call when ``MembershipTimer/reconnect`` fires.
    mutating func reconnectTick(now: Instant) {
        nextReconnectAt = now + configuration.reconnectInterval
        let failed = order.filter { table[$0]?.state == .dead }
        guard let id = failed.randomElement(using: &random), let member = table[id] else { return }
        sendState(to: member.address, replyRequested: true)
    }

    /// The wait after `attempts` unanswered joins: the retry interval doubled per
    /// attempt (at most ``MembershipConstants/maximumJoinBackoff`` times); the caller
    /// adds up to half of it at random, so that a thousand peers whose joins a busy
    /// seed dropped do not all ask again at the same moment.
    func joinRetryDelay(afterAttempts attempts: Int) -> Duration {
        let doublings = min(max(attempts - 1, 0), MembershipConstants.maximumJoinBackoff.trailingZeroBitCount)
        return configuration.joinRetryInterval * (1 << doublings)
    }

    /// Resends a join nobody answered. Call when ``MembershipTimer/joinRetry`` fires.
    mutating func retryJoin(now: Instant) {
        guard var join = pendingJoin else { return }
        guard configuration.joinAttempts == 0 || join.attempts < configuration.joinAttempts else {
            pendingJoin = nil
            return
        }
        join.attempts += 1
        let delay = joinRetryDelay(afterAttempts: join.attempts)
        join.retryAt = now + delay + randomFraction(of: delay / 2)
        pendingJoin = join
        for seed in join.addresses { sendState(to: seed, replyRequested: true, isJoin: true) }
    }
}
