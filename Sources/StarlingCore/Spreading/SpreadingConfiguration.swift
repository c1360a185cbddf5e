internal import Glibc

/// Tunables of gossip, flooded search and control messages.
///
/// Start from a profile (``lan``, ``simulation``) and change single fields;
/// ``SpreadingCore`` checks the result with ``validate()``.
public struct SpreadingConfiguration: Equatable, Sendable {
    /// How many random neighbours a peer pushes each new gossip message to (infect and
    /// die). With fanout `ln(N) + c` over N peers, every peer receives a message with
    /// probability about `exp(−exp(−c))` (Kermarrec et al. 2003); see
    /// ``recommendedFanout(swarmSize:slack:)``. Higher is more reliable under loss and
    /// costs `fanout` datagrams per peer per message; at or above a peer's neighbour
    /// count gossip becomes a flood.
    public var fanout: Int
    /// Gossip travelling more links than this is delivered but not forwarded. Must exceed
    /// the overlay's diameter; lower bounds the damage of a forged hop count.
    public var maximumGossipHops: Int
    /// The most gossip and query IDs remembered for duplicate suppression (each cache).
    /// Higher survives bursts of more messages; each entry costs about 64 bytes.
    public var seenCapacity: Int
    /// How long an ID is remembered. Must outlast a message's spread through the swarm,
    /// or a late copy is delivered twice; longer costs memory at high message rates.
    public var seenLifetime: Duration
    /// The TTL of a query when the caller names none (Gnutella used 7). Each extra link
    /// multiplies the flood's reach (and cost) by about the mean neighbour count.
    public var defaultTTL: Int
    /// Larger received TTLs are cut down to this (Gnutella practice), so one peer cannot
    /// flood the whole swarm. Must be at least ``defaultTTL``.
    public var maximumTTL: Int
    /// The most query reverse-path entries (query ID → previous hop) kept.
    public var routeCapacity: Int
    /// How long a reverse-path entry lives: how late an answer may still reach the
    /// originator. Longer allows slow answers and keeps more state.
    public var routeLifetime: Duration
    /// The largest gossip, query or hit payload this core sends or accepts to send.
    /// Keep payload plus ``SpreadingMessage/maximumOverhead`` (118 bytes, the signature
    /// included) under the largest message a datagram carries; the overlay checks it
    /// against ``OverlayConstants/maximumMessageSize`` (1,400), so at most 1,282 there.
    public var maximumPayloadSize: Int
    /// How long an echo request waits for its reply before it times out.
    public var echoTimeout: Duration
    /// The most echo requests outstanding at once; more are refused.
    public var maximumPendingEchoes: Int

    /// Creates a configuration; every argument defaults to the ``lan`` value.
    public init(
        fanout: Int = 12, maximumGossipHops: Int = 32, seenCapacity: Int = 16_384,
        seenLifetime: Duration = .seconds(300),
        defaultTTL: Int = 7, maximumTTL: Int = 10, routeCapacity: Int = 4_096, routeLifetime: Duration = .seconds(30),
        maximumPayloadSize: Int = 1_200, echoTimeout: Duration = .seconds(5), maximumPendingEchoes: Int = 256
    ) {
        self.fanout = fanout
        self.maximumGossipHops = maximumGossipHops
        self.seenCapacity = seenCapacity
        self.seenLifetime = seenLifetime
        self.defaultTTL = defaultTTL
        self.maximumTTL = maximumTTL
        self.routeCapacity = routeCapacity
        self.routeLifetime = routeLifetime
        self.maximumPayloadSize = maximumPayloadSize
        self.echoTimeout = echoTimeout
        self.maximumPendingEchoes = maximumPendingEchoes
    }

    /// A local network of up to about a thousand peers: fanout `ceil(ln 1000) + 5 = 12`
    /// (all reached with probability ≈ 0.993 without loss), Gnutella's TTL 7, IDs kept
    /// 5 minutes, routes 30 s, 1,200-byte payloads.
    public static let lan = SpreadingConfiguration()

    /// The virtual network of StarlingSim: delta from ``lan``.
    public static let simulation: SpreadingConfiguration = {
        var configuration = SpreadingConfiguration.lan
        configuration.seenLifetime = .seconds(60)  // virtual floods settle within seconds
        configuration.routeLifetime = .seconds(10)  // answers come from the test at once
        configuration.echoTimeout = .seconds(2)  // virtual links have millisecond latency
        return configuration
    }()

    /// The fanout `ceil(ln N) + c` that reaches all of `swarmSize` peers with probability
    /// about `exp(−exp(−c))`.
    /// - Parameters:
    ///   - swarmSize: N, the number of peers; values below 2 count as 2.
    ///   - slack: c; 5 gives ≈ 0.993, 3 gives ≈ 0.95.
    /// - Returns: the fanout.
    public static func recommendedFanout(swarmSize: Int, slack: Int = 5) -> Int {
        Int(ceil(log(Double(max(2, swarmSize))))) + max(0, slack)
    }

    /// Checks every field.
    /// - Throws: ``SpreadingConfigurationError`` naming the first bad field.
    public func validate() throws(SpreadingConfigurationError) {
        for (name, value) in [
            ("seenLifetime", seenLifetime), ("routeLifetime", routeLifetime), ("echoTimeout", echoTimeout),
        ] where value <= .zero {
            throw .notPositive(field: name)
        }
        let wireHops = SpreadingConstants.maximumWireHops
        for (name, value, low, high) in [
            ("fanout", fanout, 1, 1_000), ("maximumGossipHops", maximumGossipHops, 1, wireHops - 1),
            ("seenCapacity", seenCapacity, 1, 10_000_000), ("defaultTTL", defaultTTL, 1, wireHops),
            ("maximumTTL", maximumTTL, 1, wireHops), ("routeCapacity", routeCapacity, 1, 10_000_000),
            ("maximumPayloadSize", maximumPayloadSize, 0, SpreadingConstants.maximumWirePayload),
            ("maximumPendingEchoes", maximumPendingEchoes, 1, 1_000_000),
        ] where value < low || value > high {
            throw .outOfRange(field: name, value: value, minimum: low, maximum: high)
        }
        guard defaultTTL <= maximumTTL else { throw .defaultTTLAboveMaximum }
    }
}

/// Why a ``SpreadingConfiguration`` was rejected.
public enum SpreadingConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A duration is zero or negative.
    case notPositive(field: String)
    /// A count or size is outside its allowed range.
    case outOfRange(field: String, value: Int, minimum: Int, maximum: Int)
    /// ``SpreadingConfiguration/defaultTTL`` is above ``SpreadingConfiguration/maximumTTL``.
    case defaultTTLAboveMaximum
    /// The swarm ID given to ``SpreadingCore/init(identity:swarmID:configuration:random:)``
    /// is not 32 bytes.
    case swarmIDLength(Int)

    /// A sentence for people.
    public var description: String {
        switch self {
        case .notPositive(let field): "spreading \(field) must be positive"
        case .outOfRange(let field, let value, let minimum, let maximum):
            "spreading \(field) is \(value); allowed \(minimum)…\(maximum)"
        case .defaultTTLAboveMaximum: "spreading defaultTTL must not exceed maximumTTL"
        case .swarmIDLength(let count): "the spreading swarm ID must be 32 bytes, not \(count)"
        }
    }
}
