import StarlingCore
import StarlingSim
import StarlingTestSupport
import Testing

/// Anycast in a simulated swarm of 30 whole peers whose links follow a heterogeneous
/// latency matrix (regions, access links, noise): requests reach a provider as near as
/// the nearest, fail over past one that went silent, and a failed provider leaves the
/// ranking.
@Suite struct AnycastSimulationTests {
    static let matrix = LatencyMatrix.heterogeneous(nodes: 30, seed: 3)
    static let providers = [4, 9, 13, 18, 22, 27]
    static let askers = [0, 1, 2, 5, 7, 11, 16, 20]

    typealias Shape = TopologyShape

    /// A converged swarm on the matrix whose providers provide "svc" and serve "where",
    /// after a minute of probes (coordinates and round trips).
    static func swarm(_ shape: Shape = .pure, seed: UInt64 = 7) throws -> NodeSwarm {
        let lab = try NodeSwarm.anycastLab(
            seed: seed, matrix: matrix, providers: providers, service: "svc", method: "where",
            overlayOfPeer: shape.overlay(ofPeer:))
        #expect(lab.converged)
        return lab.swarm
    }

    static func ask(_ swarm: inout NodeSwarm, from asker: Int) throws -> Result<AnycastAnswer, AnycastError>? {
        try swarm.runAnycast(at: swarm.nodes[asker], service: "svc", method: "where").result
    }

    @Test(arguments: Shape.allCases)
    func answersComeFromAProviderAsNearAsTheNearest(shape: Shape) throws {
        var swarm = try Self.swarm(shape)
        for asker in Self.askers {
            let answer = try #require(try Self.ask(&swarm, from: asker)?.get())
            let provider = try #require(Self.providers.first { swarm.peerID(of: swarm.nodes[$0]) == answer.provider })
            let best = Self.providers.map { Self.matrix[asker, $0] }.min()!
            #expect(Self.matrix[asker, provider] <= best * 1.1, "asker \(asker) got \(provider)")
            #expect(answer.attempts == 1 && answer.candidates == Self.providers.count)
        }
    }

    @Test func aSilentProviderIsSkippedForTheNext() throws {
        var swarm = try Self.swarm()
        let asker = 2
        let nearest = Self.providers.min { Self.matrix[asker, $0] < Self.matrix[asker, $1] }!
        // The nearest provider goes silent; failure detection has not noticed yet.
        swarm.network.partition([[swarm.nodes[nearest]]])
        let answer = try #require(try Self.ask(&swarm, from: asker)?.get())
        #expect(answer.provider != swarm.peerID(of: swarm.nodes[nearest]))
        #expect(answer.attempts >= 2)
    }

    @Test func aFailedProviderLeavesTheRanking() throws {
        var swarm = try Self.swarm()
        let dead = swarm.nodes[Self.providers[0]]
        let deadID = swarm.peerID(of: dead)
        swarm.network.partition([[dead]])
        let asker = swarm.nodes[1]
        #expect(
            swarm.run(limit: .seconds(60)) { $0.overlay(of: asker).membership.member(deadID)?.state == .dead })
        let ranked = swarm.overlay(of: asker).nearest(
            Self.providers.map { swarm.peerID(of: swarm.nodes[$0]) }, now: swarm.network.now)
        #expect(ranked.count == Self.providers.count - 1 && !ranked.contains { $0.id == deadID })
    }

    @Test func noProvider_isATypedError() throws {
        var swarm = try NodeSwarm(seed: 3, count: 4)
        swarm.joinThroughFirst()
        #expect(swarm.run(limit: .seconds(30)) { $0.isConverged() })
        let node = swarm.nodes[1]
        let id = try swarm.requestNearest(at: node, service: "nobody", method: "where")
        #expect(swarm.run(limit: .seconds(30)) { $0.anycastResult(id, at: node) != nil })
        guard case .failure(.noProviders(service: "nobody")) = swarm.anycastResult(id, at: node) else {
            Issue.record("expected noProviders, got \(String(describing: swarm.anycastResult(id, at: node)))")
            return
        }
        #expect(throws: AnycastError.invalidRequest(.invalidMethod(""))) {
            try swarm.requestNearest(at: node, service: "svc", method: "")
        }
    }
}
