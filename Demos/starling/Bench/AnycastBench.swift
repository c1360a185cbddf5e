import Foundation
import StarlingCore
import StarlingSim

/// `starling bench anycast`: network coordinates and nearest-provider choice in the
/// simulator, against the thresholds Serf holds its own coordinates to.
///
/// 1. **Coordinates** on Serf's synthetic topologies (``CoordinateSimulation``, 1,000
///    cycles, seed 1): a line of 10 peers 10 ms apart, a 5 × 5 grid 10 ms apart, a
///    LAN/WAN split (1 ms / 10 ms), 25 peers with random 100 ± 10 ms round trips.
///    Target: the average relative error within Serf's threshold for each, and ≤ 5 % on
///    the random one.
/// 2. **Choice** on a heterogeneous matrix of 200 peers (six regions, access links,
///    ±5 % noise; ``LatencyMatrix/heterogeneous(nodes:seed:)``) after 1,000 cycles (and,
///    reported beside, after 60 and 300: a peer knows the coordinates of only the peers
///    it has probed, so early on most providers are unknown to it):
///    2,000 calls, each from a random peer to 10 random providers, picked by
///    ``AnycastPlan`` from the ranking ``PeerDistances/ranked(_:now:)`` gives (measured
///    round trips where recent, coordinates otherwise). Target: the chosen provider's
///    true round trip within 10 % of the true best in ≥ 95 % of calls. The same by
///    coordinates alone is reported too.
/// 3. **Load** among equally near providers: on the split, a peer of one site asks the
///    12 peers of the other (all 11 ms away) 6,000 times, 4 calls in flight at a time.
///    Target: no provider gets more than 1.5 × the mean.
/// 4. **Failover** in a simulated swarm of 30 whole peers on a heterogeneous matrix:
///    each of 8 askers calls `requestNearest` once with its nearest provider silenced
///    (before failure detection notices), and once in a swarm where that peer, silenced
///    the same way, provides nothing (so both lookups pay alike for the silent peer).
///    Target: the difference, the time lost on the silent provider, ≤ its round trip +
///    300 ms.
///
/// Everything is virtual time; `--seconds` is ignored.
enum AnycastBench {
    struct Topology {
        let name: String
        let matrix: LatencyMatrix
        let serfAverage: Double
    }

    static let topologies = [
        Topology(name: "line", matrix: .line(nodes: 10, spacing: 0.010), serfAverage: 0.0031),
        Topology(name: "grid", matrix: .grid(nodes: 25, spacing: 0.010), serfAverage: 0.0016),
        Topology(name: "split", matrix: .split(nodes: 25, lan: 0.001, wan: 0.010), serfAverage: 0.000060),
        Topology(
            name: "random", matrix: .random(nodes: 25, mean: 0.100, deviation: 0.010, seed: 1), serfAverage: 0.05),
    ]

    static func run() -> BenchResult {
        var targets: [BenchTarget] = []
        var detail = ""
        for topology in topologies {
            var simulation = CoordinateSimulation(truth: topology.matrix, seed: 1)
            simulation.run(cycles: 1_000)
            let accuracy = simulation.evaluate()
            detail += String(
                format: "%@: error avg %.6f max %.6f (Serf's avg %.6f); ", topology.name, accuracy.average,
                accuracy.maximum, topology.serfAverage)
            targets.append(
                BenchTarget(
                    text: String(format: "%@ average error ≤ %g", topology.name, topology.serfAverage),
                    met: accuracy.average <= topology.serfAverage))
        }

        let choice = choose(calls: 2_000, cycles: 1_000)
        let early = choose(calls: 2_000, cycles: 60)
        let later = choose(calls: 2_000, cycles: 300)
        detail += String(
            format: "choice among 10 of 200: within 10 %% of the best %.1f %% as ranked, %.1f %% by coordinates "
                + "alone (after 60 cycles: %.1f %% and %.1f %%; after 300: %.1f %% and %.1f %%); ",
            choice.ranked * 100, choice.coordinates * 100, early.ranked * 100, early.coordinates * 100,
            later.ranked * 100, later.coordinates * 100)
        targets.append(
            BenchTarget(text: "chosen within 10 % of the best in ≥ 95 % of calls", met: choice.ranked >= 0.95))

        let spread = loadSpread(calls: 6_000)
        detail += String(format: "load among 12 equally near: max %.2f × the mean; ", spread)
        targets.append(BenchTarget(text: "no provider above 1.5 × the mean load", met: spread <= 1.5))

        let failover = failoverDelays()
        detail += failover.summary
        targets.append(BenchTarget(text: "failover adds ≤ 1 RTT + 300 ms", met: failover.met))

        return BenchResult(
            name: "anycast", starling: choice.ranked * 100, baseline: 95, unit: "% within 10 % of the best",
            detail: detail, targets: targets)
    }

    /// The share of calls whose chosen provider is within 10 % of the true best, as
    /// ranked (measured or coordinates) and by coordinates alone.
    static func choose(calls: Int, cycles: Int) -> (ranked: Double, coordinates: Double) {
        let matrix = LatencyMatrix.heterogeneous(nodes: 200, seed: 11)
        var simulation = CoordinateSimulation(truth: matrix, seed: 2)
        simulation.run(cycles: cycles)
        let now = Instant.zero + .seconds(simulation.cycles)
        var random = SeededGenerator(seed: 5)
        var (ranked, coordinates) = (0, 0)
        for _ in 0..<calls {
            let asker = Int.random(in: 0..<matrix.count, using: &random)
            let providers = Array((0..<matrix.count).filter { $0 != asker }.shuffled(using: &random).prefix(10))
            let best = providers.map { matrix[asker, $0] }.min()!
            let distances = simulation.peers[asker]
            var plan = AnycastPlan(ranked: distances.ranked(providers.map { simulation.ids[$0] }, now: now))
            if let pick = plan.next(inFlight: { _ in 0 }, using: &random),
                matrix[asker, simulation.ids.firstIndex(of: pick.id)!] <= best * 1.1
            {
                ranked += 1
            }
            let byCoordinates = providers.map { provider in
                RankedPeer(
                    id: simulation.ids[provider],
                    estimate: DistanceEstimate(
                        roundTrip: .seconds(simulation.estimate(asker, provider)), basis: .coordinates))
            }.sorted { $0.estimate!.roundTrip < $1.estimate!.roundTrip }
            var coordinatePlan = AnycastPlan(ranked: byCoordinates)
            if let pick = coordinatePlan.next(inFlight: { _ in 0 }, using: &random),
                matrix[asker, simulation.ids.firstIndex(of: pick.id)!] <= best * 1.1
            {
                coordinates += 1
            }
        }
        return (Double(ranked) / Double(calls), Double(coordinates) / Double(calls))
    }

    /// The most calls any of 12 equally near providers got, over the mean.
    static func loadSpread(calls: Int) -> Double {
        let matrix = LatencyMatrix.split(nodes: 25, lan: 0.001, wan: 0.010)
        var simulation = CoordinateSimulation(truth: matrix, seed: 3)
        simulation.run(cycles: 1_000)
        let now = Instant.zero + .seconds(simulation.cycles)
        let providers = (13..<25).map { simulation.ids[$0] }
        var random = SeededGenerator(seed: 7)
        var counts: [PeerID: Int] = [:]
        var window: [PeerID] = []
        for _ in 0..<calls {
            var inFlight: [PeerID: Int] = [:]
            for id in window { inFlight[id, default: 0] += 1 }
            var plan = AnycastPlan(ranked: simulation.peers[0].ranked(providers, now: now))
            guard let pick = plan.next(inFlight: { inFlight[$0] ?? 0 }, using: &random) else { continue }
            counts[pick.id, default: 0] += 1
            window.append(pick.id)
            if window.count > 4 { window.removeFirst() }
        }
        let mean = Double(calls) / Double(providers.count)
        return Double(providers.map { counts[$0] ?? 0 }.max()!) / mean
    }

    /// Each asker's anycast time with and without its nearest provider silenced.
    static func failoverDelays() -> (summary: String, met: Bool) {
        let matrix = LatencyMatrix.heterogeneous(nodes: 30, seed: 3)
        let providers = [4, 9, 13, 18, 22, 27]
        var worstExcess = -Double.infinity
        var added: [Double] = []
        for asker in [0, 1, 2, 5, 7, 11, 16, 20] {
            let nearest = providers.min { matrix[asker, $0] < matrix[asker, $1] }!
            let others = providers.filter { $0 != nearest }
            guard let normal = timedCall(matrix: matrix, providers: others, asker: asker, silenced: nearest),
                let failed = timedCall(matrix: matrix, providers: providers, asker: asker, silenced: nearest)
            else { return ("failover: a call failed", false) }
            let extra = failed - normal
            added.append(extra)
            worstExcess = max(worstExcess, extra - (matrix[asker, nearest] + 0.300))
        }
        let summary = String(
            format: "failover (8 askers, nearest silenced): added %.0f–%.0f ms, worst %.0f ms %@ its RTT + 300 ms",
            added.min()! * 1_000, added.max()! * 1_000, abs(worstExcess) * 1_000,
            worstExcess <= 0 ? "under" : "over")
        return (summary, worstExcess <= 0)
    }

    /// The virtual seconds one anycast call from `asker` takes, with `silenced` cut off
    /// first; nil if it failed.
    static func timedCall(matrix: LatencyMatrix, providers: [Int], asker: Int, silenced: Int?) -> Double? {
        guard
            let lab = try? NodeSwarm.anycastLab(
                seed: 7, matrix: matrix, providers: providers, service: "svc", method: "where"),
            lab.converged
        else { return nil }
        var swarm = lab.swarm
        if let silenced { swarm.network.partition([[swarm.nodes[silenced]]]) }
        guard
            let call = try? swarm.runAnycast(
                at: swarm.nodes[asker], service: "svc", method: "where", step: .milliseconds(1)),
            case .success = call.result
        else { return nil }
        return Double(call.took.nanosecondsClamped) / 1e9
    }
}
