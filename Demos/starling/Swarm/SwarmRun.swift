import Foundation
import Logging
import Starling
import StarlingCore
import StarlingIO
import StarlingSim
import Synchronization

/// One run of `starling swarm`: launch, watch, exercise, summarise, shut down.
struct SwarmRun {
    let localPeers: Int
    let totalPeers: Int
    let duration: Double
    let loss: Double
    let seed: UInt64
    let seeds: [PeerAddress]
    let quiet: Bool
    /// Pure, or hybrid with its index servers.
    let shape: Swarm.Configuration.Shape
    /// Where every peer logs (`--log-level`).
    let logger: Logger

    /// Runs the swarm and, with `children`, that many child processes of `childPeers`
    /// peers each that join it.
    func run(children: Int, childPeers: Int) async throws -> SwarmOutcome {
        var configuration = Swarm.Configuration(peers: localPeers)
        configuration.seeds = seeds
        configuration.injectedLoss = loss
        configuration.lossSeed = seed
        configuration.shape = shape
        configuration.logger = logger
        let view = LaunchView(quiet: quiet)
        let firstJoin = Mutex<ContinuousClock.Instant?>(nil)
        let swarm = try await Swarm.launch(configuration) { done, total in
            firstJoin.withLock { if $0 == nil { $0 = .now } }
            view.show(done: done, total: total)
        }
        let start = firstJoin.withLock { $0 } ?? .now
        let launchTime = (ContinuousClock.now - start).seconds
        let childRuns = try (0..<children).map { index in
            try ChildSwarm(
                peers: childPeers, total: totalPeers, duration: duration, loss: loss,
                seed: seed &+ UInt64(index + 1) << 32,
                join: swarm.peers[0].address)
        }
        let total = totalPeers
        let convergence = Task { () -> Double? in
            await swarm.counters.wait { $0.isConverged(members: total) }
            guard swarm.counters.counts.isConverged(members: total) else { return nil }
            return (ContinuousClock.now - start).seconds
        }
        var activity = SwarmActivity(swarm: swarm, seed: seed)
        var live = quiet ? nil : SwarmView()
        let end = ContinuousClock.now + .seconds(duration)
        var previousSent = 0
        var previousAt = ContinuousClock.now
        while ContinuousClock.now < end {
            try? await Task.sleep(for: .seconds(1))
            let statuses = await swarm.statuses().compactMap { $0 }
            let sent = statuses.reduce(0) { $0 + $1.sent }
            let now = ContinuousClock.now
            let rate = Double(sent - previousSent) / max((now - previousAt).seconds, 0.001)
            (previousSent, previousAt) = (sent, now)
            let counts = swarm.counters.counts
            await activity.step(statuses: statuses, converged: counts.isConverged(members: total), final: false)
            let rtt = activity.rttSummary
            live?.show(
                SwarmSnapshot(
                    elapsed: now - start, peersUp: 1 + (counts.aliveViews.max() ?? 0), peersTotal: total,
                    convergencePercent: 100 * counts.convergence(members: total), messagesPerSecond: rate,
                    rttP50Microseconds: rtt?.p50, rttP99Microseconds: rtt?.p99,
                    suspectedCount: statuses.reduce(0) { $0 + $1.suspected },
                    failedCount: statuses.reduce(0) { $0 + $1.failed },
                    receiveDrops: statuses.reduce(0) { $0 + $1.receiveDrops },
                    roles: Dictionary(statuses.map { ($0.role, 1) }, uniquingKeysWith: +),
                    fallbackCount: statuses.count(where: \.isFallbackActive)))
        }
        live?.finish()
        let statuses = await swarm.statuses().compactMap { $0 }
        await activity.step(statuses: statuses, converged: true, final: true)
        // The views at the end of the run, before the child processes leave.
        let counts = swarm.counters.counts
        let childResults = await childRuns.asyncMap { await $0.finish() }
        // Roles as the peers hold them at the end (super-peers are elected), else as started.
        let roles =
            statuses.count == swarm.peers.count
            ? statuses.map(\.role) : (0..<swarm.peers.count).map { configuration.role(of: $0) }
        let graph = await activity.graph(roles: roles)
        let rss = ResidentMemory.bytes()
        await swarm.shutdown()
        let convergedAfter = await convergence.value
        return SwarmOutcome(
            peers: localPeers + childResults.reduce(0) { $0 + ($1?.peers ?? 0) }, processes: children + 1,
            launchTime: launchTime, convergedAfter: convergedAfter, convergence: counts.convergence(members: total),
            lookupsOK: activity.lookupsOK + childResults.reduce(0) { $0 + ($1?.lookupsOK ?? 0) },
            lookupsTotal: activity.lookupsTotal + childResults.reduce(0) { $0 + ($1?.lookupsTotal ?? 0) },
            lookupsSkipped: activity.lookupsSkipped,
            rssBytes: rss + childResults.reduce(0) { $0 + ($1?.rssBytes ?? 0) },
            messagesSent: statuses.reduce(0) { $0 + $1.sent },
            membershipSent: statuses.reduce(into: [:]) { total, status in
                total.merge(status.membershipSent, uniquingKeysWith: +)
            },
            sentByProtocol: statuses.reduce(into: [:]) { total, status in
                total.merge(status.sentByProtocol, uniquingKeysWith: +)
            },
            rtt: activity.rttSummary,
            suspected: statuses.reduce(0) { $0 + $1.suspected }, failed: statuses.reduce(0) { $0 + $1.failed },
            suspicionEvents: counts.membership["suspected", default: 0],
            failureEvents: counts.membership["failed", default: 0],
            receiveDrops: statuses.reduce(0) { $0 + $1.receiveDrops },
            unjoined: max(0, statuses.count(where: { !$0.hasJoined }) - (seeds.isEmpty ? 1 : 0)),
            maximumTimerLag: statuses.map(\.maximumTimerLag).max() ?? .zero,
            broadcastsSent: activity.broadcastsSent, broadcastsDelivered: counts.broadcastsDelivered,
            sessions: graph.edges.count, childrenFailed: childResults.filter { $0 == nil }.count,
            duration: duration, loss: loss, seed: seed, graph: graph, topology: Self.name(of: shape),
            roles: Dictionary(roles.map { ($0.rawValue, 1) }, uniquingKeysWith: +))
    }
}

/// The launch progress bar, shared with the launch's progress callback.
final class LaunchView: Sendable {
    private let view: Mutex<SwarmView?>

    init(quiet: Bool) {
        view = Mutex(quiet ? nil : SwarmView())
    }

    func show(done: Int, total: Int) {
        view.withLock { view in
            view?.showLaunch(done: done, total: total)
            if done >= total { view?.finish() }
        }
    }
}

/// The work `starling swarm` gives its peers while it watches: echo round trips every
/// second, a broadcast every second, and once the membership has converged (or at the
/// end), a few routing lookups per peer and sessions to some neighbours.
struct SwarmActivity {
    let swarm: Swarm
    var random: SeededGenerator
    var rttSamples: [UInt64] = []
    var lookupsOK = 0
    var lookupsTotal = 0
    /// Lookups not started because ``exerciseLimit`` had passed.
    var lookupsSkipped = 0
    var broadcastsSent = 0
    var exercised = false

    /// Lookups each peer makes, and neighbours each peer opens a session to.
    static let lookupsPerPeer = 3
    static let sessionsPerPeer = 2
    /// Echo requests per second, over the whole swarm.
    static let echoesPerSecond = 16
    /// The longest the lookups and the sessions after convergence may take together: a
    /// swarm in trouble (lookups waiting out stretched timeouts) must not keep the run
    /// going for many minutes; lookups not started by then count as failed.
    static let exerciseLimit = Duration.seconds(60)

    init(swarm: Swarm, seed: UInt64) {
        self.swarm = swarm
        self.random = SeededGenerator(seed: seed)
    }

    var rttSummary: LatencySummary? { rttSamples.isEmpty ? nil : LatencySummary(nanoseconds: rttSamples) }

    /// One second's work.
    mutating func step(statuses: [OverlayStatus], converged: Bool, final: Bool) async {
        let peers = swarm.peers
        guard !peers.isEmpty, statuses.count == peers.count else { return }
        if !final {
            await echo(statuses: statuses)
            let origin = peers[Int.random(in: 0..<peers.count, using: &random)]
            if (try? await origin.broadcast(Array("hello from \(origin.id.shortDescription)".utf8))) != nil {
                broadcastsSent += 1
            }
        }
        if (converged || final), !exercised {
            exercised = true
            let deadline = ContinuousClock.now + Self.exerciseLimit
            await lookUp(until: deadline)
            await connect(statuses: statuses, until: deadline)
        }
    }

    private mutating func echo(statuses: [OverlayStatus]) async {
        let peers = swarm.peers
        var pairs: [(Peer, PeerID)] = []
        for _ in 0..<Self.echoesPerSecond {
            let index = Int.random(in: 0..<peers.count, using: &random)
            guard let target = statuses[index].neighbours.randomElement(using: &random) else { continue }
            pairs.append((peers[index], target))
        }
        let samples = await withTaskGroup(of: UInt64?.self) { group in
            for (peer, target) in pairs {
                group.addTask { (try? await peer.echo(target)).map { UInt64($0.nanosecondsClamped) } }
            }
            return await group.reduce(into: [UInt64]()) { if let sample = $1 { $0.append(sample) } }
        }
        rttSamples += samples
        if rttSamples.count > 100_000 { rttSamples.removeFirst(rttSamples.count - 100_000) }
    }

    private mutating func lookUp(until deadline: ContinuousClock.Instant) async {
        let peers = swarm.peers
        guard peers.count > 1 else { return }
        var pairs: [(Peer, Peer)] = []
        for (index, asker) in peers.enumerated() {
            for _ in 0..<min(Self.lookupsPerPeer, peers.count - 1) {
                let offset = Int.random(in: 1..<peers.count, using: &random)
                pairs.append((asker, peers[(index + offset) % peers.count]))
            }
        }
        let results = await Self.bounded(pairs, concurrency: 32) { asker, wanted -> Bool? in
            guard ContinuousClock.now < deadline else { return nil }
            return (try? await asker.lookup(wanted.id))?.record.peerID == wanted.id
        }
        lookupsTotal += results.count
        lookupsOK += results.filter { $0 == true }.count
        lookupsSkipped += results.filter { $0 == nil }.count
    }

    private mutating func connect(statuses: [OverlayStatus], until deadline: ContinuousClock.Instant) async {
        let local = Set(swarm.peers.map(\.id))
        var pairs: [(Peer, PeerID)] = []
        for (peer, status) in zip(swarm.peers, statuses) {
            let neighbours = status.neighbours.filter { local.contains($0) }
            for neighbour in neighbours.shuffled(using: &random).prefix(Self.sessionsPerPeer) {
                pairs.append((peer, neighbour))
            }
        }
        _ = await Self.bounded(pairs, concurrency: 32) { peer, neighbour in
            guard ContinuousClock.now < deadline else { return false }
            return (try? await peer.connect(resolving: neighbour)) != nil
        }
    }

    /// The overlay as a graph: the local peers (with their `roles`, in peer order), and
    /// the sessions between them.
    func graph(roles: [TopologyRole]) async -> SwarmGraph {
        let peers = swarm.peers
        let index = Dictionary(uniqueKeysWithValues: peers.enumerated().map { ($1.id, $0) })
        var edges: [(Int, Int)] = []
        for (position, peer) in peers.enumerated() {
            for other in await peer.connectedPeers() {
                if let target = index[other], target > position { edges.append((position, target)) }
            }
        }
        let nodes = zip(peers, roles).map { peer, role in
            SwarmGraph.Node(label: String(peer.id.description.prefix(6)), state: .alive, role: role)
        }
        // Indices come from the peers themselves, so every edge is in range.
        return (try? SwarmGraph(nodes: nodes, edges: edges)) ?? (try! SwarmGraph(nodes: nodes, edges: []))
    }

    /// Runs `body` over `items`, at most `concurrency` at a time.
    static func bounded<Item: Sendable, Output: Sendable>(
        _ items: [Item], concurrency: Int, _ body: @escaping @Sendable (Item) async -> Output
    ) async -> [Output] {
        await withTaskGroup(of: Output.self) { group in
            var next = 0
            var outputs: [Output] = []
            for _ in 0..<concurrency where next < items.count {
                let item = items[next]
                next += 1
                group.addTask { await body(item) }
            }
            for await output in group {
                outputs.append(output)
                if next < items.count {
                    let item = items[next]
                    next += 1
                    group.addTask { await body(item) }
                }
            }
            return outputs
        }
    }
}

extension Sequence {
    /// `map` with an async transform, one element at a time.
    func asyncMap<Output>(_ transform: (Element) async -> Output) async -> [Output] {
        var outputs: [Output] = []
        for element in self { outputs.append(await transform(element)) }
        return outputs
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}

/// The process's resident memory.
enum ResidentMemory {
    /// `VmRSS` from `/proc/self/status`, in bytes (0 where unavailable).
    static func bytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            // "VmRSS:\t  81234 kB": a tab, then spaces only while the figure has fewer than
            // 8 digits (from 10 GB on there are none), so split on both.
            let fields = line.split { $0 == " " || $0 == "\t" }
            let digits = fields.dropFirst().first.flatMap { Int($0) } ?? 0
            return digits * 1024
        }
        return 0
    }
}

extension SwarmRun {
    /// The shape's name in the summary and the JSON.
    static func name(of shape: Swarm.Configuration.Shape) -> String {
        switch shape {
        case .pure: "pure"
        case .hybrid: "hybrid"
        case .superPeer: "super-peer"
        }
    }
}
