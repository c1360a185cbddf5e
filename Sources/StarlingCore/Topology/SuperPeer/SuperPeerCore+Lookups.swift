extension SuperPeerCore {
    // MARK: Lookups

    /// Lookup IDs of super-peer lookups have this bit set (routing's count from 1, the
    /// hybrid topology's set bit 63), so that the overlay can tell them apart.
    public static let lookupIDBase: UInt64 = 1 << 62

    /// Looks up `peer`'s signed record at the super-peers: this leaf's attached
    /// super-peers, then the super-peers they refer to, one at a time, until one returns
    /// a record that verifies (a super-peer starts from its own leaves and referrals).
    /// Reports ``SuperPeerEvent/lookupFinished(_:_:)`` or, when no super-peer had it,
    /// ``SuperPeerEvent/fallback(_:_:requests:timeouts:)``.
    /// - Returns: the lookup's ID, or nil when this leaf is attached to no super-peer or
    ///   ``SuperPeerConstants/maximumLookups`` run already (the caller asks the Kademlia
    ///   overlay instead).
    public mutating func findPeer(_ peer: PeerID, now: Instant) -> LookupID? {
        startLookup(.peer(peer), now: advance(now))
    }

    /// Asks the super-peers for the providers of `service`: one attached super-peer,
    /// then, in parallel, every super-peer it refers to (those whose leaves' filters
    /// might hold the service); the verified records are merged. Reports as
    /// ``findPeer(_:now:)`` does.
    /// - Returns: the lookup's ID, or nil as for ``findPeer(_:now:)``.
    public mutating func findProviders(service: String, now: Instant) -> LookupID? {
        startLookup(.service(service), now: advance(now))
    }

    /// Waits until the attached super-peers accepted the current record (which the
    /// caller has just renewed to list `service`; it went to them with
    /// ``updateLocalRecord(_:now:)``) and reports
    /// ``LookupResult/Outcome/provided(storedAt:)`` with how many did, or a fallback when
    /// none did within ``SuperPeerConstants/maximumLookupTimeout``. A super-peer answers
    /// for itself: its provide finishes at once, stored at 1.
    /// - Returns: the lookup's ID, or nil when this leaf is attached to no super-peer or
    ///   too many lookups run.
    public mutating func provide(service: String, now: Instant) -> LookupID? {
        let now = advance(now)
        guard let attached = linksForNewLookup() else { return nil }
        let id = makeLookupID()
        var lookup = SuperPeerLookup(target: .provide(service))
        if role == .superPeer {
            finish(id, lookup, outcome: .provided(storedAt: 1))
            return id
        }
        lookup.sequence = localRecord.record.sequence
        lookup.deadline = now + SuperPeerConstants.maximumLookupTimeout
        for (superPeer, link) in attached {
            if link.heldSequence >= lookup.sequence {
                lookup.stored += 1
                continue
            }
            if (link.sentSequence ?? 0) < lookup.sequence { sendAttach(to: superPeer, address: link.address, now: now) }
            lookup.requests += 1
            lookup.awaiting.insert(superPeer)
        }
        lookups[id] = lookup
        concludeProvideIfDone(id, now: now)
        return id
    }

    /// Forgets lookup `id` (its caller gave up) and its requests; replies still on the
    /// way are ignored.
    public mutating func cancelLookup(_ id: LookupID) {
        guard lookups.removeValue(forKey: id) != nil else { return }
        lookupRequests = lookupRequests.filter { $0.value.lookup != id }
    }

    /// The lookups running now.
    public var runningLookups: Int { lookups.count }

    // MARK: Asking

    /// The attached links, by super-peer ID, when this peer may start a lookup: a
    /// super-peer, or a leaf attached to one, with fewer than
    /// ``SuperPeerConstants/maximumLookups`` running (a refusal is counted); else nil.
    private mutating func linksForNewLookup() -> [(key: PeerID, value: SuperPeerLink)]? {
        let attached = links.filter(\.value.isAttached).sorted { $0.key < $1.key }
        guard role == .superPeer || !attached.isEmpty else { return nil }
        guard lookups.count < SuperPeerConstants.maximumLookups else {
            statistics.lookupsRefused += 1
            return nil
        }
        return attached
    }

    private mutating func startLookup(_ target: SuperPeerLookupTarget, now: Instant) -> LookupID? {
        guard let attached = linksForNewLookup() else { return nil }
        let id = makeLookupID()
        var lookup: SuperPeerLookup
        switch target {
        case .peer(let peer): lookup = SuperPeerLookup(target: .peer(peer))
        case .service(let service): lookup = SuperPeerLookup(target: .service(service))
        }
        if role == .superPeer {
            // Its own leaves and the other super-peers' filters answer the first round here.
            let answer = localAnswer(target, excluding: localID, fitting: nil)
            lookup.answered = true
            if take(answer.records, into: &lookup, depth: 0, id: id) { return id }
            for referral in byRoundTrip(answer.referrals) {
                lookup.enqueue(.init(id: referral.id, address: referral.address, depth: 1))
            }
        } else {
            for (superPeer, link) in attached.sorted(by: { isFaster($0.key, than: $1.key) }) {
                lookup.enqueue(.init(id: superPeer, address: link.address, depth: 1))
            }
        }
        lookups[id] = lookup
        advanceLookup(id, now: now)
        return id
    }

    /// Sends lookup `id` to as many queued candidates as its width allows, or ends it
    /// when nothing is in flight and nobody is left to ask.
    mutating func advanceLookup(_ id: LookupID, now: Instant) {
        guard var lookup = lookups[id] else { return }
        let target: SuperPeerLookupTarget
        switch lookup.target {
        case .peer(let peer): target = .peer(peer)
        case .service(let service): target = .service(service)
        case .provide: return
        }
        while lookup.inFlight < lookup.width, !lookup.queue.isEmpty {
            let candidate = lookup.queue.removeFirst()
            // A super-peer held at another address is not asked (a stale or forged
            // referral); one not held at all is, when a super-peer this peer asked itself
            // named it: a leaf with a partial view holds the super-peers it heard of, not
            // all (at 10,000 peers one lookup in 2,000 was referred only to super-peers
            // the asker did not hold, and fell back). Address validation bounds what a
            // request to an address that never answered can cost it.
            let isNamedFirstHand = candidate.depth <= 2
            guard memberAddresses[candidate.id].map({ $0 == candidate.address }) ?? isNamedFirstHand else { continue }
            nextLookupRequest &+= 1
            if nextLookupRequest == 0 { nextLookupRequest = 1 }
            let timeout = SuperPeerLookup.requestTimeout(roundTrip: lookupRoundTrips[candidate.id])
            lookupRequests[nextLookupRequest] = SuperPeerLookupRequest(
                lookup: id, superPeer: candidate.id, address: candidate.address, depth: candidate.depth,
                sentAt: now, deadline: now + timeout)
            lookup.requests += 1
            lookup.inFlight += 1
            statistics.lookupRequestsSent += 1
            send(.lookup(request: nextLookupRequest, asker: localID, target: target), to: candidate.address)
        }
        guard lookup.inFlight == 0 else {
            lookups[id] = lookup
            return
        }
        lookups[id] = nil
        if case .service = lookup.target, !lookup.found.isEmpty {
            let providers = lookup.found.values.sorted { $0.record.peerID < $1.record.peerID }
            finish(id, lookup, outcome: .providers(providers))
        } else {
            fallBack(id, lookup)
        }
    }

    /// Takes records for lookup `id` from the super-peer at `depth` (0: this one):
    /// a peer lookup ends on the first that verifies as the peer's; a service lookup
    /// keeps each verified provider's newest. Returns whether the lookup ended.
    mutating func take(_ records: [SignedPeerRecord], into lookup: inout SuperPeerLookup, depth: Int, id: LookupID)
        -> Bool
    {
        let wallNow = wallClockAtZero + (latestNow - .zero)
        switch lookup.target {
        case .peer(let peer):
            for record in records {
                guard (try? record.verify(now: wallNow, expecting: peer)) != nil else {
                    statistics.invalidRecords += 1
                    continue
                }
                lookup.hops = depth
                lookups[id] = nil
                finish(id, lookup, outcome: .peer(record))
                return true
            }
        case .service(let service):
            for record in records {
                guard (try? record.verify(now: wallNow)) != nil, record.record.services.contains(service) else {
                    statistics.invalidRecords += 1
                    continue
                }
                let owner = record.record.peerID
                if let held = lookup.found[owner], held.record.sequence >= record.record.sequence { continue }
                lookup.found[owner] = record
                lookup.hops = max(lookup.hops, depth)
            }
        case .provide:
            break
        }
        return false
    }

    // MARK: Replies and timeouts

    /// A super-peer's reply to lookup request `request`.
    mutating func handleLookupReply(
        request: UInt32, records: [SignedPeerRecord], referrals: [SuperPeerAlternative], from source: PeerAddress,
        now: Instant
    ) {
        guard let pending = lookupRequests[request], pending.address == source else {
            statistics.unexpectedMessages += 1
            return
        }
        lookupRequests[request] = nil
        noteRoundTrip(of: pending.superPeer, now - pending.sentAt)
        guard var lookup = lookups[pending.lookup] else { return }
        lookup.inFlight -= 1
        lookup.answered = true
        if take(records, into: &lookup, depth: pending.depth, id: pending.lookup) { return }
        for referral in byRoundTrip(referrals) where referral.id != localID {
            lookup.enqueue(.init(id: referral.id, address: referral.address, depth: pending.depth + 1))
        }
        lookups[pending.lookup] = lookup
        advanceLookup(pending.lookup, now: now)
    }

    /// Gives up on lookup requests and provides whose time ran out.
    mutating func expireLookups(now: Instant) {
        for (request, pending) in lookupRequests.sorted(by: { $0.key < $1.key }) where pending.deadline <= now {
            failLookupRequest(request, pending, now: now)
        }
        for (id, lookup) in lookups.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard let deadline = lookup.deadline, deadline <= now else { continue }
            lookups[id]!.timeouts += lookup.awaiting.count
            lookups[id]!.awaiting = []
            concludeProvideIfDone(id, now: now)
        }
    }

    /// Counts `pending` as unanswered and moves its lookup on.
    mutating func failLookupRequest(_ request: UInt32, _ pending: SuperPeerLookupRequest, now: Instant) {
        lookupRequests[request] = nil
        statistics.lookupTimeouts += 1
        guard var lookup = lookups[pending.lookup] else { return }
        lookup.inFlight -= 1
        lookup.timeouts += 1
        lookups[pending.lookup] = lookup
        advanceLookup(pending.lookup, now: now)
    }

    /// Membership reports `peer` gone: its lookup requests fail at once, and provides
    /// stop waiting for it.
    mutating func lookupPeerGone(_ peer: PeerID, now: Instant) {
        lookupRoundTrips[peer] = nil
        for (request, pending) in lookupRequests.sorted(by: { $0.key < $1.key }) where pending.superPeer == peer {
            failLookupRequest(request, pending, now: now)
        }
        provideAnswered(by: peer, stored: false, now: now)
    }

    /// The earliest lookup deadline, if any.
    var nextLookupDeadline: Instant? {
        var earliest: Instant?
        for pending in lookupRequests.values where earliest.map({ pending.deadline < $0 }) ?? true {
            earliest = pending.deadline
        }
        for lookup in lookups.values {
            guard let deadline = lookup.deadline else { continue }
            if earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        return earliest
    }

    // MARK: Provides

    /// An attached super-peer accepted (`stored`) or refused this leaf's newest attach.
    mutating func provideAnswered(by superPeer: PeerID, stored: Bool, now: Instant) {
        for (id, lookup) in lookups.sorted(by: { $0.key.rawValue < $1.key.rawValue })
        where lookup.awaiting.contains(superPeer) {
            lookups[id]!.awaiting.remove(superPeer)
            if stored { lookups[id]!.stored += 1 }
            concludeProvideIfDone(id, now: now)
        }
    }

    /// Ends provide `id` once it awaits nobody: provided where stored, else handed back.
    mutating func concludeProvideIfDone(_ id: LookupID, now: Instant) {
        guard let lookup = lookups[id], case .provide = lookup.target, lookup.awaiting.isEmpty else { return }
        lookups[id] = nil
        guard lookup.stored > 0 else { return fallBack(id, lookup) }
        var provided = lookup
        provided.hops = 1
        finish(id, provided, outcome: .provided(storedAt: lookup.stored))
    }

    // MARK: Answering

    /// A lookup from `asker`: answered from the held leaves, this peer's own record and
    /// the other super-peers whose filters might match, within
    /// ``SuperPeerConstants/maximumMessageSize``, unless `asker` is a member held at
    /// another address. An asker not held is answered too (in a large swarm a
    /// super-peer may not have heard of a new leaf when another super-peer refers it
    /// here); the overlay's address validation keeps a reply to an address that has not
    /// proved it receives within the bytes that address sent. A peer that is not a
    /// super-peer answers with nothing (a reply smaller than the request), so the asker
    /// moves on at once.
    mutating func handleLookup(
        request: UInt32, asker: PeerID, target: SuperPeerLookupTarget, from source: PeerAddress, now: Instant
    ) {
        guard asker != localID, memberAddresses[asker].map({ $0 == source }) ?? true else {
            statistics.lookupsIgnored += 1
            return
        }
        guard role == .superPeer else {
            send(.lookupReply(request: request, records: [], referrals: []), to: source)
            return
        }
        statistics.lookupsAnswered += 1
        let answer = localAnswer(
            target, excluding: asker,
            fitting: SuperPeerConstants.maximumMessageSize - SuperPeerMessage.lookupReplyOverhead)
        send(.lookupReply(request: request, records: answer.records, referrals: answer.referrals), to: source)
    }

    /// What this super-peer answers for `target`: the matching records it holds (its
    /// own included) and, unless a peer's record was found, the other super-peers
    /// (not `excluded`) whose union filters might match. With a byte budget, referrals
    /// come first (they lead to every other answer), then as many records as fit.
    func localAnswer(_ target: SuperPeerLookupTarget, excluding excluded: PeerID, fitting budget: Int?)
        -> (records: [SignedPeerRecord], referrals: [SuperPeerAlternative])
    {
        var records: [SignedPeerRecord]
        switch target {
        case .peer(let peer):
            records = peer == localID ? [localRecord] : proxyLookup(peer: peer).map { [$0] } ?? []
        case .service(let service):
            records = providers(service: service)
            if localRecord.record.services.contains(service) { records.insert(localRecord, at: 0) }
        }
        var referrals: [SuperPeerAlternative] = []
        switch target {
        case .peer: if records.isEmpty { referrals = matchingReferrals(target, excluding: excluded) }
        case .service: referrals = matchingReferrals(target, excluding: excluded)
        }
        guard var remaining = budget else { return (records, referrals) }
        referrals = Array(referrals.prefix(SuperPeerConstants.maximumReferrals)).filter { referral in
            let size = SuperPeerConstants.peerIDSize + referral.address.hostBytes.count + 3
            guard size <= remaining else { return false }
            remaining -= size
            return true
        }
        records = Array(records.prefix(SuperPeerConstants.maximumLookupRecords)).filter { record in
            let size = record.body.count + record.signature.count
            guard size <= remaining else { return false }
            remaining -= size
            return true
        }
        return (records, referrals)
    }

    /// The other super-peers, not `excluded`, whose leaves' union filter might hold
    /// `target`'s keywords, at their member addresses: those whose filter matched
    /// first, then those that have sent none yet (they might hold it too).
    func matchingReferrals(_ target: SuperPeerLookupTarget, excluding excluded: PeerID) -> [SuperPeerAlternative] {
        let matching = superPeersMatching(queryKeywords: target.keywords).filter { $0 != excluded && $0 != localID }
        let ordered = matching.filter { known[$0]?.filter != nil } + matching.filter { known[$0]?.filter == nil }
        return ordered.compactMap { id in memberAddresses[id].map { SuperPeerAlternative(id: id, address: $0) } }
    }

    // MARK: Helpers

    mutating func makeLookupID() -> LookupID {
        nextLookup += 1
        return LookupID(rawValue: Self.lookupIDBase | nextLookup)
    }

    /// Reports lookup `id` finished with `outcome`.
    mutating func finish(_ id: LookupID, _ lookup: SuperPeerLookup, outcome: LookupResult.Outcome) {
        statistics.lookupsFinished += 1
        let result = LookupResult(
            outcome: outcome, hops: lookup.hops, requests: lookup.requests, timeouts: lookup.timeouts)
        events.append(.lookupFinished(id, result))
    }

    /// Hands lookup `id` back to the overlay, which runs it in the Kademlia overlay.
    mutating func fallBack(_ id: LookupID, _ lookup: SuperPeerLookup) {
        statistics.lookupsFallenBack += 1
        events.append(.fallback(id, lookup.target, requests: lookup.requests, timeouts: lookup.timeouts))
    }

    /// Notes a reply's round trip from `superPeer` (within
    /// ``SuperPeerConstants/maximumLookupRoundTrips`` super-peers).
    mutating func noteRoundTrip(of superPeer: PeerID, _ roundTrip: Duration) {
        if let estimate = lookupRoundTrips[superPeer] {
            lookupRoundTrips[superPeer] = estimate.updated(with: roundTrip)
        } else if lookupRoundTrips.count < SuperPeerConstants.maximumLookupRoundTrips {
            lookupRoundTrips[superPeer] = RTTEstimate(firstSample: roundTrip)
        }
    }

    /// Whether `first` answered lookups faster than `second` (measured before
    /// unmeasured, then by ID).
    func isFaster(_ first: PeerID, than second: PeerID) -> Bool {
        switch (lookupRoundTrips[first]?.smoothed, lookupRoundTrips[second]?.smoothed) {
        case (let a?, let b?) where a != b: a < b
        case (.some, nil): true
        case (nil, .some): false
        default: first < second
        }
    }

    /// `referrals`, fastest first.
    func byRoundTrip(_ referrals: [SuperPeerAlternative]) -> [SuperPeerAlternative] {
        referrals.sorted { isFaster($0.id, than: $1.id) }
    }
}
