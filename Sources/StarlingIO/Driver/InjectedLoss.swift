/// Loss injected in-process on a driver's receive path: each received datagram is
/// dropped with ``probability``, decided by a generator seeded with ``seed`` so that a
/// run's pattern can be repeated.
///
/// For experiments and benchmarks on machines whose kernel has no `netem`; the dropped
/// datagrams are counted in ``DriverStatistics/injectedDrops``.
public struct InjectedLoss: Sendable, Equatable {
    /// The chance, from 0 to 1, that a received datagram is dropped.
    public var probability: Double
    /// The seed of the drop decisions.
    public var seed: UInt64

    /// Creates a loss of `probability` (clamped to 0…1) seeded with `seed`.
    public init(probability: Double, seed: UInt64) {
        self.probability = min(1, max(0, probability))
        self.seed = seed
    }

    /// The decisions, one per received datagram: SplitMix64 against a threshold.
    struct Decider {
        var state: UInt64
        let threshold: UInt64

        init(_ loss: InjectedLoss) {
            state = loss.seed
            threshold = loss.probability >= 1 ? .max : UInt64(loss.probability * 18_446_744_073_709_551_615.0)
        }

        /// Whether to drop the next datagram.
        mutating func drops() -> Bool {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return (z ^ (z >> 31)) < threshold
        }
    }
}
