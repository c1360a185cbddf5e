public import StarlingCore

extension NodeSwarm {
    /// Sets every link's delay from `matrix` (half of each round trip one way, with
    /// `jitter`), keeping the other conditions of the default link; the matrix has at
    /// least as many peers as the swarm.
    public mutating func setLatencies(_ matrix: LatencyMatrix, jitter: Duration = .zero) {
        precondition(matrix.count >= nodes.count, "a round trip for every pair")
        for (i, a) in nodes.enumerated() {
            for (j, b) in nodes.enumerated() where j > i {
                var link = network.defaultLink
                link.latency = .seconds(matrix[i, j] / 2)
                link.jitter = jitter
                network.setLinks(between: a, and: b, link)
            }
        }
    }

    /// A swarm for anycast runs: one peer per peer of `matrix`, on its latencies, each
    /// answering `method` with an empty payload, joined through the first; once every
    /// peer sees every other (within a minute), the peers at `providers` provide
    /// `service`, and a minute of probes gives round trips and coordinates.
    /// - Returns: the swarm, and whether it converged.
    /// - Throws: as ``init(seed:count:session:overlay:link:host:overlayOfPeer:)``.
    public static func anycastLab(
        seed: UInt64, matrix: LatencyMatrix, providers: [Int], service: String, method: String,
        overlayOfPeer: ((Int) -> OverlayConfiguration)? = nil
    ) throws -> (swarm: NodeSwarm, converged: Bool) {
        var swarm = try NodeSwarm(seed: seed, count: matrix.count, overlayOfPeer: overlayOfPeer)
        swarm.setLatencies(matrix)
        try swarm.serve(method) { _ in [] }
        swarm.joinThroughFirst()
        let converged = swarm.run(limit: .seconds(60)) { $0.isConverged() }
        swarm.provide(service, at: providers.map { swarm.nodes[$0] })
        swarm.network.run(for: .seconds(60))
        return (swarm, converged)
    }

    /// Makes each node of `providers` provide `service`.
    public mutating func provide(_ service: String, at providers: [SimNodeID]) {
        for node in providers {
            network.command(node) { core, now in _ = core.withOverlay { try? $0.provide(service: service, now: now) } }
        }
    }

    /// Starts an anycast request at `node` (``NodeCore/requestNearest(service:method:payload:timeout:now:)``).
    public mutating func requestNearest(
        at node: SimNodeID, service: String, method: String, payload: [UInt8] = [],
        timeout: Duration = RPCConstants.defaultTimeout
    ) throws(AnycastError) -> AnycastID {
        let started = network.command(node) { core, now in
            Result { () throws(AnycastError) in
                try core.requestNearest(service: service, method: method, payload: payload, timeout: timeout, now: now)
            }
        }
        return try started.get()
    }

    /// Runs an anycast request from `node` to its end, in steps of `step`, for at most
    /// `limit` of virtual time.
    /// - Returns: how it ended (nil if not within `limit`) and the virtual time it took.
    /// - Throws: what ``requestNearest(at:service:method:payload:timeout:)`` throws.
    public mutating func runAnycast(
        at node: SimNodeID, service: String, method: String, step: Duration = .milliseconds(100),
        limit: Duration = .seconds(30)
    ) throws(AnycastError) -> (result: Result<AnycastAnswer, AnycastError>?, took: Duration) {
        let start = network.now
        let id = try requestNearest(at: node, service: service, method: method)
        _ = run(step: step, limit: limit) { $0.anycastResult(id, at: node) != nil }
        return (anycastResult(id, at: node), network.now - start)
    }

    /// How anycast request `id` made at `node` ended, once it did.
    public func anycastResult(_ id: AnycastID, at node: SimNodeID) -> Result<AnycastAnswer, AnycastError>? {
        for event in network.events(of: node) {
            if case .anycast(.finished(id, let result)) = event { return result }
        }
        return nil
    }
}
