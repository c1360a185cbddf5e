/// How the overlay behaves: its swarm, and the settings of its three protocols.
///
/// Every protocol message must fit one overlay datagram:
/// ``MembershipConfiguration/maxMessageSize`` and
/// ``SpreadingConfiguration/maximumPayloadSize`` are checked against
/// ``OverlayConstants/maximumMessageSize`` by ``validate()``.
public struct OverlayConfiguration: Sendable {
    /// Identifies the swarm (32 bytes; all zero is the public swarm).
    public var swarmID: [UInt8]
    /// The swarm secret (32 bytes), or nil for an open swarm. With it every overlay
    /// datagram is sealed under a key derived from it.
    public var swarmSecret: [UInt8]?
    /// SWIM membership.
    public var membership: MembershipConfiguration
    /// Kademlia routing.
    public var routing: RoutingConfiguration
    /// Gossip, floods and echo.
    public var spreading: SpreadingConfiguration
    /// How many members each peer keeps as spreading neighbours: where gossip and
    /// floods go. A random sample of the alive members, refilled as members fail; 16
    /// keeps the chance that some peer is nobody's neighbour below one in a million
    /// for swarms of thousands.
    public var neighbourCount: Int
    /// Overlay datagrams accepted per second from one source address (IP and port);
    /// more are dropped unread (``OverlayDrop/sourceRateLimited``). Lowering it bounds
    /// what one source can make this peer spend; raising it lets one neighbour forward
    /// more gossip per second. 1,000 is some fifty times what one member of a
    /// 1,000-peer swarm sends another.
    public var sourceDatagramsPerSecond: Double
    /// Datagrams one quiet source may send at once: room for a full-state answer
    /// (about 32 datagrams at 1,000 members, 530 at 16,384) many times over.
    public var sourceDatagramBurst: Int
    /// Overlay datagrams accepted per second from all sources together
    /// (``OverlayDrop/totalRateLimited``): the most work a flood from many addresses
    /// can cause. Lower it on slow machines; a 1,000-peer swarm needs a few hundred.
    public var totalDatagramsPerSecond: Double
    /// Datagrams all sources together may send at once.
    public var totalDatagramBurst: Int
    /// Nonces of sealed datagrams remembered to refuse copies within the replay window
    /// (``OverlayDrop/replayed``); when full, the oldest go and datagrams as old are
    /// refused (``OverlayDrop/belowReplayFloor``). It must exceed the sealed datagrams
    /// a peer accepts in ``OverlayConstants/replayWindow``; each costs some 60 bytes.
    public var replayCacheSize: Int
    /// The shape of the overlay: pure (the default), hybrid (index servers) or super-peer;
    /// see ``Topology``.
    public var topology: Topology
    /// In the pure topology, the swarm size from which a peer holds a partial membership
    /// view: only the contacts of its Kademlia table (``MembershipView``,
    /// ``FeaturedKind/own``), some `k · log2(n / k)` members instead of all `n`, and every
    /// member again below half of it. The swarm is counted by membership while the view
    /// is full and by the Kademlia table's density (``RoutingTable/estimatedPeers``)
    /// always. 0 (the default) keeps every member whatever the size, as SWIM and
    /// memberlist do: a member costs a few hundred bytes, so a view of tens of thousands
    /// fits one peer; partial views are for very large swarms and for simulating many
    /// peers in one process. At most 1,000,000.
    public var pureViewThreshold: Int
    /// Human top-level names and the keys they stand for, the same on every peer of the
    /// swarm (`docs/PROTOCOL.md`, "Who owns a name"): `alice` → Alice's peer ID makes
    /// `printer.lab.alice` resolve from Alice's zone. Any other top-level name must be a
    /// peer ID. Each name is a valid label (``OverlayName/isValidLabel(_:)``) that is not
    /// itself a peer ID; at most ``OverlayConstants/maximumNamePins``.
    public var namePins: [String: PeerID] = [:]

    /// Creates a configuration for one swarm.
    public init(
        swarmID: [UInt8] = [UInt8](repeating: 0, count: 32), swarmSecret: [UInt8]? = nil,
        membership: MembershipConfiguration = .lan, routing: RoutingConfiguration = .lan,
        spreading: SpreadingConfiguration = .lan, neighbourCount: Int = 16,
        sourceDatagramsPerSecond: Double = 1_000, sourceDatagramBurst: Int = 2_000,
        totalDatagramsPerSecond: Double = 50_000, totalDatagramBurst: Int = 50_000,
        replayCacheSize: Int = 65_536, topology: Topology = .pure, pureViewThreshold: Int = 0
    ) {
        self.swarmID = swarmID
        self.swarmSecret = swarmSecret
        self.membership = membership
        self.routing = routing
        self.spreading = spreading
        self.neighbourCount = neighbourCount
        self.sourceDatagramsPerSecond = sourceDatagramsPerSecond
        self.sourceDatagramBurst = sourceDatagramBurst
        self.totalDatagramsPerSecond = totalDatagramsPerSecond
        self.totalDatagramBurst = totalDatagramBurst
        self.replayCacheSize = replayCacheSize
        self.topology = topology
        self.pureViewThreshold = pureViewThreshold
    }

    /// A local network: the ``MembershipConfiguration/lan``,
    /// ``RoutingConfiguration/lan`` and ``SpreadingConfiguration/lan`` presets.
    public static let lan = OverlayConfiguration()

    /// Peers on one host (loopback): the `local` presets of membership and routing.
    public static let local = OverlayConfiguration(membership: .local, routing: .local)

    /// The virtual network of StarlingSim: the `simulation` presets.
    public static let simulation = OverlayConfiguration(
        membership: .simulation, routing: .simulation, spreading: .simulation)

    /// Checks every field and the protocols' own configurations.
    /// - Throws: ``OverlayConfigurationError`` naming the first problem.
    public func validate() throws(OverlayConfigurationError) {
        guard swarmID.count == 32 else { throw .swarmIDLength(swarmID.count) }
        if let swarmSecret, swarmSecret.count != 32 { throw .swarmSecretLength(swarmSecret.count) }
        guard neighbourCount >= 1 else { throw .neighbourCount(neighbourCount) }
        for (name, rate) in [
            ("sourceDatagramsPerSecond", sourceDatagramsPerSecond),
            ("totalDatagramsPerSecond", totalDatagramsPerSecond),
        ] where !(rate.isFinite && rate >= 0.001 && rate <= 1e9) {
            throw .rateLimit(name, rate)
        }
        for (name, burst) in [("sourceDatagramBurst", sourceDatagramBurst), ("totalDatagramBurst", totalDatagramBurst)]
        where !(1...1_000_000_000).contains(burst) {
            throw .rateLimit(name, Double(burst))
        }
        guard (1...(1 << 24)).contains(replayCacheSize) else { throw .replayCacheSize(replayCacheSize) }
        guard (0...1_000_000).contains(pureViewThreshold) else { throw .pureViewThreshold(pureViewThreshold) }
        guard namePins.count <= OverlayConstants.maximumNamePins else { throw .namePin("\(namePins.count) pins") }
        for name in namePins.keys.sorted() where !OverlayName.isValidLabel(name) || (try? PeerID(name)) != nil {
            throw .namePin(name)
        }
        switch topology {
        case .pure: break
        case .hybrid(let hybrid):
            do {
                try hybrid.validate()
            } catch {
                throw .hybrid(error)
            }
        case .superPeer(let superPeer):
            do {
                try superPeer.validate()
            } catch {
                throw .superPeer(error)
            }
        }
        do {
            try membership.validate()
        } catch {
            throw .membership(error)
        }
        do {
            try spreading.validate()
        } catch {
            throw .spreading(error)
        }
        let maximum = OverlayConstants.maximumMessageSize
        guard membership.maxMessageSize <= maximum else {
            throw .messageSize(protocol: .membership, size: membership.maxMessageSize, maximum: maximum)
        }
        // A gossip message, query or hit adds its header and signature to its payload.
        let spreadingSize = spreading.maximumPayloadSize + SpreadingMessage.maximumOverhead
        guard spreadingSize <= maximum else {
            throw .messageSize(protocol: .spreading, size: spreadingSize, maximum: maximum)
        }
    }
}

/// A problem with an ``OverlayConfiguration``.
public enum OverlayConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The swarm ID is not 32 bytes.
    case swarmIDLength(Int)
    /// The swarm secret is not 32 bytes.
    case swarmSecretLength(Int)
    /// The neighbour count is below 1.
    case neighbourCount(Int)
    /// The membership configuration is invalid.
    case membership(MembershipConfigurationError)
    /// The spreading configuration is invalid.
    case spreading(SpreadingConfigurationError)
    /// A protocol's messages could exceed one overlay datagram.
    case messageSize(protocol: OverlayProtocol, size: Int, maximum: Int)
    /// A rate limit (named) is not a positive finite rate, or a burst not in 1...10⁹.
    case rateLimit(String, Double)
    /// The replay cache size is not in 1...16,777,216.
    case replayCacheSize(Int)
    /// The pure topology's partial view threshold is not in 0...1,000,000.
    case pureViewThreshold(Int)
    /// The hybrid topology's configuration is invalid.
    case hybrid(HybridConfigurationError)
    /// The super-peer topology's configuration is invalid.
    case superPeer(SuperPeerConfigurationError)
    /// A pinned top-level name is not a valid label, is a peer ID, or there are too many.
    case namePin(String)

    public var description: String {
        switch self {
        case .swarmIDLength(let count): "the swarm ID must be 32 bytes, not \(count)"
        case .swarmSecretLength(let count): "the swarm secret must be 32 bytes, not \(count)"
        case .neighbourCount(let count): "the neighbour count must be at least 1, not \(count)"
        case .membership(let error): "membership: \(error)"
        case .spreading(let error): "spreading: \(error)"
        case .messageSize(let kind, let size, let maximum):
            "\(kind) messages of up to \(size) bytes do not fit an overlay datagram (\(maximum) bytes at most)"
        case .rateLimit(let name, let value): "\(name) must be positive and finite (a burst at most 10⁹), not \(value)"
        case .replayCacheSize(let size): "the replay cache size must be in 1...16777216, not \(size)"
        case .pureViewThreshold(let value): "the pure view threshold must be in 0...1000000, not \(value)"
        case .hybrid(let error): "hybrid topology: \(error)"
        case .superPeer(let error): "super-peer topology: \(error)"
        case .namePin(let name):
            "name pin \"\(name)\": a pin must be a valid label that is not a peer ID, at most \(OverlayConstants.maximumNamePins) of them"
        }
    }
}
