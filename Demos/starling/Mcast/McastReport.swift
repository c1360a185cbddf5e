import Foundation
import StarlingCore

/// The end-of-run summary of `starling mcast listen`: a table for people, or one JSON
/// object (`--json`) whose `senders` array holds one object per probe sender.
struct McastReport: Encodable {
    /// One probe sender's figures.
    struct SenderFigures: Encodable {
        /// The sender's run id, 16 hex digits.
        let sender: String
        /// The address its latest probe came from.
        let from: String
        /// Distinct probes received.
        let received: UInt64
        /// Probes that should have arrived by the last one: highest sequence + 1.
        let expected: UInt64
        /// `expected − received`.
        let lost: UInt64
        /// `lost / expected` × 100.
        let lossPercent: Double
        /// Repeated arrivals.
        let duplicates: UInt64
        /// Arrivals overtaken by a higher sequence number.
        let reordered: UInt64
        /// Arrivals too far behind to classify.
        let tooOld: UInt64
        /// The run length the sender announced (0: open-ended).
        let runLength: UInt64
        /// Probes of the run that did not arrive, a lost tail included.
        let missingFromRun: UInt64
        /// Whether every probe of an announced run arrived.
        let complete: Bool
        /// The highest sequence number received.
        let highestSequence: UInt64?
        /// One-way latency, milliseconds; nil before a probe arrived.
        let latencyMinMs: Double?
        let latencyMeanMs: Double?
        let latencyMaxMs: Double?
        /// RFC 3550 interarrival jitter, milliseconds.
        let jitterMs: Double

        init(id: UInt64, from: String, statistics: ProbeStatistics) {
            sender = McastOutput.senderText(id)
            self.from = from
            received = statistics.received
            expected = statistics.expected
            lost = statistics.lost
            lossPercent = statistics.lossRatio * 100
            duplicates = statistics.duplicates
            reordered = statistics.reordered
            tooOld = statistics.tooOld
            runLength = statistics.runLength
            missingFromRun = statistics.missingFromRun
            complete = statistics.isComplete
            highestSequence = statistics.highestSequence
            latencyMinMs = statistics.minimumLatencyNanoseconds.map { Double($0) / 1e6 }
            latencyMeanMs = statistics.meanLatencyNanoseconds.map { $0 / 1e6 }
            latencyMaxMs = statistics.maximumLatencyNanoseconds.map { Double($0) / 1e6 }
            jitterMs = statistics.jitterNanoseconds / 1e6
        }
    }

    /// Always `report`, so a reader of the JSON lines can pick this one out.
    let event = "report"
    /// The group and port listened on.
    let group: String
    /// The interface joined on.
    let interface: String
    /// The source of a source-specific join, if any.
    let source: String?
    /// Why the listener stopped.
    let stoppedBy: String
    /// Whether payloads were printed as they came (`--raw`) rather than read as lab packets.
    let raw: Bool
    /// Seconds from the join to the stop.
    let seconds: Double
    /// Every datagram received.
    let datagrams: Int
    /// Lab messages received.
    let messages: Int
    /// Datagrams that were not lab packets.
    let foreign: Int
    /// Lab packets this build could not read.
    let malformed: Int
    /// Probes ignored because too many senders were already tracked.
    let tooManySenders: Int
    /// One entry per probe sender, in the order they were first heard.
    let senders: [SenderFigures]

    /// The table `listen` prints at the end, without `--json`.
    var table: String {
        let plural = { (count: Int, noun: String) in "\(count) \(noun)\(count == 1 ? "" : "s")" }
        let total =
            "stopped by \(stoppedBy) after \(String(format: "%.1f", seconds)) s: \(plural(datagrams, "datagram"))"
        guard !raw else { return total }
        var lines = [
            total + " (\(plural(messages, "message")), \(foreign) not lab packets, \(malformed) unreadable)"
        ]
        guard !senders.isEmpty else {
            lines.append("no probes received")
            return lines.joined(separator: "\n")
        }
        let header = [
            "sender", "from", "received", "expected", "lost", "loss %", "of run", "dup", "reord",
            "latency min/mean/max ms", "jitter ms",
        ]
        var rows = [header]
        for figures in senders {
            let latency = [figures.latencyMinMs, figures.latencyMeanMs, figures.latencyMaxMs]
                .map { $0.map { String(format: "%.3f", $0) } ?? "-" }
                .joined(separator: " / ")
            rows.append([
                figures.sender, figures.from, "\(figures.received)", "\(figures.expected)", "\(figures.lost)",
                String(format: "%.2f", figures.lossPercent),
                figures.runLength == 0 ? "-" : "\(figures.received)/\(figures.runLength)",
                "\(figures.duplicates)", "\(figures.reordered)",
                latency, String(format: "%.3f", figures.jitterMs),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        // Text columns left-aligned, numbers right-aligned.
        let leftAligned: Set<Int> = [0, 1]
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return leftAligned.contains(column) ? cell + padding : padding + cell
            }
            lines.append(cells.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}
