internal import DequeModule

/// The sans-I/O super-peer protocol of one peer: election, leaf links, the leaf index
/// and relays.
///
/// ### Purpose
/// Super-peers are elected by capacity, uptime and reachability when the swarm needs
/// more of them (Gnutella 0.6 ultrapeers, Skype supernodes); leaves keep links to
/// ``SuperPeerConfiguration/superPeersPerLeaf`` super-peers and fail over; super-peers
/// hold their leaves' signed records and query routing filters, answer for them
/// (``proxyLookup(peer:)``, ``providers(service:)``, as a gateway answers ARP), route
/// queries only to leaves and super-peers whose filters might match
/// (``leavesMatching(queryKeywords:)``, ``superPeersMatching(queryKeywords:)``), and
/// relay payloads to leaves others cannot reach.
///
/// ### Rules
/// - **Knowledge.** The overlay feeds membership: ``memberAlive(id:address:now:)`` and
///   ``memberGone(id:now:)``; every peer knows every alive member, so `N` is known
///   everywhere. Super-peers are known from adverts (``SuperPeerAdvert``): a peer that
///   promotes or demotes announces it to every member (at most
///   ``SuperPeerConstants/maximumAnnouncements``, a random sample beyond); every advert
///   interval each super-peer sends its advert, with up to 16 others it knows, to the
///   other super-peers, to ``SuperPeerConfiguration/advertFanout`` random members and to
///   a share of its leaves (each every ``SuperPeerConstants/leafAdvertRounds`` rounds),
///   and to each member that joins. Only adverts of alive members are
///   kept, the newest `(roleEpoch, sequence)` wins (but the owner's own advert beats
///   any passed on by others), one that stopped rising for
///   ``SuperPeerConstants/advertLifetimeIntervals`` intervals is forgotten, and a
///   member's failure forgets it at once. A leaf counts the super-peers it knows or, if
///   more, the count its own super-peers advertise (they hear from every other directly).
/// - **Election.** Every jittered ``SuperPeerConfiguration/electionInterval`` a peer
///   applies ``SuperPeerElection``: an eligible leaf (policy `.automatic`, directly
///   reachable, up at least ``SuperPeerConfiguration/minimumUptime``, role held at least
///   ``SuperPeerConfiguration/minimumRoleHold``) promotes with a probability that fills
///   half the shortage per round, weighted by its score against the known super-peers'
///   median and raised (up to 3×) while the shortage persists; a super-peer among the
///   weakest of too many demotes (lowest score, then fewest leaves, then lowest ID: an
///   order all super-peers compute alike). A super-peer that holds a leaf whose
///   ``candidacy`` (carried by its keepalives) is more than twice its own score offers
///   it the role (``successor``), with chance ``SuperPeerConstants/handoverChance`` per
///   round; the leaf, if it can be elected, promotes and answers with a handover detach,
///   on which the super-peer demotes. A forced role wins. A promoted peer detaches from
///   its super-peers; a demoted one detaches its leaves, which attach elsewhere.
/// - **Leaves.** A leaf attaches (its signed record and filter) to super-peers chosen at
///   random with weight their advertised free slots; it keeps a keepalive going every
///   third of the lease; it drops a link when membership reports the super-peer gone,
///   when it withdraws or detaches, when it refuses, or when it stops answering
///   (``SuperPeerConstants/keepalivesMissedBeforeDown`` keepalives in a row unanswered
///   within an RTT-based reply timeout), and attaches elsewhere at once, first to
///   super-peers whose adverts still rise. A leaf whose super-peer holds more than
///   `(1 + margin)` times its fair share moves, with a probability that moves the
///   excess, to the least loaded super-peer below the fair share.
/// - **Super-peers.** A super-peer verifies each attach's record, holds at most
///   ``SuperPeerConfiguration/maximumLeaves`` leaves (refusing with alternatives beyond),
///   forgets a leaf whose lease runs out, and sends the other super-peers the union of
///   its leaves' filters each advert round when it changed, every
///   ``SuperPeerConstants/unionFilterRefreshRounds`` rounds when it did not (a lost one
///   is mended), and to a super-peer it newly learns of at once. It takes a union filter
///   only from its sender's member address, and holds one that overtook its sender's
///   advert until the advert arrives.
/// - **Lookups.** Iterative, as DNS referrals: a super-peer answers a
///   ``SuperPeerMessage/lookup(request:asker:target:)`` from an alive member (at its
///   member address only: a reply may be larger than the request) with the matching
///   records it holds, as their owners signed them, and referrals to the other
///   super-peers whose union filters might match, within
///   ``SuperPeerConstants/maximumMessageSize``. The asker — a leaf starting at its
///   attached super-peers, a super-peer at its own answer — follows referrals: a peer
///   lookup one super-peer at a time until a record verifies, a service lookup up to
///   ``SuperPeerConstants/lookupParallelism`` at once, merging verified providers. Each
///   request waits for the RFC 6298 RTO of that super-peer's measured round trips
///   (``SuperPeerConstants/minimumLookupTimeout`` to
///   ``SuperPeerConstants/maximumLookupTimeout``). What no super-peer answers is handed
///   back for the Kademlia overlay (``SuperPeerEvent/fallback(_:_:requests:timeouts:)``).
///
/// ### Wiring into the overlay
/// The overlay carries these messages under its protocol byte 0x06 and feeds membership:
/// a member that joins, comes back or changes address → ``memberAlive(id:address:now:)``;
/// one that fails or leaves → ``memberGone(id:now:)``; every renewal of the local record
/// → ``updateLocalRecord(_:now:)``. For a query it forwards to
/// ``leavesMatching(queryKeywords:)`` and ``superPeersMatching(queryKeywords:)`` instead
/// of flooding. Its `findPeer`, `findProviders` and `provide` go to ``findPeer(_:now:)``,
/// ``findProviders(service:now:)`` and ``provide(service:now:)`` first (their lookup IDs
/// carry bit 62, ``lookupIDBase``, apart from routing's and the hybrid topology's); a nil
/// ID (not attached, or too many lookups) sends the command to Kademlia at once, and a
/// ``SuperPeerEvent/fallback(_:_:requests:timeouts:)`` event continues it there under
/// the same ID; ``SuperPeerEvent/lookupFinished(_:_:)`` is reported as routing's
/// lookups are. Super-peers answer from ``proxyLookup(peer:)`` and
/// ``providers(service:)`` (records pass on as their owners signed them; the asker
/// verifies them). A peer that others cannot reach directly (another subnet, a NAT)
/// is reached with ``relay(_:to:via:now:)``: a super-peer forwards to a leaf it holds at
/// the address its keepalives come from (which they hold open), and from a member that
/// sends the relay itself to any other alive member.
///
/// ### Driving
/// - Getters: ``localID``, ``role``, ``statistics``, ``score``, ``candidacy``, ``successor``,
///   ``superPeerCount``,
///   ``knownSuperPeers``, ``attachedSuperPeers``, ``leaves``, ``proxyLookup(peer:)``,
///   ``leafAddress(of:)``, ``providers(service:)``, ``leavesMatching(queryKeywords:)``,
///   ``superPeersMatching(queryKeywords:)``, ``leafUnionFilter``, ``localFilter``,
///   ``localRecord``, ``aliveMembers``, ``runningLookups``.
/// - Inputs: ``handleMessage(_:from:now:)`` (or ``handleDatagram(_:from:now:)``),
///   ``handleTimeout(now:)``, ``memberAlive(id:address:now:)``, ``memberGone(id:now:)``.
/// - Commands: ``updateLocalRecord(_:now:)``, ``setKeywords(_:now:)``,
///   ``relay(_:to:via:now:)``, ``findPeer(_:now:)``, ``findProviders(service:now:)``,
///   ``provide(service:now:)``, ``cancelLookup(_:)``.
/// - Outputs, polled in this order after every input: ``pollTransmit(now:into:)`` until
///   `nil` (message bytes for the overlay's protocol byte 0x06, no envelope), then
///   ``pollTimeout()`` (lookup timeouts included), then ``pollEvent()`` until `nil`
///   (lookup results and fallbacks among the events).
///
/// `now` must never go backwards; an earlier `now` is treated as the latest seen.
/// Malformed input is dropped and counted in ``statistics``; it never traps.
///
/// - Warning: not thread-safe; drive it from one task or event loop at a time.
public struct SuperPeerCore: ProtocolCore, Sendable {
    /// What the core reports.
    public typealias Event = SuperPeerEvent

    /// This peer's identity.
    public var localID: PeerID { localRecord.record.peerID }
    /// Where this peer receives overlay datagrams.
    public let localAddress: PeerAddress
    /// The validated configuration.
    public let configuration: SuperPeerConfiguration
    /// This peer's role now.
    public internal(set) var role: SuperPeerRole = .leaf
    /// Traffic, decisions and refusals.
    public internal(set) var statistics = SuperPeerStatistics()
    /// This peer's signed record, as it attaches with it.
    public internal(set) var localRecord: SignedPeerRecord
    /// This peer's filter: its ID, services and keywords.
    public internal(set) var localFilter: QueryRoutingFilter {
        didSet { unionFilter = nil }
    }

    let wallClockAtZero: UnixTime
    var random: InjectedRandom
    var keywords: [String] = []
    let startedAt: Instant
    var roleChangedAt: Instant
    var roleEpoch: UInt32 = 0
    var hasChangedRole = false
    /// Consecutive election rounds in which this leaf found the swarm short of super-peers.
    var shortageRounds = 0
    /// The leaf this super-peer last offered its role to (``handOverIfOutclassed(now:)``),
    /// until it accepts or the next election round.
    var handoverOfferedTo: PeerID?
    var advertSequence: UInt32 = 0
    /// Advert rounds run as a super-peer: which share of the leaves this round's advert
    /// goes to.
    var advertRounds = 0
    var latestNow: Instant
    /// Alive members, itself excluded, with an index for random picks.
    var memberAddresses: [PeerID: PeerAddress] = [:]
    var memberOrder: [PeerID] = []
    var memberIndex: [PeerID: Int] = [:]
    var known: [PeerID: KnownSuperPeer] = [:]
    var links: [PeerID: SuperPeerLink] = [:]
    var refusedUntil: [PeerID: Instant] = [:]
    /// When this leaf last attached to a full super-peer to learn of others
    /// (``fillLinks(now:)``).
    var askedFullSuperPeerAt: Instant?
    var held: [PeerID: HeldLeaf] = [:] {
        didSet { unionFilter = nil }
    }
    /// ``leafUnionFilter`` while neither ``held`` nor ``localFilter`` changes
    /// (``currentUnionFilter()``).
    var unionFilter: QueryRoutingFilter?
    var unionChanged = false
    /// Union filters of members whose advert as a super-peer has not arrived yet
    /// (``takeUnionFilter(_:of:from:)``).
    var waitingFilters: [PeerID: QueryRoutingFilter] = [:]
    /// Adverts of super-peers that were not members here yet, kept while this peer is a
    /// leaf on no super-peer (at most ``SuperPeerConstants/maximumAdvertsAwaitingMembers``)
    /// and taken when membership reports the member alive at the advert's address: the
    /// pull they trigger (``heardOfUnheldSuperPeer``) brings the members, and a leaf that
    /// waited for the next adverts instead knew no super-peer for seconds. Each with when
    /// it arrived, which its age counts from.
    var advertsAwaitingMembers: [PeerID: (advert: SuperPeerAdvert, heardAt: Instant)] = [:]
    /// Whether membership has held a member's whole list
    /// (``MembershipCore/hasHeldFullState``), as the overlay last said: until then the
    /// members this peer holds may be a sample of the swarm, and its election counts
    /// the super-peers they need as a fraction (``runElection(now:)``).
    public var membershipHeldFullState = false
    /// The super-peers this peer knows (fresh adverts and links), as of the last
    /// maintenance: the members a leaf's partial membership view holds.
    public internal(set) var featuredMembers: Set<PeerID> = []
    /// Raised whenever ``featuredMembers`` changes.
    public internal(set) var featuredVersion: UInt64 = 0
    /// Whether this peer should hold only the super-peers in its membership view (see
    /// ``SuperPeerConfiguration/leafViewThreshold``), as of the last maintenance.
    public internal(set) var prefersPartialView = false
    /// Set when an advert of a super-peer that is not a member here arrived at a leaf with
    /// a partial view or on no super-peer, or at a super-peer: it should pull the super-peers
    /// (``takeHeardOfUnheldSuperPeer()``).
    var heardOfUnheldSuperPeer = false
    /// Raised whenever something that decides spreading's neighbours here changes: the
    /// role, a leaf held (or its address or filter), a link attached or gone, a super-peer
    /// known or forgotten. The overlay recomputes its neighbours only then (and at
    /// timeouts, when adverts age), not after every keepalive and advert.
    public internal(set) var neighbourVersion: UInt64 = 0
    /// Raised whenever the super-peers known change (one learned, forgotten, withdrawn or
    /// fresh again); each such change raises ``neighbourVersion`` as well.
    public internal(set) var superPeersVersion: UInt64 = 0
    /// The advert a new member is welcomed with, kept while it is current
    /// (``welcomeAdvert(now:)``).
    var welcome: (version: UInt64, leaves: Int, until: Instant, message: SuperPeerMessage)?
    var nextElectionAt: Instant
    var nextAdvertAt: Instant?
    var nextMaintenanceAt: Instant
    var outbox = DatagramOutbox()
    /// Lookups running, at most ``SuperPeerConstants/maximumLookups``.
    var lookups: [LookupID: SuperPeerLookup] = [:]
    /// Lookup requests awaiting a reply (at most parallelism × lookups).
    var lookupRequests: [UInt32: SuperPeerLookupRequest] = [:]
    /// Measured lookup round trips per super-peer.
    var lookupRoundTrips: [PeerID: RTTEstimate] = [:]
    var nextLookup: UInt64 = 0
    var nextLookupRequest: UInt32 = 0
    var events = Deque<SuperPeerEvent>()

    /// Creates the super-peer protocol of one peer, a leaf (or, with
    /// ``SuperPeerRolePolicy/alwaysSuperPeer``, a super-peer at its first input).
    ///
    /// - Parameters:
    ///   - record: this peer's signed record (its peer ID is this peer's).
    ///   - address: where this peer receives overlay datagrams.
    ///   - configuration: the tunables.
    ///   - wallClockAtZero: the wall-clock time at ``Instant/zero`` (records' expiry).
    ///   - random: the source of every random choice.
    ///   - now: the current time: uptime counts from it.
    /// - Throws: ``SuperPeerConfigurationError`` for an invalid configuration.
    public init(
        record: SignedPeerRecord, address: PeerAddress, configuration: SuperPeerConfiguration = .lan,
        wallClockAtZero: UnixTime, random: any RandomNumberGenerator & Sendable, now: Instant = .zero
    ) throws(SuperPeerConfigurationError) {
        try configuration.validate()
        self.localRecord = record
        self.localAddress = address
        self.configuration = configuration
        self.wallClockAtZero = wallClockAtZero
        self.random = InjectedRandom(source: random)
        self.localFilter = configuration.emptyFilter
        startedAt = now
        roleChangedAt = now
        latestNow = now
        nextElectionAt = now
        nextMaintenanceAt = now + configuration.attachTimeout
        keywords = Array(configuration.searchKeywords.prefix(SuperPeerConstants.maximumKeywords))
        rebuildLocalFilter()
        nextElectionAt = now + jittered(configuration.electionInterval)
    }

    // MARK: Getters

    /// The alive members this core knows, itself excluded.
    public var aliveMembers: Int { memberOrder.count }

    /// The super-peers this peer knows of (itself excluded), newest adverts, by ID.
    public var knownSuperPeers: [SuperPeerAdvert] {
        known.values.filter(isFreshSuperPeer).map(\.advert).sorted { $0.id < $1.id }
    }

    /// The IDs of ``knownSuperPeers``, in order.
    public var knownSuperPeerIDs: [PeerID] {
        known.compactMap { isFreshSuperPeer($0.value) ? $0.key : nil }.sorted()
    }

    /// The member address of `id` when it is a super-peer this peer knows (a fresh advert
    /// or a link) and an alive member.
    public func superPeerAddress(of id: PeerID) -> PeerAddress? {
        guard let address = memberAddresses[id] else { return nil }
        if links[id]?.isAttached == true { return address }
        guard let entry = known[id], entry.advert.isSuperPeer, isFresh(entry) else { return nil }
        return address
    }

    /// The super-peer this peer knows whose member address is `address`, if any.
    public func superPeer(at address: PeerAddress) -> PeerID? {
        if let link = links.first(where: { $0.value.isAttached && $0.value.address == address }) { return link.key }
        return known.first { superPeerAddress(of: $0.key) == address }?.key
    }

    /// The super-peers that hold this leaf (accepted attaches), by ID.
    public var attachedSuperPeers: [PeerID] { links.filter { $0.value.isAttached }.keys.sorted() }

    /// The leaves this super-peer holds, by ID.
    public var leaves: [PeerID] { held.keys.sorted() }

    /// A held leaf's signed record, to answer "who has `peer`" for it (proxy ARP).
    public func proxyLookup(peer: PeerID) -> SignedPeerRecord? { held[peer]?.record }

    /// Where a held leaf's messages come from: where to relay to it.
    public func leafAddress(of peer: PeerID) -> PeerAddress? { held[peer]?.address }

    /// The records of the held leaves that provide `service`, by leaf ID.
    public func providers(service: String) -> [SignedPeerRecord] {
        held.values.filter { $0.record.record.services.contains(service) }.map(\.record)
            .sorted { $0.record.peerID < $1.record.peerID }
    }

    /// The held leaves whose filters might match a query with `queryKeywords` (see
    /// ``QueryRoutingFilter/keywords(ofQuery:)``): the only leaves to forward it to.
    public func leavesMatching(queryKeywords: [String]) -> [PeerID] {
        held.filter { $0.value.filter.mightMatch(queryKeywords: queryKeywords) }.keys.sorted()
    }

    /// The other super-peers to route a query with `queryKeywords` to: those whose
    /// leaves' union filter might match, and those that have sent none yet.
    public func superPeersMatching(queryKeywords: [String]) -> [PeerID] {
        known.filter { entry in
            isFreshSuperPeer(entry.value)
                && (entry.value.filter?.mightMatch(queryKeywords: queryKeywords) ?? true)
        }.keys.sorted()
    }

    /// The union of the held leaves' filters (this peer's own included).
    /// ``leafUnionFilter``, worked out again only after ``held`` or ``localFilter``
    /// changed: it is sent to every super-peer learned of, and in a large swarm that is
    /// hundreds within seconds.
    mutating func currentUnionFilter() -> QueryRoutingFilter {
        if let unionFilter { return unionFilter }
        let filter = leafUnionFilter
        unionFilter = filter
        return filter
    }

    /// Marks a change of the super-peers known (``superPeersVersion``).
    mutating func superPeersChanged() {
        superPeersVersion &+= 1
        neighbourVersion &+= 1
    }

    public var leafUnionFilter: QueryRoutingFilter {
        held.values.reduce(localFilter) { $0.union($1.filter) ?? $0 }
    }

    /// This peer's election score now.
    public var score: UInt32 {
        SuperPeerElection.score(
            capacity: configuration.capacity, uptime: latestNow - startedAt,
            isReachable: configuration.isDirectlyReachable || configuration.rolePolicy == .alwaysSuperPeer)
    }

    /// The super-peers this peer counts, itself included when it is one.
    public var superPeerCount: Int {
        known.values.count(where: isFreshSuperPeer) + (role == .superPeer ? 1 : 0)
    }

    // MARK: Inputs

    /// Feeds one received super-peer message (the overlay's protocol 0x06 payload).
    ///
    /// - Parameters:
    ///   - bytes: the message, exactly.
    ///   - source: where it came from; answers go back there.
    ///   - now: the current time.
    public mutating func handleMessage(_ bytes: ArraySlice<UInt8>, from source: PeerAddress, now: Instant) {
        let now = advance(now)
        let message: SuperPeerMessage
        do {
            message = try SuperPeerMessage.decode(bytes)
        } catch {
            statistics.malformedDropped += 1
            statistics.lastDecodeError = error
            return
        }
        statistics.messagesReceived += 1
        switch message {
        case .advert(let sender, let others):
            learn(sender, firstHand: memberAddresses[sender.id] == source, now: now)
            for advert in others { learn(advert, firstHand: false, now: now) }
        case .attach(let record, let filter):
            handleAttach(record: record, filter: filter, from: source, requestSize: bytes.count, now: now)
        case .attachReply(let sender, let refusal, let alternatives):
            handleAttachReply(from: sender, at: source, refusal: refusal, alternatives: alternatives, now: now)
        case .filterUpdate(let leaf, let filter):
            guard var entry = held[leaf], entry.address == source else {
                statistics.unexpectedMessages += 1
                return
            }
            if entry.filter != filter { neighbourVersion &+= 1 }
            entry.filter = filter
            entry.lastHeard = now
            held[leaf] = entry
            unionChanged = true
        case .detach(let sender, let reason):
            handleDetach(from: sender, at: source, reason: reason, now: now)
        case .keepalive(let leaf, let recordSequence, let candidacy):
            handleKeepalive(
                from: leaf, recordSequence: recordSequence, candidacy: candidacy, source: source, now: now)
        case .relay(let origin, let target, let payload):
            handleRelay(origin: origin, target: target, payload: payload, bytes: bytes, from: source, now: now)
        case .superPeerFilter(let sender, let filter):
            takeUnionFilter(filter, of: sender, from: source)
        case .lookup(let request, let asker, let target):
            handleLookup(request: request, asker: asker, target: target, from: source, now: now)
        case .lookupReply(let request, let records, let referrals):
            handleLookupReply(request: request, records: records, referrals: referrals, from: source, now: now)
        case .handoverOffer(let sender):
            handleHandoverOffer(from: sender, at: source, now: now)
        }
    }

    /// Feeds one received datagram holding a super-peer message (``ProtocolCore``).
    public mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        handleMessage([UInt8](datagram)[...], from: source, now: now)
    }

    /// Runs whatever is due: lookup timeouts, the election round, adverts, and link
    /// maintenance.
    public mutating func handleTimeout(now: Instant) {
        let now = advance(now)
        if let due = nextLookupDeadline, due <= now { expireLookups(now: now) }
        if nextMaintenanceAt <= now, needsMaintenance {
            nextMaintenanceAt = now + configuration.attachTimeout
            maintainLinks(now: now)
            expireLeases(now: now)
            forgetStale(now: now)
            refreshLeafView()
        }
        if nextElectionAt <= now, !memberOrder.isEmpty {
            nextElectionAt = now + jittered(configuration.electionInterval)
            runElection(now: now)
        }
        if let at = nextAdvertAt, at <= now {
            nextAdvertAt = now + configuration.advertInterval
            advertRound(now: now)
        }
    }

    /// Membership reports `id` alive at `address` (joined, back, or moved).
    public mutating func memberAlive(id: PeerID, address: PeerAddress, now: Instant) {
        _ = advance(now)
        guard id != localID else { return }
        if memberAddresses[id] == nil {
            guard memberOrder.count < SuperPeerConstants.maximumMembers else {
                statistics.membersRefused += 1
                return
            }
            memberIndex[id] = memberOrder.count
            memberOrder.append(id)
            memberAddresses[id] = address
            // A new member learns of this super-peer (and of others) at once.
            if role == .superPeer { send(welcomeAdvert(now: now), to: address) }
            if let (advert, heardAt) = advertsAwaitingMembers.removeValue(forKey: id), advert.address == address {
                var aged = advert
                aged.age += now - heardAt
                learn(aged, firstHand: false, now: now)
            }
        } else if memberAddresses[id] != address {
            memberAddresses[id] = address
            links[id]?.address = address
            neighbourVersion &+= 1
        }
    }

    /// Membership reports `id` failed or departed: its links, its leaf entry and its
    /// advert go at once, and a leaf that lost a super-peer attaches elsewhere.
    public mutating func memberGone(id: PeerID, now: Instant) {
        let now = advance(now)
        memberAddresses[id] = nil
        if let index = memberIndex.removeValue(forKey: id) {
            let last = memberOrder.removeLast()
            if index < memberOrder.count {
                memberOrder[index] = last
                memberIndex[last] = index
            }
        }
        if known.removeValue(forKey: id) != nil { superPeersChanged() }
        waitingFilters[id] = nil
        advertsAwaitingMembers[id] = nil
        refusedUntil[id] = nil
        if held.removeValue(forKey: id) != nil {
            neighbourVersion &+= 1
            unionChanged = true
            events.append(.leafDetached(id, cause: .failed))
        }
        if let link = links.removeValue(forKey: id) {
            neighbourVersion &+= 1
            if link.isAttached { events.append(.detached(superPeer: id, cause: .failed)) }
            fillLinks(now: now)
        }
        lookupPeerGone(id, now: now)
    }

    /// Replaces this peer's signed record (new addresses or services): the filter is
    /// rebuilt and the held super-peers get the record with a new attach.
    public mutating func updateLocalRecord(_ record: SignedPeerRecord, now: Instant) {
        let now = advance(now)
        guard record.record.peerID == localID, record.record.sequence >= localRecord.record.sequence else { return }
        localRecord = record
        rebuildLocalFilter()
        for (id, link) in links.sorted(by: { $0.key < $1.key }) where link.isAttached {
            sendAttach(to: id, address: link.address, now: now)
        }
        unionChanged = true
    }

    /// Sets the application's search keywords for this peer (at most
    /// ``SuperPeerConstants/maximumKeywords`` texts; the rest are ignored): the filter is
    /// rebuilt and sent to the held super-peers.
    public mutating func setKeywords(_ keywords: [String], now: Instant) {
        _ = advance(now)
        self.keywords = Array(keywords.prefix(SuperPeerConstants.maximumKeywords))
        rebuildLocalFilter()
        for (_, link) in links.sorted(by: { $0.key < $1.key }) where link.isAttached {
            send(.filterUpdate(leaf: localID, filter: localFilter), to: link.address)
        }
        unionChanged = true
    }

    /// Sends `payload` to `target` through the super-peer at `superPeer` (one that holds
    /// `target`, or any super-peer that can reach it: see ``SuperPeerEvent/relayed(origin:payload:via:)``
    /// and the forwarding rule in PROTOCOL.md), or, as a super-peer, straight to a leaf it
    /// holds.
    /// - Throws: ``WireError/unencodable(_:)`` when `payload` is longer than
    ///   ``SuperPeerConstants/maximumRelayPayload``.
    public mutating func relay(_ payload: [UInt8], to target: PeerID, via superPeer: PeerAddress, now: Instant)
        throws(WireError)
    {
        _ = advance(now)
        let bytes = try SuperPeerMessage.relay(origin: localID, target: target, payload: payload).encoded()
        statistics.messagesSent += 1
        outbox.append(bytes, to: held[target]?.address ?? superPeer)
    }

    // MARK: Outputs

    /// Writes the next message into `buffer` and returns its destination.
    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        outbox.popFirst(into: &buffer)
    }

    /// The earliest armed deadline of any ``SuperPeerTimer``, or `nil` when idle.
    ///
    /// A peer with nothing to do does not wake: the election pauses while no other member
    /// is known (or the role is forced), maintenance while there are no links, held
    /// leaves or known super-peers. A paused deadline that passed meanwhile means "now".
    public func pollTimeout() -> Instant? {
        var earliest = nextAdvertAt
        func consider(_ instant: Instant) {
            let due = max(instant, latestNow)
            if earliest.map({ due < $0 }) ?? true { earliest = due }
        }
        if configuration.rolePolicy == .automatic, !memberOrder.isEmpty { consider(nextElectionAt) }
        if needsMaintenance { consider(nextMaintenanceAt) }
        if let due = nextLookupDeadline { consider(due) }
        return earliest
    }

    /// Whether links, held leaves or known super-peers need the maintenance timer.
    var needsMaintenance: Bool {
        switch role {
        case .leaf: !links.isEmpty || !known.isEmpty
        case .superPeer: !held.isEmpty || !known.isEmpty
        }
    }

    /// The next event, oldest first.
    public mutating func pollEvent() -> SuperPeerEvent? { events.popFirst() }

    // MARK: Internals

    /// Clamps `now` to the latest time seen; a forced super-peer takes its role at once.
    mutating func advance(_ now: Instant) -> Instant {
        if now > latestNow { latestNow = now }
        if configuration.rolePolicy == .alwaysSuperPeer, role == .leaf { promote(now: latestNow) }
        return latestNow
    }

    /// Encodes and queues `message` for `destination`.
    mutating func send(_ message: SuperPeerMessage, to destination: PeerAddress) {
        guard let bytes = try? message.encoded() else { return }
        statistics.messagesSent += 1
        switch message {
        case .lookup, .lookupReply:
            statistics.lookupMessagesSent += 1
            statistics.lookupBytesSent += bytes.count
        default: break
        }
        outbox.append(bytes, to: destination)
    }

    /// `duration` scaled by a random factor in `[0.5, 1.5)`.
    mutating func jittered(_ duration: Duration) -> Duration {
        duration * Double.random(in: 0.5..<1.5, using: &random)
    }

    /// Whether a known advert is a super-peer's and still fresh.
    func isFreshSuperPeer(_ entry: KnownSuperPeer) -> Bool {
        entry.advert.isSuperPeer && isFresh(entry)
    }

    /// Whether a known advert is still fresh: made less than ``advertLifetime`` ago.
    func isFresh(_ entry: KnownSuperPeer) -> Bool {
        latestNow - entry.refreshedAt < advertLifetime
    }

    /// How long an advert that no newer version replaced is kept:
    /// ``SuperPeerConstants/advertLifetimeIntervals`` advert intervals from when its
    /// subject made it.
    var advertLifetime: Duration {
        configuration.advertInterval * SuperPeerConstants.advertLifetimeIntervals
    }

    /// The filter of this peer's ID text, services and keywords.
    mutating func rebuildLocalFilter() {
        var filter = configuration.emptyFilter
        filter.insert(localID.description)
        filter.insert(contentsOf: localRecord.record.services)
        filter.insert(contentsOf: keywords)
        localFilter = filter
    }

    /// Forgets adverts that stopped rising and refusals that ran out.
    mutating func forgetStale(now: Instant) {
        for (id, entry) in known where !isFresh(entry) {
            known[id] = nil
            superPeersChanged()
        }
        for (id, until) in refusedUntil where until <= now { refusedUntil[id] = nil }
    }
}
