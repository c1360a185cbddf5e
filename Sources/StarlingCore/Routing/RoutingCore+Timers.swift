extension RoutingCore {
    /// Handles every deadline that has passed: request timeouts, lookup deadlines, and
    /// the maintenance tick (expiring stored records, refreshing stale buckets,
    /// republishing provided services).
    public mutating func handleTimeout(now: Instant) {
        let now = clamp(now)
        expireRequests(now: now)
        expireLookups(now: now)
        if now >= nextMaintenance {
            nextMaintenance = now + configuration.maintenanceInterval
            maintain(now: now)
        }
    }

    /// Call when request deadlines may have passed: fails each timed-out request's peer.
    private mutating func expireRequests(now: Instant) {
        let expired = pending.filter { $0.value.deadline <= now }.sorted { $0.key < $1.key }
        for (requestID, request) in expired {
            pending[requestID] = nil
            if case .proof = request.purpose {
                // An unanswered challenge: the contact is simply not admitted.
                proving[request.peer] = nil
                continue
            }
            if expiredRequests.count >= RoutingConstants.expiredRequestMemory { expiredRequests.removeFirst() }
            expiredRequests.append((requestID, request.sentAt))
            if table.recordFailure(of: request.peer, now: now) {
                if timeoutEvictions.count >= RoutingConstants.expiredRequestMemory { timeoutEvictions.removeFirst() }
                timeoutEvictions.append(request.peer)
            }
            if case .lookup(let id) = request.purpose {
                lookupRequestFailed(id, peer: request.peer, requestID: requestID, now: now)
            }
        }
    }

    /// Call when lookup deadlines may have passed: finishes each overdue lookup.
    private mutating func expireLookups(now: Instant) {
        let overdue = lookups.keys.filter { lookups[$0].map { $0.deadline <= now } ?? false }.sorted {
            $0.rawValue < $1.rawValue
        }
        for id in overdue {
            if let lookup = lookups.removeValue(forKey: id) { finish(lookup, now: now) }
        }
    }

    /// The maintenance tick.
    private mutating func maintain(now: Instant) {
        providerStore.removeExpired(now: now)
        let stale = table.bucketsNeedingRefresh(now: now, interval: configuration.refreshInterval)
        for index in stale.prefix(RoutingConstants.maximumRefreshesPerTick) {
            let target = localKey.randomKey(sharingPrefix: index, using: &random)
            _ = startLookup(.refresh, target: target, reports: false, now: now)
        }
        let due = provided.filter { $0.value <= now }.keys.sorted()
        for service in due {
            provided[service] = now + configuration.republishInterval
            guard localRecord?.record.services.contains(service) == true else { continue }
            _ = startLookup(.provide(service), target: RoutingKey(service: service), reports: false, now: now)
        }
    }
}
