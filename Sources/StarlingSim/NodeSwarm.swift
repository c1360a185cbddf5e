public import StarlingCore

/// A simulated swarm of whole peers: one ``NodeCore`` (sessions, request/response and
/// the overlay on one socket, as a real peer runs them) per node of a ``SimNetwork``.
///
/// ### Purpose
/// Tests of whole-peer behaviour need the same scaffolding: seeded identities, a core
/// per peer with an overlay, request handlers that answer as soon as a request arrives
/// (as a peer's event loop does), a join through one seed, and ways to wait for an
/// outcome. Everything follows from the seed, so one seed gives one run.
///
/// ### Usage
/// ```swift
/// var swarm = try NodeSwarm(seed: 1, count: 40)
/// swarm.serve("double") { $0 + $0 }
/// swarm.joinThroughFirst()
/// let converged = swarm.run(limit: .seconds(60)) { $0.isConverged() }
/// ```
///
/// - Warning: like ``SimNetwork``, the swarm is a value confined to one task.
public struct NodeSwarm {
    /// What a request handler makes of a request's payload: the response's payload.
    public typealias Handler = ([UInt8]) -> [UInt8]

    /// The wall-clock time every core takes for ``Instant/zero``.
    public static let wallClockAtZero = UnixTime(seconds: 1_800_000_000)

    /// The port every peer listens on, at `10.x.y.z`.
    public static let port: UInt16 = 7946

    /// The network; peer `i` is node `SimNodeID(rawValue: i)`.
    public var network: SimNetwork<NodeCore>

    /// The request handlers, by method.
    public private(set) var handlers: [String: Handler] = [:]

    /// Builds `count` peers, not yet joined.
    ///
    /// - Parameters:
    ///   - seed: fixes every random choice of the run.
    ///   - count: how many peers.
    ///   - session: every peer's session settings.
    ///   - overlay: every peer's overlay settings.
    ///   - link: the conditions of every link.
    ///   - host: when set, one host with these cores and costs serves every peer (a
    ///     busy machine); when `nil`, no peer is ever late.
    ///   - overlayOfPeer: when set, peer `i`'s overlay settings (in place of `overlay`):
    ///     for swarms whose peers differ, such as index servers and their clients.
    /// - Throws: ``OverlayConfigurationError`` or ``SessionConfiguration/ValidationError``
    ///   for an invalid configuration.
    public init(
        seed: UInt64, count: Int, session: SessionConfiguration = .simulation,
        overlay: OverlayConfiguration = .simulation, link: LinkConditions = .lan, host: SimHost? = nil,
        overlayOfPeer: ((Int) -> OverlayConfiguration)? = nil
    ) throws {
        network = SimNetwork<NodeCore>(seed: seed, defaultLink: link)
        network.recordsTrace = false
        let hostID = host.map { network.addHost($0) }
        // One verifier for the whole run, as one process shares one: each claim is
        // checked once, however many peers receive it.
        let claimVerifier = ClaimVerifier()
        for index in 0..<count {
            var keys = network.makeGenerator()
            let identity = IdentityKeyPair.generate(using: &keys)
            let address = Self.address(ofPeer: index)
            let endpoint = try SessionEndpoint(
                identity: identity, configuration: session, random: network.makeGenerator())
            let overlayCore = try OverlayCore(
                identity: identity, address: address, configuration: overlayOfPeer?(index) ?? overlay,
                wallClockAtZero: Self.wallClockAtZero,
                random: network.makeGenerator(), claimVerifier: claimVerifier, now: network.now)
            let core = NodeCore(
                peer: PeerCore(endpoint: endpoint, random: network.makeGenerator()), overlay: overlayCore)
            _ = network.makeNode(name: "peer\(index)", address: address, core: core, host: hostID)
        }
    }

    /// Where peer `index` listens: `10.x.y.z` from its index, at ``port``.
    public static func address(ofPeer index: Int) -> PeerAddress {
        PeerAddress.ipv4(10, UInt8(index >> 16 & 0xFF), UInt8(index >> 8 & 0xFF), UInt8(index & 0xFF), port: port)
    }

    // MARK: Getters

    /// Every peer's node, by index.
    public var nodes: [SimNodeID] { network.nodeIDs }

    /// The peer ID of `node`.
    public func peerID(of node: SimNodeID) -> PeerID { network[core: node].peer.identity.peerID }

    /// The overlay of `node`.
    public func overlay(of node: SimNodeID) -> OverlayCore {
        guard let overlay = network[core: node].overlay else { preconditionFailure("every swarm peer has an overlay") }
        return overlay
    }

    /// Whether every peer of `live` (by default all) sees every other one alive; a peer
    /// with a partial view (a super-peer topology's leaf or a hybrid client in a large
    /// swarm, ``StarlingCore/MembershipView``) every featured peer of `live`
    /// (``featuredNodes(among:)``); a pure overlay's peer with a partial view every
    /// contact of its Kademlia table (its own featured members), of which it has at least
    /// a bucket's worth or every other peer of `live`.
    public func isConverged(among live: [SimNodeID]? = nil) -> Bool {
        let live = live ?? nodes
        let ids = live.map(peerID(of:))
        var featuredIDs: [PeerID]?
        return live.allSatisfy { node in
            let overlay = overlay(of: node)
            let membership = overlay.membership
            let wanted: [PeerID]
            if membership.view == .full {
                wanted = ids
            } else if membership.featuredKind == .own {
                let contacts = overlay.routing.table.contacts
                guard contacts.count >= min(overlay.routing.configuration.bucketSize, live.count - 1) else {
                    return false
                }
                wanted = contacts.map(\.peerID)
            } else {
                if featuredIDs == nil { featuredIDs = featuredNodes(among: live).map(peerID(of:)) }
                wanted = featuredIDs ?? []
            }
            return wanted.allSatisfy { $0 == peerID(of: node) || membership.member($0)?.state == .alive }
        }
    }

    /// Broadcasts `payload` from `origin`, runs the swarm for `wait`, and returns the peers
    /// other than `origin` that were not delivered it, or `nil` when `origin` could not
    /// broadcast (it has no overlay).
    /// - Throws: ``StarlingCore/SpreadingError`` from the broadcast.
    public mutating func missed(
        broadcasting payload: [UInt8], from origin: SimNodeID, waiting wait: Duration = .seconds(3)
    ) throws -> [SimNodeID]? {
        guard
            let id = try network.command(
                origin, { core, now in try core.withOverlay { try $0.broadcast(payload, now: now) } })
        else { return nil }
        network.run(for: wait)
        return missed(broadcast: id, from: origin)
    }

    /// The peers other than `origin` that were not delivered broadcast `id`.
    public func missed(broadcast id: SpreadingID, from origin: SimNodeID) -> [SimNodeID] {
        nodes.filter { node in
            node != origin
                && !network.events(of: node).contains {
                    if case .overlay(.spreading(.delivered(id, _, _, _))) = $0 { true } else { false }
                }
        }
    }

    /// The peers of `nodes` (by default all) that a partial view holds: the super-peers
    /// and the index servers.
    public func featuredNodes(among nodes: [SimNodeID]? = nil) -> [SimNodeID] {
        (nodes ?? self.nodes).filter { [.superPeer, .index].contains(overlay(of: $0).role) }
    }

    /// How many times peers of `live` reported another peer of `live` failed.
    public func falseFailures(among live: [SimNodeID]? = nil) -> Int {
        let live = live ?? nodes
        let ids = Set(live.map(peerID(of:)))
        return live.reduce(0) { total, node in
            total
                + network.events(of: node).count {
                    if case .overlay(.membership(.failed(let member))) = $0 { ids.contains(member.id) } else { false }
                }
        }
    }

    /// The result of lookup `id` started at `node`, once it finished.
    public func lookupResult(_ id: LookupID, at node: SimNodeID) -> LookupResult? {
        for event in network.events(of: node) {
            if case .overlay(.routing(.lookupFinished(id, let result))) = event { return result }
        }
        return nil
    }

    /// The response to request `id` made at `node`, once it came.
    public func response(_ id: RequestID, at node: SimNodeID) -> Result<[UInt8], RPCError>? {
        for event in network.events(of: node) {
            if case .peer(.response(id, let result)) = event { return result }
        }
        return nil
    }

    // MARK: Commands

    /// Makes every peer answer requests for `method` with `handler`, the moment they
    /// arrive (a handler that never waits).
    /// - Throws: ``RPCError/invalidMethod(_:)`` for a method name the protocol refuses.
    public mutating func serve(_ method: String, with handler: @escaping Handler) throws {
        for node in nodes {
            try network.command(node) { core, _ in try core.peer.serve(method) }
        }
        handlers[method] = handler
        let handlers = handlers
        network.setReaction { _, core, event, now in
            guard case .peer(.request(let request)) = event, let handler = handlers[request.method] else { return }
            try? core.peer.respond(to: request.id, payload: handler(request.payload), now: now)
        }
    }

    /// Asks every peer but the first to join the overlay through the first, `spacing`
    /// apart.
    public mutating func joinThroughFirst(spacing: Duration = .milliseconds(10)) {
        let seed = [network.address(of: nodes[0])]
        for node in nodes.dropFirst() {
            network.command(node) { core, now in _ = core.withOverlay { $0.join(seed, now: now) } }
            network.run(for: spacing)
        }
    }

    // MARK: Running

    /// Runs for `duration` of virtual time; the same as `network.run(for:)`, but compiled
    /// for ``StarlingCore/NodeCore`` in this module, which a caller in another module
    /// (a bench) does not get from the generic ``SimNetwork``, which it runs unspecialised.
    /// - Returns: the number of deliveries, timers and ends of hosts' services carried out.
    @discardableResult
    public mutating func run(for duration: Duration) -> Int {
        network.run(for: duration)
    }

    /// Runs in steps of `step` until `condition` holds, for at most `limit` of virtual
    /// time (a bound against hanging).
    /// - Returns: whether `condition` held in time.
    public mutating func run(
        step: Duration = .milliseconds(100), limit: Duration, until condition: (NodeSwarm) -> Bool
    ) -> Bool {
        let start = network.now
        while !condition(self) {
            guard network.now - start < limit else { return false }
            network.run(for: step)
        }
        return true
    }
}
