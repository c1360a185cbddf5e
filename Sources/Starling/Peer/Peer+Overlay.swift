public import StarlingCore
import StarlingIO

extension Peer {
    // MARK: Membership

    /// Joins the overlay through `seeds` (members' addresses); membership events
    /// follow on ``events``. Calls made before the join completes see fewer members.
    /// - Throws: ``PeerError/overlayDisabled`` or ``PeerError/shutDown``.
    public func join(_ seeds: [PeerAddress]) async throws(PeerError) {
        try await onLoop { loop throws(PeerError) in
            try loop.performOverlay { overlay, now throws(PeerError) in overlay.join(seeds, now: now) }
        }
    }

    /// The overlay members this peer knows, itself excluded, with their states.
    ///
    /// Membership runs among all peers, index servers, clients, super-peers and leaves
    /// alike, so a hybrid client lists every member too in a swarm smaller than
    /// `HybridConfiguration.clientViewThreshold`, and so does a super-peer
    /// leaf in one smaller than `SuperPeerConfiguration.leafViewThreshold`
    /// (500 members by default; the client's is 0, never, by default). In a larger one a client holds only the index
    /// servers and a leaf only the super-peers (`MembershipView.partial`),
    /// and each lists those; the index servers or super-peers find any other peer for it
    /// (``lookup(_:)``, ``connect(resolving:timeout:)``). A pure peer in a swarm of
    /// `OverlayConfiguration.pureViewThreshold` peers or more (0, never, by
    /// default) lists the contacts of its Kademlia table, which finds the others. Who
    /// holds which role is in ``overlayStatus()``
    /// (``OverlayStatus/role``, a leaf's ``OverlayStatus/superPeers``) and in
    /// ``Event/topology(_:)`` events.
    /// - Throws: ``PeerError/overlayDisabled`` or ``PeerError/shutDown``.
    public func members() async throws(PeerError) -> [Member] {
        try await onLoop { loop throws(PeerError) in
            try loop.performOverlay { overlay, _ throws(PeerError) in overlay.membership.members }
        }
    }

    /// A snapshot of the overlay's state and counters.
    /// - Throws: ``PeerError/overlayDisabled`` or ``PeerError/shutDown``.
    public func overlayStatus() async throws(PeerError) -> OverlayStatus {
        try await onLoop { loop throws(PeerError) in try Self.overlayStatus(of: loop) }
    }

    /// ``overlayStatus()`` for a caller already on ``eventLoop`` (a ``Swarm`` reading all
    /// the peers of one loop in one visit).
    func overlayStatusOnLoop() throws(PeerError) -> OverlayStatus {
        try Self.overlayStatus(of: loop.value)
    }

    private static func overlayStatus(of loop: PeerLoop) throws(PeerError) -> OverlayStatus {
        let driver = loop.driver?.statistics ?? DriverStatistics()
        return try loop.performOverlay { overlay, _ throws(PeerError) in OverlayStatus(overlay, driver: driver) }
    }

    // MARK: Routing

    /// Finds `peer`'s signed, verified record, by topology: in a pure overlay through its
    /// routing (Kademlia); in a hybrid one through the index servers that hold it (one
    /// round trip); in a super-peer one through this peer's super-peers, which answer
    /// for their leaves and refer it to the super-peer holding `peer` (about two round
    /// trips). When no index server or super-peer can answer, through Kademlia.
    /// - Returns: the record; its addresses say where `peer` listens.
    /// - Throws: ``PeerError/peerNotFound(_:)``, ``PeerError/overlayDisabled``,
    ///   ``PeerError/cancelled`` when the calling task is cancelled first (the lookup
    ///   itself runs on to its end, unseen), or ``PeerError/shutDown``.
    public func lookup(_ peer: PeerID) async throws(PeerError) -> SignedPeerRecord {
        let result = try await runLookup { overlay, now throws(PeerError) in overlay.findPeer(peer, now: now) }
        guard case .peer(let record?) = result.outcome else { throw .peerNotFound(peer) }
        return record
    }

    /// Makes a session with `peer` wherever it is: at the address membership knows, or
    /// else at the one its record (found by ``lookup(_:)``) lists. Returns at once when
    /// a session is up already.
    ///
    /// One of the two ways to connect, which return the same thing: this one resolves a
    /// peer's ID through the overlay; ``connect(to:expecting:timeout:)`` dials an address
    /// you know. The handshake is always Noise IK with `peer`, so only it can answer.
    /// - Parameters:
    ///   - peer: the peer to reach.
    ///   - timeout: how long the handshake may take once the address is known; default
    ///     ``PeerConfiguration/connectTimeout``. A lookup is bounded by the overlay's
    ///     own `RoutingConfiguration.lookupTimeout`.
    /// - Returns: `peer`, the ID of the peer the session is with.
    /// - Throws: what ``connect(to:expecting:timeout:)`` and ``lookup(_:)`` throw,
    ///   ``PeerError/cancelled`` among them.
    @discardableResult
    public func connect(resolving peer: PeerID, timeout: Duration? = nil) async throws(PeerError) -> PeerID {
        if await connectedPeers().contains(peer) { return peer }
        let known = try await members().first(where: { $0.id == peer && ($0.state == .alive || $0.state == .suspect) })
        let address: PeerAddress
        if let known {
            address = known.address
        } else {
            guard let listed = try await lookup(peer).record.addresses.first else { throw .peerNotFound(peer) }
            address = listed
        }
        return try await connect(to: address, expecting: peer, timeout: timeout)
    }

    /// Announces this peer as a provider of `service` in the overlay, and keeps
    /// announcing it: at the peers closest to the service in a pure overlay, at the index
    /// servers that hold it in a hybrid one, at this leaf's super-peers in a super-peer
    /// one (or in Kademlia while none is there to take it).
    /// - Returns: how many peers stored the announcement.
    /// - Throws: ``PeerError/routing(_:)`` for an invalid name, ``PeerError/overlayDisabled``,
    ///   ``PeerError/cancelled`` or ``PeerError/shutDown``.
    ///
    /// When no peer took the announcement and some requests timed out, it is tried once more.
    @discardableResult
    public func provide(_ service: String) async throws(PeerError) -> Int {
        var storedAt = 0
        for attempt in 1...2 {
            let result = try await runLookup { overlay, now throws(PeerError) in
                do throws(RoutingError) {
                    return try overlay.provide(service: service, now: now)
                } catch {
                    throw .routing(error)
                }
            }
            if case .provided(let count) = result.outcome { storedAt = count }
            guard storedAt == 0, attempt == 1, result.timeouts > 0 else { break }
        }
        return storedAt
    }

    /// The verified records of peers that provide `service` (empty when none is found),
    /// asked where ``lookup(_:)`` asks; in a super-peer overlay every super-peer whose
    /// leaves might provide it is asked, and their answers merged.
    /// - Throws: ``PeerError/overlayDisabled``, ``PeerError/cancelled`` or ``PeerError/shutDown``.
    public func findProviders(_ service: String) async throws(PeerError) -> [SignedPeerRecord] {
        let result = try await runLookup { overlay, now throws(PeerError) in
            overlay.findProviders(service: service, now: now)
        }
        guard case .providers(let records) = result.outcome else { return [] }
        return records
    }

    /// Runs one lookup to its end, or until the calling task is cancelled.
    private func runLookup(
        _ start: @escaping @Sendable (inout OverlayCore, Instant) throws(PeerError) -> LookupID
    ) async throws(PeerError) -> LookupResult {
        try await waitOnLoop { loop, continuation in
            loop.lookup(start, continuation: continuation)
        } cancel: { loop, id in
            loop.cancelLookup(id)
        }
    }

    // MARK: Spreading

    /// Spreads `payload` to every overlay member by epidemic gossip; each receives it
    /// once as ``Event/broadcast(origin:payload:)``. Delivery is very likely, not certain.
    /// - Throws: ``PeerError/spreading(_:)`` for a payload over
    ///   `SpreadingConfiguration.maximumPayloadSize`,
    ///   ``PeerError/overlayDisabled`` or ``PeerError/shutDown``.
    public func broadcast(_ payload: [UInt8]) async throws(PeerError) {
        try await spreading { overlay, now throws(SpreadingError) in _ = try overlay.broadcast(payload, now: now) }
    }

    /// Floods `payload` as a query to the peers within `ttl` overlay hops (Gnutella
    /// style); they see ``Event/query(id:origin:payload:)`` and their answers come back
    /// as ``Event/queryHit(id:responder:payload:)``. With `wantsNotices`, the peers where
    /// the flood stops report it, as ICMP does, in ``Event/notice(_:)``: TTL exceeded, or
    /// unreachable when a peer has no neighbour to pass it to.
    ///
    /// In the super-peer topology the query floods only among the super-peers (with the
    /// TTL), and reaches a leaf only when every keyword of its text (the payload as UTF-8,
    /// split into words of letters and digits, lowercased) is among the words of the
    /// leaf's peer ID text, of its service names, or of the keywords it declared with
    /// ``setSearchKeywords(_:)``; a payload that is not UTF-8 text, or has no words,
    /// reaches no leaf (the super-peers still see it). A leaf never forwards a query.
    /// - Returns: the query's ID, which its hits and notices carry.
    /// - Throws: ``PeerError/spreading(_:)`` for a bad payload or TTL,
    ///   ``PeerError/overlayDisabled`` or ``PeerError/shutDown``.
    public func search(_ payload: [UInt8], ttl: Int? = nil, wantsNotices: Bool = false) async throws(PeerError)
        -> SpreadingID
    {
        try await spreading { overlay, now throws(SpreadingError) in
            try overlay.query(payload, ttl: ttl, wantsNotices: wantsNotices, now: now)
        }
    }

    /// Declares this peer's search keywords: in the super-peer topology, a leaf receives
    /// a query only when each of its words is among these, the words of this peer's ID
    /// text or those of its service names (see ``search(_:ttl:wantsNotices:)``). At most
    /// `SuperPeerConstants.maximumKeywords` are kept; an empty list clears
    /// them. Ignored in the pure and hybrid topologies. To start with keywords, set
    /// `SuperPeerConfiguration.searchKeywords` in the topology.
    /// - Throws: ``PeerError/overlayDisabled`` or ``PeerError/shutDown``.
    public func setSearchKeywords(_ keywords: [String]) async throws(PeerError) {
        try await onLoop { loop throws(PeerError) in
            try loop.performOverlay { overlay, now throws(PeerError) in overlay.setSearchKeywords(keywords, now: now) }
        }
    }

    /// Answers query `id` along the path it came by.
    /// - Throws: ``PeerError/spreading(_:)`` (for example, the path has expired),
    ///   ``PeerError/overlayDisabled`` or ``PeerError/shutDown``.
    public func answer(query id: SpreadingID, payload: [UInt8]) async throws(PeerError) {
        try await spreading { overlay, now throws(SpreadingError) in try overlay.answer(id, payload: payload, now: now)
        }
    }

    /// Sends an overlay echo request to member `peer` (as ICMP echo does) and waits for
    /// the reply; each reply also feeds the peer's RTT estimate, ``rtt(of:)``.
    /// - Returns: the round-trip time.
    /// - Throws: ``PeerError/echoTimedOut(_:)``, ``PeerError/spreading(_:)`` when
    ///   `peer` is not an alive member, ``PeerError/overlayDisabled``,
    ///   ``PeerError/cancelled`` when the calling task is cancelled first, or
    ///   ``PeerError/shutDown``.
    public func echo(_ peer: PeerID) async throws(PeerError) -> Duration {
        try await waitOnLoop { loop, continuation in
            loop.echo(peer, continuation: continuation)
        } cancel: { loop, identifier in
            loop.cancelEcho(identifier)
        }
    }

    /// The smoothed round-trip estimate of `peer` from echo replies, if any came back.
    public func rtt(of peer: PeerID) async -> RTTEstimate? {
        try? await onLoop { loop throws(PeerError) in
            try loop.performOverlay { overlay, _ throws(PeerError) in overlay.spreading.rtt(of: peer) }
        }
    }

    /// Runs a spreading command on the loop, mapping its error.
    private func spreading<Result: Sendable>(
        _ body: @escaping @Sendable (inout OverlayCore, Instant) throws(SpreadingError) -> Result
    ) async throws(PeerError) -> Result {
        try await onLoop { loop throws(PeerError) in
            try loop.performOverlay { overlay, now throws(PeerError) in
                do throws(SpreadingError) {
                    return try body(&overlay, now)
                } catch {
                    throw .spreading(error)
                }
            }
        }
    }
}

/// A snapshot of a peer's overlay, from ``Peer/overlayStatus()``.
public struct OverlayStatus: Sendable, Equatable {
    /// Members believed alive, the peer itself excluded.
    public let alive: Int
    /// Members suspected.
    public let suspected: Int
    /// Members declared failed (and not yet forgotten).
    public let failed: Int
    /// Whether a seed answered the join (or another member found this peer).
    public let hasJoined: Bool
    /// Entries in the routing table.
    public let routingEntries: Int
    /// Spreading neighbours.
    public let neighbours: [PeerID]
    /// Overlay datagrams sent so far.
    public let sent: Int
    /// Overlay datagrams received and handed to a protocol so far.
    public let received: Int
    /// Overlay datagrams dropped before any protocol saw them.
    public let dropped: Int
    /// Datagrams the kernel dropped because this peer's socket receive queue was full
    /// (it did not read fast enough); 0 where the system cannot tell.
    public let receiveDrops: Int
    /// The latest the peer's timer fired after its deadline so far: how far behind its
    /// event loop got.
    public let maximumTimerLag: Duration
    /// Times the failure detector found this peer itself late (late timers, receive
    /// drops) and so deferred accusing others.
    public let lateTimers: Int
    /// Membership messages sent so far, by kind (`ping`, `ack`, `gossip`, `pushPull`,
    /// `syncRequest` and the rest): where the overlay's traffic goes.
    public let membershipSent: [String: Int]
    /// Overlay datagrams sent so far, by protocol (`membership`, `routing`, `spreading`,
    /// `index`, `superPeer`, `addressCheck`).
    public let sentByProtocol: [String: Int]
    /// Overlay bytes sent so far (datagrams as sent, envelope included), by protocol, as
    /// ``sentByProtocol`` names them.
    public let sentBytesByProtocol: [String: Int]
    /// The role this peer holds in its topology (`TopologyRole`).
    public let role: TopologyRole
    /// Hybrid: the index servers this peer knows.
    public let indexServers: Int
    /// Hybrid: the index servers that count as up.
    public let indexServersUp: Int
    /// Hybrid: whether lookups go to the Kademlia overlay because no index server is up.
    public let isFallbackActive: Bool
    /// Hybrid index server: the registrations it holds.
    public let registrationsHeld: Int
    /// Super-peer leaf: the super-peers that hold it (accepted its attach), by ID.
    public let superPeers: [PeerID]
    /// Super-peer: the leaves it holds.
    public let leaves: Int

    init(_ overlay: OverlayCore, driver: DriverStatistics) {
        sentByProtocol = Dictionary(
            uniqueKeysWithValues: overlay.statistics.sent.map { (String(describing: $0.key), $0.value) })
        sentBytesByProtocol = Dictionary(
            uniqueKeysWithValues: overlay.statistics.sentBytes.map { (String(describing: $0.key), $0.value) })
        let membership = overlay.membership.statistics
        membershipSent = Dictionary(
            uniqueKeysWithValues: MembershipMessageKind.allCases.map { (String(describing: $0), membership.sent($0)) })
        receiveDrops = driver.receiveQueueDrops
        maximumTimerLag = driver.maximumTimerLag
        lateTimers = overlay.membership.statistics.lateTimers
        alive = overlay.membership.count(of: .alive)
        suspected = overlay.membership.count(of: .suspect)
        failed = overlay.membership.count(of: .dead)
        hasJoined = overlay.membership.hasJoined
        routingEntries = overlay.routing.table.count
        neighbours = Array(overlay.neighbours.keys)
        sent = overlay.statistics.totalSent
        received = overlay.statistics.totalReceived
        dropped = overlay.statistics.drops.values.reduce(0, +)
        role = overlay.role
        indexServers = overlay.hybrid?.knownIndexes.count ?? 0
        indexServersUp = overlay.hybrid?.upIndexes.count ?? 0
        isFallbackActive = overlay.hybrid?.isFallbackActive ?? false
        registrationsHeld = overlay.hybrid?.store?.count ?? 0
        superPeers = overlay.superPeer?.attachedSuperPeers ?? []
        leaves = overlay.superPeer?.leaves.count ?? 0
    }
}
