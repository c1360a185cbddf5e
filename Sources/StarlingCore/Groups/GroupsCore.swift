internal import DequeModule

/// The sans-I/O overlay multicast of one peer: named groups that members join and
/// leave, whose messages reach every member across subnets, by one IP multicast
/// datagram per LAN segment where the segment allows it.
///
/// ### Purpose
/// - **Membership** (IGMP's reports, kept by the overlay): each group has
///   ``GroupConstants/rendezvousCount`` rendezvous peers, chosen by the overlay from its
///   topology (``OverlayCore``: rendezvous hashing over the alive members, the index
///   servers or the super-peers). A member reports its groups to them every
///   ``GroupConstants/reportInterval``, batched per rendezvous peer, and asks them for a
///   sample of the group's members when it has too few links; a leave is reported at
///   once. Registrations expire after three lost reports.
/// - **Mesh**: a member links to ``GroupConstants/targetLinks`` random members from the
///   samples, and links more whenever fewer than ``GroupConstants/lowLinks`` remain
///   (links fail with their member, or are ended by a leave). A random graph of degree 3
///   or more is connected with overwhelming probability.
/// - **Delivery** (Plumtree, Leitão et al. 2007): links start eager; a message is
///   pushed whole on eager links and announced (`ihave`, batched over
///   ``GroupConstants/iHaveDelay``) on lazy ones. A duplicate turns its link lazy
///   (`prune`), so the eager links shrink to a spanning tree: one copy per member per
///   message. A member announced a message it has not received asks for it (`graft`)
///   after a delay that follows the measured gap between announcement and arrival, and
///   that link turns eager again, which repairs the tree after loss or churn.
/// - **At most once**: each origin numbers its messages from its wall clock in
///   microseconds; a per-origin sliding window (``ReplayWindow``) refuses a number seen
///   before, checked before the group key opens the message and committed after.
///   No order is kept: messages are delivered as they arrive, and the sequence numbers
///   let the application order one origin's messages if it wants.
/// - **LAN acceleration** (``setLANChannel(_:)``): members report their groups on the
///   LAN channel too; a member that has a message from outside the segment sends it
///   once as an IP multicast datagram when a LAN-mate is in the group, and pushes it by
///   unicast only to links off the segment.
/// - **Non-members** may send: they ask the rendezvous peers for members and push each
///   message to ``GroupConstants/fanoutCopies`` of them (gossipsub's fanout).
///
/// ### Driving
/// - Getters: ``localID``, ``statistics``, ``joinedGroups``, ``links(of:)``,
///   ``registrationCount``.
/// - Inputs: ``handleMessage(_:from:viaLAN:now:)``, ``handleTimeout(now:)``,
///   ``peerGone(_:now:)``.
/// - Commands: ``join(_:now:)``, ``leave(_:now:)``, ``send(_:to:now:)``,
///   ``setRendezvous(_:for:now:)`` (after ``takeRendezvousRequests()``),
///   ``setLANChannel(_:)``.
/// - Outputs, polled in this order after every input: ``pollTransmit(now:into:)`` until
///   `nil`, then ``pollTimeout()``, then ``pollEvent()`` until `nil`.
///
/// `now` must never go backwards. Every table a remote peer can fill is bounded
/// (``GroupConstants``), and what is refused is counted in ``statistics``.
///
/// - Warning: not thread-safe; drive it from one task or event loop at a time.
public struct GroupsCore: Sendable {
    /// This peer's identity.
    public let localID: PeerID
    /// Where this peer receives overlay datagrams.
    public let localAddress: PeerAddress
    /// Counters.
    public internal(set) var statistics = GroupStatistics()

    var joined: [GroupID: JoinedGroup] = [:]
    var fanouts: [GroupID: FanoutGroup] = [:]
    var registrations = RendezvousTable()
    /// Seen sequence numbers per origin, and when its last message came.
    var windows: [PeerID: (window: ReplayWindow, lastSeen: Instant)] = [:]
    var retained: ExpiringCache<GroupMessageID, RetainedMessage>
    var missing: [GroupMessageID: MissingMessage] = [:]
    /// The gap between an announcement and the message's arrival by the tree.
    var announceGap: RTTEstimate?
    var iHaves: [LinkKey: [GroupMessageID]] = [:]
    var iHaveDue: Instant?
    /// Report entries waiting to go out, per rendezvous peer.
    var reports: [PeerID: (address: PeerAddress, entries: [GroupReportEntry])] = [:]
    /// When the waiting report entries go out (``GroupConstants/reportBatchDelay``
    /// after the first), so that joins made together share datagrams.
    var reportsDue: Instant?
    /// Samples waiting to go out, per member that asked.
    var answers: [PeerID: (address: PeerAddress, answers: [GroupMembersAnswer])] = [:]
    var rendezvousWanted: Set<GroupID> = []
    /// The LAN group channel, when LAN acceleration is on.
    public private(set) var lanChannel: PeerAddress?
    /// LAN-mates in each joined group, until their report expires.
    var lanMembers: [GroupID: [PeerID: Instant]] = [:]
    var lanReports: [GroupReportEntry] = []
    var lanReportAt: Instant
    var outbox = Deque<(message: GroupMessage, destination: PeerAddress)>()
    /// Where ``pollTransmit(now:into:)`` encodes; its storage is reused.
    var encoder = ByteWriter(capacity: OverlayConstants.maximumMessageSize)
    var events = Deque<GroupEvent>()
    var nextSequence: UInt64
    var random: ForkedRandom
    var maintenanceAt: Instant
    var originsPrunedAt: Instant

    /// Creates the groups of one peer, in none yet.
    /// - Parameters:
    ///   - localID: this peer's ID.
    ///   - localAddress: its overlay address.
    ///   - wallClock: the wall-clock time now: the first sequence number, in microseconds.
    ///   - seed: the seed of every random choice.
    ///   - now: the current time.
    public init(localID: PeerID, localAddress: PeerAddress, wallClock: UnixTime, seed: UInt64, now: Instant) {
        self.localID = localID
        self.localAddress = localAddress
        nextSequence = wallClock.seconds &* 1_000_000
        random = ForkedRandom(seed: seed)
        retained = ExpiringCache(
            capacity: GroupConstants.maximumRetainedMessages, lifetime: GroupConstants.messageRetention)
        maintenanceAt = now + GroupConstants.meshInterval
        originsPrunedAt = now
        lanReportAt = now
    }

    // MARK: Getters

    /// The groups joined.
    public var joinedGroups: [GroupID] { joined.keys.sorted() }

    /// Whether `group` is joined.
    public func isJoined(_ group: GroupID) -> Bool { joined[group] != nil }

    /// The mesh links of `group`: peer and whether the link is eager (nil while pending).
    public func links(of group: GroupID) -> [(peer: PeerID, eager: Bool?)] {
        guard let state = joined[group] else { return [] }
        return state.linkOrder.map { peer in
            switch state.links[peer]!.state {
            case .pending: (peer, nil)
            case .eager: (peer, true)
            case .lazy: (peer, false)
            }
        }
    }

    /// Registrations held as a rendezvous peer, all groups together.
    public var registrationCount: Int { registrations.count }

    // MARK: Commands

    /// Joins a group: reports it to its rendezvous peers, then links to members.
    /// Reports ``GroupEvent/joined(_:)`` when it takes effect. Joining again does nothing.
    /// - Throws: ``GroupError/tooManyGroups(maximum:)``.
    public mutating func join(_ key: GroupKey, now: Instant) throws(GroupError) {
        guard joined[key.id] == nil else { return }
        guard joined.count < GroupConstants.maximumJoinedGroups else {
            throw .tooManyGroups(maximum: GroupConstants.maximumJoinedGroups)
        }
        wake(now: now)
        joined[key.id] = JoinedGroup(key: key, now: now)
        fanouts[key.id] = nil
        rendezvousWanted.insert(key.id)
        if lanChannel != nil {
            lanReports.append(GroupReportEntry(group: key.id, flags: 0))
            scheduleReports(now: now)
        }
    }

    /// Leaves a group: ends its links and tells its rendezvous peers (and the LAN) at
    /// once. Messages of the group are no longer delivered.
    public mutating func leave(_ group: GroupID, now: Instant) {
        guard let state = joined.removeValue(forKey: group) else { return }
        for peer in state.linkOrder {
            outbox.append((.unlink(sender: localID, group: group), state.links[peer]!.address))
        }
        report(GroupReportEntry(group: group, flags: GroupReportEntry.leaving), to: state.rendezvous, now: now)
        lanMembers[group] = nil
        rendezvousWanted.remove(group)
        if lanChannel != nil {
            lanReports.append(GroupReportEntry(group: group, flags: GroupReportEntry.leaving))
            scheduleReports(now: now)
        }
    }

    /// Sends `payload` to every member of the group. A member pushes it into the
    /// group's mesh; a non-member hands it to members found through the rendezvous peers
    /// (waiting for them if need be; ``GroupEvent/sendFailed(group:messages:reason:)``
    /// reports it when there are none).
    /// - Returns: the message's ID.
    /// - Throws: ``GroupError/payloadTooLarge(size:maximum:)``,
    ///   ``GroupError/tooManyWaiting(maximum:)``.
    @discardableResult
    public mutating func send(_ payload: [UInt8], to key: GroupKey, now: Instant) throws(GroupError) -> GroupMessageID {
        guard payload.count <= GroupConstants.maximumPayloadSize else {
            throw .payloadTooLarge(size: payload.count, maximum: GroupConstants.maximumPayloadSize)
        }
        let id = GroupMessageID(origin: localID, sequence: nextSequence)
        let nonce = SwarmSealKey.makeNonce(using: &random)
        let sealed = key.seal.seal(
            nonce: nonce, ad: GroupKey.additionalData(group: key.id, origin: localID, sequence: id.sequence),
            plaintext: payload)
        let message = RetainedMessage(group: key.id, id: id, hops: 0, nonce: nonce, sealed: sealed)
        wake(now: now)
        if joined[key.id] != nil {
            nextSequence += 1
            statistics.originated += 1
            retained.insert(id, message, now: now)
            noteRecent(id, in: key.id, from: nil, now: now)
            forward(message, from: nil, viaLAN: false, now: now)
            return id
        }
        var fanout = fanouts[key.id] ?? FanoutGroup(key: key, expiresAt: now)
        if fanout.expiresAt > now, !fanout.members.isEmpty {
            nextSequence += 1
            statistics.originated += 1
            fanouts[key.id] = fanout
            pushToFanout(message, members: fanout.members)
            return id
        }
        guard fanout.waiting.count < GroupConstants.maximumWaitingPerGroup,
            fanouts[key.id] != nil || fanouts.count < GroupConstants.maximumFanoutGroups
        else { throw .tooManyWaiting(maximum: GroupConstants.maximumWaitingPerGroup) }
        nextSequence += 1
        statistics.originated += 1
        fanout.waiting.append(message)
        if fanout.askedAt == nil {
            fanout.askedAt = now
            fanout.asks = 1
            rendezvousWanted.insert(key.id)
        }
        fanouts[key.id] = fanout
        return id
    }

    /// The groups whose rendezvous peers the overlay should work out now (joins,
    /// refreshes, lost rendezvous peers, sends of non-members); answer each with
    /// ``setRendezvous(_:for:now:)``.
    public mutating func takeRendezvousRequests() -> [GroupID] {
        guard !rendezvousWanted.isEmpty else { return [] }
        defer { rendezvousWanted.removeAll(keepingCapacity: true) }
        return rendezvousWanted.sorted()
    }

    /// Sets `group`'s rendezvous peers (this peer may be one) and reports to them: a
    /// member registers and, while it has too few links, asks for members; a
    /// non-member with messages waiting asks for members only.
    public mutating func setRendezvous(_ peers: [GroupMember], for group: GroupID, now: Instant) {
        if var state = joined[group] {
            state.rendezvous = peers
            state.reportAt = now + GroupConstants.reportInterval
            let wants = state.wantsMembers(now: now)
            if wants { state.asked(now: now) }
            joined[group] = state
            report(
                GroupReportEntry(group: group, flags: wants ? GroupReportEntry.wantsMembers : 0), to: peers, now: now)
        } else if var fanout = fanouts[group], !fanout.waiting.isEmpty {
            fanout.members = []
            fanouts[group] = fanout
            report(
                GroupReportEntry(group: group, flags: GroupReportEntry.wantsMembers | GroupReportEntry.sendOnly),
                to: peers, now: now)
            if peers.isEmpty { failFanout(group, reason: .noRendezvous) }
        }
    }

    /// Sets (or, with nil, clears) the LAN group channel: the IP multicast address and
    /// port that this peer's LAN-mates receive on. Messages and reports to it go out as
    /// datagrams addressed to it; the driver sends them as IP multicast on the chosen
    /// interface and feeds what arrives on it to ``handleMessage(_:from:viaLAN:now:)``
    /// with `viaLAN`.
    public mutating func setLANChannel(_ channel: PeerAddress?, now: Instant) {
        lanChannel = channel
        lanMembers = [:]
        lanReports = channel == nil ? [] : joined.keys.sorted().map { GroupReportEntry(group: $0, flags: 0) }
        lanReportAt = now + GroupConstants.reportInterval
        if !lanReports.isEmpty { scheduleReports(now: now) }
    }

    /// Forgets a peer that failed or left: its links, its place as a candidate or
    /// rendezvous peer (the group's rendezvous peers are worked out again). Its
    /// registrations stay until they expire, and its origin window until
    /// ``GroupConstants/originLifetime``: a peer declared failed by mistake comes back,
    /// and copies of its messages must still count as seen.
    public mutating func peerGone(_ peer: PeerID, now: Instant) {
        for group in joined.keys.sorted() {
            var state = joined[group]!
            state.links[peer] = nil
            state.candidates[peer] = nil
            if state.rendezvous.contains(where: { $0.id == peer }) {
                state.rendezvous.removeAll { $0.id == peer }
                rendezvousWanted.insert(group)
            }
            lanMembers[group]?[peer] = nil
            joined[group] = state
        }
        for key in iHaves.keys where key.peer == peer { iHaves[key] = nil }
        for group in fanouts.keys { fanouts[group]!.members.removeAll { $0.id == peer } }
    }

    // MARK: Outputs

    /// Writes the next message to send into `buffer` (replacing its contents) and
    /// returns where it goes, oldest first.
    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        while let (message, destination) = outbox.popFirst() {
            encoder.reset()
            // Built here within the protocol's limits; one that is not is a bug, dropped.
            guard (try? message.encode(into: &encoder)) != nil else { continue }
            buffer.removeAll(keepingCapacity: true)
            buffer.append(contentsOf: encoder.bytes)
            return destination
        }
        return nil
    }

    /// Whether nothing needs the once-a-second upkeep: no group joined or sent to, no
    /// registration, origin or LAN-mate to expire. A peer that uses no groups then has no
    /// timer of them.
    var isIdle: Bool {
        joined.isEmpty && fanouts.isEmpty && registrations.count == 0 && windows.isEmpty && lanMembers.isEmpty
    }

    /// Makes the upkeep run from `now` on when it was idle (its last deadline is past).
    mutating func wake(now: Instant) {
        if maintenanceAt <= now { maintenanceAt = now + GroupConstants.meshInterval }
    }

    /// The earliest deadline: announcements and reports to flush, a missing message to
    /// ask for, mesh maintenance (none while idle).
    public func pollTimeout() -> Instant? {
        var earliest: Instant? = isIdle ? nil : maintenanceAt
        func consider(_ due: Instant?) {
            if let due, earliest.map({ due < $0 }) ?? true { earliest = due }
        }
        consider(iHaveDue)
        consider(reportsDue)
        if !missing.isEmpty { consider(missing.values.lazy.map(\.due).min()) }
        return earliest
    }

    /// The next event, oldest first.
    public mutating func pollEvent() -> GroupEvent? { events.popFirst() }

    // MARK: Helpers

    /// Reports `entry` to each of `peers`: queued for the others, handled at once when
    /// this peer is one of them.
    mutating func report(_ entry: GroupReportEntry, to peers: [GroupMember], now: Instant) {
        for peer in peers {
            if peer.id == localID {
                handleReport(entry, from: GroupMember(id: localID, address: localAddress), now: now)
            } else {
                queueReport(entry, to: peer, now: now)
            }
        }
    }

    /// Queues `entry` for `rendezvous`'s next report message.
    mutating func queueReport(_ entry: GroupReportEntry, to rendezvous: GroupMember, now: Instant) {
        reports[rendezvous.id, default: (rendezvous.address, [])].entries.append(entry)
        scheduleReports(now: now)
    }

    /// Makes the waiting report entries go out within ``GroupConstants/reportBatchDelay``.
    mutating func scheduleReports(now: Instant) {
        if reportsDue == nil { reportsDue = now + GroupConstants.reportBatchDelay }
    }

    /// Turns the queued samples into `members` messages.
    mutating func flushAnswers() {
        for peer in answers.keys.sorted() {
            let (address, pending) = answers[peer]!
            var batch: [GroupMembersAnswer] = []
            var size = 1 + 32 + 1
            for answer in pending {
                if !batch.isEmpty,
                    batch.count == GroupConstants.maximumAnswers
                        || size + answer.encodedSize > OverlayConstants.maximumMessageSize
                {
                    outbox.append((.members(sender: localID, answers: batch), address))
                    batch = []
                    size = 1 + 32 + 1
                }
                batch.append(answer)
                size += answer.encodedSize
            }
            if !batch.isEmpty { outbox.append((.members(sender: localID, answers: batch), address)) }
        }
        answers.removeAll(keepingCapacity: true)
    }

    /// Turns the queued report entries into report messages.
    mutating func flushReports() {
        reportsDue = nil
        for peer in reports.keys.sorted() {
            let (address, entries) = reports[peer]!
            for batch in Self.batches(entries, of: GroupConstants.maximumReportEntries) {
                outbox.append((.report(sender: localID, entries: batch), address))
            }
        }
        reports.removeAll(keepingCapacity: true)
        guard let lanChannel, !lanReports.isEmpty else { return }
        for batch in Self.batches(lanReports, of: GroupConstants.maximumReportEntries) {
            outbox.append((.lanReport(sender: localID, entries: batch), lanChannel))
        }
        lanReports.removeAll(keepingCapacity: true)
    }

    /// `items` in runs of at most `size`, in order.
    static func batches<Item>(_ items: [Item], of size: Int) -> [[Item]] {
        stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min(items.count, $0 + size)]) }
    }
}
