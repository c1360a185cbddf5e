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

    /// How anycast request `id` made at `node` ended, once it did.
    public func anycastResult(_ id: AnycastID, at node: SimNodeID) -> Result<AnycastAnswer, AnycastError>? {
        for event in network.events(of: node) {
            if case .anycast(.finished(id, let result)) = event { return result }
        }
        return nil
    }
}
