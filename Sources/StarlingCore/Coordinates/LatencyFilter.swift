/// The last ``CoordinateConstants/latencyFilterSize`` (three) round trips measured to
/// one peer, whose median (of two, the smaller) stands for its round trip: one outlier (a late answer after a
/// pause, a queue that filled for a moment) does not move a coordinate.
///
/// Inline storage: no allocation per peer or per sample.
struct LatencyFilter: Sendable {
    private var samples: (Double, Double, Double) = (0, 0, 0)
    private var count = 0
    private var next = 0

    /// Adds a sample and returns the median of those held, the new one included.
    mutating func add(_ sample: Double) -> Double {
        switch next {
        case 0: samples.0 = sample
        case 1: samples.1 = sample
        default: samples.2 = sample
        }
        next = (next + 1) % CoordinateConstants.latencyFilterSize
        count = min(count + 1, CoordinateConstants.latencyFilterSize)
        return median
    }

    /// The median of the samples held; 0 before the first.
    var median: Double {
        switch count {
        case 0: return 0
        case 1: return samples.0
        // Of two, the smaller: a round trip is only ever lengthened by what goes wrong.
        case 2: return min(samples.0, samples.1)
        default:
            let (a, b, c) = samples
            return max(min(a, b), min(max(a, b), c))
        }
    }
}
