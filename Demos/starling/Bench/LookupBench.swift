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
/// The run is bounded by its lookup count, not by time: `--seconds` is ignored.
enum LookupBench {
    /// How many lookups, and how many run at once.
    static let lookups = 500
    static let concurrent = 50

    static func run(seconds _: Double) -> BenchResult {
        let count = peerCount
        let clock = ContinuousClock()
        let start = clock.now
        var swarm = Swarm(seed: 1, count: count)
        let built = clock.now
        let results = swarm.randomPeerLookups(total: lookups, concurrent: concurrent, seed: 99)
        let elapsed = clock.now - start
        var hops: [Int] = []
        var failures = 0
        for (target, result) in results {
            guard let result, case .peer(let record?) = result.outcome, record.record.peerID == target else {
                failures += 1
                continue
            }
            hops.append(result.hops)
        }
        hops.sort()
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

extension LookupBench {
    /// A swarm of routing cores on a ``SimNetwork``, and the identities behind them.
    /// Deterministic for a given seed.
    struct Swarm {
        static let wallClockAtZero = UnixTime(seconds: 1_700_000_000)

        var network: SimNetwork<RoutingCore>
        private(set) var peerIDs: [PeerID] = []

        /// Builds `count` peers with signed records, bootstraps four seeds, joins the rest in
        /// batches of `batch` every 200 ms, each through three random seeds, and lets the
        /// tables settle for 15 s.
        init(seed: UInt64, count: Int, batch: Int = 25) {
            let link = LinkConditions(latency: .milliseconds(10), jitter: .milliseconds(5))
            network = SimNetwork<RoutingCore>(seed: seed, defaultLink: link)
            // Statistics are counted either way; entries would dominate memory at 10,000 peers.
            network.recordsTrace = false
            var configuration = RoutingConfiguration.simulation
            configuration.refreshInterval = .seconds(7_200)  // no periodic refresh within a run
            peerIDs.reserveCapacity(count)
            for index in 0..<count {
                var keys = network.makeGenerator()
                let identity = IdentityKeyPair.generate(using: &keys)
                let core = RoutingCore(
                    localID: identity.peerID, configuration: configuration, wallClockAtZero: Self.wallClockAtZero,
                    random: network.makeGenerator())
                let node = network.makeNode(name: "peer\(index)", core: core)
                // A fresh record for our own identity with a valid expiry cannot fail to sign.
                let record = try! PeerRecord(
                    peerID: identity.peerID, sequence: 1, expiresAt: Self.wallClockAtZero + .seconds(86_400),
                    addresses: [network.address(of: node)], services: ["bench"]
                ).sign(with: identity)
                network.command(node) { core, _ in core.updateLocalRecord(record) }
                peerIDs.append(identity.peerID)
            }
            let nodes = network.nodeIDs
            let seeds = Array(0..<min(4, count))
            for index in seeds {
                let others = seeds.filter { $0 != index }.map(contact)
                network.command(nodes[index]) { core, now in core.bootstrap(seeds: others, now: now) }
            }
            network.run(for: .seconds(1))
            var picker = SeededGenerator(seed: seed ^ 0x5EED)
            for index in seeds.count..<count {
                let chosen = seeds.shuffled(using: &picker).prefix(3).map(contact)
                network.command(nodes[index]) { core, now in core.bootstrap(seeds: chosen, now: now) }
                if (index - seeds.count) % batch == batch - 1 { network.run(for: .milliseconds(200)) }
            }
            network.run(for: .seconds(15))
            for node in nodes { _ = network.drainEvents(of: node) }
        }

        /// The contact that reaches peer `index`.
        func contact(_ index: Int) -> RoutingContact {
            RoutingContact(peerID: peerIDs[index], address: network.address(of: SimNodeID(rawValue: index)))
        }

        /// Starts `total` random `findPeer` lookups, `concurrent` at a time, gives each round
        /// 12 s of virtual time, and returns each result (nil when none arrived) with its target.
        mutating func randomPeerLookups(total: Int, concurrent: Int, seed: UInt64) -> [(PeerID, LookupResult?)] {
            var picker = SeededGenerator(seed: seed)
            let count = peerIDs.count
            let nodes = network.nodeIDs
            var results: [(PeerID, LookupResult?)] = []
            results.reserveCapacity(total)
            var started = 0
            while started < total {
                var round: [(node: SimNodeID, id: LookupID, target: PeerID)] = []
                for _ in 0..<min(concurrent, total - started) {
                    let from = Int.random(in: 0..<count, using: &picker)
                    var to = Int.random(in: 0..<count, using: &picker)
                    if to == from { to = (to + 1) % count }
                    let target = peerIDs[to]
                    let node = nodes[from]
                    let id = network.command(node) { core, now in core.findPeer(target, now: now) }
                    round.append((node, id, target))
                    started += 1
                }
                network.run(for: .seconds(12))
                var finished: [SimNodeID: [LookupID: LookupResult]] = [:]
                for node in Set(round.map(\.node)) {
                    for event in network.drainEvents(of: node) {
                        if case .lookupFinished(let id, let result) = event {
                            finished[node, default: [:]][id] = result
                        }
                    }
                }
                for (node, id, target) in round { results.append((target, finished[node]?[id])) }
            }
            return results
        }
    }
}
