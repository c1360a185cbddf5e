extension OverlayCore {
    /// The role this peer holds now: fixed in the pure and hybrid topologies, elected in
    /// the super-peer one.
    public var role: TopologyRole {
        if let superPeer { return superPeer.role == .superPeer ? .superPeer : .leaf }
        return hybrid?.role ?? configuration.topology.role
    }

    // MARK: Joining the topology up

    /// Takes the hybrid core's events: topology news go to the user, lookups the
    /// index servers answered are reported as routing's would be, and lookups none
    /// could answer go on in the Kademlia overlay. While no index server is up, this
    /// peer's services are provided in the Kademlia overlay as well.
    mutating func absorbHybrid(now: Instant) {
        guard hybrid != nil else { return }
        hybrid!.setHeldMembers(membership.liveCount + 1)
        membership.setSwarmSize(hybrid!.reportedMembers)
        while let event = hybrid!.pollEvent() {
            switch event {
            case .topology(let change):
                events.append(.topology(change))
                nameAuthoritiesStale = true
                switch change {
                case .fallbackStarted:
                    for service in services {
                        guard let id = try? routing.provide(service: service, now: now) else { continue }
                        internalLookups.insert(id)
                    }
                case .fallbackEnded:
                    for service in services { routing.stopProviding(service: service) }
                case .role, .indexUp, .indexDown, .attached, .detached, .leafAttached, .leafDetached:
                    break
                }
            case .lookupFinished(let id, let result):
                events.append(.routing(.lookupFinished(id, result)))
            case .fallback(let id, let target, let requests, let timeouts):
                fallBack(id, target, requests: requests, timeouts: timeouts, now: now)
            }
        }
    }

    /// Runs lookup `id`, which the topology (index servers, super-peers) could not
    /// answer, in the Kademlia overlay; its result is reported under `id`, with the
    /// `requests` and `timeouts` the topology already spent added.
    mutating func fallBack(_ id: LookupID, _ target: LookupTarget, requests: Int, timeouts: Int, now: Instant) {
        let routingID: LookupID
        switch target {
        case .peer(let peer): routingID = routing.findPeer(peer, now: now)
        case .service(let service): routingID = routing.findProviders(service: service, now: now)
        case .provide(let service):
            guard let provided = try? routing.provide(service: service, now: now) else {
                let result = LookupResult(
                    outcome: .provided(storedAt: 0), hops: 0, requests: requests, timeouts: timeouts)
                events.append(.routing(.lookupFinished(id, result)))
                return
            }
            routingID = provided
        }
        fallbackLookups[routingID] = (id, requests, timeouts)
    }

    /// Reports the super-peer core's role and link changes and its lookups: those the
    /// super-peers answered as routing's would be, and those none could answer go on in
    /// the Kademlia overlay. Relayed payloads go to the session layer
    /// (``acceptRelayed(origin:payload:via:)``), not to the events.
    mutating func absorbSuperPeer(now: Instant) {
        guard hasSuperPeer else { return }
        while let event = superPeer!.pollEvent() {
            switch event {
            case .roleChanged(_, let role):
                nameAuthoritiesStale = true
                events.append(.topology(.role(role == .superPeer ? .superPeer : .leaf)))
            case .attached(let superPeer):
                nameAuthoritiesStale = true
                events.append(.topology(.attached(superPeer: superPeer)))
            case .detached(let superPeer, _):
                nameAuthoritiesStale = true
                events.append(.topology(.detached(superPeer: superPeer)))
            case .leafAttached(let leaf): events.append(.topology(.leafAttached(leaf)))
            case .leafDetached(let leaf, _): events.append(.topology(.leafDetached(leaf)))
            case .relayed(let origin, let payload, let via): acceptRelayed(origin: origin, payload: payload, via: via)
            case .lookupFinished(let id, let result): events.append(.routing(.lookupFinished(id, result)))
            case .fallback(let id, let target, let requests, let timeouts):
                fallBack(id, target, requests: requests, timeouts: timeouts, now: now)
            }
        }
    }

    /// Reports a routing event, under the hybrid lookup's ID when it finishes one that
    /// fell back, and not at all when it finishes one the overlay started itself.
    mutating func absorbRouting(_ event: RoutingEvent) {
        guard case .lookupFinished(let id, var result) = event else { return events.append(.routing(event)) }
        if internalLookups.remove(id) != nil { return }
        guard let hybridLookup = fallbackLookups.removeValue(forKey: id) else {
            return events.append(.routing(event))
        }
        result.requests += hybridLookup.requests
        result.timeouts += hybridLookup.timeouts
        events.append(.routing(.lookupFinished(hybridLookup.id, result)))
    }
}
