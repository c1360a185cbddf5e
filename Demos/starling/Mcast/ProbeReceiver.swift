import Starling
import StarlingCore

/// What a `starling mcast listen` has made of the lab packets it received: one
/// ``ProbeStatistics`` and one latency series per probe sender, plus counts of the rest.
///
/// Pure bookkeeping: the caller reads the socket and the clock and passes both in.
struct ProbeReceiver: Sendable {
    /// The most probe senders tracked at once; probes from further senders are counted
    /// in ``tooManySenders`` and otherwise ignored, so a flood of made-up ids cannot
    /// grow the listener without bound.
    static let maximumSenders = 64

    /// One probe sender.
    struct Sender: Sendable {
        /// Its random run id.
        let id: UInt64
        /// The address its latest probe came from.
        var source: String
        /// What has been measured.
        var statistics = ProbeStatistics()
        /// Latency over time, for `--plot`.
        var series: ProbeLatencyPlot.Series
        /// ``ProbeStatistics/received`` at the previous live line.
        var receivedAtLastLine: UInt64 = 0
    }

    /// What one datagram turned out to be.
    enum Outcome {
        /// A text message from `starling mcast send`.
        case message(ProbePacket)
        /// A probe; `completed` is true for the one that completed its sender's run.
        case probe(sender: UInt64, arrival: ProbeArrival, completed: Bool)
        /// Not a lab packet: no magic.
        case foreign
        /// A lab packet this build cannot read.
        case malformed(WireError)
        /// A probe from a sender beyond ``maximumSenders``.
        case tooManySenders
    }

    /// The probe senders, in the order they first appeared.
    private(set) var senders: [Sender] = []
    /// Every datagram received, lab packet or not.
    private(set) var datagrams = 0
    /// Messages received.
    private(set) var messages = 0
    /// Datagrams that were not lab packets.
    private(set) var foreign = 0
    /// Lab packets that could not be read.
    private(set) var malformed = 0
    /// Probes ignored because ``maximumSenders`` were already tracked.
    private(set) var tooManySenders = 0
    /// When the first probe arrived (the plot's time origin), in `CLOCK_REALTIME` nanoseconds.
    private(set) var firstProbeAt: Int64?

    /// Files one datagram.
    ///
    /// - Parameters:
    ///   - payload: the datagram's bytes.
    ///   - source: its sender's address, as text.
    ///   - receivedAt: when it was read, nanoseconds since the Unix epoch.
    /// - Returns: what it was.
    mutating func receive(_ payload: [UInt8], from source: String, at receivedAt: Int64) -> Outcome {
        datagrams += 1
        guard ProbePacket.hasMagic(payload[...]) else {
            foreign += 1
            return .foreign
        }
        let packet: ProbePacket
        do {
            packet = try ProbePacket.consume(payload)
        } catch {
            malformed += 1
            return .malformed(error)
        }
        guard packet.kind == .probe else {
            messages += 1
            return .message(packet)
        }
        let index: Int
        if let known = senders.firstIndex(where: { $0.id == packet.senderID }) {
            index = known
        } else {
            guard senders.count < Self.maximumSenders else {
                tooManySenders += 1
                return .tooManySenders
            }
            senders.append(
                Sender(
                    id: packet.senderID, source: source,
                    series: ProbeLatencyPlot.Series(label: McastOutput.senderText(packet.senderID))))
            index = senders.count - 1
        }
        let origin = firstProbeAt ?? receivedAt
        firstProbeAt = origin
        let wasComplete = senders[index].statistics.isComplete
        senders[index].source = source
        let arrival = senders[index].statistics.record(
            sequence: packet.sequence, sentAtNanoseconds: packet.sentAtNanoseconds,
            receivedAtNanoseconds: receivedAt, runLength: packet.runLength)
        if arrival == .inOrder || arrival == .reordered, let latency = senders[index].statistics.lastLatencyNanoseconds
        {
            senders[index].series.add(
                ProbeLatencyPlot.Point(
                    seconds: Double(ProbeStatistics.difference(receivedAt, origin)) / 1e9,
                    milliseconds: Double(latency) / 1e6))
        }
        let completed = !wasComplete && senders[index].statistics.isComplete
        return .probe(sender: packet.senderID, arrival: arrival, completed: completed)
    }

    /// Counts a datagram that `--raw` printed without reading it.
    mutating func countRaw() {
        datagrams += 1
    }

    /// The statistics of the sender with `id`, if it is tracked.
    func statistics(of id: UInt64) -> ProbeStatistics? {
        senders.first { $0.id == id }?.statistics
    }

    /// A line for each sender heard from since the previous call, for the live view.
    ///
    /// - Parameter elapsed: whole seconds since the listener started, for the line's stamp.
    mutating func liveLines(elapsed: Int) -> [String] {
        var lines: [String] = []
        for index in senders.indices {
            let statistics = senders[index].statistics
            let fresh = statistics.received - senders[index].receivedAtLastLine
            guard fresh > 0 else { continue }
            senders[index].receivedAtLastLine = statistics.received
            let stamp = String(repeating: " ", count: max(0, 4 - String(elapsed).count)) + String(elapsed)
            let run = statistics.runLength == 0 ? "open-ended" : "\(statistics.runLength)"
            let latency = statistics.lastLatencyNanoseconds.map { McastOutput.milliseconds(Double($0)) } ?? "-"
            lines.append(
                "[\(stamp) s] \(McastOutput.senderText(senders[index].id)) from \(senders[index].source): "
                    + "+\(fresh) received (\(statistics.received) of \(run)), "
                    + "lost \(statistics.lost), dup \(statistics.duplicates), reordered \(statistics.reordered), "
                    + "latency \(latency) ms, jitter \(McastOutput.milliseconds(statistics.jitterNanoseconds)) ms"
            )
        }
        return lines
    }

    /// The latency plot of every sender.
    var plot: ProbeLatencyPlot {
        ProbeLatencyPlot(series: senders.map(\.series))
    }
}
