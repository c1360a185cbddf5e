import Foundation
import StarlingCore
import StarlingSim

/// `starling bench lookup`: Kademlia peer lookups in a simulated swarm.
///
/// Builds `STARLING_LOOKUP_PEERS` (default 10,000) ``RoutingCore``s on the project's
/// virtual network, ``SimNetwork`` (10 ms ± 5 ms links, nothing lost, no churn),
/// bootstraps four seeds, joins the rest in batches of 25 every 200 ms through three
/// seeds each, then runs 500 `findPeer` lookups from random peers to random peers, 50 at
/// a time. Starling: the median hop count of the successful lookups. Baseline:
/// `ceil(log2 N)`, the hop bound of a Kademlia lookup that gains one bit of the target
/// per hop (b = 1); with buckets of k = 20 the expected count is nearer `log2(N / k)`, so
/// a median well below the baseline is the goal. Targets: median ≤ 4 hops and every
/// lookup found its peer.
///
/// The swarm is a ``RoutingSwarm``. The run is bounded by its lookup count, not by time:
/// `--seconds` is ignored.
enum LookupBench {
    /// How many lookups, and how many run at once.
    static let lookups = 500
    static let concurrent = 50

    static func run(seconds _: Double) -> BenchResult {
        let count = peerCount
        let clock = ContinuousClock()
        let start = clock.now
        var configuration = RoutingConfiguration.simulation
        configuration.refreshInterval = .seconds(7_200)  // no periodic refresh within a run
        // Statistics are counted either way; trace entries would dominate memory at 10,000 peers.
        // A fresh record for our own identity with a valid expiry cannot fail to sign.
        var swarm = try! RoutingSwarm(
            seed: 1, count: count, configuration: configuration, services: ["bench"], recordsTrace: false)
        let built = clock.now
        let results = swarm.randomPeerLookups(total: lookups, concurrent: concurrent, seed: 99)
        let elapsed = clock.now - start
        let (hops, failures) = RoutingSwarm.summarize(results)
        let median = hops.isEmpty ? 0 : hops[hops.count / 2]
        let p90 = hops.isEmpty ? 0 : hops[min(hops.count - 1, hops.count * 9 / 10)]
        let successes = lookups - failures
        let bound = Int(ceil(log2(Double(max(2, count)))))
        let detail =
            "\(count) simulated peers, \(lookups) findPeer lookups (\(concurrent) at a time): "
            + "\(successes) found, hops median \(median) / p90 \(p90) / max \(hops.last ?? 0); "
            + "baseline ceil(log2 N) = \(bound) hops (one bit per hop; log2(N/k) ≈ "
            + String(format: "%.1f", log2(Double(count) / 20)) + " with k = 20); "
            + "\(swarm.network.trace.statistics.sent) datagrams, \(format(swarm.network.now - .zero)) virtual, "
            + "wall \(format(elapsed)) (swarm built in \(format(built - start)))"
        return BenchResult(
            name: "lookup", starling: Double(median), baseline: Double(bound), unit: "hops", detail: detail,
            lowerIsBetter: true,
            targets: [
                BenchTarget(text: "median hops ≤ 4", met: !hops.isEmpty && median <= 4),
                BenchTarget(text: "success 100 %", met: failures == 0),
            ])
    }

    /// `STARLING_LOOKUP_PEERS`, at least 50; 10,000 when unset or invalid.
    static var peerCount: Int {
        guard let text = ProcessInfo.processInfo.environment["STARLING_LOOKUP_PEERS"], let count = Int(text),
            count >= 50
        else { return 10_000 }
        return count
    }

    private static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.1f s", Double(seconds) + Double(attoseconds) / 1e18)
    }
}
