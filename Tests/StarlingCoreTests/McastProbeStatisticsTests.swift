import Testing

@testable import StarlingCore

/// `ProbeStatistics` fed hand-made probe sequences: every count and the RFC 3550 jitter
/// worked out by hand.
@Suite struct McastProbeStatisticsTests {
    /// One arrival: its sequence number, its transit time (receive − send) in ns, and what
    /// the statistics should make of it.
    typealias Step = (sequence: UInt64, transit: Int64, arrival: ProbeArrival)

    /// Feeds `steps` in order, sent 10 ms apart, and checks each arrival's class.
    private func feed(
        _ steps: [Step], runLength: UInt64 = 0, into statistics: inout ProbeStatistics,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for (index, step) in steps.enumerated() {
            let sent = 1_700_000_000_000_000_000 + Int64(step.sequence) * 10_000_000
            let arrival = statistics.record(
                sequence: step.sequence, sentAtNanoseconds: sent, receivedAtNanoseconds: sent + step.transit,
                runLength: runLength)
            #expect(arrival == step.arrival, "step \(index): sequence \(step.sequence)", sourceLocation: sourceLocation)
        }
    }

    @Test func probeStatistics_record_inOrderRun_countsEverythingOnceWithNoLoss() {
        var statistics = ProbeStatistics()
        feed((0..<5).map { ($0, 100, .inOrder) }, runLength: 5, into: &statistics)
        #expect(statistics.received == 5)
        #expect(statistics.expected == 5)
        #expect(statistics.lost == 0)
        #expect(statistics.lossRatio == 0)
        #expect(statistics.duplicates == 0)
        #expect(statistics.reordered == 0)
        #expect(statistics.highestSequence == 4)
        #expect(statistics.isComplete)
        #expect(statistics.missingFromRun == 0)
        #expect(statistics.minimumLatencyNanoseconds == 100)
        #expect(statistics.maximumLatencyNanoseconds == 100)
        #expect(statistics.meanLatencyNanoseconds == 100)
        #expect(statistics.jitterNanoseconds == 0)
    }

    @Test func probeStatistics_record_gaps_countAsLost_andTheTailAsMissingFromTheRun() {
        var statistics = ProbeStatistics()
        feed([(0, 100, .inOrder), (1, 100, .inOrder), (4, 100, .inOrder)], runLength: 6, into: &statistics)
        #expect(statistics.received == 3)
        #expect(statistics.expected == 5)
        #expect(statistics.lost == 2)
        #expect(statistics.lossRatio == 0.4)
        #expect(statistics.runLength == 6)
        #expect(statistics.missingFromRun == 3)
        #expect(!statistics.isComplete)
    }

    @Test func probeStatistics_record_lateProbe_isReordered_andNoLongerLost() {
        var statistics = ProbeStatistics()
        feed([(0, 100, .inOrder), (1, 100, .inOrder), (3, 100, .inOrder)], into: &statistics)
        #expect(statistics.lost == 1)
        feed([(2, 100, .reordered), (4, 100, .inOrder)], into: &statistics)
        #expect(statistics.received == 5)
        #expect(statistics.lost == 0)
        #expect(statistics.reordered == 1)
        #expect(statistics.duplicates == 0)
    }

    @Test func probeStatistics_record_repeats_areDuplicates_countedOnceAsReceived() {
        var statistics = ProbeStatistics()
        feed(
            [(0, 100, .inOrder), (1, 100, .inOrder), (1, 900, .duplicate), (2, 100, .inOrder), (0, 900, .duplicate)],
            runLength: 3, into: &statistics)
        #expect(statistics.received == 3)
        #expect(statistics.duplicates == 2)
        #expect(statistics.reordered == 0)
        #expect(statistics.lost == 0)
        #expect(statistics.isComplete)
        // A duplicate's transit feeds neither latency nor jitter.
        #expect(statistics.maximumLatencyNanoseconds == 100)
        #expect(statistics.jitterNanoseconds == 0)
    }

    @Test func probeStatistics_record_reversedRun_isAllReorderedButTheFirst() {
        var statistics = ProbeStatistics()
        feed([(3, 100, .inOrder), (2, 100, .reordered), (1, 100, .reordered), (0, 100, .reordered)], into: &statistics)
        #expect(statistics.received == 4)
        #expect(statistics.reordered == 3)
        #expect(statistics.lost == 0)
    }

    /// RFC 3550 §6.4.1: J += (|D| − J) / 16, D the change in transit time. Transits 100,
    /// 120, 110, 110 give D = 20, −10, 0, so J = 20/16 = 1.25, then 1.25 + 8.75/16 =
    /// 1.796875, then 1.796875 − 1.796875/16 = 1.6845703125 (all exact in binary).
    @Test func probeStatistics_record_jitter_followsRFC3550() {
        var statistics = ProbeStatistics()
        feed([(0, 100, .inOrder)], into: &statistics)
        #expect(statistics.jitterNanoseconds == 0)
        feed([(1, 120, .inOrder)], into: &statistics)
        #expect(statistics.jitterNanoseconds == 1.25)
        feed([(2, 110, .inOrder)], into: &statistics)
        #expect(statistics.jitterNanoseconds == 1.796875)
        feed([(3, 110, .inOrder)], into: &statistics)
        #expect(statistics.jitterNanoseconds == 1.6845703125)
        #expect(statistics.minimumLatencyNanoseconds == 100)
        #expect(statistics.maximumLatencyNanoseconds == 120)
        #expect(statistics.meanLatencyNanoseconds == 110)
        #expect(statistics.lastLatencyNanoseconds == 110)
    }

    /// Jitter is taken in arrival order: a reordered probe's transit is compared with the
    /// probe that arrived just before it, whatever their sequence numbers.
    @Test func probeStatistics_record_jitter_usesArrivalOrder() {
        var statistics = ProbeStatistics()
        feed([(1, 100, .inOrder), (0, 132, .reordered)], into: &statistics)
        #expect(statistics.jitterNanoseconds == 2)
    }

    @Test func probeStatistics_record_farBehindTheWindow_isTooOld_andIgnored() {
        let window = ProbeConstants.sequenceWindow
        var statistics = ProbeStatistics()
        feed(
            [(0, 100, .inOrder), (window + 5, 100, .inOrder), (5, 100, .tooOld), (6, 100, .reordered)],
            into: &statistics)
        #expect(statistics.tooOld == 1)
        #expect(statistics.received == 3)
        #expect(statistics.reordered == 1)
    }

    /// A jump of a whole ring clears the bits that older sequence numbers left in the same
    /// words, so a new late probe there is not mistaken for a duplicate.
    @Test func probeStatistics_record_afterAJumpAroundTheRing_staleBitsAreCleared() {
        let ring = UInt64(SequenceWindow.ringWords) * SequenceWindow.wordBits
        var statistics = ProbeStatistics()
        feed((0..<10).map { ($0, 100, .inOrder) }, into: &statistics)
        feed([(ring + 3, 100, .inOrder), (ring + 1, 100, .reordered), (ring + 1, 100, .duplicate)], into: &statistics)
        #expect(statistics.duplicates == 1)
        #expect(statistics.reordered == 1)
        #expect(statistics.received == 12)
    }

    @Test func probeStatistics_record_hostileTimes_clampInsteadOfTrapping() {
        var statistics = ProbeStatistics()
        statistics.record(sequence: 0, sentAtNanoseconds: .min, receivedAtNanoseconds: .max, runLength: 0)
        statistics.record(sequence: 1, sentAtNanoseconds: .max, receivedAtNanoseconds: .min, runLength: 0)
        statistics.record(sequence: .max, sentAtNanoseconds: 0, receivedAtNanoseconds: 0, runLength: .max)
        #expect(statistics.maximumLatencyNanoseconds == .max)
        #expect(statistics.minimumLatencyNanoseconds == .min)
        #expect(statistics.expected == .max)
        #expect(statistics.received == 3)
        #expect(statistics.jitterNanoseconds.isFinite)
    }

    @Test func probeStatistics_empty_expectsNothing() {
        let statistics = ProbeStatistics()
        #expect(statistics.expected == 0)
        #expect(statistics.lost == 0)
        #expect(statistics.lossRatio == 0)
        #expect(statistics.meanLatencyNanoseconds == nil)
        #expect(statistics.highestSequence == nil)
        #expect(!statistics.isComplete)
    }
}
