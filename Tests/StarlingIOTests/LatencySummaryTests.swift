import StarlingIO
import Testing

/// `LatencySummary`: nearest-rank percentiles, checked against a table worked out by hand.
struct LatencySummaryTests {
    /// (percentile, sample count, expected 0-based index): index = ceil(p / 100 × n) − 1, at least 0.
    static let rankTable: [(percentile: Double, count: Int, index: Int)] = [
        (50, 1, 0), (99, 1, 0), (0, 1, 0), (100, 1, 0),
        (50, 2, 0), (51, 2, 1), (99, 2, 1),
        (0, 10, 0), (10, 10, 0), (11, 10, 1), (50, 10, 4), (90, 10, 8), (99, 10, 9), (100, 10, 9),
        (50, 100, 49), (90, 100, 89), (99, 100, 98), (100, 100, 99),
        (99, 200, 197), (99.9, 1000, 998), (99.9, 1001, 999), (50, 1001, 500),
        (-5, 10, 0), (250, 10, 9), (.nan, 10, 0),
    ]

    @Test(arguments: rankTable)
    func nearestRankIndex_matchesTheTable(row: (percentile: Double, count: Int, index: Int)) {
        #expect(
            LatencySummary.nearestRankIndex(percentile: row.percentile, count: row.count) == row.index,
            "p\(row.percentile) of \(row.count)")
    }

    @Test func summary_ofOneToOneHundredMicroseconds_inShuffledOrder() {
        var samples = (1...100).map { UInt64($0) * 1_000 }
        samples.reverse()
        samples.swapAt(3, 70)
        let summary = LatencySummary(nanoseconds: samples)
        #expect(summary.samples == 100)
        #expect(summary.p50 == 50)
        #expect(summary.p90 == 90)
        #expect(summary.p99 == 99)
        #expect(summary.mean == 50.5)
        #expect(summary.min == 1)
        #expect(summary.max == 100)
    }

    @Test func summary_ofTheDocumentedExample() {
        let summary = LatencySummary(nanoseconds: [9_000, 11_000, 10_000, 250_000])
        #expect(summary.samples == 4)
        #expect(summary.p50 == 10)
        #expect(summary.p90 == 250)
        #expect(summary.p99 == 250)
        #expect(summary.mean == 70)
        #expect(summary.min == 9)
        #expect(summary.max == 250)
        #expect(
            summary.description
                == "4 samples: p50 10.00 µs, p90 250.00 µs, p99 250.00 µs, mean 70.00 µs, min 9.00 µs, max 250.00 µs")
    }

    @Test func summary_keepsSubMicrosecondPrecision() {
        let summary = LatencySummary(nanoseconds: [1_500, 2_250])
        #expect(summary.p50 == 1.5)
        #expect(summary.p99 == 2.25)
        #expect(summary.mean == 1.875)
        #expect(summary.description.hasPrefix("2 samples: p50 1.50 µs, p90 2.25 µs"))
    }

    @Test func summary_ofNoSamples_isAllZero() {
        let summary = LatencySummary(nanoseconds: [UInt64]())
        #expect(summary == LatencySummary(nanoseconds: [UInt64]()))
        #expect(summary.samples == 0)
        #expect([summary.p50, summary.p90, summary.p99, summary.mean, summary.min, summary.max].allSatisfy { $0 == 0 })
    }
}
