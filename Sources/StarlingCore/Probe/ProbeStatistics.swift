/// How one probe fitted into what a receiver had already seen of its sender.
public enum ProbeArrival: String, Sendable, Equatable {
    /// Above every sequence number seen so far from this sender (or its first).
    case inOrder
    /// Below the highest sequence number seen, and not seen before: it was overtaken
    /// (RFC 4737's reordered packet). It also stops counting as lost.
    case reordered
    /// Seen before; counted once as received, every repeat as a duplicate.
    case duplicate
    /// More than ``ProbeConstants/sequenceWindow`` below the highest sequence number: too
    /// old to tell a duplicate from a late packet, so it is counted apart and otherwise ignored.
    case tooOld
}

/// What a receiver measured of one probe sender: loss, duplicates, reordering, one-way
/// latency and interarrival jitter.
///
/// ### Purpose
/// The arithmetic of `starling mcast listen`, kept out of the program that reads sockets
/// and clocks so that hand-made packet sequences test it. Feed every probe of one sender
/// to ``record(sequence:sentAtNanoseconds:receivedAtNanoseconds:runLength:)`` in arrival
/// order; read the counts and latencies at any time.
///
/// ### Definitions
/// - **received**: distinct sequence numbers that arrived.
/// - **expected**: one more than the highest sequence number seen, since sequences start
///   at 0 (RFC 3550 §A.3 with a base of 0). **lost** = expected − received; a late packet
///   stops counting as lost. A lost tail is not seen this way (nothing above it arrives):
///   ``missingFromRun`` counts it against the run length the sender announced, once the
///   run is over.
/// - **duplicates**: arrivals of a sequence number already seen.
/// - **reordered**: arrivals below the highest sequence number seen that were not seen
///   before (RFC 4737 §3).
/// - **latency**: receive time − send time of each distinct probe. Both times are
///   `CLOCK_REALTIME` nanoseconds, so across machines it is only as good as their clock
///   agreement; inside network namespaces of one machine the clock is the same.
/// - **jitter**: RFC 3550 §6.4.1 interarrival jitter, in nanoseconds: for consecutive
///   distinct arrivals i, j, D = (Rj − Ri) − (Sj − Si) = transit(j) − transit(i), and
///   J += (|D| − J) / 16.
///
/// Time is passed in, never read. The memory is fixed: one bitmap of
/// ``ProbeConstants/sequenceWindow`` bits.
public struct ProbeStatistics: Sendable, Equatable {
    /// Distinct sequence numbers received.
    public private(set) var received: UInt64 = 0
    /// Arrivals of a sequence number already received.
    public private(set) var duplicates: UInt64 = 0
    /// Distinct arrivals that came after a higher sequence number.
    public private(set) var reordered: UInt64 = 0
    /// Arrivals too far behind to classify (see ``ProbeArrival/tooOld``).
    public private(set) var tooOld: UInt64 = 0
    /// The largest run length the sender announced (0: open-ended or not announced).
    public private(set) var runLength: UInt64 = 0
    /// The smallest one-way latency measured, in nanoseconds; nil before the first probe.
    public private(set) var minimumLatencyNanoseconds: Int64?
    /// The largest one-way latency measured, in nanoseconds; nil before the first probe.
    public private(set) var maximumLatencyNanoseconds: Int64?
    /// The latency of the latest distinct probe, in nanoseconds; nil before the first.
    public private(set) var lastLatencyNanoseconds: Int64?
    /// The RFC 3550 interarrival jitter estimate, in nanoseconds (0 until two probes arrived).
    public private(set) var jitterNanoseconds: Double = 0

    private var latencySumNanoseconds: Double = 0
    private var window = SequenceWindow()

    /// Creates the statistics of a sender nothing has arrived from yet.
    public init() {}

    /// The highest sequence number received, or nil before the first probe.
    public var highestSequence: UInt64? { window.highest }

    /// How many probes should have arrived by now: the highest sequence number + 1 (0 before
    /// the first probe).
    public var expected: UInt64 {
        guard let highest = window.highest else { return 0 }
        return highest == .max ? .max : highest + 1
    }

    /// Probes of the announced run that have not arrived: run length − received (0 for an
    /// open-ended run). Unlike ``lost`` it includes a lost tail, and while the run is still
    /// being sent it includes the probes not sent yet.
    public var missingFromRun: UInt64 { runLength > received ? runLength - received : 0 }

    /// Expected probes that have not arrived (never negative).
    public var lost: UInt64 { expected > received ? expected - received : 0 }

    /// ``lost`` as a fraction of ``expected``; 0 when nothing is expected.
    public var lossRatio: Double { expected == 0 ? 0 : Double(lost) / Double(expected) }

    /// Whether the sender announced a run length and every probe of it has arrived.
    public var isComplete: Bool { runLength > 0 && received >= runLength }

    /// The mean one-way latency, in nanoseconds; nil before the first probe.
    public var meanLatencyNanoseconds: Double? {
        received == 0 ? nil : latencySumNanoseconds / Double(received)
    }

    /// Records the arrival of one probe.
    ///
    /// - Parameters:
    ///   - sequence: the probe's sequence number.
    ///   - sentAtNanoseconds: its send time, as the sender wrote it.
    ///   - receivedAtNanoseconds: when it was received, on the same scale.
    ///   - runLength: the run length the probe announced (0: open-ended).
    /// - Returns: how the probe fitted in; only ``ProbeArrival/inOrder`` and
    ///   ``ProbeArrival/reordered`` probes count as received and feed latency and jitter.
    @discardableResult
    public mutating func record(
        sequence: UInt64,
        sentAtNanoseconds: Int64,
        receivedAtNanoseconds: Int64,
        runLength: UInt64
    ) -> ProbeArrival {
        self.runLength = max(self.runLength, runLength)
        let arrival: ProbeArrival
        switch window.insert(sequence) {
        case .newHighest: arrival = .inOrder
        case .late: arrival = .reordered
        case .duplicate:
            duplicates += 1
            return .duplicate
        case .tooOld:
            tooOld += 1
            return .tooOld
        }
        if arrival == .reordered { reordered += 1 }
        received += 1
        let transit = Self.difference(receivedAtNanoseconds, sentAtNanoseconds)
        if let previous = lastLatencyNanoseconds {
            let change = Double(transit) - Double(previous)
            jitterNanoseconds += (change.magnitude - jitterNanoseconds) * ProbeConstants.jitterGain
        }
        lastLatencyNanoseconds = transit
        minimumLatencyNanoseconds = min(minimumLatencyNanoseconds ?? transit, transit)
        maximumLatencyNanoseconds = max(maximumLatencyNanoseconds ?? transit, transit)
        latencySumNanoseconds += Double(transit)
        return arrival
    }

    /// `a − b` in nanoseconds, clamped to Int64's range instead of trapping: a sender may
    /// write any time into its packets.
    public static func difference(_ a: Int64, _ b: Int64) -> Int64 {
        let (value, overflow) = a.subtractingReportingOverflow(b)
        guard overflow else { return value }
        return a > b ? .max : .min
    }
}
