import Foundation
import StarlingCore
import StarlingSim

/// `starling bench topologies`: the pure and hybrid overlays side by side in the
/// simulator, the pure one being the baseline measured in the same run.
///
/// Each topology gets the same swarm: `--peers` peers (default 1,000) of whole-peer
/// cores (``NodeSwarm``) on 20 ms ± 10 ms links, joined through the first peer; hybrid
/// adds 3 index servers (the first three peers) that share the key space. Once every
/// peer sees every other alive (and, hybrid, every record is where it belongs):
/// - steady traffic: overlay datagrams sent per peer per second over 10 s, by role;
/// - lookups: 2,000 `findPeer` lookups from random peers to random peers, 100 every
///   100 ms: success, lookup messages and bytes (routing and index datagrams, less
///   the background routing traffic of the steady window) per lookup, and latency
///   p50/p99 in simulated time;
/// - memory: resident memory grown while building and settling the swarm, per peer.
///
/// Hybrid failover, then: one index server lost (its links cut), lookups started at
/// once at 200 per second for 5 s (success), and the time until every record is held
/// by the index servers that now hold its key; then every index server lost, the time
/// until every client falls back, and lookups through the Kademlia overlay.
///
/// The run is bounded by these counts and by a limit of simulated time per phase;
/// `--seconds` is ignored.
enum TopologiesBench {
    /// Link conditions of every simulated link.
    static let link = LinkConditions(latency: .milliseconds(20), jitter: .milliseconds(10))
    static let indexes = 3
    static let lookups = 2_000

    /// One topology's figures.
    struct Figures: Codable {
        var topology: String
        var peers: Int
        var convergedSeconds: Double
        var lookups: Int
        var found: Int
        var messagesPerLookup: Double
        var bytesPerLookup: Double
        var latencyP50Milliseconds: Double
        var latencyP99Milliseconds: Double
        /// Overlay datagrams sent per peer per second in the steady window, by role.
        var datagramsPerPeerSecondByRole: [String: Double]
        var memoryPerPeerKiB: Double
        var wallSeconds: Double
    }

    /// The hybrid topology's failover figures.
    struct Failover: Codable {
        var oneLostLookups: Int
        var oneLostFound: Int
        /// When every client counted the lost index server down (SWIM's suspicion or
        /// two unanswered requests).
        var detectedSeconds: Double?
        var reRegisteredSeconds: Double?
        var allLostFallbackSeconds: Double?
        var allLostLookups: Int
        var allLostFound: Int
    }

    struct Report: Encodable {
        var pure: Figures
        var hybrid: Figures
        var failover: Failover
        var targets: [BenchTarget]

        var json: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try! encoder.encode(self), as: UTF8.self)
        }

        var table: String {
            func row(_ name: String, _ pure: String, _ hybrid: String) -> String {
                name.padding(toLength: 34, withPad: " ", startingAt: 0)
                    + pure.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + hybrid
            }
            func number(_ value: Double) -> String { String(format: "%.1f", value) }
            func roles(_ figures: Figures) -> String {
                figures.datagramsPerPeerSecondByRole.sorted { $0.key < $1.key }.map { "\($0.key) \(number($0.value))" }
                    .joined(separator: ", ")
            }
            var lines = [
                "topologies: \(pure.peers) simulated peers, 20 ms ± 10 ms links (pure is the baseline)",
                row("", "pure", "hybrid (3 index servers)"),
                row("converged (simulated s)", number(pure.convergedSeconds), number(hybrid.convergedSeconds)),
                row("lookups found", "\(pure.found)/\(pure.lookups)", "\(hybrid.found)/\(hybrid.lookups)"),
                row("messages per lookup", number(pure.messagesPerLookup), number(hybrid.messagesPerLookup)),
                row("bytes per lookup", number(pure.bytesPerLookup), number(hybrid.bytesPerLookup)),
                row(
                    "lookup latency p50 / p99 (ms)",
                    "\(number(pure.latencyP50Milliseconds)) / \(number(pure.latencyP99Milliseconds))",
                    "\(number(hybrid.latencyP50Milliseconds)) / \(number(hybrid.latencyP99Milliseconds))"),
                row("datagrams/s per peer, by role", roles(pure), roles(hybrid)),
                row("memory per peer (KiB)", number(pure.memoryPerPeerKiB), number(hybrid.memoryPerPeerKiB)),
                row("wall time (s)", number(pure.wallSeconds), number(hybrid.wallSeconds)),
                "hybrid failover:",
                "  one index server lost: \(failover.oneLostFound)/\(failover.oneLostLookups) lookups found; "
                    + "all clients counted it down after \(failover.detectedSeconds.map(number) ?? "never") s, "
                    + "re-registered after \(failover.reRegisteredSeconds.map(number) ?? "never") s",
                "  all index servers lost: fallback after \(failover.allLostFallbackSeconds.map(number) ?? "never") s; "
                    + "\(failover.allLostFound)/\(failover.allLostLookups) lookups found",
            ]
            for target in targets { lines.append("  target    \(target.text): \(target.met ? "met" : "MISSED")") }
            return lines.joined(separator: "\n")
        }
    }

    /// One topology's run, as a child process prints it.
    struct Single: Codable {
        var figures: Figures
        var failover: Failover?
    }

    /// Measures each topology in a child process of its own (so that resident memory
    /// counts one swarm only) and puts the two side by side.
    static func run(peers: Int) throws -> Report {
        let pure = try runChild(topology: "pure", peers: peers)
        let hybrid = try runChild(topology: "hybrid", peers: peers)
        guard let lost = hybrid.failover else { throw BenchError.child("the hybrid run measured no failover") }
        return report(pure: pure.figures, hybrid: hybrid.figures, failover: lost)
    }

    /// Runs `starling bench topologies --only TOPOLOGY` and decodes what it prints.
    static func runChild(topology: String, peers: Int) throws -> Single {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["bench", "topologies", "--peers", String(peers), "--only", topology]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError.child("the \(topology) run exited with \(process.terminationStatus)")
        }
        return try JSONDecoder().decode(Single.self, from: data)
    }

    /// Measures one topology in this process.
    static func runSingle(topology: String, peers: Int) -> Single {
        guard topology == "hybrid" else {
            return Single(figures: measure(topology: "pure", peers: peers, seed: 1) { _ in .simulation })
        }
        var failover: Failover?
        let figures = measure(topology: "hybrid", peers: peers, seed: 1) { index in
            NodeSwarm.hybridOverlay(ofPeer: index, indexes: indexes)
        } after: { swarm in
            failover = measureFailover(&swarm)
        }
        return Single(figures: figures, failover: failover)
    }

    static func report(pure: Figures, hybrid: Figures, failover lost: Failover) -> Report {
        let oneLostRate = Double(lost.oneLostFound) / Double(max(1, lost.oneLostLookups))
        let allLostRate = Double(lost.allLostFound) / Double(max(1, lost.allLostLookups))
        let targets = [
            BenchTarget(text: "one index lost: lookup success ≥ 99.9 %", met: oneLostRate >= 0.999),
            BenchTarget(
                text: "one index lost: re-registration ≤ 2 s", met: (lost.reRegisteredSeconds ?? .infinity) <= 2),
            BenchTarget(text: "all indexes lost: lookup success ≥ 99 %", met: allLostRate >= 0.99),
            BenchTarget(
                text: "hybrid lookups cost fewer messages than pure",
                met: hybrid.messagesPerLookup < pure.messagesPerLookup),
        ]
        return Report(pure: pure, hybrid: hybrid, failover: lost, targets: targets)
    }

    /// Builds one swarm, settles it, and measures it.
    static func measure(
        topology: String, peers: Int, seed: UInt64, overlay: @escaping (Int) -> OverlayConfiguration,
        after: ((inout NodeSwarm) -> Void)? = nil
    ) -> Figures {
        let clock = ContinuousClock()
        let started = clock.now
        let memoryBefore = ResidentMemory.bytes()
        var swarm = try! NodeSwarm(seed: seed, count: peers, link: link, overlayOfPeer: overlay)
        let hybrid = topology == "hybrid"
        swarm.joinThroughFirst(spacing: .milliseconds(1))
        _ = swarm.run(step: .milliseconds(250), limit: .seconds(600)) { swarm in
            swarm.isConverged() && (!hybrid || swarm.isRegistered(indexes: indexes))
        }
        let converged = seconds(swarm.network.now - .zero)
        let memory = Double(max(0, ResidentMemory.bytes() - memoryBefore)) / Double(peers) / 1_024

        // Steady traffic, by role.
        let window: Duration = .seconds(10)
        let before = swarm.nodes.map { swarm.overlay(of: $0).statistics }
        swarm.network.run(for: window)
        var perRole: [String: (datagrams: Int, peers: Int)] = [:]
        var backgroundLookupTraffic = (datagrams: 0, bytes: 0)
        for (offset, node) in swarm.nodes.enumerated() {
            let overlay = swarm.overlay(of: node)
            let role = overlay.role.rawValue
            let sent = overlay.statistics.totalSent - before[offset].totalSent
            perRole[role, default: (0, 0)].datagrams += sent
            perRole[role, default: (0, 0)].peers += 1
            let traffic = lookupTraffic(overlay.statistics)
            let earlier = lookupTraffic(before[offset])
            backgroundLookupTraffic.datagrams += traffic.datagrams - earlier.datagrams
            backgroundLookupTraffic.bytes += traffic.bytes - earlier.bytes
        }
        let rates = perRole.mapValues { Double($0.datagrams) / Double(max(1, $0.peers)) / seconds(window) }

        // Lookups.
        let outcome = runLookups(&swarm, count: lookups, perBatch: 100, every: .milliseconds(100), seed: seed)
        let background = Double(backgroundLookupTraffic.datagrams) / seconds(window) * seconds(outcome.window)
        let backgroundBytes = Double(backgroundLookupTraffic.bytes) / seconds(window) * seconds(outcome.window)
        after?(&swarm)
        return Figures(
            topology: topology, peers: peers, convergedSeconds: converged, lookups: outcome.started,
            found: outcome.found,
            messagesPerLookup: max(0, Double(outcome.datagrams) - background) / Double(max(1, outcome.started)),
            bytesPerLookup: max(0, Double(outcome.bytes) - backgroundBytes) / Double(max(1, outcome.started)),
            latencyP50Milliseconds: percentile(outcome.latencies, 0.5),
            latencyP99Milliseconds: percentile(outcome.latencies, 0.99), datagramsPerPeerSecondByRole: rates,
            memoryPerPeerKiB: memory, wallSeconds: seconds(clock.now - started))
    }

    /// Routing and index datagrams and bytes sent: what lookups cost.
    static func lookupTraffic(_ statistics: OverlayStatistics) -> (datagrams: Int, bytes: Int) {
        (
            (statistics.sent[.routing] ?? 0) + (statistics.sent[.index] ?? 0),
            (statistics.sentBytes[.routing] ?? 0) + (statistics.sentBytes[.index] ?? 0)
        )
    }

    struct LookupOutcome {
        var started = 0
        var found = 0
        var latencies: [Double] = []
        var datagrams = 0
        var bytes = 0
        var window: Duration = .zero
        /// When each of `watches` first held (checked after every batch and step).
        var watchesMetAt: [Instant?] = []
    }

    /// Starts `count` lookups of random peers from random peers (never an index
    /// server), `perBatch` every `every`, and runs until all have ended; notes when
    /// each of `watches` first holds.
    static func runLookups(
        _ swarm: inout NodeSwarm, count: Int, perBatch: Int, every: Duration, seed: UInt64, skip: Int = 0,
        watches: [(NodeSwarm) -> Bool] = []
    ) -> LookupOutcome {
        let finished = FinishTimes()
        swarm.network.setReaction { node, _, event, now in
            if case .overlay(.routing(.lookupFinished(let id, _))) = event {
                finished.times[Key(node: node, id: id)] = now
            }
        }
        defer { swarm.network.setReaction(nil) }
        var random = SeededGenerator(seed: seed)
        let askers = Array(swarm.nodes.dropFirst(skip))
        precondition(askers.count >= 2, "lookups need two peers")
        let before = swarm.nodes.map { lookupTraffic(swarm.overlay(of: $0).statistics) }
        let start = swarm.network.now
        var started: [(key: Key, wanted: PeerID, at: Instant)] = []
        var watchesMetAt = [Instant?](repeating: nil, count: watches.count)
        func check(_ swarm: NodeSwarm) {
            for (index, watch) in watches.enumerated() where watchesMetAt[index] == nil && watch(swarm) {
                watchesMetAt[index] = swarm.network.now
            }
        }
        while started.count < count {
            for _ in 0..<min(perBatch, count - started.count) {
                let asker = askers.randomElement(using: &random)!
                var target = askers.randomElement(using: &random)!
                if target == asker { target = askers[(askers.firstIndex(of: asker)! + 1) % askers.count] }
                let wanted = swarm.peerID(of: target)
                let at = swarm.network.now
                if let id = swarm.network.command(
                    asker, { core, now in core.withOverlay { $0.findPeer(wanted, now: now) } })
                {
                    started.append((Key(node: asker, id: id), wanted, at))
                }
            }
            swarm.network.run(for: every)
            check(swarm)
        }
        _ = swarm.run(step: .milliseconds(50), limit: .seconds(120)) { swarm in
            check(swarm)
            return started.allSatisfy { swarm.lookupResult($0.key.id, at: $0.key.node) != nil }
        }
        var outcome = LookupOutcome()
        outcome.watchesMetAt = watchesMetAt
        outcome.started = started.count
        outcome.window = swarm.network.now - start
        for lookup in started {
            guard case .peer(let record?) = swarm.lookupResult(lookup.key.id, at: lookup.key.node)?.outcome,
                record.record.peerID == lookup.wanted
            else { continue }
            outcome.found += 1
            if let end = finished.times[lookup.key] { outcome.latencies.append(seconds(end - lookup.at) * 1_000) }
        }
        for (offset, node) in swarm.nodes.enumerated() {
            let traffic = lookupTraffic(swarm.overlay(of: node).statistics)
            outcome.datagrams += traffic.datagrams - before[offset].datagrams
            outcome.bytes += traffic.bytes - before[offset].bytes
        }
        return outcome
    }

    /// One index server lost, then all of them.
    static func measureFailover(_ swarm: inout NodeSwarm) -> Failover {
        let indexNodes = Array(swarm.nodes.prefix(indexes))
        let clients = Array(swarm.nodes.dropFirst(indexes))
        // Registrations made while clients still knew fewer index servers lapse first,
        // so that only the holders by placement hold each record.
        swarm.network.run(for: .seconds(35))
        let lostAt = swarm.network.now
        swarm.network.partition([[indexNodes[1]]])
        let live = indexNodes.filter { $0 != indexNodes[1] }
        // Detection and re-registration are timed from the loss, while the lookups run.
        let lostID = swarm.peerID(of: indexNodes[1])
        let detected: (NodeSwarm) -> Bool = { swarm in
            clients.allSatisfy { swarm.overlay(of: $0).hybrid?.indexState(lostID)?.isUp == false }
        }
        let registered: (NodeSwarm) -> Bool = { $0.isRegistered(indexes: indexes, live: live) }
        var oneLost = runLookups(
            &swarm, count: 1_000, perBatch: 20, every: .milliseconds(100), seed: 7, skip: indexes,
            watches: [detected, registered])
        for (index, watch) in [detected, registered].enumerated() where oneLost.watchesMetAt[index] == nil {
            if swarm.run(step: .milliseconds(100), limit: .seconds(60), until: watch) {
                oneLost.watchesMetAt[index] = swarm.network.now
            }
        }
        let allLostAt = swarm.network.now
        swarm.network.partition([indexNodes])
        let fellBack = swarm.run(step: .milliseconds(50), limit: .seconds(60)) { swarm in
            clients.allSatisfy { swarm.overlay(of: $0).hybrid?.isFallbackActive == true }
        }
        let fallback = fellBack ? seconds(swarm.network.now - allLostAt) : nil
        let allLost = runLookups(&swarm, count: 1_000, perBatch: 20, every: .milliseconds(100), seed: 8, skip: indexes)
        return Failover(
            oneLostLookups: oneLost.started, oneLostFound: oneLost.found,
            detectedSeconds: oneLost.watchesMetAt[0].map { seconds($0 - lostAt) },
            reRegisteredSeconds: oneLost.watchesMetAt[1].map { seconds($0 - lostAt) }, allLostFallbackSeconds: fallback,
            allLostLookups: allLost.started, allLostFound: allLost.found)
    }

    enum BenchError: Error, CustomStringConvertible {
        case child(String)

        var description: String {
            switch self {
            case .child(let reason): reason
            }
        }
    }

    struct Key: Hashable {
        var node: SimNodeID
        var id: LookupID
    }

    /// When lookups finished, as the reaction records them.
    final class FinishTimes: @unchecked Sendable {
        var times: [Key: Instant] = [:]
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
