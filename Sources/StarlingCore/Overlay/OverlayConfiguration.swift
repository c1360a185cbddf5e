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

    /// Creates a configuration for one swarm.
    public init(
        swarmID: [UInt8] = [UInt8](repeating: 0, count: 32), swarmSecret: [UInt8]? = nil,
        membership: MembershipConfiguration = .lan, routing: RoutingConfiguration = .lan,
        spreading: SpreadingConfiguration = .lan, neighbourCount: Int = 16
    ) {
        self.swarmID = swarmID
        self.swarmSecret = swarmSecret
        self.membership = membership
        self.routing = routing
        self.spreading = spreading
        self.neighbourCount = neighbourCount
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

    public var description: String {
        switch self {
        case .swarmIDLength(let count): "the swarm ID must be 32 bytes, not \(count)"
        case .swarmSecretLength(let count): "the swarm secret must be 32 bytes, not \(count)"
        case .neighbourCount(let count): "the neighbour count must be at least 1, not \(count)"
        case .membership(let error): "membership: \(error)"
        case .spreading(let error): "spreading: \(error)"
        case .messageSize(let kind, let size, let maximum):
            "\(kind) messages of up to \(size) bytes do not fit an overlay datagram (\(maximum) bytes at most)"
        }
    }
}
