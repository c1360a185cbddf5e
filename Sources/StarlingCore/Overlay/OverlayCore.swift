internal import DequeModule

/// One peer's overlay: SWIM membership, Kademlia routing and message spreading over one
/// socket, in overlay datagrams (``OverlayEnvelope``).
///
/// ### Purpose
/// The three protocol cores know nothing of each other; this core carries their
/// messages and joins them up:
/// - membership is the source of liveness and of contacts: members that join or come
///   back are added to the routing table, failed or departed ones are removed from it
///   at once. Membership gives every peer every member, so routing needs no bootstrap
///   lookups of its own (a self-lookup and a refresh of each bucket, some 300 requests
///   per peer at 1,000 peers, for contacts membership brings anyway);
/// - spreading's neighbours are a random sample of ``OverlayConfiguration/neighbourCount``
///   alive members, refilled as members fail and re-drawn (reservoir style) as they
///   join, so that the neighbour graph stays a random one; in the super-peer topology
///   they follow the roles instead: a leaf's are its super-peers, a super-peer's a
///   sample of the other super-peers plus its leaves with their query filters;
/// - the local signed record (routing hands it to `findPeer` and stores it as a
///   provider record) is signed again before it expires and when services change.
///
/// ### Driving
/// - Getters: ``localID``, ``localAddress``, ``membership``, ``routing``, ``spreading``,
///   ``statistics``, ``localRecord``, ``neighbours``.
/// - Inputs: ``handleDatagram(_:from:now:)`` (whole overlay datagrams) and
///   ``handleTimeout(now:)``.
/// - Commands: ``join(_:now:)``, ``leave(now:)``, ``findPeer(_:now:)``,
///   ``findProviders(service:now:)``, ``provide(service:now:)``,
///   ``broadcast(_:now:)``, ``query(_:ttl:wantsNotices:now:)``, ``answer(_:payload:now:)``,
///   ``sendEcho(to:now:)``.
/// - Outputs, polled in this order after every input: ``pollTransmit(now:into:)`` until
///   `nil`, then ``pollTimeout()``, then ``pollEvent()`` until `nil`.
///
/// - Warning: not thread-safe; drive it from one event loop or task at a time.
public struct OverlayCore: ProtocolCore, Sendable {
    /// What the core reports.
    public typealias Event = OverlayEvent

    /// This peer's identity.
    public var localID: PeerID { identity.peerID }
    /// Where this peer receives overlay datagrams.
    public let localAddress: PeerAddress
    /// The validated configuration.
    public let configuration: OverlayConfiguration
    /// SWIM membership.
    public internal(set) var membership: MembershipCore
    /// Kademlia routing.
    public internal(set) var routing: RoutingCore
    /// Gossip, floods and echo.
    public internal(set) var spreading: SpreadingCore
    /// The hybrid topology's index client (and server, on an index server); nil in a
    /// pure overlay.
    public internal(set) var hybrid: HybridCore?
    /// The super-peer topology's election, leaf links and leaf index; nil in the other
    /// topologies.
    public internal(set) var superPeer: SuperPeerCore?
    /// Whether ``superPeer`` is set. Inside the overlay, read this and reach the core
    /// through ``withSuperPeerCore(_:)``: `superPeer != nil` and `superPeer?.…` reads
    /// copy the whole super-peer core, and they run after every input.
    private(set) var hasSuperPeer = false
    /// The super-peer core's ``SuperPeerCore/pollTimeout()`` as of the end of the last
    /// input (every input that changes the core ends in ``absorb(now:)``), so that
    /// ``pollTimeout()``, which cannot reach the core in place, does not copy it.
    var superPeerDeadline: Instant?
    /// This peer's network coordinate, the coordinates of others and the round trips
    /// measured to them: fed by membership's probes and by echoes
    /// (``OverlayCore+Distances``).
    public internal(set) var distances = PeerDistances()
    /// Overlay multicast groups (``OverlayCore+Groups``).
    public internal(set) var groups: GroupsCore
    /// Traffic and drop counters.
    public internal(set) var statistics = OverlayStatistics()
    /// The local peer's signed record, as routing hands it out.
    public internal(set) var localRecord: SignedPeerRecord

    let identity: IdentityKeyPair
    let envelope: OverlayEnvelope
    let wallClockAtZero: UnixTime
    var random: InjectedRandom
    var services: [String] = []
    var recordRenewalAt: Instant
    var latestNow: Instant
    var events = Deque<OverlayEvent>()
    /// A protocol message waiting for its envelope; reused.
    var message: [UInt8] = []
    /// Per-source and total limits on received datagrams.
    var rateLimits: OverlayRateLimits
    /// Nonces of the sealed datagrams accepted within the replay window.
    var replayCache: OverlayReplayCache
    /// Credit, proofs and held datagrams per remote address: no amplification.
    var addressValidation: AddressValidation
    /// Lookups the routing core runs for a topology lookup (hybrid or super-peer) the
    /// topology could not answer: routing's ID → the topology lookup's, with the
    /// topology's requests already spent.
    var fallbackLookups: [LookupID: (id: LookupID, requests: Int, timeouts: Int)] = [:]
    /// Whether the super-peer topology's spreading neighbours may be out of date: set
    /// when the super-peer core's ``SuperPeerCore/neighbourVersion`` moved (a role, a
    /// link, a held leaf or a known super-peer changed), at its timers (adverts age), and
    /// by news of members that are or could be neighbours, so that other inputs (most
    /// keepalives and adverts among them) do not pay for working them out again.
    var superPeerNeighboursStale = true
    /// The super-peer core's ``SuperPeerCore/neighbourVersion`` the neighbours were last
    /// worked out at.
    var appliedNeighbourVersion: UInt64 = 0
    /// The super-peer core's ``SuperPeerCore/superPeersVersion`` membership's preferred
    /// helpers were last set at (``preferSuperPeersAsHelpers(now:)``).
    var helpersVersion: UInt64?
    /// When membership's preferred helpers were last set.
    var helpersSetAt: Instant?
    /// Overlay names: the resolver cache, requests in progress, names published.
    var names = NameService()
    /// Whether the topology's authorities for names may have changed since routing last
    /// took them (``refreshNameAuthorities(now:)``): set by index server and role news,
    /// and when ``nameAuthoritiesVersion`` falls behind the super-peers known.
    var nameAuthoritiesStale = true
    /// The super-peer core's ``SuperPeerCore/superPeersVersion`` the authorities were
    /// last taken at.
    var nameAuthoritiesVersion: UInt64 = 0
    /// Routing lookups started by the overlay itself (provides during a fallback), whose
    /// results nobody waits for.
    var internalLookups: Set<LookupID> = []
    /// The peers reached only through a super-peer (``OverlayCore+Relays``).
    var relayRoutes = RelayRoutes()
    /// The addresses of members a relay route was set to since
    /// ``takeNewRelayRoutes()`` last ran (at most ``OverlayConstants/maximumRelayRoutes``).
    var newRelayRoutes: [PeerAddress] = []
    /// Relayed session datagrams for the session layer, with the origin's member address.
    var relayedWaiting = Deque<(payload: [UInt8], origin: PeerAddress)>()
    /// The topology's featured version (``SuperPeerCore/featuredVersion``,
    /// ``HybridCore/featuredVersion``, or in the pure topology the Kademlia table's
    /// ``RoutingTable/version``) membership last took.
    var featuredVersion: UInt64 = 0
    /// The featured version membership's partial view was last trimmed to, and when to
    /// trim it again (``followLeafView(now:)``).
    var retainedVersion: UInt64 = 0
    var nextRetainAt = Instant.zero
    /// The swarm's size as the Kademlia table estimates it, worked out again whenever the
    /// table's contacts change (a pure overlay with a ``OverlayConfiguration/pureViewThreshold``).
    var estimatedPeers = 1
    /// Whether this peer has looked itself up since its join was answered (ibid.).
    var hasLookedItselfUp = false
    /// When each member that left the Kademlia table did so, while membership still
    /// holds it (ibid.): it is forgotten ``OverlayConstants/pureViewGrace`` later.
    var departedContacts: [PeerID: Instant] = [:]

    /// Creates the overlay of one peer, alone until it joins.
    ///
    /// - Parameters:
    ///   - identity: this peer's key pair; it signs the local record.
    ///   - address: where this peer receives overlay datagrams, as announced to others.
    ///   - configuration: the swarm and the protocols' settings.
    ///   - wallClockAtZero: the wall-clock time at ``Instant/zero`` (records' expiry,
    ///     sealed datagrams' replay window).
    ///   - random: the source of every random choice; each protocol gets a generator
    ///     seeded from it, so one seed gives one run.
    ///   - claimVerifier: checks membership claims; share one among the peers of a
    ///     process, so that each claim is checked once for all of them.
    ///   - now: the current time.
    /// - Throws: ``OverlayConfigurationError`` for an invalid configuration.
    public init(
        identity: IdentityKeyPair, address: PeerAddress, configuration: OverlayConfiguration,
        wallClockAtZero: UnixTime, random: any RandomNumberGenerator & Sendable,
        claimVerifier: ClaimVerifier = ClaimVerifier(), now: Instant = .zero
    ) throws(OverlayConfigurationError) {
        try configuration.validate()
        var random = InjectedRandom(source: random)
        self.identity = identity
        self.localAddress = address
        self.configuration = configuration
        self.wallClockAtZero = wallClockAtZero
        self.envelope = OverlayEnvelope(swarmID: configuration.swarmID, swarmSecret: configuration.swarmSecret)
        do {
            membership = try MembershipCore(
                identity: identity, swarmID: configuration.swarmID, address: address,
                configuration: configuration.membership, claimVerifier: claimVerifier,
                random: ForkedRandom(seed: random.next()))
        } catch {
            throw .membership(error)
        }
        do {
            spreading = try SpreadingCore(
                identity: identity, swarmID: configuration.swarmID, configuration: configuration.spreading,
                random: ForkedRandom(seed: random.next()))
        } catch {
            throw .spreading(error)
        }
        localRecord = Self.signRecord(
            identity: identity, address: address, services: [], sequence: 1, at: wallClockAtZero + (now - .zero))
        routing = RoutingCore(
            identity: identity, record: localRecord, configuration: configuration.routing,
            wallClockAtZero: wallClockAtZero, random: ForkedRandom(seed: random.next()), now: now)
        self.random = random
        recordRenewalAt = now + (OverlayConstants.recordLifetime - OverlayConstants.recordRenewal)
        latestNow = now
        rateLimits = OverlayRateLimits(configuration)
        replayCache = OverlayReplayCache(capacity: configuration.replayCacheSize)
        let checkSeed = self.random.next()
        addressValidation = AddressValidation(
            checkSize: envelope.overhead + OverlayConstants.addressCheckMessageSize, seed: checkSeed)
        // Seeded from a value drawn already: one more draw would move every later random
        // choice of the overlay, so that a swarm without groups would run differently.
        groups = GroupsCore(
            localID: identity.peerID, localAddress: address, wallClock: wallClockAtZero + (now - .zero),
            seed: checkSeed ^ 0x6772_6F75_7073_0001, now: now)
        if case .hybrid(let hybridConfiguration) = configuration.topology {
            hybrid = HybridCore(
                configuration: hybridConfiguration, record: localRecord, address: address,
                wallClockAtZero: wallClockAtZero, seed: self.random.next())
            // Started at once: its first requests wait in its outbox for the driver's first
            // poll, and no deadline before `now` is ever reported (a driver would read one
            // as lateness).
            hybrid!.start(now: now)
            absorbHybrid(now: now)
        } else if case .superPeer(let superPeerConfiguration) = configuration.topology {
            do {
                superPeer = try SuperPeerCore(
                    record: localRecord, address: address, configuration: superPeerConfiguration,
                    wallClockAtZero: wallClockAtZero, random: ForkedRandom(seed: self.random.next()), now: now)
                hasSuperPeer = true
                superPeerDeadline = superPeer!.pollTimeout()
            } catch {
                throw .superPeer(error)
            }
            events.append(.topology(.role(configuration.topology.role)))
        } else {
            membership.featuredKind = .own
            events.append(.topology(.role(.peer)))
        }
    }

    // MARK: Getters

    /// Address checks and the datagrams held for them (no amplification), as
    /// ``AddressValidation`` counts them.
    public var admissionStatistics: OverlayAdmissionStatistics { addressValidation.statistics }

    /// The current spreading neighbours.
    public var neighbours: [PeerID: PeerAddress] { spreading.neighbours }

    /// The wall-clock time at `now`.
    public func wallClock(at now: Instant) -> UnixTime { wallClockAtZero + (now - .zero) }

    // MARK: Commands

    /// Joins the swarm through `seeds` (any members' overlay addresses); see
    /// ``MembershipCore/join(_:now:)``. Routing fills from the members it brings.
    public mutating func join(_ seeds: [PeerAddress], now: Instant) {
        let now = advance(now)
        membership.join(seeds.filter { $0 != localAddress }, now: now)
        absorb(now: now)
    }

    /// Leaves the swarm gracefully: members learn at once instead of by failure detection.
    public mutating func leave(now: Instant) {
        let now = advance(now)
        membership.leave(now: now)
        absorb(now: now)
    }

    /// Looks up `peer`'s signed record; reports ``LookupResult/Outcome/peer(_:)``.
    ///
    /// In a pure overlay the Kademlia overlay answers. In a hybrid one the index servers
    /// that hold the peer do, in one round trip. In a super-peer one the super-peers do:
    /// a leaf asks its attached super-peers and follows their referrals to the
    /// super-peer that holds the peer (iteratively, as DNS referrals), usually in one or
    /// two round trips (``SuperPeerCore/findPeer(_:now:)``).
    /// Whenever the topology cannot answer (no index server up, no attached super-peer,
    /// nobody had the record), the lookup goes on in the Kademlia overlay under the same
    /// ID, and its result counts the requests already spent.
    @discardableResult
    public mutating func findPeer(_ peer: PeerID, now: Instant) -> LookupID {
        let now = advance(now)
        defer { absorb(now: now) }
        if let id = hybrid?.findPeer(peer, now: now) ?? superPeer?.findPeer(peer, now: now) { return id }
        return routing.findPeer(peer, now: now)
    }

    /// Finds the providers of `service`; reports ``LookupResult/Outcome/providers(_:)``.
    ///
    /// Answered as ``findPeer(_:now:)`` is: by Kademlia, the index servers, or the
    /// super-peers — a leaf's attached super-peer refers it to every super-peer whose
    /// leaves' filters might hold the service, which are asked in parallel and whose
    /// verified records are merged — with the same Kademlia fallback.
    @discardableResult
    public mutating func findProviders(service: String, now: Instant) -> LookupID {
        let now = advance(now)
        defer { absorb(now: now) }
        if let id = hybrid?.findProviders(service: service, now: now)
            ?? superPeer?.findProviders(service: service, now: now)
        {
            return id
        }
        return routing.findProviders(service: service, now: now)
    }

    /// Announces this peer as a provider of `service`: the service joins the local
    /// record (signed again with the next sequence number) and the record is stored
    /// at the peers closest to the service (with the index servers that hold it, in a
    /// hybrid overlay; with the attached super-peers, in a super-peer one, or in Kademlia
    /// while none is attached); reports ``LookupResult/Outcome/provided(storedAt:)``.
    /// - Throws: ``RoutingError/invalidServiceName(_:)``, or
    ///   ``RoutingError/serviceNotInRecord(_:)`` when the record already lists the most
    ///   services it can hold.
    @discardableResult
    public mutating func provide(service: String, now: Instant) throws(RoutingError) -> LookupID {
        let now = advance(now)
        guard PeerRecord.isValidServiceName(service) else { throw .invalidServiceName(service) }
        if !services.contains(service), services.count < RecordConstants.maximumServices {
            services.append(service)
            renewRecord(now: now)
        }
        defer { absorb(now: now) }
        if let id = hybrid?.provide(service: service, now: now) ?? superPeer?.provide(service: service, now: now) {
            return id
        }
        return try routing.provide(service: service, now: now)
    }

    /// Spreads `payload` to every member by epidemic gossip.
    /// - Throws: ``SpreadingError/payloadTooLarge(size:maximum:)``.
    @discardableResult
    public mutating func broadcast(_ payload: [UInt8], now: Instant) throws(SpreadingError) -> SpreadingID {
        let now = advance(now)
        defer { absorb(now: now) }
        return try spreading.broadcast(payload, now: now)
    }

    /// Floods a query to the peers within `ttl` neighbour hops; see
    /// ``SpreadingCore/query(_:ttl:wantsNotices:now:)``; with `wantsNotices`, the peers
    /// where it stops report back (TTL exceeded, unreachable).
    @discardableResult
    public mutating func query(_ payload: [UInt8], ttl: Int? = nil, wantsNotices: Bool = false, now: Instant)
        throws(SpreadingError) -> SpreadingID
    {
        let now = advance(now)
        defer { absorb(now: now) }
        return try spreading.query(payload, ttl: ttl, wantsNotices: wantsNotices, now: now)
    }

    /// Answers a query along its reverse path; see ``SpreadingCore/answer(_:payload:now:)``.
    public mutating func answer(_ id: SpreadingID, payload: [UInt8], now: Instant) throws(SpreadingError) {
        let now = advance(now)
        defer { absorb(now: now) }
        try spreading.answer(id, payload: payload, now: now)
    }

    /// Sends an echo request to `peer`, a member; the reply's round trip feeds the RTT
    /// estimate. Members that are not spreading neighbours are echoed too.
    /// - Throws: ``SpreadingError/unknownPeer(_:)`` when `peer` is not an alive member.
    @discardableResult
    public mutating func sendEcho(to peer: PeerID, now: Instant) throws(SpreadingError) -> UInt32 {
        let now = advance(now)
        defer { absorb(now: now) }
        if spreading.neighbours[peer] == nil {
            guard let member = membership.member(peer), member.state == .alive else { throw .unknownPeer(peer) }
            // Widened for the echo alone; filters and position kept (super-peer topology).
            var widened = spreading.neighbours.map { id, address in
                (id, SpreadingNeighbour(address: address, queryFilter: spreading.queryFilters[id]))
            }
            widened.append((peer, SpreadingNeighbour(address: member.address)))
            spreading.setNeighbours(Dictionary(uniqueKeysWithValues: widened), position: spreading.position)
            defer { refillNeighbours(dropping: peer) }
            return try spreading.sendEcho(to: peer, now: now)
        }
        return try spreading.sendEcho(to: peer, now: now)
    }

    // MARK: ProtocolCore

    /// Feeds one overlay datagram: it passes the rate limits and (sealed) the replay
    /// cache, is opened, credited to its source's address, and handed to its protocol.
    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        let now = advance(now)
        guard let opened = admitReceived(datagram, from: source, now: now) else { return }
        statistics.received[opened.protocolKind, default: 0] += 1
        switch opened.protocolKind {
        case .membership: membership.handleMessage(opened.message, from: source, now: now)
        case .routing: routing.handleMessage(opened.message, from: source, now: now)
        case .spreading: spreading.handleMessage(opened.message, from: source, now: now)
        case .index:
            guard hybrid != nil else {
                statistics.drops[.unknownProtocol, default: 0] += 1
                return
            }
            hybrid!.handleMessage(opened.message, from: source, now: now)
        case .superPeer:
            guard hasSuperPeer else {
                statistics.drops[.unknownProtocol, default: 0] += 1
                return
            }
            superPeer!.handleMessage(opened.message, from: source, now: now)
        case .addressCheck:
            handleAddressCheck(opened.message, from: source, now: now)
            return
        case .group:
            handleGroupMessage(opened.message, from: source, viaLAN: false, now: now)
        }
        absorb(now: now)
    }

    /// Runs whatever is due in the three protocols, and renews the local record.
    public mutating func handleTimeout(now: Instant) {
        let now = advance(now)
        if let due = membership.pollTimeout(), due <= now {
            preferSuperPeersAsHelpers(now: now)
            membership.handleTimeout(now: now)
        }
        if let due = routing.pollTimeout(), due <= now { routing.handleTimeout(now: now) }
        if let due = spreading.pollTimeout(), due <= now { spreading.handleTimeout(now: now) }
        if let due = hybrid?.pollTimeout(), due <= now {
            hybrid!.handleTimeout(now: now)
            // A lost fellow's records go to the others all at once: keep them proven.
            for address in hybrid!.upFellowAddresses { addressValidation.proveAhead(address, now: now) }
        }
        if let due = withSuperPeerCore({ $0.pollTimeout() }) ?? nil, due <= now {
            superPeer!.handleTimeout(now: now)
            superPeerNeighboursStale = true
        }
        if let due = groups.pollTimeout(), due <= now { groups.handleTimeout(now: now) }
        if recordRenewalAt <= now { renewRecord(now: now) }
        if let due = names.nextRepublish, due <= now { republishNames(now: now) }
        if let due = addressValidation.nextDeadline, due <= now {
            addressValidation.expireHeld(now: now)
        }
        absorb(now: now)
    }

    /// Writes the next overlay datagram into `buffer`: address checks and datagrams
    /// released by them first, then membership's (failure detection is the most
    /// time-sensitive), then routing's, then spreading's. A datagram to an address that
    /// has not proved it receives goes out only within what that address sent (see
    /// ``AddressValidation``); otherwise it is held for an address check.
    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        let now = advance(now)
        while true {
            if let destination = pollAdmissionTransmit(now: now, into: &buffer) { return destination }
            let kind: OverlayProtocol
            let destination: PeerAddress
            if let to = membership.pollTransmit(now: now, into: &message) {
                (kind, destination) = (.membership, to)
            } else if let to = routing.pollTransmit(now: now, into: &message) {
                (kind, destination) = (.routing, to)
            } else if hybrid != nil, let to = hybrid!.pollTransmit(now: now, into: &message) {
                (kind, destination) = (.index, to)
            } else if hasSuperPeer, let to = superPeer!.pollTransmit(now: now, into: &message) {
                (kind, destination) = (.superPeer, to)
            } else if let to = groups.pollTransmit(now: now, into: &message) {
                (kind, destination) = (.group, to)
            } else if let to = spreading.pollTransmit(now: now, into: &message) {
                (kind, destination) = (.spreading, to)
            } else {
                return nil
            }
            guard message.count <= OverlayConstants.maximumMessageSize else {
                statistics.oversized += 1
                continue
            }
            envelope.encode(kind, message, sentAt: wallClock(at: now), into: &buffer, using: &random)
            guard admitToSend(buffer, kind: kind, to: destination, now: now) else { continue }
            statistics.sent[kind, default: 0] += 1
            statistics.sentBytes[kind, default: 0] += buffer.count
            return destination
        }
    }

    /// The earliest deadline of the three protocols and the record renewal.
    public func pollTimeout() -> Instant? {
        var earliest = recordRenewalAt
        if let deadline = membership.pollTimeout(), deadline < earliest { earliest = deadline }
        if let deadline = routing.pollTimeout(), deadline < earliest { earliest = deadline }
        if let deadline = spreading.pollTimeout(), deadline < earliest { earliest = deadline }
        if let deadline = hybrid?.pollTimeout(), deadline < earliest { earliest = deadline }
        if let deadline = superPeerDeadline, deadline < earliest { earliest = deadline }
        if let deadline = groups.pollTimeout(), deadline < earliest { earliest = deadline }
        if let deadline = addressValidation.nextDeadline, deadline < earliest { earliest = deadline }
        if let deadline = names.nextRepublish, deadline < earliest { earliest = deadline }
        return earliest
    }

    /// Passes the driver's lateness report to membership, whose failure detector must
    /// not blame others for this peer's own delays.
    public mutating func noteLoad(_ load: DriverLoad, now: Instant) {
        let now = advance(now)
        membership.noteLoad(load, now: now)
        absorb(now: now)
    }

    /// The next event, oldest first.
    public mutating func pollEvent() -> OverlayEvent? { events.popFirst() }

    // MARK: Joining the protocols up

    /// Clamps `now` to the latest time seen.
    mutating func advance(_ now: Instant) -> Instant {
        if now > latestNow { latestNow = now }
        return latestNow
    }

    /// Calls `body` with the super-peer core in place, if there is one (see
    /// ``hasSuperPeer``).
    mutating func withSuperPeerCore<Result>(_ body: (inout SuperPeerCore) -> Result) -> Result? {
        guard hasSuperPeer else { return nil }
        return body(&superPeer!)
    }

    /// Takes every protocol's events, acts on membership's, and reports them all.
    mutating func absorb(now: Instant) {
        followLeafView(now: now)
        while let event = membership.pollEvent() {
            // Most members are nobody's neighbour in the super-peer topology: news of them
            // leaves the neighbours as they are (asked before the news is applied).
            if withSuperPeerCore({ $0.affectsNeighbours(event.member.id) }) ?? false {
                superPeerNeighboursStale = true
            }
            switch event {
            case .joined(let member), .aliveAgain(let member), .addressChanged(let member, _):
                routing.markAlive(peer: member.id, address: member.address, now: now)
                admitNeighbour(member)
                hybrid?.memberAlive(member.id, address: member.address, now: now)
                superPeer?.memberAlive(id: member.id, address: member.address, now: now)
            case .forgotten(let member) where member.state.isLive && !hasSuperPeer:
                // A partial view outside the super-peer topology (a hybrid client's, a
                // pure peer's) forgets members that are alive: the Kademlia table and the
                // spreading neighbours keep the ones they have, and routing finds out the
                // ones that fail. (A failed member forgotten after its retention goes as
                // before; a leaf's forgotten members go with the super-peer roles.)
                relayRoutes.remove(peer: member.id)
                distances.forget(member.id)
            case .failed(let member), .left(let member), .forgotten(let member):
                routing.markFailed(peer: member.id, now: now)
                refillNeighbours(dropping: member.id)
                if case .left = event {
                    hybrid?.memberGone(member.id, left: true, now: now)
                } else {
                    hybrid?.memberGone(member.id, left: false, now: now)
                }
                superPeer?.memberGone(id: member.id, now: now)
                relayRoutes.remove(peer: member.id)
                distances.forget(member.id)
                groups.peerGone(member.id, now: now)
            case .suspected(let member):
                hybrid?.memberSuspected(member.id, now: now)
                // A leaf moves off a suspected super-peer at once (it attaches back, or
                // elsewhere, if the suspicion is refuted); a super-peer keeps a suspected
                // leaf until membership declares it failed.
                if withSuperPeerCore({ $0.role == .leaf && $0.attachedSuperPeers.contains(member.id) }) ?? false {
                    superPeer!.memberGone(id: member.id, now: now)
                }
            }
            events.append(.membership(event))
        }
        addressValidation.track(members: membership.liveCount)
        takeRoundTrips(now: now)
        // Membership is the source of liveness: a member routing dropped for slow
        // answers, but that membership still finds alive, goes back in.
        for peer in routing.takeTimeoutEvictions() {
            if let member = membership.member(peer), member.state == .alive {
                routing.markAlive(peer: peer, address: member.address, now: now)
            } else if membership.view == .partial, spreading.neighbours[peer] != nil {
                // A neighbour a partial view does not hold: routing is all that tells.
                refillNeighbours(dropping: peer)
            }
        }
        absorbHybrid(now: now)
        absorbSuperPeer(now: now)
        if let version = withSuperPeerCore(\.superPeersVersion), version != nameAuthoritiesVersion {
            nameAuthoritiesVersion = version
            nameAuthoritiesStale = true
        }
        if nameAuthoritiesStale {
            nameAuthoritiesStale = false
            refreshNameAuthorities(now: now)
        }
        updateRelayRoutes()
        if let version = withSuperPeerCore(\.neighbourVersion), version != appliedNeighbourVersion {
            appliedNeighbourVersion = version
            superPeerNeighboursStale = true
        }
        if superPeerNeighboursStale {
            superPeerNeighboursStale = false
            refreshSuperPeerNeighbours()
        }
        superPeerDeadline = withSuperPeerCore { $0.pollTimeout() } ?? nil
        while let event = routing.pollEvent() {
            if case .lookupFinished(let id, let result) = event, nameLookupFinished(id, result, now: now) { continue }
            absorbRouting(event)
        }
        absorbGroups(now: now)
        while let event = spreading.pollEvent() {
            if case .echoReply(let peer, _, let rtt) = event {
                observeRoundTrip(rtt, of: peer, coordinate: nil, now: now)
            }
            events.append(.spreading(event))
        }
    }

    /// Makes `member` a neighbour while there is room, or in place of a random
    /// neighbour with probability `neighbourCount / alive members` (reservoir sampling).
    /// Where the super-peer roles decide the neighbours, ``absorb(now:)`` marks them
    /// stale instead when the news concerns them.
    mutating func admitNeighbour(_ member: Member) {
        guard !neighboursFollowRoles else { return }
        var current = spreading.neighbours
        if current[member.id] != nil {
            current[member.id] = member.address
        } else if current.count < configuration.neighbourCount {
            current[member.id] = member.address
        } else {
            let alive = max(1, membership.aliveCount)
            guard Int.random(in: 0..<alive, using: &random) < configuration.neighbourCount else { return }
            let order = current.keys.sorted()
            current[order[Int.random(in: 0..<order.count, using: &random)]] = nil
            current[member.id] = member.address
        }
        spreading.setNeighbours(current)
    }

    /// Removes `peer` from the neighbours (if there) and fills up from random alive members.
    mutating func refillNeighbours(dropping peer: PeerID) {
        guard !neighboursFollowRoles else {
            superPeerNeighboursStale = true
            return
        }
        var current = spreading.neighbours
        current[peer] = nil
        if current.count < configuration.neighbourCount {
            var candidates = membership.members.filter { $0.state == .alive && current[$0.id] == nil }.map {
                RoutingContact(peerID: $0.id, address: $0.address)
            }
            // A partial view (a hybrid client's: the index servers; a pure peer's: its
            // Kademlia contacts) holds few members: the Kademlia table samples the rest
            // of the swarm.
            if membership.view == .partial {
                let held = Set(candidates.map(\.peerID))
                candidates += routing.table.contacts.filter {
                    current[$0.peerID] == nil && $0.peerID != peer && !held.contains($0.peerID)
                }
            }
            for contact in candidates.shuffled(using: &random).prefix(configuration.neighbourCount - current.count) {
                current[contact.peerID] = contact.address
            }
        }
        spreading.setNeighbours(current)
    }

    /// Signs the local record again with the next sequence number and current services.
    mutating func renewRecord(now: Instant) {
        localRecord = Self.signRecord(
            identity: identity, address: localAddress, services: services,
            sequence: localRecord.record.sequence + 1, at: wallClock(at: now))
        routing.updateLocalRecord(localRecord)
        hybrid?.updateLocalRecord(localRecord, now: now)
        superPeer?.updateLocalRecord(localRecord, now: now)
        recordRenewalAt = now + (OverlayConstants.recordLifetime - OverlayConstants.recordRenewal)
    }

    /// The record of `identity` at `address` listing `services`, signed.
    static func signRecord(
        identity: IdentityKeyPair, address: PeerAddress, services: [String], sequence: UInt64, at time: UnixTime
    ) -> SignedPeerRecord {
        let record = PeerRecord(
            peerID: identity.peerID, sequence: sequence, expiresAt: time + OverlayConstants.recordLifetime,
            addresses: [address], services: services)
        // Valid by construction: one address, checked service names, a lifetime in range.
        return try! record.sign(with: identity)
    }
}

/// A generator seeded from another: SplitMix64. Gives each protocol of an overlay its
/// own stream from one source, so one seed still gives one run. Not for secrets.
struct ForkedRandom: RandomNumberGenerator, Sendable {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
