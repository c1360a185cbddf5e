extension HybridCore {
    // MARK: Lookups

    /// Looks up `peer`'s record at the index servers that hold it.
    /// - Returns: the lookup's ID, or nil when no index server is up (the caller asks
    ///   the Kademlia overlay instead).
    public mutating func findPeer(_ peer: PeerID, now: Instant) -> LookupID? {
        startLookup(.peer(peer), key: RoutingKey(peer: peer), now: now)
    }

    /// Asks the index servers that hold `service` for its providers.
    /// - Returns: the lookup's ID, or nil when no index server is up.
    public mutating func findProviders(service: String, now: Instant) -> LookupID? {
        startLookup(.service(service), key: RoutingKey(service: service), now: now)
    }

    /// Waits until the holders of `service` answered the registration of the current
    /// record (which the caller has just renewed to list `service`); reports
    /// ``LookupResult/Outcome/provided(storedAt:)`` with how many stored it.
    /// - Returns: the lookup's ID, or nil when no index server is up.
    public mutating func provide(service: String, now: Instant) -> LookupID? {
        let now = advance(now)
        let holders = IndexPlacement.holders(
            of: RoutingKey(service: service), among: upIndexes, count: configuration.replication)
        guard !holders.isEmpty else { return nil }
        let id = makeLookupID()
        var lookup = HybridLookup(target: .provide(service), candidates: holders)
        lookup.sequence = record.record.sequence
        lookup.requests = holders.count
        for holder in holders {
            if let registration = registrations[holder], registration.sequence == lookup.sequence,
                registration.attempts == 0
            {
                if registration.stored { lookup.stored += 1 }
            } else {
                lookup.awaiting.insert(holder)
            }
        }
        lookups[id] = lookup
        refreshRegistrations(now: now)
        finishProvideIfDone(id)
        drainLoopback(now: now)
        return id
    }

    private mutating func startLookup(_ target: HybridLookup.Target, key: RoutingKey, now: Instant) -> LookupID? {
        let now = advance(now)
        let holders = IndexPlacement.holders(of: key, among: upIndexes, count: configuration.replication)
        guard !holders.isEmpty else { return nil }
        let id = makeLookupID()
        lookups[id] = HybridLookup(target: target, candidates: holders)
        askNext(id, now: now)
        drainLoopback(now: now)
        return id
    }

    /// Sends lookup `id` to its next candidate that is up, or ends it: with what was
    /// found, or by handing it to the Kademlia overlay when no index server answered.
    mutating func askNext(_ id: LookupID, now: Instant) {
        guard var lookup = lookups[id] else { return }
        while lookup.next < lookup.candidates.count {
            let candidate = lookup.candidates[lookup.next]
            lookup.next += 1
            guard let state = indexes[candidate], state.isUp else { continue }
            lookup.requests += 1
            lookups[id] = lookup
            let message: IndexMessage =
                switch lookup.target {
                case .peer(let peer): .findPeer(request: 0, peer: peer)
                case .service(let service), .provide(let service): .findService(request: 0, service: service)
                }
            send(message, to: state.address, as: .lookup(id, index: candidate), now: now)
            return
        }
        lookups[id] = nil
        switch lookup.target {
        case .service where lookup.answered:
            finish(id, lookup, outcome: .providers([]))
        case .peer, .service, .provide:
            statistics.lookupsFallenBack += 1
            events.append(.fallback(id, lookup.target, requests: lookup.requests, timeouts: lookup.timeouts))
        }
    }

    /// Takes an index server's records for lookup `id`: verified ones end it, none
    /// moves it to the next holder.
    mutating func lookupAnswered(_ id: LookupID, by index: PeerID, records: [SignedPeerRecord], now: Instant) {
        guard var lookup = lookups[id] else { return }
        lookup.answered = true
        lookups[id] = lookup
        let wallNow = wallClock(at: now)
        switch lookup.target {
        case .peer(let peer):
            for record in records {
                guard (try? record.verify(now: wallNow, expecting: peer)) != nil else {
                    statistics.invalidRecords += 1
                    continue
                }
                lookups[id] = nil
                finish(id, lookup, outcome: .peer(record))
                return
            }
        case .service(let service), .provide(let service):
            var found: [SignedPeerRecord] = []
            for record in records {
                guard (try? record.verify(now: wallNow)) != nil, record.record.services.contains(service),
                    !found.contains(where: { $0.record.peerID == record.record.peerID })
                else {
                    statistics.invalidRecords += 1
                    continue
                }
                found.append(record)
            }
            if !found.isEmpty {
                lookups[id] = nil
                finish(id, lookup, outcome: .providers(found))
                return
            }
        }
        askNext(id, now: now)
    }

    /// Reports lookup `id` finished with `outcome`, answered in one round trip.
    mutating func finish(_ id: LookupID, _ lookup: HybridLookup, outcome: LookupResult.Outcome) {
        statistics.lookupsAnswered += 1
        let result = LookupResult(
            outcome: outcome, hops: lookup.answered ? 1 : 0, requests: lookup.requests, timeouts: lookup.timeouts)
        events.append(.lookupFinished(id, result))
    }

    /// A holder stored (or refused, or never answered) the record `sequence`: provide
    /// lookups waiting on it move on.
    mutating func provideProgressed(at index: PeerID, sequence: UInt64, stored: Bool, now: Instant) {
        for (id, lookup) in lookups where lookup.awaiting.contains(index) && lookup.sequence <= sequence {
            lookups[id]!.awaiting.remove(index)
            if stored { lookups[id]!.stored += 1 }
            finishProvideIfDone(id)
        }
    }

    /// Ends a provide lookup that waits on no holder.
    mutating func finishProvideIfDone(_ id: LookupID) {
        guard let lookup = lookups[id], case .provide = lookup.target, lookup.awaiting.isEmpty else { return }
        lookups[id] = nil
        let result = LookupResult(
            outcome: .provided(storedAt: lookup.stored), hops: 1, requests: lookup.requests, timeouts: 0)
        events.append(.lookupFinished(id, result))
    }

    /// Forgets lookup `id` (its caller gave up); answers still on the way are ignored.
    public mutating func cancelLookup(_ id: LookupID) {
        lookups[id] = nil
    }
}
