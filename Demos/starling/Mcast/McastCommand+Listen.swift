import ArgumentParser
import Foundation
import NIOCore
import StarlingCore
import StarlingIO
import Synchronization

extension McastCommand {
    /// `starling mcast listen`: join a group and report what arrives, until stopped.
    struct Listen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join a multicast group and print the messages and probe statistics that arrive.",
            discussion: """
                Prints `joined GROUP on INTERFACE` (with `from SOURCE` for a source-specific \
                join) once the membership is in place, then one line per message; while probes \
                arrive, one line per second per probe sender; and `complete SENDER: N of N \
                probes received` when a probe run has fully arrived. Stops on SIGINT or SIGTERM, \
                or after --seconds, and then prints a table of each probe sender's loss, \
                one-way latency, RFC 3550 jitter, duplicates and reordering (--json: one \
                `report` object), and draws the latency over time with --plot.

                With --raw every datagram's payload is printed as one line, whatever it holds.
                """
        )

        @OptionGroup var target: McastGroupOptions

        @Option(
            help: ArgumentHelp(
                "Receive only from this sender: a source-specific join (needs a group in 232.0.0.0/8 or ff3x::/32).",
                valueName: "address"
            )
        )
        var source: String?

        @Option(help: ArgumentHelp("Stop after this many seconds (0.1 to 86400).", valueName: "seconds"))
        var seconds: Double?

        @Flag(help: "Print each datagram's payload as a line instead of reading lab packets.")
        var raw = false

        @Option(
            help: ArgumentHelp(
                "Write an SVG plot of each probe sender's latency over time here.", valueName: "file.svg"))
        var plot: String?

        func validate() throws {
            _ = try McastTarget.source(source, for: target.group)
            if let seconds, !(0.1...86400).contains(seconds) {
                throw ValidationError("--seconds must be from 0.1 to 86400, not \(seconds)")
            }
            if let plot {
                if raw { throw ValidationError("--plot draws probe latencies, which --raw does not read") }
                let folder = URL(fileURLWithPath: plot).deletingLastPathComponent().path
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                    throw ValidationError("--plot \(plot): the folder \(folder) does not exist")
                }
            }
        }

        func run() async throws {
            let resolved = try McastTarget(target)
            let sourceAddress = try McastTarget.source(source, for: target.group)
            let stop = StopSignal()
            let started = ContinuousClock.now
            let address = try resolved.wildcard(port: target.port)
            let received = try await UDPCommand.withSocket(boundTo: address, reuseAddress: true) { socket in
                // Only this socket's own membership, so another program's joins on this host
                // (or an any-source join of the same group) do not leak in.
                do {
                    try await socket.setReceivesAllGroups(false)
                } catch {
                    UDPCommand.note("note: cannot limit the socket to its own groups (\(error)); continuing")
                }
                do {
                    if let sourceAddress {
                        try await socket.join(resolved.group, source: sourceAddress, on: resolved.interface)
                    } else {
                        try await socket.join(resolved.group, on: resolved.interface)
                    }
                } catch {
                    throw CLIError("cannot join \(target.group) on \(resolved.interface.name): \(error)")
                }
                announceJoin(resolved)
                let book = ProbeBook()
                let ending = await receive(on: socket, into: book, stop: stop, started: started)
                finish(book, resolved: resolved, stoppedBy: ending, elapsed: ContinuousClock.now - started)
                return book.snapshot
            }
            if let plot {
                do {
                    try received.plot.svg().write(toFile: plot, atomically: true, encoding: .utf8)
                } catch {
                    throw CLIError("cannot write --plot \(plot): \(error.localizedDescription)")
                }
                UDPCommand.note("wrote the latency plot to \(plot)")
            }
        }

        /// Prints the line a caller waits for before sending.
        private func announceJoin(_ resolved: McastTarget) {
            if target.json {
                McastOutput.emitJSON(
                    JoinedEvent(group: resolved.groupText, interface: resolved.interface.name, source: source))
            } else {
                let from = source.map { " from \($0)" } ?? ""
                UDPCommand.emit("joined \(target.group) on \(resolved.interface.name)\(from)")
            }
        }

        /// Receives until SIGINT/SIGTERM, --seconds, or the socket closes; returns which.
        private func receive(
            on socket: GroupSocket, into book: ProbeBook, stop: StopSignal, started: ContinuousClock.Instant
        )
            async -> String
        {
            let raw = raw
            let json = target.json
            let seconds = seconds
            return await withTaskGroup(of: String.self) { group in
                group.addTask {
                    do {
                        for try await datagram in socket.datagrams {
                            let now = LabClock.nowNanoseconds()
                            let from = UDPCommand.describe(datagram.source)
                            let payload = Array(datagram.payload.readableBytesView)
                            if raw {
                                book.countRaw()
                                Self.printRaw(payload, from: from, json: json)
                            } else {
                                Self.report(
                                    book.receive(payload, from: from, at: now), from: from, book: book, json: json)
                            }
                        }
                        return "the socket closing"
                    } catch {
                        return "a receive error (\(error))"
                    }
                }
                group.addTask {
                    await stop.wait()
                    return "a signal"
                }
                if let seconds {
                    group.addTask {
                        try? await Task.sleep(for: .seconds(seconds))
                        return "--seconds \(seconds)"
                    }
                }
                if !json, !raw {
                    group.addTask {
                        // The live view: a line per second per sender heard from.
                        var tick = 0
                        while !Task.isCancelled {
                            tick += 1
                            try? await Task.sleep(until: started + .seconds(tick))
                            guard !Task.isCancelled else { break }
                            for line in book.liveLines(elapsed: tick) { UDPCommand.emit(line) }
                        }
                        return "cancelled"
                    }
                }
                let ending = await group.next() ?? "the socket closing"
                group.cancelAll()
                return ending
            }
        }

        /// Prints one datagram of `--raw`.
        private static func printRaw(_ payload: [UInt8], from: String, json: Bool) {
            let text = UDPCommand.Listen.printable(ByteBuffer(bytes: payload))
            if json {
                McastOutput.emitJSON(DatagramEvent(from: from, bytes: payload.count, text: text))
            } else {
                UDPCommand.emit(text)
            }
        }

        /// Prints what one lab datagram turned out to be, when it is worth a line.
        private static func report(_ outcome: ProbeReceiver.Outcome, from: String, book: ProbeBook, json: Bool) {
            switch outcome {
            case .message(let packet):
                let text = UDPCommand.Listen.printable(ByteBuffer(bytes: packet.text))
                let sender = McastOutput.senderText(packet.senderID)
                if json {
                    McastOutput.emitJSON(
                        MessageEvent(from: from, sender: sender, sequence: packet.sequence, text: text))
                } else {
                    UDPCommand.emit("message from \(from) \(sender) #\(packet.sequence): \(text)")
                }
            case .probe(let sender, _, let completed):
                guard completed, let statistics = book.statistics(of: sender) else { return }
                let id = McastOutput.senderText(sender)
                if json {
                    McastOutput.emitJSON(
                        CompleteEvent(sender: id, received: statistics.received, duplicates: statistics.duplicates))
                } else {
                    UDPCommand.emit("complete \(id): \(statistics.received) of \(statistics.runLength) probes received")
                }
            case .foreign:
                if book.foreignCount == 1 {
                    UDPCommand.note(
                        "ignoring datagrams that are not lab packets (the first from \(from)); use --raw for plain UDP")
                }
            case .malformed(let error):
                UDPCommand.note("unreadable lab packet from \(from): \(error)")
            case .tooManySenders:
                if book.tooManySendersCount == 1 {
                    UDPCommand.note("ignoring probes beyond \(ProbeReceiver.maximumSenders) senders")
                }
            }
        }

        /// Prints the final report.
        private func finish(_ book: ProbeBook, resolved: McastTarget, stoppedBy: String, elapsed: Duration) {
            let receiver = book.snapshot
            let report = McastReport(
                group: resolved.groupText,
                interface: resolved.interface.name,
                source: source,
                stoppedBy: stoppedBy,
                raw: raw,
                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                datagrams: receiver.datagrams,
                messages: receiver.messages,
                foreign: receiver.foreign,
                malformed: receiver.malformed,
                tooManySenders: receiver.tooManySenders,
                senders: receiver.senders.map {
                    McastReport.SenderFigures(id: $0.id, from: $0.source, statistics: $0.statistics)
                }
            )
            if target.json {
                McastOutput.emitJSON(report)
            } else {
                UDPCommand.emit(report.table)
            }
        }
    }
}
