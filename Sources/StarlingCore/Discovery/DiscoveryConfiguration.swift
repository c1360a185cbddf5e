/// How LAN discovery behaves: where beacons go, which swarm, and every rate and bound.
///
/// ### Purpose
/// Discovery is off until ``destinations`` lists at least one group or broadcast
/// address: a core without destinations sends nothing and drops everything. Start from
/// a profile: ``lan`` is the reference; ``simulation`` is a delta from it.
public struct DiscoveryConfiguration: Sendable {
    /// Where beacons and queries go, one copy each: multicast groups such as
    /// ``DiscoveryConstants/defaultIPv4Group`` and ``DiscoveryConstants/defaultIPv6Group``,
    /// or a directed broadcast such as `192.168.1.255:47077`. Empty turns discovery off.
    /// Each entry costs one datagram per beacon.
    public var destinations: [PeerAddress]

    /// Identifies the swarm (32 bytes; all zero is the public swarm). It is bound into
    /// the discovery key, so it only separates swarms that have a secret.
    public var swarmID: [UInt8]

    /// The swarm secret (32 bytes), or nil for an open swarm. With it every discovery
    /// message is sealed, so peers without it can neither read nor forge one.
    public var swarmSecret: [UInt8]?

    /// Mean time between beacons. Lower finds newcomers and changed records sooner;
    /// each beacon costs every peer on the LAN one datagram and one signature check.
    public var beaconInterval: Duration

    /// Share of ``beaconInterval`` by which each interval is randomly shortened or
    /// lengthened (0 to 1), so that peers started together do not beacon in step.
    public var beaconJitter: Double

    /// Least time between two beacons of this peer, even after ``DiscoveryCore/updateRecord(_:now:)``.
    /// Lower spreads a changed record sooner; higher bounds what a churning caller sends.
    public var minimumBeaconInterval: Duration

    /// Discovery datagrams accepted per source host per second (token bucket refill).
    /// Lower resists a flooding neighbour; too low drops beacons of hosts that run many peers.
    public var messagesPerSourcePerSecond: Double

    /// Burst of discovery datagrams accepted from one source host before the rate applies.
    public var burstPerSource: Int

    /// Discovery datagrams accepted per second from all sources together. Bounds the
    /// signature checks a flood from many addresses can cause.
    public var messagesPerSecond: Double

    /// Burst of discovery datagrams accepted from all sources before the global rate applies.
    public var burst: Int

    /// Answers (`iHave`) this peer sends per second on behalf of other peers. Bounds the
    /// traffic queries can draw from holders; queries for this peer itself are not counted.
    public var answersPerSecond: Double

    /// Burst of answers for other peers before ``answersPerSecond`` applies.
    public var answerBurst: Int

    /// Most peers whose records are kept. New peers beyond it are ignored until records
    /// expire; each entry costs about 1 KB.
    public var maximumPeers: Int

    /// Most `whoHas` queries of this peer awaiting an answer; further ones are refused.
    public var maximumPendingQueries: Int

    /// How long a `whoHas` query waits for an answer before ``DiscoveryEvent/queryTimedOut(_:)``.
    public var queryTimeout: Duration

    /// Errors in a configuration.
    public enum ValidationError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The swarm ID is not 32 bytes.
        case swarmIDLength(Int)
        /// The swarm secret is not 32 bytes.
        case swarmSecretLength(Int)
        /// A limit or interval is zero or negative, or the jitter is outside 0...1.
        case outOfRange(field: String)

        public var description: String {
            switch self {
            case .swarmIDLength(let count): "the swarm ID must be 32 bytes, not \(count)"
            case .swarmSecretLength(let count): "the swarm secret must be 32 bytes, not \(count)"
            case .outOfRange(let field): "\(field) is out of range"
            }
        }
    }

    /// The reference profile: discovery off (no destinations), a beacon every 10 s.
    public static let lan = DiscoveryConfiguration(
        destinations: [],
        swarmID: [UInt8](repeating: 0, count: 32),
        swarmSecret: nil,
        beaconInterval: .seconds(10),
        beaconJitter: 0.25,
        minimumBeaconInterval: .seconds(1),
        messagesPerSourcePerSecond: 10,
        burstPerSource: 20,
        messagesPerSecond: 500,
        burst: 1000,
        answersPerSecond: 20,
        answerBurst: 40,
        maximumPeers: 4096,
        maximumPendingQueries: 64,
        queryTimeout: .seconds(3)
    )

    /// The simulator: smaller tables, so many simulated peers stay light.
    public static let simulation: DiscoveryConfiguration = {
        var configuration = lan
        // Simulated LANs hold tens of peers, not thousands.
        configuration.maximumPeers = 256
        return configuration
    }()

    /// Checks the field sizes and ranges.
    /// - Throws: ``ValidationError``.
    public func validate() throws(ValidationError) {
        guard swarmID.count == 32 else { throw .swarmIDLength(swarmID.count) }
        if let swarmSecret, swarmSecret.count != 32 { throw .swarmSecretLength(swarmSecret.count) }
        let positive: [(String, Bool)] = [
            ("beaconInterval", beaconInterval > .zero), ("minimumBeaconInterval", minimumBeaconInterval > .zero),
            ("messagesPerSourcePerSecond", messagesPerSourcePerSecond > 0), ("burstPerSource", burstPerSource > 0),
            ("messagesPerSecond", messagesPerSecond > 0), ("burst", burst > 0),
            ("answersPerSecond", answersPerSecond > 0), ("answerBurst", answerBurst > 0),
            ("maximumPeers", maximumPeers > 0), ("maximumPendingQueries", maximumPendingQueries > 0),
            ("queryTimeout", queryTimeout > .zero), ("beaconJitter", (0...1).contains(beaconJitter)),
        ]
        if let bad = positive.first(where: { !$0.1 }) { throw .outOfRange(field: bad.0) }
    }
}
