/// Overlay names: publishing signed name records and resolving names by their
/// delegations (`docs/PROTOCOL.md`, "Name records").
///
/// A publication signs the record in the local zone and stores it where its key is
/// held, alone and with each run of the delegations above it (so that a resolver gets
/// the whole chain in one lookup), then republishes it with a new sequence number every
/// ``RoutingConfiguration/republishInterval`` until ``unpublishName(_:)``. Names deeper
/// than one label below the top level first resolve their parent's delegation, which
/// must name the local peer. A resolution (``NameResolution``) asks the cache, then the
/// overlay.
///
/// Where a key is held depends on the topology (``NameAuthorities``): at the index
/// servers that are up in a hybrid overlay, at the super-peers in a super-peer one, each
/// key at the authorities its rendezvous scores rank first; at the Kademlia peers
/// closest to it in a pure overlay, and in the others while the topology has no
/// authority or none of those asked answers. When the authorities change, names whose
/// holders are all new are republished at once (the authorities hand the others over).
extension OverlayCore {
    /// The resolver cache: verified records, names known missing, sequence numbers seen.
    public var nameCache: NameCache { names.cache }

    /// The names this peer publishes, with their content.
    public var publishedNames: [OverlayName: NameRecord.Content] { names.published.mapValues(\.content) }

    /// Resolves `name`; reports ``NameEvent/resolved(_:_:)``.
    ///
    /// A name the cache answers costs no datagram and reports at once (with the next
    /// input's events).
    @discardableResult
    public mutating func resolveName(_ name: OverlayName, goal: NameResolution.Goal = .data, now: Instant)
        -> NameRequestID
    {
        let now = advance(now)
        defer { absorb(now: now) }
        let id = names.makeID()
        startResolution(id, name: name, goal: goal, purpose: .user, now: now)
        return id
    }

    /// Publishes `content` under `name` and keeps it published; reports
    /// ``NameEvent/published(_:_:)`` once the chains are stored.
    ///
    /// The local peer must own the zone the name's last label is in: the top-level
    /// zone (its own peer ID, or a name pinned to it) for a name of one label or the
    /// apex, otherwise the zone the name's parent delegates to it.
    @discardableResult
    public mutating func publishName(
        _ name: OverlayName, content: NameRecord.Content, ttl: Duration = .seconds(300), now: Instant
    ) -> NameRequestID {
        let now = advance(now)
        defer { absorb(now: now) }
        let ttl = UInt32(clamping: max(0, ttl.components.seconds))
        names.published[name] = NameService.Published(
            content: content, ttl: ttl, republishAt: now + configuration.routing.republishInterval)
        let id = names.makeID()
        startPublication(id, name: name, content: content, ttl: ttl, reports: true, now: now)
        return id
    }

    /// Stops republishing `name`; stored copies lapse at their expiry.
    public mutating func unpublishName(_ name: OverlayName) {
        names.published[name] = nil
    }

    // MARK: Inside the overlay

    /// Republishes the names due, each with a new sequence number.
    mutating func republishNames(now: Instant) {
        let next = now + configuration.routing.republishInterval
        for (name, var published) in names.published where published.republishAt <= now {
            published.republishAt = next
            names.published[name] = published
            startPublication(
                names.makeID(), name: name, content: published.content, ttl: published.ttl, reports: false, now: now)
        }
    }

    /// Takes the topology's authorities for names now (``NameAuthorities``): routing
    /// hands chains over and refers lookups by them, and names whose holders are all new
    /// are republished at once.
    mutating func refreshNameAuthorities(now: Instant) {
        var authorities = NameAuthorities.none
        if let hybrid {
            var members: [PeerID: PeerAddress] = [:]
            for id in hybrid.upIndexes {
                members[id] = id == localID ? localAddress : hybrid.indexState(id)?.address
            }
            authorities = NameAuthorities(members: members, replication: hybrid.configuration.replication)
        } else if let found = withSuperPeerCore({ core -> NameAuthorities in
            var members: [PeerID: PeerAddress] = [:]
            for id in core.knownSuperPeerIDs { members[id] = core.superPeerAddress(of: id) }
            if core.role == .superPeer { members[core.localID] = core.localAddress }
            let gateways = core.attachedSuperPeers.prefix(NameConstants.superPeerGateways).compactMap { id in
                core.superPeerAddress(of: id).map { RoutingContact(peerID: id, address: $0) }
            }
            return NameAuthorities(
                members: members, replication: NameConstants.superPeerReplication, gateways: Array(gateways))
        }) {
            authorities = found
        }
        let previous = routing.nameAuthorities
        guard authorities != previous else { return }
        routing.setNameAuthorities(authorities, now: now)
        for (name, published) in names.published where published.republishAt > now {
            let key = RoutingKey(nameZone: localID, path: name.labels.first ?? "")
            guard Set(previous.holderIDs(of: key)).isDisjoint(with: authorities.holderIDs(of: key)) else { continue }
            names.published[name]?.republishAt = now
        }
    }

    /// Takes a finished routing lookup the name service started; `false` when it is not one.
    mutating func nameLookupFinished(_ lookup: LookupID, _ result: LookupResult, now: Instant) -> Bool {
        guard let entry = names.lookups.removeValue(forKey: lookup) else { return false }
        let id = entry.request
        if let fallback = entry.fallback, result.requests > 0, result.timeouts >= result.requests {
            switch (fallback, result.outcome) {
            case (.find(let key), .name(nil, nil)):
                names.lookups[routing.findName(key, now: now)] = NameService.Lookup(request: id)
                return true
            case (.store(let chain), .nameStored(0)):
                if let kademlia = try? routing.storeName(chain, now: now) {
                    names.lookups[kademlia] = NameService.Lookup(request: id)
                    return true
                }
            default:
                break
            }
        }
        switch result.outcome {
        case .name(let chain, let refused):
            guard var entry = names.resolutions[id] else { return true }
            let step = entry.resolution.received(
                chain, refused: refused, hops: result.hops, cache: &names.cache, now: now, wallClock: wallClock(at: now)
            )
            names.resolutions[id] = entry
            follow(step, of: id, now: now)
        case .nameStored(let storedAt):
            guard var publishing = names.publications[id] else { return true }
            publishing.storedAt += storedAt
            publishing.pendingStores -= 1
            names.publications[id] = publishing
            if publishing.pendingStores <= 0 { finishPublication(id, .success(publishing), now: now) }
        default:
            break
        }
        return true
    }

    private mutating func startResolution(
        _ id: NameRequestID, name: OverlayName, goal: NameResolution.Goal, purpose: NameService.Purpose, now: Instant
    ) {
        guard names.hasRoom else { return resolutionEnded(id, purpose: purpose, .failure(.overloaded), now: now) }
        do {
            var resolution = try NameResolution(name: name, goal: goal, pins: configuration.namePins)
            let step = resolution.start(cache: &names.cache, now: now, wallClock: wallClock(at: now))
            names.resolutions[id] = (resolution, purpose)
            follow(step, of: id, now: now)
        } catch {
            resolutionEnded(id, purpose: purpose, .failure(error), now: now)
        }
    }

    /// Asks routing for what a resolution needs, or ends it.
    private mutating func follow(_ step: NameResolution.Step, of id: NameRequestID, now: Instant) {
        switch step {
        case .fetch(let key):
            let contacts = routing.nameAuthorities.contacts(for: key)
            if contacts.isEmpty {
                names.lookups[routing.findName(key, now: now)] = NameService.Lookup(request: id)
            } else {
                names.lookups[routing.findName(key, at: contacts, now: now)] = NameService.Lookup(
                    request: id, fallback: .find(key))
            }
        case .done(let result):
            guard let entry = names.resolutions.removeValue(forKey: id) else { return }
            resolutionEnded(id, purpose: entry.purpose, result, now: now)
        }
    }

    private mutating func resolutionEnded(
        _ id: NameRequestID, purpose: NameService.Purpose, _ result: Result<ResolvedName, NameError>, now: Instant
    ) {
        switch purpose {
        case .user: events.append(.name(.resolved(id, result)))
        case .publication(let publication): parentResolved(publication, result, now: now)
        }
    }

    private mutating func startPublication(
        _ id: NameRequestID, name: OverlayName, content: NameRecord.Content, ttl: UInt32, reports: Bool, now: Instant
    ) {
        let publishing = NameService.Publishing(name: name, content: content, ttl: ttl, reports: reports)
        guard names.hasRoom else { return finishPublication(id, .failure(.overloaded), reporting: reports) }
        names.publications[id] = publishing
        guard let parent = name.parent, !parent.labels.isEmpty else {
            do throws(NameError) {
                guard try name.rootZone(pins: configuration.namePins) == localID else {
                    throw .notOwner(name.description)
                }
            } catch {
                return finishPublication(id, .failure(error), now: now)
            }
            return store(id, under: [], now: now)
        }
        startResolution(names.makeID(), name: parent, goal: .delegation, purpose: .publication(id), now: now)
    }

    /// Takes the resolution of a publication's parent: the delegations above the name.
    private mutating func parentResolved(
        _ id: NameRequestID, _ result: Result<ResolvedName, NameError>, now: Instant
    ) {
        guard let publishing = names.publications[id] else { return }
        switch result {
        case .success(let parent):
            guard case .delegation(let child) = parent.record.record.content, child == localID else {
                return finishPublication(id, .failure(.notOwner(publishing.name.description)), now: now)
            }
            store(id, under: parent.chain, now: now)
        case .failure(let error):
            finishPublication(id, .failure(error), now: now)
        }
    }

    /// Signs the record and stores it alone and under each run of `delegations`.
    private mutating func store(_ id: NameRequestID, under delegations: [SignedNameRecord], now: Instant) {
        guard var publishing = names.publications[id] else { return }
        let wall = wallClock(at: now)
        let label = publishing.name.labels.first ?? ""
        publishing.sequence = names.nextSequence(for: label, wallClock: wall)
        let record = NameRecord(
            zone: localID, label: label, sequence: publishing.sequence,
            expiresAt: wall + configuration.routing.providerLifetime, ttl: publishing.ttl, content: publishing.content)
        let signed: SignedNameRecord
        do {
            signed = try record.sign(with: identity)
        } catch {
            return finishPublication(id, .failure(error), now: now)
        }
        names.cache.insert(signed, now: now, wallClock: wall)
        for start in delegations.indices.reversed() + [delegations.endIndex] {
            let chain = NameChain(records: Array(delegations[start...]) + [signed])
            var writer = ByteWriter(capacity: NameConstants.maximumChainSize)
            guard (try? chain.encode(into: &writer)) != nil, let key = chain.key else { continue }
            let contacts = routing.nameAuthorities.contacts(for: key)
            let lookup =
                contacts.isEmpty
                ? try? routing.storeName(chain, now: now) : try? routing.storeName(chain, at: contacts, now: now)
            guard let lookup else { continue }
            names.lookups[lookup] = NameService.Lookup(request: id, fallback: contacts.isEmpty ? nil : .store(chain))
            publishing.chains += 1
            publishing.pendingStores += 1
        }
        names.publications[id] = publishing
        if publishing.pendingStores == 0 {
            finishPublication(id, .failure(.invalidName("no chain of \(publishing.name) fits a datagram")), now: now)
        }
    }

    private mutating func finishPublication(
        _ id: NameRequestID, _ result: Result<NameService.Publishing, NameError>, now: Instant
    ) {
        let reports = names.publications.removeValue(forKey: id)?.reports ?? true
        finishPublication(id, result, reporting: reports)
    }

    private mutating func finishPublication(
        _ id: NameRequestID, _ result: Result<NameService.Publishing, NameError>, reporting: Bool
    ) {
        guard reporting else { return }
        events.append(
            .name(
                .published(
                    id,
                    result.map {
                        NamePublication(name: $0.name, sequence: $0.sequence, chains: $0.chains, storedAt: $0.storedAt)
                    })))
    }
}
