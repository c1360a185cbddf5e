import Foundation
import Starling
import StarlingCore

/// The loopback half of `starling bench topologies`: each topology as a ``Swarm`` of
/// real peers on 127.0.0.1 in this process, measured the way the simulated half is.
///
/// For each shape (pure; hybrid with 3 index servers; super-peer): launch, wait until
/// every peer sees every other alive and the topology settled (hybrid: every client sees
/// every index server up; super-peer: every leaf held by as many super-peers as it wants
/// or as there are); then
/// - steady traffic: overlay datagrams sent per peer per second over 5 s, by role;
/// - lookups: 400 lookups of random peers from random peers (never an index server),
///   20 at a time: found, latency p50/p99 (wall clock), and lookup messages and bytes
///   (routing, index and super-peer datagrams less their steady rate over the same time)
///   per lookup.
///
/// Every wait is bounded (2 minutes to converge and settle; each lookup by the overlay's
/// own lookup timeout); a run that does not settle reports what it reached.
enum TopologiesLoopback {
    static let lookups = 400
    static let concurrency = 20
    static let window: Duration = .seconds(5)
    /// The protocols whose datagrams lookups cost.
    static let lookupProtocols = ["routing", "index", "superPeer"]

    /// One shape's loopback figures.
    struct Figures: Codable {
        var topology: String
        var peers: Int
        var settledSeconds: Double?
        var lookups: Int
        var found: Int
        var messagesPerLookup: Double
        var bytesPerLookup: Double
        var latencyP50Milliseconds: Double
        var latencyP99Milliseconds: Double
        var datagramsPerPeerSecondByRole: [String: Double]
    }

    /// Measures the three shapes in turn, `peers` peers each.
    static func run(peers: Int) async throws -> [Figures] {
        var figures: [Figures] = []
        for (name, shape) in [
            ("pure", Swarm.Configuration.Shape.pure), ("hybrid", .hybrid(indexServers: 3)),
            ("super-peer", .superPeer),
        ] {
            figures.append(try await measure(name, shape: shape, peers: peers))
        }
        return figures
    }

    static func measure(_ name: String, shape: Swarm.Configuration.Shape, peers: Int) async throws -> Figures {
        var configuration = Swarm.Configuration(peers: peers)
        configuration.shape = shape
        let started = ContinuousClock.now
        let swarm = try await Swarm.launch(configuration)
        let converged = await bounded(.seconds(120)) { await swarm.counters.wait { $0.isConverged(members: peers) } }
        var statuses = await swarm.statuses()
        while converged, !isSettled(statuses), ContinuousClock.now < started + .seconds(120) {
            try? await Task.sleep(for: .milliseconds(250))
            statuses = await swarm.statuses()
        }
        let settled = converged && isSettled(statuses)
        let settledSeconds = settled ? (ContinuousClock.now - started).seconds : nil

        // Steady traffic, by role.
        let before = await swarm.statuses()
        let windowStart = ContinuousClock.now
        try? await Task.sleep(for: window)
        let after = await swarm.statuses()
        let windowSeconds = (ContinuousClock.now - windowStart).seconds
        var perRole: [String: (datagrams: Int, peers: Int)] = [:]
        for (first, last) in zip(before, after) {
            guard let first, let last else { continue }
            perRole[last.role.rawValue, default: (0, 0)].datagrams += last.sent - first.sent
            perRole[last.role.rawValue, default: (0, 0)].peers += 1
        }
        let rates = perRole.mapValues { Double($0.datagrams) / Double(max(1, $0.peers)) / windowSeconds }
        let background = traffic(after) - traffic(before)

        // Lookups, `concurrency` at a time, from peers that are not index servers.
        let askers = Array(swarm.peers.dropFirst(configuration.indexServerCount))
        let ids = swarm.peers.map(\.id)
        var random = SystemRandomNumberGenerator()
        let plan = (0..<lookups).map { _ in
            (askers.randomElement(using: &random)!, ids.randomElement(using: &random)!)
        }.filter { $0.0.id != $0.1 }
        let lookupStart = ContinuousClock.now
        let results = await withTaskGroup(of: Double?.self) { group in
            var results: [Double?] = []
            for (offset, (asker, wanted)) in plan.enumerated() {
                if offset >= concurrency, let result = await group.next() { results.append(result) }
                group.addTask {
                    let begun = ContinuousClock.now
                    guard let record = try? await asker.lookup(wanted), record.record.peerID == wanted else {
                        return nil
                    }
                    return (ContinuousClock.now - begun).seconds * 1_000
                }
            }
            for await result in group { results.append(result) }
            return results
        }
        let lookupSeconds = (ContinuousClock.now - lookupStart).seconds
        let spent = traffic(await swarm.statuses()) - traffic(after)
        await swarm.shutdown()
        let latencies = results.compactMap { $0 }
        let scale = lookupSeconds / windowSeconds
        return Figures(
            topology: name, peers: peers, settledSeconds: settledSeconds, lookups: plan.count,
            found: latencies.count,
            messagesPerLookup: max(0, Double(spent.datagrams) - Double(background.datagrams) * scale)
                / Double(max(1, plan.count)),
            bytesPerLookup: max(0, Double(spent.bytes) - Double(background.bytes) * scale) / Double(max(1, plan.count)),
            latencyP50Milliseconds: TopologiesBench.percentile(latencies, 0.5),
            latencyP99Milliseconds: TopologiesBench.percentile(latencies, 0.99), datagramsPerPeerSecondByRole: rates)
    }

    /// Whether the topology settled: every hybrid client sees every index server up,
    /// every super-peer leaf is held by three super-peers (or by all there are).
    static func isSettled(_ statuses: [OverlayStatus?]) -> Bool {
        let superPeers = statuses.count { $0?.role == .superPeer }
        return statuses.allSatisfy { status in
            guard let status else { return false }
            switch status.role {
            case .client: return status.indexServersUp == status.indexServers && !status.isFallbackActive
            case .leaf: return superPeers > 0 && status.superPeers.count == min(3, superPeers)
            case .peer, .index, .superPeer: return true
            }
        }
    }

    /// Lookup datagrams and bytes the swarm sent so far.
    static func traffic(_ statuses: [OverlayStatus?]) -> Traffic {
        statuses.reduce(Traffic()) { total, status in
            guard let status else { return total }
            return Traffic(
                datagrams: total.datagrams + lookupProtocols.reduce(0) { $0 + (status.sentByProtocol[$1] ?? 0) },
                bytes: total.bytes + lookupProtocols.reduce(0) { $0 + (status.sentBytesByProtocol[$1] ?? 0) })
        }
    }

    struct Traffic {
        var datagrams = 0
        var bytes = 0

        static func - (left: Traffic, right: Traffic) -> Traffic {
            Traffic(datagrams: left.datagrams - right.datagrams, bytes: left.bytes - right.bytes)
        }
    }
}
