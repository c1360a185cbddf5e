import ArgumentParser
import Foundation
import StarlingCore
import StarlingIO
import Synchronization

extension McastCommand {
    /// `starling mcast probe`: send sequenced, timestamped probes to a group at a steady rate.
    struct Probe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send sequenced, timestamped probes to a multicast group at a chosen rate and size.",
            discussion: """
                Listeners (`starling mcast listen`) report each probe run's loss, one-way \
                latency, jitter, duplicates and reordering. A probe is a lab packet, every \
                field big-endian:

                  offset  size  field
                       0     4  magic, ASCII "SMLP"
                       4     1  version, 1
                       5     1  kind, 1 = probe (2 = a `send` message)
                       6     2  reserved, zero
                       8     8  sender id, random for each run
                      16     8  sequence number, from 0
                      24     8  send time, nanoseconds since the Unix epoch (CLOCK_REALTIME)
                      32     8  run length, the --count of the run
                      40     -  zero padding up to --size

                Latency is the receiver's CLOCK_REALTIME minus the send time, so between \
                machines it is only as good as their clock agreement (namespaces of one \
                machine share one clock). Probe i leaves at start + i / rate; a sender that \
                falls behind sends at once to catch up. SIGINT or SIGTERM ends the run early.
                """
        )

        /// The largest --count.
        static let maximumCount = 10_000_000
        /// The allowed --rate, probes per second.
        static let rates = 0.1...100_000.0

        @OptionGroup var target: McastGroupOptions
        @OptionGroup var sending: McastSendingOptions

        @Option(help: "How many probes to send, 1 to 10000000.")
        var count = 100

        @Option(help: "Probes per second, 0.1 to 100000.")
        var rate = 10.0

        @Option(help: "Each probe's size in bytes, 40 (the header and run length) to 65507 (the largest UDP payload).")
        var size = 64

        func validate() throws {
            guard (1...Self.maximumCount).contains(count) else {
                throw ValidationError("--count must be from 1 to \(Self.maximumCount), not \(count)")
            }
            guard Self.rates.contains(rate) else {
                throw ValidationError("--rate must be from 0.1 to 100000 probes per second, not \(rate)")
            }
            let sizes = ProbeConstants.minimumProbeSize...ProbeConstants.maximumPacketSize
            guard sizes.contains(size) else {
                throw ValidationError(
                    "--size must be from \(sizes.lowerBound) to \(sizes.upperBound) bytes "
                        + "(the probe header to the largest UDP payload), not \(size)")
            }
        }

        func run() async throws {
            let resolved = try McastTarget(target)
            let senderID = McastOutput.newSenderID()
            let sent = SentCount()
            let stop = StopSignal()
            let clock = ContinuousClock()
            let start = clock.now
            if !target.json {
                UDPCommand.note(
                    "probing \(resolved.groupText) on \(resolved.interface.name) as sender "
                        + "\(McastOutput.senderText(senderID)): \(count) probes of \(size) bytes at \(rate)/s")
            }
            let interrupted = try await UDPCommand.withSocket(boundTo: try resolved.wildcard(port: 0)) { socket in
                try await McastCommand.prepareSender(socket, resolved: resolved, sending: sending)
                return try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        try await sendProbes(on: socket, to: resolved, senderID: senderID, start: start, sent: sent)
                        return false
                    }
                    group.addTask {
                        await stop.wait()
                        return true
                    }
                    let interrupted = try await group.next() ?? false
                    group.cancelAll()
                    return interrupted
                }
            }
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let total = sent.value
            let achieved = seconds > 0 && total > 1 ? Double(total - 1) / seconds : 0
            if target.json {
                McastOutput.emitJSON(
                    ProbeEvent(
                        group: resolved.groupText, interface: resolved.interface.name,
                        sender: McastOutput.senderText(senderID), sent: total, count: UInt64(count), size: size,
                        rate: rate, achievedRate: achieved, seconds: seconds, interrupted: interrupted))
            } else {
                UDPCommand.emit(
                    "probe \(McastOutput.senderText(senderID)): sent \(total) of \(count) probes of \(size) bytes "
                        + "to \(resolved.groupText) on \(resolved.interface.name) in "
                        + "\(String(format: "%.2f", seconds)) s "
                        + "(\(rate)/s asked, \(String(format: "%.1f", achieved))/s sent)"
                        + (interrupted ? "; interrupted" : ""))
            }
        }

        /// Sends the run, probe `i` at `start + i / rate`, counting each in `sent`.
        private func sendProbes(
            on socket: GroupSocket,
            to resolved: McastTarget,
            senderID: UInt64,
            start: ContinuousClock.Instant,
            sent: SentCount
        ) async throws {
            let interval = Duration.seconds(1 / rate)
            for sequence in 0..<UInt64(count) {
                try await Task.sleep(until: start + interval * Double(sequence), clock: .continuous)
                let packet = ProbePacket.probe(
                    senderID: senderID, sequence: sequence, sentAtNanoseconds: LabClock.nowNanoseconds(),
                    runLength: UInt64(count))
                try await McastCommand.send(try packet.encoded(size: size), on: socket, to: resolved)
                sent.increment()
            }
        }
    }
}

/// How many probes have left, shared by the sending task and the one that reports.
private final class SentCount: Sendable {
    private let count = Mutex<UInt64>(0)

    /// The probes sent so far.
    var value: UInt64 { count.withLock { $0 } }

    /// Counts one more probe.
    func increment() {
        count.withLock { $0 += 1 }
    }
}
