/// Percentiles, mean and range of a set of latency samples, in microseconds.
///
/// Percentiles use the nearest-rank method: the p-th percentile of `n` sorted samples is
/// the sample at 1-based rank `ceil(p / 100 × n)` (rank 1 for p = 0), so every reported
/// percentile is a value that was actually measured, never an interpolation between two.
///
/// ```swift
/// let summary = LatencySummary(nanoseconds: [9_000, 11_000, 10_000, 250_000])
/// summary.samples        // 4
/// summary.p50            // 10.0 (µs: rank ceil(0.5 × 4) = 2 of 9, 10, 11, 250)
/// summary.p99            // 250.0 (rank ceil(0.99 × 4) = 4)
/// summary.mean           // 70.0
/// ```
///
/// Building a summary copies and sorts the samples, so do it after the measured loop,
/// not inside it. An empty sample set gives a summary whose every figure is zero.
public struct LatencySummary: Sendable, Equatable, CustomStringConvertible {
    /// How many samples the figures describe.
    public let samples: Int
    /// The median (50th percentile), in microseconds.
    public let p50: Double
    /// The 90th percentile, in microseconds.
    public let p90: Double
    /// The 99th percentile, in microseconds.
    public let p99: Double
    /// The arithmetic mean, in microseconds.
    public let mean: Double
    /// The smallest sample, in microseconds.
    public let min: Double
    /// The largest sample, in microseconds.
    public let max: Double

    /// Summarises samples given in nanoseconds.
    public init(nanoseconds: some Collection<UInt64>) {
        let sorted = nanoseconds.sorted()
        samples = sorted.count
        guard let first = sorted.first, let last = sorted.last else {
            (p50, p90, p99, mean, min, max) = (0, 0, 0, 0, 0, 0)
            return
        }
        func microseconds(_ value: UInt64) -> Double { Double(value) / 1_000 }
        p50 = microseconds(sorted[Self.nearestRankIndex(percentile: 50, count: sorted.count)])
        p90 = microseconds(sorted[Self.nearestRankIndex(percentile: 90, count: sorted.count)])
        p99 = microseconds(sorted[Self.nearestRankIndex(percentile: 99, count: sorted.count)])
        var total = 0.0
        for value in sorted { total += Double(value) }
        mean = total / Double(sorted.count) / 1_000
        min = microseconds(first)
        max = microseconds(last)
    }

    /// The 0-based index, in `count` ascending samples, of the nearest-rank `percentile`.
    ///
    /// `percentile` is clamped to 0...100; `count` must be at least 1. The rank is
    /// `ceil(percentile / 100 × count)`, at least 1, computed with a tolerance of 1e-9 so
    /// that a product such as 0.99 × 100 that lands a hair above a whole number in binary
    /// floating point still counts as that whole number.
    ///
    /// ```swift
    /// LatencySummary.nearestRankIndex(percentile: 50, count: 10)  // 4 (the 5th smallest)
    /// LatencySummary.nearestRankIndex(percentile: 99, count: 10)  // 9 (the largest)
    /// ```
    public static func nearestRankIndex(percentile: Double, count: Int) -> Int {
        precondition(count >= 1, "nearestRankIndex needs at least one sample")
        let clamped = Swift.min(Swift.max(percentile.isNaN ? 0 : percentile, 0), 100)
        let exactRank = clamped * Double(count) / 100
        let rank = Int((exactRank - 1e-9).rounded(.up))
        return Swift.min(Swift.max(rank, 1), count) - 1
    }

    /// One line: sample count, p50, p90, p99, mean and range, all in microseconds.
    public var description: String {
        func format(_ value: Double) -> String {
            let hundredths = Int((value * 100).rounded())
            let fraction = hundredths % 100
            return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
        }
        return "\(samples) samples: p50 \(format(p50)) µs, p90 \(format(p90)) µs, p99 \(format(p99)) µs, "
            + "mean \(format(mean)) µs, min \(format(min)) µs, max \(format(max)) µs"
    }
}
