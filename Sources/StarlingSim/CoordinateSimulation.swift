public import StarlingCore

/// Network coordinates on a ``LatencyMatrix``, the way Serf measures its own: in each
/// cycle every peer measures the true round trip to one other peer drawn at random and
/// updates its ``PeerDistances`` with it and the other's current coordinate. Then
/// ``evaluate()`` compares every pair's estimate with the truth.
///
/// Deterministic for a seed; no network, no clock (cycle `c` happens at `c` seconds).
public struct CoordinateSimulation: Sendable {
    /// The true round trips.
    public let truth: LatencyMatrix
    /// Each peer's distances, indexed like the matrix.
    public private(set) var peers: [PeerDistances]
    /// The simulated peers' IDs, indexed like the matrix.
    public let ids: [PeerID]
    /// Cycles run so far.
    public private(set) var cycles = 0
    private var random: SeededGenerator

    /// The relative error of the estimates against the truth.
    public struct Accuracy: Equatable, Sendable {
        /// The mean over every pair of `|estimate − truth| / truth`.
        public var average: Double
        /// The largest.
        public var maximum: Double
    }

    /// Peers at the origin on `truth`.
    public init(truth: LatencyMatrix, seed: UInt64) {
        self.truth = truth
        peers = [PeerDistances](repeating: PeerDistances(), count: truth.count)
        ids = (0..<truth.count).map { Self.id($0) }
        random = SeededGenerator(seed: seed)
    }

    /// A simulated peer's ID: its index in the first bytes, then a fixed pattern.
    public static func id(_ index: Int) -> PeerID {
        var bytes = [UInt8](repeating: 0x5A, count: 32)
        for shift in 0..<4 { bytes[shift] = UInt8(truncatingIfNeeded: index >> (8 * (3 - shift))) }
        return PeerID(publicKey: Key32(bytes)!)
    }

    /// Runs `count` cycles.
    public mutating func run(cycles count: Int) {
        for _ in 0..<count {
            cycles += 1
            let now = Instant.zero + .seconds(cycles)
            for i in peers.indices {
                let j = Int.random(in: 0..<peers.count, using: &random)
                guard j != i else { continue }
                peers[i].observe(
                    rtt: .seconds(truth[i, j]), of: ids[j], coordinate: peers[j].localCoordinate, now: now)
            }
        }
    }

    /// The coordinates' estimate between peers `i` and `j`, in seconds.
    public func estimate(_ i: Int, _ j: Int) -> Double {
        peers[i].localCoordinate.distance(to: peers[j].localCoordinate)
    }

    /// Every pair's relative error.
    public func evaluate() -> Accuracy {
        var total = 0.0
        var maximum = 0.0
        var pairs = 0
        for i in peers.indices {
            for j in (i + 1)..<max(i + 1, peers.count) {
                let error = abs(estimate(i, j) - truth[i, j]) / truth[i, j]
                total += error
                maximum = max(maximum, error)
                pairs += 1
            }
        }
        return Accuracy(average: pairs == 0 ? 0 : total / Double(pairs), maximum: maximum)
    }
}
