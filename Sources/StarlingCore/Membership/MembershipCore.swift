internal import DequeModule

/// The sans-I/O membership and failure detector of one peer: SWIM with Lifeguard.
///
/// ### Purpose
/// Keeps the list of cluster members (``Member``: ID, address, incarnation, state) and
/// detects failures. Every (LHM-scaled) probe interval the core pings the next member
/// of a shuffled round-robin list; without an ack within the probe timeout it asks
/// `k` others to ping the target (they answer with an ack or, Lifeguard, a nack); a
/// target that stays silent is *suspected*. A suspicion becomes a *failure* after a
/// timeout that starts at its maximum and shrinks with each independent confirmation,
/// unless the member refutes it by raising its incarnation. State changes spread by
/// piggybacking on pings and acks and, every gossip interval while any are queued, in
/// gossip messages to a few random members; joins and periodic anti-entropy use
/// push-pull full state exchanges. See ``MembershipMessage`` for the bytes.
///
/// ### Driving
/// - Getters: ``localID``, ``incarnation``, ``localHealth``, ``member(_:)``,
///   ``members``, ``aliveCount``, ``liveCount``, ``statistics``.
/// - Inputs: ``handleMessage(_:from:now:)`` (or ``handleDatagram(_:from:now:)``) and
///   ``handleTimeout(now:)``.
/// - Commands: ``join(_:now:)`` and ``leave(now:)``.
/// - Outputs, polled in this order after every input: ``pollTransmit(now:into:)``
///   (or ``pollTransmit()``) until `nil`, then ``pollTimeout()``, then ``pollEvent()``
///   until `nil`.
///
/// `now` must never go backwards; an earlier `now` is treated as the latest seen.
/// Malformed input is dropped and counted in ``statistics``; it never traps.
///
/// - Warning: not thread-safe; drive it from one task or event loop at a time.
public struct MembershipCore: ProtocolCore, Sendable {
    /// What the core reports.
    public typealias Event = MembershipEvent

    /// This peer's identity.
    public let localID: PeerID
    /// This peer's address, as announced to others.
    public let localAddress: PeerAddress
    /// The validated configuration.
    public let configuration: MembershipConfiguration
    /// This peer's incarnation; raised only to refute a suspicion of itself.
    public internal(set) var incarnation: UInt32 = 0
    /// Lifeguard's local health multiplier.
    public internal(set) var localHealth: LocalHealth
    /// Traffic and drop counters.
    public internal(set) var statistics = MembershipStatistics()
    /// Whether ``leave(now:)`` has been called; the core then ignores all input.
    public internal(set) var hasLeft = false
    /// Whether a seed has answered a join (or another member has found this one).
    public internal(set) var hasJoined = false
    /// Whether a member's whole list has come (a state exchange neither cut short nor
    /// scoped): until then this peer's view may be a sample of a larger swarm (a join
    /// answered in a join storm holds a few of thousands).
    public internal(set) var hasHeldFullState = false

    var table: [PeerID: Member] = [:]
    /// Every known member in the order first seen: the deterministic iteration order.
    var order: [PeerID] = []
    var probeList: [PeerID] = []
    var probeIndex = 0
    var random: InjectedRandom
    var broadcasts = BroadcastQueue()
    var probe: ProbeInFlight?
    var relays: [UInt32: Relay] = [:]
    var suspicions = SuspicionTable()
    var pendingJoin: PendingJoin?
    var nextSequence: UInt32 = 0
    var nextProbeAt: Instant?
    var nextGossipAt: Instant?
    var nextPushPullAt: Instant?
    var nextReconnectAt: Instant?
    var latestNow = Instant.zero
    var started = false
    var stateCounts = [0, 0, 0, 0]
    var outbox = DatagramOutbox()
    var events = Deque<MembershipEvent>()
    var timing = ProbeTiming()
    /// Messages of full state answers that may still be sent now (see
    /// ``MembershipConstants/fullStateReplyMessagesPerInterval``), refilled over time.
    var stateReplyTokens = Double(MembershipConstants.fullStateReplyMessagesPerInterval)
    var stateReplyTokensAt = Instant.zero
    /// After a join, push-pulls come early and then at doubling intervals (in probe
    /// intervals) until they reach the regular interval; `nil` once they have.
    var pushPullRamp: Int?
    /// Whom this peer holds live (itself included), as pings and acks carry it.
    var digest = MembershipDigest()
    /// The earliest time for this peer's next sync request.
    var nextSyncAt = Instant.zero
    /// Limits the notices sent to members held failed that still write
    /// (``noteSignOfLife(from:at:now:)``) and to accusers that hold this peer at a
    /// stale incarnation (``answerStaleAccusation(by:)``).
    var notices = NoticeLimiter(capacity: MembershipConstants.noticesHeld)
    /// This peer's key pair: it signs this peer's claims.
    let identity: IdentityKeyPair
    /// The swarm every claim is bound to.
    let swarmID: [UInt8]
    /// Checks others' claims (possibly shared with other peers of the process).
    let claimVerifier: ClaimVerifier
    /// This peer's signature of its alive claim at ``incarnation``.
    var ownSignature: ClaimSignature
    /// Claim verifications this core may still make now, refilled over time.
    var verificationTokens = MembershipConstants.claimVerificationBurst
    var verificationTokensAt = Instant.zero
    /// Members suspected by hearsay, waiting for a check (``requestCheck(of:now:)``).
    var pendingChecks: [PeerID] = []
    /// This peer's own probes of suspects, besides the regular probe.
    var checks: [ProbeInFlight] = []
    /// Members whose latest probe went unanswered directly but was answered through a
    /// ping request, with the member that relayed the ack (see ``reachedThrough(_:)``).
    var indirectRoutes: [PeerID: PeerID] = [:]
    /// Members whose ``indirectRoutes`` entry changed and was not yet taken
    /// (``takeReachabilityChanges()``).
    var reachabilityChanges: Set<PeerID> = []
    /// Members asked first to ping a target for this peer (``setPreferredHelpers(_:)``).
    var preferredHelpers: [PeerID] = []
    /// Round trips measured by direct acks since the owner last took them.
    var roundTrips: [ProbeRoundTrip] = []
    /// This peer's network coordinate, which its acks carry; its owner keeps it current
    /// (membership only carries it).
    public var localCoordinate = NetworkCoordinate.origin
    /// Which members this peer holds (``MembershipView``): all of them unless the owner
    /// narrows the view with ``setView(_:now:)``.
    public internal(set) var view = MembershipView.full
    /// The members a partial view holds and a scoped answer carries, as the owner names
    /// them (``setFeatured(_:now:)``).
    public internal(set) var featured: Set<PeerID> = [] {
        didSet { sortedFeatured = nil }
    }
    /// ``featured`` in ID order (``featuredOrder()``), sorted at its first use after a
    /// change: a leaf's featured change at nearly every advert while a large swarm elects.
    var sortedFeatured: [PeerID]? = []
    /// Whose featured members these are (``FeaturedKind``): the same for the whole swarm
    /// (the default) or this peer's own.
    public var featuredKind = FeaturedKind.shared
    /// Set while the records of a scoped answer are applied: a partial view of shared
    /// featured members takes new members from those only.
    var admittingScoped = false
    /// When each featured member this peer does not hold was last asked for its claim
    /// (``introduce(_:at:now:)``); trimmed to the featured by ``retain(_:grace:now:)``.
    var introductions: [PeerID: Instant] = [:]
    /// When this peer last brought a scoped pull forward (``refreshView(spacing:now:)``).
    var lastViewRefreshAt: Instant?
    /// How many members the owner counts in the swarm (``setSwarmSize(_:)``); 0 when it
    /// does not say.
    var swarmSize = 0

    /// Creates the membership core of one peer, alone in its cluster until it joins.
    ///
    /// - Parameters:
    ///   - identity: this peer's key pair; it signs this peer's own claims.
    ///   - swarmID: the swarm's 32-byte ID, bound into every claim.
    ///   - address: where others reach this peer's membership messages.
    ///   - configuration: the tunables.
    ///   - claimVerifier: checks others' claims; share one among the peers of a process
    ///     so that each claim is checked once.
    ///   - random: the source of every random choice (probe order, relays, partners).
    /// - Throws: ``MembershipConfigurationError`` for an invalid configuration.
    public init(
        identity: IdentityKeyPair, swarmID: [UInt8] = MembershipConstants.publicSwarmID, address: PeerAddress,
        configuration: MembershipConfiguration = .lan, claimVerifier: ClaimVerifier = ClaimVerifier(),
        random: any RandomNumberGenerator & Sendable
    ) throws(MembershipConfigurationError) {
        try configuration.validate()
        self.identity = identity
        self.swarmID = swarmID
        self.claimVerifier = claimVerifier
        self.localID = identity.peerID
        self.localAddress = address
        self.configuration = configuration
        self.localHealth = LocalHealth(maximum: configuration.maxLocalHealth)
        self.random = InjectedRandom(source: random)
        self.ownSignature = MemberClaim.sign(
            swarmID: swarmID, state: .alive, incarnation: 0, address: address, with: identity)
        digest.toggle(localID, incarnation: 0)
    }

    // MARK: Getters

    /// What this peer knows about `id` (not itself), if anything.
    public func member(_ id: PeerID) -> Member? { table[id] }

    /// Every member this peer knows, itself excluded, in the order first seen.
    public var members: [Member] { order.compactMap { table[$0] } }

    /// Members in `state`, itself excluded (dead ones until they are forgotten).
    public func count(of state: MemberState) -> Int { stateCounts[Int(state.rawValue)] }

    /// Members believed alive, itself excluded.
    public var aliveCount: Int { count(of: .alive) }

    /// Members alive or suspect, itself excluded.
    public var liveCount: Int { aliveCount + count(of: .suspect) }

    /// Updates waiting to be piggybacked.
    public var pendingBroadcasts: Int { broadcasts.count }

    /// A summary of whom this peer holds live, itself included (see ``MembershipDigest``):
    /// equal at two peers that hold the same members live at the same incarnations.
    public var viewDigest: UInt64 { digest.total }

    /// This peer's own record as it announces it.
    public var localMember: Member {
        Member(
            id: localID, address: localAddress, incarnation: incarnation, state: hasLeft ? .left : .alive,
            stateChangedAt: .zero)
    }

    // MARK: Inputs

    /// Feeds one received membership message.
    ///
    /// - Parameters:
    ///   - bytes: the message, exactly.
    ///   - source: where it came from; acks and push-pull replies go back there.
    ///   - now: the current time.
    public mutating func handleMessage(_ bytes: ArraySlice<UInt8>, from source: PeerAddress, now: Instant) {
        let now = advance(now)
        guard !hasLeft else { return }
        let message: MembershipMessage
        do {
            message = try MembershipMessage.decode(bytes)
        } catch {
            statistics.malformedDropped += 1
            statistics.lastDecodeError = error
            return
        }
        statistics.messagesReceived += 1
        handle(message, from: source, now: now)
    }

    /// Feeds one received datagram holding a membership message (``ProtocolCore``).
    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        handleMessage([UInt8](datagram)[...], from: source, now: now)
    }

    /// Carries out everything due at `now`: relays' nacks, indirect probes, probe
    /// failures, new probes, suspicion timeouts, gossip rounds, push-pulls, reconnects
    /// and join retries.
    public mutating func handleTimeout(now: Instant) {
        let now = advance(now)
        guard !hasLeft else { return }
        // A timer served well after its deadline means this peer is behind: what it
        // waits for may be sitting unread in its own socket.
        if configuration.adaptsToLoad, let due = earliestProbeDeadline, now - due >= lateTolerance {
            noteLate(now: now)
        }
        expireRelays(now: now)
        if let probe, let indirectAt = probe.indirectAt, indirectAt <= now { sendIndirectProbes(now: now) }
        if let probe, probe.endAt <= now { finishFailedProbe(now: now) }
        serviceChecks(now: now)
        if let at = nextProbeAt, at <= now, liveCount > 0 { startProbe(now: now) }
        expireSuspicions(now: now)
        if let at = nextGossipAt, at <= now, liveCount > 0, broadcasts.count > 0 { gossipTick(now: now) }
        if let at = nextPushPullAt, at <= now { pushPullTick(now: now) }
        if let at = nextReconnectAt, at <= now { reconnectTick(now: now) }
        if let join = pendingJoin, join.retryAt <= now { retryJoin(now: now) }
    }

    // MARK: Outputs

    /// The next message to send and its destination, or `nil`.
    public mutating func pollTransmit() -> (destination: PeerAddress, bytes: [UInt8])? {
        outbox.popFirst()
    }

    /// Writes the next message into `buffer` and returns its destination (``ProtocolCore``).
    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        outbox.popFirst(into: &buffer)
    }

    /// The earliest armed deadline of any ``MembershipTimer``, or `nil` when idle.
    ///
    /// Asked after every batch of input, so it allocates nothing and walks only the
    /// relays in flight (a few); suspicions keep their earliest deadline at hand.
    public func pollTimeout() -> Instant? {
        guard !hasLeft else { return nil }
        var earliest: Instant?
        func consider(_ instant: Instant?, into earliest: inout Instant?) {
            guard let instant else { return }
            if earliest.map({ instant < $0 }) ?? true { earliest = instant }
        }
        // A peer alone (or with nothing to gossip) has no reason to wake: thousands of
        // idle peers in one process would otherwise tick many times a second each. The
        // probe and gossip timers pause then; when they resume, a deadline passed
        // meanwhile means "now", not "late".
        if liveCount > 0 {
            consider(nextProbeAt.map { max($0, latestNow) }, into: &earliest)
            if broadcasts.count > 0 { consider(nextGossipAt.map { max($0, latestNow) }, into: &earliest) }
        }
        if let probe {
            consider(probe.indirectAt, into: &earliest)
            consider(probe.endAt, into: &earliest)
        }
        consider(earliestCheckDeadline, into: &earliest)
        for relay in relays.values { consider(relay.nackAt, into: &earliest) }
        if let deadline = suspicions.earliestDeadline {
            // While this peer defers accusations, due suspicions wait for the grace to end.
            consider(max(deadline, timing.accusationsDeferredUntil ?? .zero), into: &earliest)
        }
        consider(nextPushPullAt, into: &earliest)
        consider(nextReconnectAt, into: &earliest)
        consider(pendingJoin?.retryAt, into: &earliest)
        return earliest
    }

    /// The next event, or `nil`.
    public mutating func pollEvent() -> MembershipEvent? { events.popFirst() }

    /// Takes the driver's report of its own lateness: receive-queue drops or a late
    /// timer make this peer distrust its own view (Lifeguard's local health rises and
    /// it accuses nobody for a while), since the acks it missed may be its own fault;
    /// input waiting unread puts accusations off until it has been read.
    public mutating func noteLoad(_ load: DriverLoad, now: Instant) {
        let now = advance(now)
        guard !hasLeft else { return }
        statistics.receiveDropsReported += load.receiveDrops
        guard configuration.adaptsToLoad else { return }
        if load.receiveDrops > 0 || load.timerLag >= lateTolerance {
            noteLate(now: now)
        } else if load.unreadBytes > 0 {
            statistics.unreadInputDeferrals += 1
            timing.deferAccusations(until: now + lateTolerance)
        }
    }

    // MARK: Internals

    /// This peer's own record as it announces it: alive at its current incarnation.
    var ownRecord: MemberUpdate {
        MemberUpdate(
            state: .alive, incarnation: incarnation, member: localID, address: localAddress, signature: ownSignature)
    }

    /// Clamps `now` to the latest time seen and arms the periodic timers on first use.
    mutating func advance(_ now: Instant) -> Instant {
        if now > latestNow { latestNow = now }
        if !started, !hasLeft {
            started = true
            // Random phases keep peers that start together from probing in lockstep.
            nextProbeAt = latestNow + randomFraction(of: configuration.probeInterval)
            nextGossipAt = latestNow + randomFraction(of: configuration.gossipInterval)
            nextPushPullAt = latestNow + randomFraction(of: pushPullInterval)
            nextReconnectAt = latestNow + randomFraction(of: configuration.reconnectInterval)
        }
        return latestNow
    }

    /// The earliest deadline of the probe in flight and of the probes relayed for others:
    /// timers that run from the moment they were armed, so how far `now` is past one says
    /// how late this peer is.
    var earliestProbeDeadline: Instant? {
        var earliest = probe.map { $0.indirectAt.map { min($0, probe!.endAt) } ?? $0.endAt }
        for relay in relays.values where earliest.map({ relay.nackAt < $0 }) ?? true { earliest = relay.nackAt }
        return earliest
    }

    /// How late a timer may fire before this peer counts itself late.
    var lateTolerance: Duration { configuration.probeTimeout * MembershipConstants.lateTimerFraction }

    /// The probe timeout now, before local health: adapted to the measured round trip.
    var adaptedProbeTimeout: Duration {
        configuration.adaptsToLoad ? timing.timeout(configured: configuration.probeTimeout) : configuration.probeTimeout
    }

    /// The probe interval now, before local health: stretched with the timeout.
    var adaptedProbeInterval: Duration {
        guard configuration.adaptsToLoad else { return configuration.probeInterval }
        return timing.interval(configured: configuration.probeInterval, configuredTimeout: configuration.probeTimeout)
    }

    /// Notes that this peer is behind at `now`: accusations wait one probe timeout and,
    /// at most once per probe interval, local health gets worse.
    mutating func noteLate(now: Instant) {
        statistics.lateTimers += 1
        let raise = timing.noteLate(
            now: now, grace: localHealth.scale(adaptedProbeTimeout),
            penaltySpacing: localHealth.scale(adaptedProbeInterval))
        if raise { localHealth.apply(1) }
    }

    /// A uniformly random duration in `[0, duration)`.
    mutating func randomFraction(of duration: Duration) -> Duration {
        let nanoseconds = max(1, duration.nanosecondsClamped)
        return .nanoseconds(Int64.random(in: 0..<nanoseconds, using: &random))
    }

    /// The push-pull interval scaled for the cluster size (memberlist `pushPullScale`):
    /// for a partial view that holds every featured member, the swarm's size as the owner
    /// counts it when that is more (``setSwarmSize(_:)``); one that lacks some keeps
    /// pulling at its own size's pace until a scoped answer brings them.
    var pushPullInterval: Duration {
        var members = liveCount + 1
        if view == .partial, swarmSize > members, featured.allSatisfy({ $0 == localID || table[$0] != nil }) {
            members = swarmSize
        }
        let threshold = MembershipConstants.pushPullScaleThreshold
        guard members > threshold else { return configuration.pushPullInterval }
        var multiplier = 1
        var size = threshold
        while size < members, multiplier < 64 {
            size *= 2
            multiplier += 1
        }
        return configuration.pushPullInterval * multiplier
    }

    /// The next sequence number for a ping.
    mutating func makeSequence() -> UInt32 {
        nextSequence &+= 1
        return nextSequence
    }

    /// Encodes and queues `message` for `destination`.
    mutating func send(_ message: MembershipMessage, to destination: PeerAddress) {
        guard let bytes = try? message.encoded() else { return }
        statistics.messagesSent += 1
        statistics.sentByKind[Int(message.kind.rawValue)] += 1
        outbox.append(bytes, to: destination)
    }

    /// Dispatches a decoded message.
    mutating func handle(_ message: MembershipMessage, from source: PeerAddress, now: Instant) {
        if !suspicions.isEmpty || stateCounts[Int(MemberState.dead.rawValue)] > 0 {
            noteSignOfLife(from: message.sender, at: source, now: now)
        }
        switch message {
        case .ping(let sequence, let target, let sender, let theirs, let updates):
            guard target == localID else {
                statistics.misaddressedDropped += 1
                return
            }
            apply(updates, now: now)
            let budget = configuration.maxMessageSize - MembershipMessage.ackHeaderSize
            send(
                .ack(
                    sequence: sequence, sender: localID, digest: sentDigest, coordinate: localCoordinate,
                    updates: piggyback(budget: budget)),
                to: source)
            compareDigest(theirs, of: sender, at: source, now: now)
        case .pingRequest(let sequence, let target, let targetAddress, _):
            relayProbe(sequence: sequence, target: target, address: targetAddress, requester: source, now: now)
        case .ack(let sequence, let sender, let theirs, let coordinate, let updates):
            apply(updates, now: now)
            handleAck(sequence: sequence, from: sender, at: source, coordinate: coordinate, now: now)
            compareDigest(theirs, of: sender, at: source, now: now)
        case .nack(let sequence, _):
            handleNack(sequence: sequence)
        case .pushPull(let sender, let replyRequested, _, let isPartial, let isScoped, let records):
            handlePushPull(
                from: sender, replyRequested: replyRequested, isPartial: isPartial, isScoped: isScoped,
                records: records, source: source, now: now)
        case .gossip(_, let updates):
            apply(updates, now: now)
        case .syncRequest(let requester, let level, let buckets):
            answerSync(to: requester, level: level, buckets: buckets, source: source, now: now)
        }
    }

    /// A message from a suspect, sent from its own address, puts off this peer's
    /// verdict on it (``Suspicion/deadline``) and tells it of the suspicion (Lifeguard's
    /// buddy system, at most once per probe interval), so that a member that is merely
    /// behind refutes instead of being declared failed by whoever heard of the suspicion.
    /// A message from a member this peer holds failed tells it so, likewise: its
    /// refutation (or, when the news is stale, its current record) comes straight back,
    /// where the news of its death might otherwise never reach it (everyone else
    /// already knows it alive at a higher incarnation).
    private mutating func noteSignOfLife(from sender: PeerID, at source: PeerAddress, now: Instant) {
        guard let member = table[sender], member.address == source else { return }
        let update: MemberUpdate
        switch member.state {
        case .suspect:
            guard
                let suspicion = suspicions.noteSignOfLife(
                    of: sender, at: now, tellingAtMostEvery: adaptedProbeInterval)
            else { return }
            update = MemberUpdate(
                state: .suspect, incarnation: member.incarnation, member: sender, address: member.address,
                accuser: suspicion.firstAccuser)
        case .dead:
            guard notices.mayNotify(sender, now: now, interval: adaptedProbeInterval) else { return }
            update = MemberUpdate(
                state: .dead, incarnation: member.incarnation, member: sender, address: member.address,
                accuser: localID)
        case .alive, .left:
            return
        }
        send(.gossip(sender: localID, updates: [update]), to: source)
    }

    /// Sends queued updates to ``MembershipConfiguration/gossipNodes`` random live
    /// members, each its own take of the queue (memberlist `gossip`), and arms the next
    /// round. Sends nothing while the queue is empty. Call when
    /// ``MembershipTimer/gossip`` fires.
    mutating func gossipTick(now: Instant) {
        // A peer that finds itself late gossips less (its probes slow down likewise):
        // gossip is what it can shed, while probes and acks keep flowing.
        nextGossipAt = now + localHealth.scale(configuration.gossipInterval)
        guard broadcasts.count > 0 else { return }
        // Late (timers served late, receive drops): skip the round. News still rides on
        // probes and acks, and gossip resumes once this peer has caught up.
        if timing.isLate(at: now) {
            statistics.gossipRoundsShed += 1
            return
        }
        let budget = configuration.maxMessageSize - MembershipMessage.gossipHeaderSize
        for id in gossipTargets() {
            guard let address = table[id]?.address else { continue }
            let updates = piggyback(budget: budget)
            // Earlier takes used up every update's retransmits.
            guard !updates.isEmpty else { return }
            send(.gossip(sender: localID, updates: updates), to: address)
        }
    }

    /// Whom a gossip round goes to: ``MembershipConfiguration/gossipNodes`` random live
    /// members and, at a peer with a full view and featured members (a super-peer), as
    /// many random live featured ones besides. Peers with partial views (the leaves)
    /// pass on only news of the members they hold, so news of everyone else must cross
    /// the featured members (the super-peers) on its own: drawn from all members alone,
    /// most copies would end at leaves.
    mutating func gossipTargets() -> [PeerID] {
        let targets = sampleLiveMembers(configuration.gossipNodes)
        guard view == .full, !featured.isEmpty else { return targets }
        return targets
            + sampleLiveMembers(configuration.gossipNodes, from: featuredOrder()) {
                $0.state.isLive && !targets.contains($0.id)
            }
    }

    /// ``featured`` in ID order, for random picks that do not depend on hashing.
    mutating func featuredOrder() -> [PeerID] {
        if let sortedFeatured { return sortedFeatured }
        let sorted = featured.sorted()
        sortedFeatured = sorted
        return sorted
    }

    /// A random alive member, if any.
    mutating func randomAliveMember() -> Member? {
        sampleLiveMembers(1, where: { $0.state == .alive }).first.flatMap { table[$0] }
    }

    /// A random alive featured member, if any.
    mutating func randomAliveFeatured() -> Member? {
        guard !featured.isEmpty else { return nil }
        return sampleLiveMembers(1, from: featuredOrder(), where: { $0.state == .alive }).first.flatMap { table[$0] }
    }

    /// Up to `count` distinct random members of `pool` (by default every member) for
    /// which `isWanted` holds (default: live ones), in O(count) expected time: random
    /// draws from the pool, and a scan of the whole pool only when the draws found too
    /// few of many wanted members.
    mutating func sampleLiveMembers(
        _ count: Int, from pool: [PeerID]? = nil, where isWanted: (Member) -> Bool = { $0.state.isLive }
    ) -> [PeerID] {
        let order = pool ?? self.order
        guard count > 0, !order.isEmpty else { return [] }
        var chosen: [PeerID] = []
        chosen.reserveCapacity(count)
        var draws = 4 * count + 8
        while chosen.count < count, draws > 0 {
            draws -= 1
            let id = order[Int.random(in: 0..<order.count, using: &random)]
            if let member = table[id], isWanted(member), !chosen.contains(id) { chosen.append(id) }
        }
        guard chosen.count < count else { return chosen }
        // Few wanted members among many others: pick from the full list instead.
        var candidates = order.filter { id in table[id].map(isWanted) ?? false && !chosen.contains(id) }
        while chosen.count < count, !candidates.isEmpty { chosen.append(candidates.swapRemoveRandom(using: &random)) }
        return chosen
    }

    /// Takes piggybacked updates that fit in `budget` bytes.
    mutating func piggyback(budget: Int) -> [MemberUpdate] {
        let members = liveCount + 1
        let limit = BroadcastQueue.retransmitLimit(multiplier: configuration.retransmitMultiplier, members: members)
        // At least one gossip round's worth, so that small clusters hear of a join at once.
        let joinLimit = min(
            limit,
            max(
                configuration.gossipNodes,
                BroadcastQueue.retransmitLimit(
                    multiplier: MembershipConstants.joinRetransmitMultiplier, members: members)))
        return broadcasts.take(budget: budget, limit: limit, joinLimit: joinLimit)
    }
}
