extension SpreadingCore {
    /// Floods a search query to every neighbour (in the super-peer topology, to every
    /// super-peer neighbour and to the leaf neighbours whose filters might match; see
    /// ``SpreadingNeighbour/queryFilter``).
    ///
    /// Peers up to `ttl` links away see it as a ``SpreadingEvent/query(id:origin:hops:payload:)``;
    /// their answers arrive here as ``SpreadingEvent/queryHit(id:responder:hops:payload:)``.
    /// - Parameters:
    ///   - payload: the application's search bytes.
    ///   - ttl: how many links the query may travel; by default
    ///     ``SpreadingConfiguration/defaultTTL``.
    ///   - wantsNotices: whether the peers where the flood dies should send a
    ///     ``SpreadingNotice/ttlExceeded(id:reporter:hops:)`` back (at most one is reported).
    ///   - now: the current time.
    /// - Returns: the query's new random ID.
    /// - Throws: ``SpreadingError/payloadTooLarge(size:maximum:)`` or
    ///   ``SpreadingError/invalidTTL(_:)`` outside `1…maximumTTL`.
    @discardableResult
    public mutating func query(
        _ payload: [UInt8], ttl: Int? = nil, wantsNotices: Bool = false, now: Instant
    ) throws(SpreadingError) -> SpreadingID {
        let now = advance(now)
        try checkPayload(payload)
        let ttl = ttl ?? configuration.defaultTTL
        guard ttl >= 1, ttl <= configuration.maximumTTL else { throw .invalidTTL(ttl) }
        let id = SpreadingID.random(using: &random)
        seenQueries.insert(id, true, now: now)
        routes.insert(id, QueryRoute(previousHop: nil, origin: localID), now: now)
        let message = SpreadingMessage.signedQuery(
            id: id, ttl: UInt8(ttl), hops: 0, wantsNotices: wantsNotices, payload: payload, swarmID: swarmID,
            by: identity)
        flood(message, origin: localID, payload: payload, except: nil)
        return id
    }

    /// Answers a query reported by ``SpreadingEvent/query(id:origin:hops:payload:)``:
    /// sends a hit, signed by this peer and naming the query and its origin, back along
    /// its reverse path.
    /// - Parameters:
    ///   - id: the query's ID.
    ///   - payload: the answer's bytes.
    ///   - now: the current time.
    /// - Throws: ``SpreadingError/noRoute(_:)`` when the reverse path has expired (or the
    ///   query is this peer's own), or ``SpreadingError/payloadTooLarge(size:maximum:)``.
    public mutating func answer(_ id: SpreadingID, payload: [UInt8], now: Instant) throws(SpreadingError) {
        let now = advance(now)
        try checkPayload(payload)
        guard let route = routes.value(id, now: now), let previousHop = route.previousHop else { throw .noRoute(id) }
        let hit = SpreadingMessage.signedQueryHit(
            id: id, queryOrigin: route.origin, hops: 0, payload: payload, swarmID: swarmID, by: identity)
        send(hit, to: previousHop)
    }

    /// Reports and floods on a query seen for the first time whose origin signed it, or
    /// drops it.
    mutating func handleQuery(
        id: SpreadingID, origin: PeerID, ttl: UInt8, hops: UInt8, wantsNotices: Bool, payload: [UInt8],
        signature: [UInt8], from source: PeerAddress, now: Instant
    ) {
        guard ttl > 0, Int(hops) < SpreadingConstants.maximumWireHops else {
            statistics.queriesExpired += 1
            return
        }
        guard !seenQueries.contains(id, now: now) else {
            statistics.duplicatesDropped += 1
            return
        }
        let signed = SpreadingSignature.queryBytes(
            swarmID: swarmID, id: id, origin: origin, wantsNotices: wantsNotices, payload: payload)
        guard case .genuine = authenticate(signed, signature: signature, by: origin, now: now) else { return }
        seenQueries.insert(id, true, now: now)
        routes.insert(id, QueryRoute(previousHop: source, origin: origin), now: now)
        let travelled = hops + 1
        let remaining = min(Int(ttl), configuration.maximumTTL) - 1
        events.append(.query(id: id, origin: origin, hops: Int(travelled), payload: payload))
        // A leaf is where a query ends: its super-peers flood among themselves.
        guard position == .relay else { return }
        if remaining > 0 {
            let message = SpreadingMessage.query(
                id: id, origin: origin, ttl: UInt8(remaining), hops: travelled, wantsNotices: wantsNotices,
                payload: payload, signature: signature)
            flood(message, origin: origin, payload: payload, except: source)
            return
        }
        // The flood dies here; it matters only if it would have gone further.
        guard neighbourOrder.contains(where: { neighbours[$0] != source }) else { return }
        statistics.queriesExpired += 1
        guard wantsNotices else { return }
        routes.update(id, now: now) { $0.noticeSent = true }
        send(.ttlExceeded(id: id, origin: origin, reporter: localID, hops: travelled), to: source)
    }

    /// Sends the query `message` to every neighbour except the one at `source`; a leaf
    /// neighbour (one with a filter) only if its filter might match `payload`'s keywords
    /// and it is not the query's `origin`.
    mutating func flood(_ message: SpreadingMessage, origin: PeerID, payload: [UInt8], except source: PeerAddress?) {
        guard let bytes = try? message.encoded() else { return }
        // Tokenized once per query, and only when some neighbour is a filtered leaf.
        var keywords: [String]?
        for peer in neighbourOrder {
            guard let address = neighbours[peer], address != source else { continue }
            if let filter = queryFilters[peer] {
                if keywords == nil { keywords = QueryRoutingFilter.keywords(ofQuery: payload) }
                guard peer != origin, filter.mightMatch(queryKeywords: keywords ?? []) else {
                    statistics.queriesFiltered += 1
                    continue
                }
            }
            statistics.messagesSent += 1
            statistics.queriesSent += 1
            outbox.append(bytes, to: address)
        }
    }

    /// Reports a hit for this peer's own query or passes it one hop back, once, if its
    /// responder signed it for this query and origin; without a route, drops it and tells
    /// the sender it is unreachable.
    mutating func handleQueryHit(
        id: SpreadingID, responder: PeerID, hops: UInt8, payload: [UInt8], signature: [UInt8],
        from source: PeerAddress, now: Instant
    ) {
        guard let route = routes.value(id, now: now) else {
            // Without the route the query's origin is unknown, so the signature cannot be
            // checked; the notice goes back only to the sender, one for one.
            statistics.noRouteDropped += 1
            send(.unreachable(id: id, subject: .queryHit, target: responder, reporter: localID), to: source)
            return
        }
        let signed = SpreadingSignature.queryHitBytes(
            swarmID: swarmID, id: id, queryOrigin: route.origin, responder: responder, payload: payload)
        switch authenticate(signed, signature: signature, by: responder, now: now) {
        case .forged: return
        case .known:
            statistics.duplicatesDropped += 1
            return
        case .genuine(let digest): verdicts.insert(digest, true, now: now)
        }
        let travelled = Int(hops) + 1
        guard let previousHop = route.previousHop else {
            events.append(.queryHit(id: id, responder: responder, hops: travelled, payload: payload))
            return
        }
        guard travelled < SpreadingConstants.maximumWireHops else {
            statistics.hopLimitReached += 1
            return
        }
        if !route.hitSources.contains(where: { $0.responder == responder }),
            route.hitSources.count < SpreadingConstants.maximumHitSourcesPerRoute
        {
            routes.update(id, now: now) { $0.hitSources.append((responder, source)) }
        }
        send(
            .queryHit(id: id, responder: responder, hops: UInt8(travelled), payload: payload, signature: signature),
            to: previousHop)
    }
}
