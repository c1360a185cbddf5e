public import StarlingCore

/// A simulated Kademlia swarm: ``RoutingCore``s on a ``SimNetwork``, and the identities
/// behind them.
///
/// ### Purpose
/// Tests and benchmarks of the routing layer need the same scaffolding: many peers with
/// signed records, a few seeds that bootstrap off each other, the rest joining in batches
/// through those seeds, and a way to run lookups and collect their results. The swarm is
/// deterministic for a given seed: identities, link delays, seed choices and lookup
/// endpoints all follow from it.
///
/// ### Usage
/// ```swift
/// var configuration = RoutingConfiguration.simulation
/// configuration.refreshInterval = .seconds(7_200)
/// var swarm = try RoutingSwarm(seed: 1, count: 1_000, configuration: configuration)
/// for (target, result) in swarm.randomPeerLookups(total: 500, concurrent: 50, seed: 99) {
///     print(target, result?.hops ?? -1)
/// }
/// ```
///
/// - Warning: like ``SimNetwork``, the swarm is a value confined to one task.
public struct RoutingSwarm {
    /// The wall-clock time every core takes for ``Instant/zero``.
    public static let wallClockAtZero = UnixTime(seconds: 1_700_000_000)

    /// The default link: 10 ms ± 5 ms, nothing lost.
    public static let defaultLink = LinkConditions(latency: .milliseconds(10), jitter: .milliseconds(5))

    /// How many peers bootstrap off each other before the others join.
    public static let seedCount = 4

    /// How many seeds each joining peer bootstraps through.
    public static let seedsPerJoin = 3

    /// The network; peer `i` is node `SimNodeID(rawValue: i)`.
    public var network: SimNetwork<RoutingCore>

    /// Each peer's identity, by index.
    public private(set) var identities: [IdentityKeyPair] = []

    /// Each peer's signed record (sequence 1, valid for a day), by index.
    public private(set) var records: [SignedPeerRecord] = []

    /// Builds `count` peers, bootstraps the seeds, joins the rest, and lets the tables
    /// settle.
    ///
    /// The first ``seedCount`` peers bootstrap off each other and run for 1 s. Every other
    /// peer then bootstraps through ``seedsPerJoin`` randomly chosen seeds (which looks up
    /// its own key, and refreshes its buckets when `configuration.refreshAfterBootstrap` is
    /// set); after each `batch` of joins the network runs 200 ms. Finally it runs 15 s, and
    /// every event reported so far is drained.
    ///
    /// - Parameters:
    ///   - seed: fixes every random choice of the build.
    ///   - count: how many peers.
    ///   - batch: how many peers join between the 200 ms steps; at least 1.
    ///   - configuration: every core's routing settings.
    ///   - link: the conditions of every link.
    ///   - services: the services each peer's record announces.
    ///   - recordsTrace: whether the network keeps trace entries from the start;
    ///     statistics are counted either way. Entries dominate memory in large swarms.
    /// - Throws: if a peer record cannot be signed.
    public init(
        seed: UInt64, count: Int, batch: Int = 25, configuration: RoutingConfiguration,
        link: LinkConditions = RoutingSwarm.defaultLink, services: [String] = [], recordsTrace: Bool = true
    ) throws {
        precondition(batch >= 1, "batch must be at least 1")
        network = SimNetwork<RoutingCore>(seed: seed, defaultLink: link)
        network.recordsTrace = recordsTrace
        identities.reserveCapacity(count)
        records.reserveCapacity(count)
        for index in 0..<count {
            var keys = network.makeGenerator()
            let identity = IdentityKeyPair.generate(using: &keys)
            let core = RoutingCore(
                identity: identity, configuration: configuration, wallClockAtZero: Self.wallClockAtZero,
                random: network.makeGenerator())
            let node = network.makeNode(name: "peer\(index)", core: core)
            let record = try PeerRecord(
                peerID: identity.peerID, sequence: 1, expiresAt: Self.wallClockAtZero + .seconds(86_400),
                addresses: [network.address(of: node)], services: services
            ).sign(with: identity)
            network.command(node) { core, _ in core.updateLocalRecord(record) }
            identities.append(identity)
            records.append(record)
        }
        let nodes = network.nodeIDs
        let seeds = Array(0..<min(Self.seedCount, count))
        for index in seeds {
            let others = seeds.filter { $0 != index }.map(contact)
            network.command(nodes[index]) { core, now in core.bootstrap(seeds: others, now: now) }
        }
        network.run(for: .seconds(1))
        var picker = SeededGenerator(seed: seed ^ 0x5EED)
        for index in seeds.count..<count {
            let chosen = seeds.shuffled(using: &picker).prefix(Self.seedsPerJoin).map(contact)
            network.command(nodes[index]) { core, now in core.bootstrap(seeds: chosen, now: now) }
            if (index - seeds.count) % batch == batch - 1 { network.run(for: .milliseconds(200)) }
        }
        network.run(for: .seconds(15))
        for node in nodes { _ = network.drainEvents(of: node) }
    }

    /// The number of peers.
    public var count: Int { identities.count }

    /// The contact that reaches peer `index`.
    public func contact(_ index: Int) -> RoutingContact {
        RoutingContact(peerID: identities[index].peerID, address: network.address(of: SimNodeID(rawValue: index)))
    }

    /// Runs until `node` reports lookup `id`, in steps of 100 ms of virtual time.
    ///
    /// Events of `node` that arrive meanwhile are drained and dropped.
    ///
    /// - Parameters:
    ///   - id: the lookup, as its command returned it.
    ///   - node: the node that started it.
    ///   - limit: the most virtual time to run.
    /// - Returns: the lookup's result, or nil when none arrived within `limit`.
    public mutating func await(_ id: LookupID, at node: SimNodeID, limit: Duration = .seconds(30)) -> LookupResult? {
        let deadline = network.now + limit
        while network.now < deadline {
            for event in network.drainEvents(of: node) {
                if case .lookupFinished(id, let result) = event { return result }
            }
            network.run(for: .milliseconds(100))
        }
        return nil
    }

    /// Runs `total` `findPeer` lookups from random peers to random other peers,
    /// `concurrent` at a time, giving each round 12 s of virtual time.
    ///
    /// Each lookup draws its source, then its target, from a generator seeded with `seed`;
    /// a target equal to the source is replaced by the next peer. The nodes of a round have
    /// their events drained after it.
    ///
    /// - Parameters:
    ///   - total: how many lookups.
    ///   - concurrent: how many start together in each round; at least 1.
    ///   - seed: fixes the sources and targets.
    /// - Returns: each lookup's target and result (nil when none arrived), in start order.
    /// - Precondition: the swarm has at least two peers.
    public mutating func randomPeerLookups(
        total: Int, concurrent: Int, seed: UInt64
    ) -> [(target: PeerID, result: LookupResult?)] {
        precondition(count >= 2, "lookups need at least two peers")
        precondition(concurrent >= 1, "concurrent must be at least 1")
        var picker = SeededGenerator(seed: seed)
        let count = self.count
        var results: [(target: PeerID, result: LookupResult?)] = []
        results.reserveCapacity(total)
        var started = 0
        while started < total {
            var round: [(node: SimNodeID, id: LookupID, target: PeerID)] = []
            for _ in 0..<min(concurrent, total - started) {
                let from = Int.random(in: 0..<count, using: &picker)
                var to = Int.random(in: 0..<count, using: &picker)
                if to == from { to = (to + 1) % count }
                let target = identities[to].peerID
                let node = SimNodeID(rawValue: from)
                let id = network.command(node) { core, now in core.findPeer(target, now: now) }
                round.append((node, id, target))
                started += 1
            }
            network.run(for: .seconds(12))
            var finished: [SimNodeID: [LookupID: LookupResult]] = [:]
            for node in Set(round.map(\.node)) {
                for event in network.drainEvents(of: node) {
                    if case .lookupFinished(let id, let result) = event { finished[node, default: [:]][id] = result }
                }
            }
            for (node, id, target) in round { results.append((target, finished[node]?[id])) }
        }
        return results
    }

    /// The hops of the lookups in `results` that found their target's own record,
    /// sorted, and how many did not (no result, no record, or another peer's).
    public static func summarize(_ results: [(target: PeerID, result: LookupResult?)]) -> (
        hops: [Int], failures: Int
    ) {
        var hops: [Int] = []
        var failures = 0
        for (target, result) in results {
            guard let result, case .peer(let record?) = result.outcome, record.record.peerID == target else {
                failures += 1
                continue
            }
            hops.append(result.hops)
        }
        return (hops.sorted(), failures)
    }
}
