import ArgumentParser
import Foundation

/// `starling bench CASE`: measure Starling against a baseline in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a Starling path against a baseline measured in the same process.",
        discussion: """
            Each case runs the baseline and the Starling code alternately for the given time and \
            prints both figures and their ratio (Starling / baseline; for rpc, a latency, lower is \
            better). The network cases use two sockets on 127.0.0.1 only. Build with -c release \
            for meaningful figures: swift run -c release starling bench records
            """
    )

    /// The cases this build can measure.
    enum Case: String, ExpressibleByArgument, CaseIterable {
        case records
        case framing
        case datagrams
        case rpc
        case bulk
        case handshakes
        case lookup
        case membership
        case idle
        case topologies
        case anycast
        case groups
        case names
    }

    @Argument(help: "What to measure: \(Case.allCases.map(\.rawValue).joined(separator: ", ")).")
    var benchCase: Case

    @Option(help: "Seconds for each side (0.1 to 600).")
    var seconds: Double = 2

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(
        help:
            "Simulated peers for topologies (20 to 20,000; default 1,000) and names (default 10,000); group members for groups (default 1,000)."
    )
    var peers: Int?

    @Option(help: "The topology names are measured in: pure, hybrid or super-peer (default pure).")
    var topology = "pure"

    @Option(help: "Loopback peers for topologies, each shape as a swarm in this process (0 skips; at most 1,000).")
    var loopbackPeers = 200

    @Option(help: .hidden)
    var only: String?

    func validate() throws {
        guard (0.1...600).contains(seconds) else {
            throw ValidationError("--seconds must be from 0.1 to 600, not \(seconds)")
        }
        if let only, !["pure", "hybrid", "super-peer"].contains(only) {
            throw ValidationError("--only must be pure, hybrid or super-peer")
        }
        guard ["pure", "hybrid", "super-peer"].contains(topology) else {
            throw ValidationError("--topology must be pure, hybrid or super-peer, not \(topology)")
        }
        if let peers, !(20...20_000).contains(peers) {
            throw ValidationError("--peers must be 20 to 20,000, not \(peers)")
        }
        guard loopbackPeers == 0 || (20...1_000).contains(loopbackPeers) else {
            throw ValidationError("--loopback-peers must be 0 or 20 to 1,000, not \(loopbackPeers)")
        }
    }

    func run() async throws {
        let result: BenchResult
        switch benchCase {
        case .records: result = RecordsBench.run(seconds: seconds)
        case .framing: result = FramingBench.run(seconds: seconds)
        case .datagrams: result = try await DatagramsBench.run(seconds: seconds, bulk: false)
        case .bulk: result = try await DatagramsBench.run(seconds: seconds, bulk: true)
        case .rpc: result = try await RPCBench.run(seconds: seconds)
        case .handshakes: result = HandshakesBench.run(seconds: seconds)
        case .lookup: result = LookupBench.run(seconds: seconds)
        case .membership: result = try await MembershipBench.run(seconds: seconds)
        case .idle: result = try await IdleBench.run()
        case .anycast: result = AnycastBench.run()
        case .groups: result = GroupsBench.run(members: peers ?? 1_000)
        case .names:
            // Figures of its own against the issue's targets, not a ratio to a baseline.
            let report = NamesBench.run(peers: peers ?? 10_000, topology: topology)
            print(json ? report.json : report.table)
            return
        case .topologies:
            // Side by side rather than one figure against a baseline: a report of its own,
            // each topology measured in a child process (`--only`).
            if let only {
                let single = TopologiesBench.runSingle(topology: only, peers: peers ?? 1_000)
                print(JSONText.encode(single))
                return
            }
            let report = try await TopologiesBench.run(peers: peers ?? 1_000, loopbackPeers: loopbackPeers)
            print(json ? report.json : report.table)
            return
        }
        print(json ? result.json : result.table)
    }
}

/// One benchmark's outcome: both figures, their ratio, and the targets it was held to.
struct BenchResult: Encodable {
    let name: String
    let starling: Double
    let baseline: Double
    let unit: String
    let detail: String
    /// True when the figures are costs (latencies), so a ratio below 1 is the better one.
    var lowerIsBetter = false
    /// Targets checked against these figures, each with whether it was met.
    var targets: [BenchTarget] = []
    var ratio: Double { baseline > 0 ? starling / baseline : 0 }

    enum CodingKeys: String, CodingKey {
        case name, starling, baseline, ratio, unit, detail, lowerIsBetter, targets
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(starling, forKey: .starling)
        try container.encode(baseline, forKey: .baseline)
        try container.encode(ratio, forKey: .ratio)
        try container.encode(unit, forKey: .unit)
        try container.encode(detail, forKey: .detail)
        try container.encode(lowerIsBetter, forKey: .lowerIsBetter)
        try container.encode(targets, forKey: .targets)
    }

    var json: String { JSONText.encode(self) }

    var table: String {
        var text = """
            \(name): \(detail)
              baseline  \(format(baseline)) \(unit)
              starling  \(format(starling)) \(unit)
              ratio     \(String(format: "%.3f", ratio))x (starling / baseline; \(lowerIsBetter ? "lower" : "higher") is better)
            """
        for target in targets {
            text += "\n  target    \(target.text): \(target.met ? "met" : "MISSED")"
        }
        return text
    }

    private func format(_ value: Double) -> String { String(format: "%14.1f", value) }
}

/// A goal a bench figure is held to, and whether this run met it.
struct BenchTarget: Encodable {
    /// The goal, for people: "ratio ≥ 0.90x".
    let text: String
    let met: Bool

    /// The ratio must be at least `minimum`.
    static func ratio(atLeast minimum: Double, _ ratio: Double) -> BenchTarget {
        BenchTarget(text: "ratio ≥ \(String(format: "%.2f", minimum))x", met: ratio >= minimum)
    }

    /// The ratio must be at most `maximum`.
    static func ratio(atMost maximum: Double, _ ratio: Double) -> BenchTarget {
        BenchTarget(text: "ratio ≤ \(String(format: "%.2f", maximum))x", met: ratio <= maximum)
    }
}

/// Runs `body` repeatedly for about `seconds` and returns how many times per second
/// it ran. `body` does `batch` operations per call and returns a value that is
/// accumulated so the optimiser cannot drop the work.
func measureRate(seconds: Double, batch: Int, _ body: () -> Int) -> Double {
    let clock = ContinuousClock()
    let budget = Duration.milliseconds(Int64(seconds * 1000))
    var operations = 0
    var sink = 0
    let start = clock.now
    var elapsed = Duration.zero
    while elapsed < budget {
        sink &+= body()
        operations += batch
        elapsed = clock.now - start
    }
    blackHole(sink)
    let (secondsPart, attoseconds) = elapsed.components
    return Double(operations) / (Double(secondsPart) + Double(attoseconds) / 1e18)
}

/// Keeps a value alive past the optimiser.
@inline(never)
func blackHole(_ value: Int) {
    if value == 0x5EED_F00D { print("") }
}
