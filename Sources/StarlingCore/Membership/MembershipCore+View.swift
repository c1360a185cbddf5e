extension MembershipCore {
    // MARK: Partial views (MembershipView)

    /// The digest this peer's pings and acks carry: 0, "none", with a partial view.
    var sentDigest: UInt64 { view == .full ? digest.total : 0 }

    /// Whether `id`, a member this peer does not hold, may be taken now: always with a
    /// full view; with a partial one of shared featured members only from a scoped
    /// answer, and with one of its own featured members only if `id` is one of them.
    func admitsNewMember(_ id: PeerID) -> Bool {
        switch (view, featuredKind) {
        case (.full, _): true
        case (.partial, .shared): admittingScoped
        case (.partial, .own): featured.contains(id)
        }
    }

    /// Names the featured members: those a partial view holds and a scoped answer
    /// carries (a super-peer topology's super-peers; a pure peer's Kademlia contacts, of
    /// its own kind, which no scoped answer carries). With a partial view of shared
    /// featured members, one not held yet brings a scoped pull forward
    /// (``refreshView(spacing:now:)``); of its own, the owner asks each
    /// (``introduce(_:at:now:)``).
    ///
    /// - Parameters:
    ///   - ids: the featured members; this peer's own ID is ignored.
    ///   - now: the current time.
    public mutating func setFeatured(_ ids: Set<PeerID>, now: Instant) {
        let now = advance(now)
        if ids != featured { featured = ids }
        guard view == .partial, ids.contains(where: { $0 != localID && table[$0] == nil }) else { return }
        refreshView(now: now)
    }

    /// Tells membership how many members the swarm holds, when its view is partial and
    /// the owner counts them (a hybrid client, by its index servers' reports): a partial
    /// view's push-pulls, scoped pulls from the few members it holds, then run at the
    /// interval of a full view of that size once it holds every featured member (until
    /// then, at the configured interval). Every partial view of a swarm pulls from the
    /// same few featured members; at the configured interval, 10,000 clients sent their
    /// 3 index servers 760 pulls a second, which drained the index servers' budget of
    /// state answers (a third were shed, and clients took minutes to hold every index
    /// server).
    ///
    /// - Parameter members: the swarm's members; 0 when unknown.
    public mutating func setSwarmSize(_ members: Int) {
        swarmSize = max(0, members)
    }

    /// Switches this peer's view. To ``MembershipView/partial``: every member that is not
    /// featured is forgotten at once. To ``MembershipView/full``: a random live member's
    /// whole state is pulled at once, and early exchanges follow as after a join until a
    /// whole answer has come (sync fills in the rest as probes go).
    ///
    /// - Parameters:
    ///   - newView: the view to hold.
    ///   - now: the current time.
    public mutating func setView(_ newView: MembershipView, now: Instant) {
        let now = advance(now)
        guard newView != view, !hasLeft else { return }
        view = newView
        introductions = [:]
        switch newView {
        case .partial:
            retain(featured, now: now)
            refreshView(now: now)
        case .full:
            guard let member = randomAliveMember() else { return }
            sendState(to: member.address, replyRequested: true)
            // As after a join: the answer may be cut short (everyone else's view is full
            // and large, and many promote at once), so early exchanges follow until a
            // full one has come.
            pushPullRamp = 1
            nextPushPullAt = min(nextPushPullAt ?? now, now + configuration.probeInterval)
        }
    }

    /// Asks a random live member for its featured members (a scoped pull) now, unless the
    /// last such pull went out less than `spacing` ago or the featured are this peer's own
    /// (``FeaturedKind/own``: ``introduce(_:at:now:)`` asks each): with a partial view (the regular
    /// push-pull timer does the same at its own pace), or with a full view when its owner
    /// asks (a super-peer that heard of a super-peer it does not hold: the featured come
    /// in one answer, long before sync has brought the rest of a large swarm, and the
    /// super-peers must know each other to route among themselves).
    ///
    /// - Parameters:
    ///   - spacing: the least time between two pulls brought forward; by default
    ///     ``MembershipConstants/syncProbeIntervals`` probe intervals.
    ///   - now: the current time.
    public mutating func refreshView(spacing: Duration? = nil, now: Instant) {
        let now = advance(now)
        let spacing = spacing ?? configuration.probeInterval * MembershipConstants.syncProbeIntervals
        guard !hasLeft, featuredKind == .shared, lastViewRefreshAt.map({ now - $0 >= spacing }) ?? true,
            let member = randomAliveMember()
        else { return }
        lastViewRefreshAt = now
        sendScopedPull(to: member.address)
    }

    /// With a partial view, forgets every member outside `keep` that has been held in its
    /// current state for `grace` or longer (one taken more recently may be featured before
    /// the owner has heard so), each with a ``MembershipEvent/forgotten(_:)`` event.
    ///
    /// - Parameters:
    ///   - keep: the members to keep holding.
    ///   - grace: members whose state changed more recently are kept too.
    ///   - now: the current time.
    public mutating func retain(_ keep: Set<PeerID>, grace: Duration = .zero, now: Instant) {
        let now = advance(now)
        // A view that holds none of `keep` live keeps what it holds: it pulls from those
        // (at 10,000 peers a leaf whose super-peers' adverts had aged out forgot every
        // member, went back to a full view of nobody, and was never heard of again).
        guard view == .partial, keep.contains(where: { $0 != localID && table[$0]?.state.isLive == true }) else {
            return
        }
        introductions = introductions.filter { keep.contains($0.key) && table[$0.key] == nil }
        var dropped = Set<PeerID>()
        for id in order where !keep.contains(id) {
            guard let member = table[id], now - member.stateChangedAt >= grace else { continue }
            dropped.insert(id)
        }
        guard !dropped.isEmpty else { return }
        for id in order where dropped.contains(id) {
            guard let member = table.removeValue(forKey: id) else { continue }
            stateCounts[Int(member.state.rawValue)] -= 1
            if member.state.isLive { digest.toggle(id, incarnation: member.incarnation) }
            suspicions.remove(id)
            indirectRoutes[id] = nil
            statistics.membersForgotten += 1
            events.append(.forgotten(member))
        }
        order.removeAll { dropped.contains($0) }
        let before = probeList[..<min(probeIndex, probeList.count)].count { dropped.contains($0) }
        probeList.removeAll { dropped.contains($0) }
        probeIndex = max(0, probeIndex - before)
        pendingChecks.removeAll { dropped.contains($0) }
        checks.removeAll { dropped.contains($0.target) }
        if let target = probe?.target, dropped.contains(target) { probe = nil }
    }

    /// Asks `id`, a featured member this partial view does not hold, for its claim at
    /// `address` (a scoped pull: the answer carries its own record), unless it was asked
    /// less than ``MembershipConstants/syncProbeIntervals`` probe intervals ago. For
    /// featured members of this peer's own (``FeaturedKind/own``), whom no other peer's
    /// scoped answer carries.
    ///
    /// - Parameters:
    ///   - id: the featured member.
    ///   - address: where to ask it.
    ///   - now: the current time.
    public mutating func introduce(_ id: PeerID, at address: PeerAddress, now: Instant) {
        let now = advance(now)
        let spacing = configuration.probeInterval * MembershipConstants.syncProbeIntervals
        guard view == .partial, !hasLeft, id != localID, table[id] == nil, featured.contains(id),
            introductions[id].map({ now - $0 >= spacing }) ?? true
        else { return }
        introductions[id] = now
        sendScopedPull(to: address)
    }

    /// Asks `destination` for its featured members only, with this peer's own record.
    mutating func sendScopedPull(to destination: PeerAddress) {
        send(
            .pushPull(
                sender: localID, replyRequested: true, isJoin: false, isPartial: true, isScoped: true,
                members: [ownRecord]),
            to: destination)
    }

    /// Answers a scoped request: this peer's own record and, when they are shared, the
    /// featured members it holds live, as their own claims, drawing on the budget of
    /// state answers.
    mutating func sendScopedState(to destination: PeerAddress, now: Instant) {
        var records = [ownRecord]
        // The featured are a few hundred of perhaps thousands of members, and only the
        // shared kind is anyone else's business.
        for id in featuredKind == .shared ? featuredOrder() : [] {
            if let member = table[id], member.state.isLive { records.append(member.claim) }
        }
        let budget = configuration.maxMessageSize - MembershipMessage.pushPullHeaderSize
        let size = records.reduce(0) { $0 + $1.encodedSize }
        let granted = takeStateReplyTokens(upTo: size / budget + 1, now: now)
        guard granted > 0 else {
            statistics.syncAnswersShed += 1
            return
        }
        statistics.scopedAnswers += 1
        sendRecords(
            records, to: destination, replyRequested: false, isJoin: false, isPartial: true, isScoped: true,
            maximumMessages: granted)
    }
}
