extension RoutingCore {
    /// Starts a lookup seeded from the table, or with `seeds` (a topology's authorities,
    /// which bound its candidates to ``NameConstants/maximumAuthorityCandidates`` and take
    /// only referrals of at most ``NameAuthorities/replication`` contacts: an authority's
    /// holders, never a Kademlia peer's closest contacts), and sends its first requests.
    mutating func startLookup(
        _ purpose: Lookup.Purpose, target: RoutingKey, reports: Bool, now: Instant, seeds: [RoutingContact]? = nil
    ) -> LookupID {
        let id = makeLookupID()
        if seeds == nil { table.noteLookup(of: target, now: now) }
        let lookup = Lookup(
            id: id, purpose: purpose, target: target, reports: reports, deadline: now + configuration.lookupTimeout,
            seeds: seeds ?? table.closest(to: target, count: configuration.bucketSize),
            candidateLimit: seeds == nil
                ? RoutingConstants.maximumLookupCandidates : NameConstants.maximumAuthorityCandidates,
            referralLimit: seeds == nil ? nil : nameAuthorities.replication)
        if lookups.count >= RoutingConstants.maximumActiveLookups {
            drops[.overloaded, default: 0] += 1
            finish(lookup, now: now)
            return id
        }
        lookups[id] = lookup
        advance(id, now: now)
        return id
    }

    /// The next lookup's ID.
    mutating func makeLookupID() -> LookupID {
        defer { nextLookupNumber += 1 }
        return LookupID(rawValue: nextLookupNumber)
    }

    /// Handles a lookup's reply.
    mutating func lookupReplied(_ id: LookupID, message: RoutingMessage, from sender: RoutingContact, now: Instant) {
        guard var lookup = lookups[id], let hop = lookup.markAnswered(sender.peerID, requestID: message.requestID)
        else {
            return
        }
        switch (message.body, lookup.purpose) {
        case (.nodes(let closer), .findNode), (.nodes(let closer), .bootstrap), (.nodes(let closer), .refresh),
            (.nodes(let closer), .provide), (.nodes(let closer), .storeName):
            lookup.add(closer, hop: hop + 1, localPeer: localID)
        case (.value(let record, let closer), .findPeer(let target)):
            if let record {
                if (try? record.verify(now: wallClock(at: now), expecting: target)) != nil {
                    lookup.foundRecord = (record, hop)
                } else {
                    drops[.invalidRecord, default: 0] += 1
                }
            }
            lookup.add(closer, hop: hop + 1, localPeer: localID)
        case (.providers(let records, let closer), .findProviders(let service)):
            for record in records {
                guard verifiedProvider(record, of: service, now: now) else {
                    drops[.invalidRecord, default: 0] += 1
                    continue
                }
                let provider = record.record.peerID
                if let held = lookup.providers[provider], held.record.sequence >= record.record.sequence { continue }
                lookup.providers[provider] = record
                lookup.providersHop = max(lookup.providersHop, hop)
            }
            lookup.add(closer, hop: hop + 1, localPeer: localID)
        case (.name(let chain, let closer), .findName):
            // At the authorities, a longer list is a Kademlia peer's, not an authority's referral.
            let referred = lookup.referralLimit.map { closer.count <= $0 } ?? true
            if let chain, lookup.foundChain == nil {
                do throws(NameError) {
                    try chain.verify(now: wallClock(at: now))
                    guard chain.key == lookup.target else { throw .forged("a chain stored at another key") }
                    lookup.foundChain = (chain, hop)
                } catch {
                    lookup.refusedChain = error
                    drops[.invalidRecord, default: 0] += 1
                }
            }
            lookup.add(referred ? closer : [], hop: hop + 1, localPeer: localID)
        case (.storeNameAck(let stored), .placeName):
            if stored { lookup.namesStored += 1 }
        default:
            // A reply of the wrong kind: the peer answered, but with nothing usable.
            drops[.unexpectedResponse, default: 0] += 1
        }
        lookups[id] = lookup
        advance(id, now: now)
    }

    /// Records a lookup request's timeout.
    mutating func lookupRequestFailed(_ id: LookupID, peer: PeerID, requestID: UInt64, now: Instant) {
        guard var lookup = lookups[id] else { return }
        lookup.markFailed(peer, requestID: requestID)
        lookups[id] = lookup
        advance(id, now: now)
    }

    /// Sends a lookup's next requests, or finishes it.
    mutating func advance(_ id: LookupID, now: Instant) {
        guard var lookup = lookups[id] else { return }
        if isDone(lookup, now: now) {
            lookups[id] = nil
            finish(lookup, now: now)
            return
        }
        let body: RoutingMessage.Body
        switch lookup.purpose {
        case .findNode, .bootstrap, .refresh, .provide, .storeName: body = .findNode(target: lookup.target)
        case .findName: body = .findName(target: lookup.target)
        case .placeName(let chain, _): body = .storeName(chain: chain)
        case .findPeer(let peer): body = .findValue(target: peer)
        case .findProviders(let service): body = .getProviders(service: service)
        }
        let picked = lookup.nextQueries(
            parallelism: configuration.parallelism, bucketSize: width(of: lookup), makeRequestID: { makeRequestID() })
        lookups[id] = lookup
        // A request refused for want of room stays in flight until the lookup's deadline.
        for (contact, requestID) in picked {
            send(body, to: contact, purpose: .lookup(id), now: now, requestID: requestID)
        }
    }

    /// Whether the lookup has what it needs, has converged, or ran out of time.
    private func isDone(_ lookup: Lookup, now: Instant) -> Bool {
        if now >= lookup.deadline { return true }
        switch lookup.purpose {
        case .findPeer: if lookup.foundRecord != nil { return true }
        case .findName: if lookup.foundChain != nil { return true }
        case .findProviders: if lookup.providers.count >= configuration.maximumProvidersPerService { return true }
        case .findNode, .bootstrap, .refresh, .provide, .storeName, .placeName: break
        }
        return lookup.isComplete(bucketSize: width(of: lookup))
    }

    /// How many of the closest live candidates must answer before a lookup ends: `k`,
    /// except that a peer lookup keeps asking every candidate it holds (up to
    /// ``RoutingConstants/maximumLookupCandidates``) until it finds the record, since a
    /// sparse table can leave the target just outside the `k` closest answered.
    private func width(of lookup: Lookup) -> Int {
        if case .findPeer = lookup.purpose { return RoutingConstants.maximumLookupCandidates }
        return configuration.bucketSize
    }

    /// Reports a finished lookup and, for a provide, sends the records.
    mutating func finish(_ lookup: Lookup, now: Instant) {
        let k = configuration.bucketSize
        let closest = lookup.closestAnswered(count: k)
        let outcome: LookupResult.Outcome
        let hops: Int
        switch lookup.purpose {
        case .findNode, .refresh:
            outcome = .nodes(closest.contacts)
            hops = closest.hops
        case .bootstrap:
            outcome = .nodes(closest.contacts)
            hops = closest.hops
            if configuration.refreshAfterBootstrap { refreshBucketsAfterJoin(now: now) }
        case .findPeer:
            outcome = .peer(lookup.foundRecord?.record)
            hops = lookup.foundRecord?.hop ?? 0
        case .findProviders:
            let records = lookup.providers.values.sorted {
                $0.record.peerID < $1.record.peerID
            }
            outcome = .providers(records)
            hops = lookup.providersHop
        case .provide(let service):
            var sent = 0
            if let localRecord {
                for contact in closest.contacts
                where send(
                    .addProvider(service: service, record: localRecord), to: contact, purpose: .addProvider, now: now)
                    != nil
                {
                    sent += 1
                }
            }
            outcome = .provided(storedAt: sent)
            hops = closest.hops
        case .findName:
            outcome = .name(lookup.foundChain?.chain, refused: lookup.foundChain == nil ? lookup.refusedChain : nil)
            hops = lookup.foundChain?.hop ?? closest.hops
        case .storeName(let chain):
            var sent = 0
            for contact in closest.contacts
            where send(.storeName(chain: chain), to: contact, purpose: .storeName, now: now) != nil {
                sent += 1
            }
            if closest.contacts.count < k, storeLocally(chain, now: now).isHeld { sent += 1 }
            outcome = .nameStored(storedAt: sent)
            hops = closest.hops
        case .placeName(_, let storedHere):
            outcome = .nameStored(storedAt: lookup.namesStored + (storedHere ? 1 : 0))
            hops = closest.hops
        }
        guard lookup.reports else { return }
        events.append(
            .lookupFinished(
                lookup.id,
                LookupResult(outcome: outcome, hops: hops, requests: lookup.requests, timeouts: lookup.timeouts)))
    }

    /// The paper's join step, bounded: refresh the buckets farther than the closest
    /// neighbour that are not full, deepest first (those hold the fewest peers and
    /// are the least likely to fill from incoming traffic), at most
    /// ``RoutingConstants/maximumRefreshesPerTick`` of them.
    private mutating func refreshBucketsAfterJoin(now: Instant) {
        var index = (table.buckets.lastIndex { !$0.entries.isEmpty } ?? 0) - 1
        var started = 0
        while index >= 0, started < RoutingConstants.maximumRefreshesPerTick,
            lookups.count < RoutingConstants.maximumActiveLookups
        {
            if table.buckets[index].entries.count < configuration.bucketSize {
                let target = localKey.randomKey(sharingPrefix: index, using: &random)
                _ = startLookup(.refresh, target: target, reports: false, now: now)
                started += 1
            }
            index -= 1
        }
    }
}
