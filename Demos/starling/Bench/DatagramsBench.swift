import Foundation
import NIOCore
import NIOPosix
import StarlingCore
import StarlingIO

/// `starling bench datagrams` and `starling bench bulk`: encrypted datagrams received
/// per second between two PeerCores on 127.0.0.1, against raw `sendmmsg`/`recvmmsg`.
///
/// - datagrams: 64-byte payloads, ``DatagramOptions/standard`` (GSO where the kernel has
///   it, no GRO); the figure is datagrams delivered per second, against the raw 64-byte
///   rate. Target: ratio ≥ 0.9.
/// - bulk: the largest PeerCore datagram payload (1,200 bytes on the wire) with
///   ``DatagramOptions/bulk`` (UDP GSO and GRO where the kernel has them); the figure is
///   payload MB/s, against raw 1,200-byte datagrams without GSO. Target: ratio ≥ 1.8.
///
/// The baseline and Starling alternate in two rounds of `seconds / 2` each, so that both
/// sides see the same machine; each figure is the total over its rounds. Diagnostics
/// follow, outside the alternation and each for a quarter of `seconds` (0.2 to 1 s): the
/// I/O path with ``NullCore``s, the cores alone (``CoreCost``), and for datagrams the
/// same flood without GSO and with ``DatagramOptions/bulk``.
enum DatagramsBench {
    static let rounds = 2

    static func run(seconds: Double, bulk: Bool) async throws -> BenchResult {
        let payloadSize = bulk ? RPCConstants.maximumMessageSize - 1 : 64
        let rawPayloadSize = bulk ? payloadSize + DatagramFlood.overhead : 64
        // Bulk: one perform per GSO run, as many datagrams as one run carries.
        let batch = bulk ? min(64, 65_507 / (payloadSize + DatagramFlood.overhead)) : 64
        let perRound = seconds / Double(rounds)

        let options: DatagramOptions = bulk ? .bulk : .standard
        var baselines: [RawUDPBaseline.DatagramRate] = []
        var floods: [DatagramFlood.Outcome] = []
        let peers = try await LoopbackPair.peers(options: options, within: .seconds(5))
        do {
            for _ in 0..<rounds {
                baselines.append(try RawUDPBaseline.datagramRate(payloadSize: rawPayloadSize, seconds: perRound))
                floods.append(
                    try await DatagramFlood.run(peers, payloadSize: payloadSize, batch: batch, seconds: perRound))
            }
        } catch {
            await peers.shutdown()
            throw error
        }
        await peers.shutdown()
        // Diagnostics, outside the alternation: the I/O path with cores that do nothing,
        // the real cores with no I/O, and (datagrams) the cores with GSO/GRO on.
        let diagnosticSeconds = min(1, max(0.2, seconds / 4))
        let ioOnly = try await flood(try await LoopbackPair.bind(options: options) { _ in NullCore() }) {
            try await DatagramFlood.run($0, payloadSize: payloadSize, batch: batch, seconds: diagnosticSeconds)
        }
        var withoutOffload = DatagramOptions.standard
        withoutOffload.segmentationOffload = false
        var offloaded: [DatagramFlood.Outcome] = []
        if !bulk {
            for variant in [withoutOffload, .bulk] {
                offloaded.append(
                    try await flood(try await LoopbackPair.peers(options: variant, within: .seconds(5))) {
                        try await DatagramFlood.run(
                            $0, payloadSize: payloadSize, batch: batch, seconds: diagnosticSeconds)
                    })
            }
        }
        let cost = CoreCost.measure(payloadSize: payloadSize, seconds: diagnosticSeconds)

        let baselineSeconds = baselines.reduce(0) { $0 + $1.seconds }
        let starlingSeconds = floods.reduce(0) { $0 + $1.seconds }
        let sent = floods.reduce(0) { $0 + $1.sent }
        let lost = floods.reduce(0) { $0 + $1.lost }
        let stalls = floods.reduce(0) { $0 + $1.stalls }
        let waiting = floods.reduce(0) { $0 + $1.waitingSteps }
        let steps = floods.reduce(0) { $0 + $1.steps }
        let ioText =
            bulk
            ? String(format: "I/O path alone (null cores) %.0f MB/s", ioOnly.megabytesPerSecond)
            : String(format: "I/O path alone (null cores) %.0f datagrams/s", ioOnly.datagramsPerSecond)
        let offloadText =
            offloaded.count == 2
            ? String(
                format: "without GSO %.0f datagrams/s, with DatagramOptions.bulk (GSO and GRO) %.0f datagrams/s",
                offloaded[0].datagramsPerSecond, offloaded[1].datagramsPerSecond)
            : ""
        let waitText = String(
            format: "sender found the window full in %.0f%% of its steps",
            steps > 0 ? 100 * Double(waiting) / Double(steps) : 0)
        let lossText = String(
            format: "lost %d of %d sent (%.3f%%), %d stalls", lost, sent,
            sent > 0 ? 100 * Double(lost) / Double(sent) : 0, stalls)
        let sender = floods.map(\.senderDriver).reduce(DriverStatistics(), +)
        let receiver = floods.map(\.receiverDriver).reduce(DriverStatistics(), +)
        let gso =
            peers.segmentationOffload
            ? String(
                format: "GSO on (%d of %d datagrams in %d runs, %.1f per run)", sender.segmentedDatagrams,
                sender.datagramsSent, sender.segmentedWrites,
                sender.segmentedWrites > 0 ? Double(sender.segmentedDatagrams) / Double(sender.segmentedWrites) : 0)
            : "GSO off (System.supportsUDPSegmentationOffload is \(System.supportsUDPSegmentationOffload))"
        let gro =
            peers.receiveOffload
            ? String(
                format: "GRO on (%d reads joined, %.1f datagrams per read)", receiver.coalescedReads,
                receiver.coalescedReads > 0 ? Double(receiver.datagramsReceived) / Double(receiver.coalescedReads) : 0)
            : "GRO off"
        let common =
            "batch \(batch), window \(floods.first?.window ?? 0); \(gso); \(gro); \(lossText); \(waitText); "
            + "\(ioText); \(cost.text)"
        if bulk {
            let baseline = Double(baselines.reduce(0) { $0 + $1.bytesReceived }) / baselineSeconds / 1e6
            let starling = Double(floods.reduce(0) { $0 + $1.bytes }) / starlingSeconds / 1e6
            let ratio = baseline > 0 ? starling / baseline : 0
            return BenchResult(
                name: "bulk", starling: starling, baseline: baseline, unit: "MB/s payload",
                detail: "encrypted \(payloadSize)-byte payloads (\(rawPayloadSize) B on the wire) with "
                    + "DatagramOptions.bulk vs raw \(rawPayloadSize)-byte sendmmsg/recvmmsg without GSO; \(common); "
                    + "rounds starling \(roundsText(floods.map(\.megabytesPerSecond))) "
                    + "baseline \(roundsText(baselines.map(\.megabytesPerSecond)))",
                targets: [.ratio(atLeast: 1.8, ratio)])
        } else {
            let baseline = Double(baselines.reduce(0) { $0 + $1.datagramsReceived }) / baselineSeconds
            let starling = Double(floods.reduce(0) { $0 + $1.delivered }) / starlingSeconds
            let ratio = baseline > 0 ? starling / baseline : 0
            return BenchResult(
                name: "datagrams", starling: starling, baseline: baseline, unit: "datagrams/s",
                detail: "encrypted \(payloadSize)-byte payloads (\(payloadSize + DatagramFlood.overhead) B on the "
                    + "wire) with DatagramOptions.standard vs raw \(rawPayloadSize)-byte sendmmsg/recvmmsg "
                    + "(window \(baselines.first?.window ?? 0)); \(common); \(offloadText); "
                    + "rounds starling \(roundsText(floods.map(\.datagramsPerSecond))) "
                    + "baseline \(roundsText(baselines.map(\.datagramsPerSecond)))",
                targets: [.ratio(atLeast: 0.9, ratio)])
        }
    }

    /// Runs `body` on `pair`, then shuts the pair down, also when `body` throws.
    static func flood<Core>(
        _ pair: LoopbackPair<Core>, _ body: (LoopbackPair<Core>) async throws -> DatagramFlood.Outcome
    ) async throws -> DatagramFlood.Outcome {
        do {
            let outcome = try await body(pair)
            await pair.shutdown()
            return outcome
        } catch {
            await pair.shutdown()
            throw error
        }
    }

    /// "[a, b]" with each value rounded to a whole number.
    static func roundsText(_ values: [Double]) -> String {
        "[" + values.map { String(format: "%.0f", $0) }.joined(separator: ", ") + "]"
    }
}
