import Starling
import StarlingCore
import StarlingIO

/// Round trips through the public async API: `Peer.request` from a task, answered by a
/// `Peer.handle` handler, between two peers on the shared event loop group.
///
/// This is what an application calling `try await peer.request(…)` sees: on top of the
/// core and driver (``RPCBench/starlingRoundTrips(payloadSize:seconds:)``) it pays a hop
/// from the caller's task to the peer's event loop and back, and at the server a hop to
/// the handler's task and back.
enum PeerAPIRoundTrips {
    /// Round trips for `seconds` after ``RPCBench/warmUps`` unrecorded ones.
    /// - Throws: ``BenchError`` or the `PeerError` of a failed request.
    static func measure(payloadSize: Int, seconds: Double) async throws -> LatencySummary {
        let server = try await Peer.start()
        let client = try await Peer.start()
        do {
            try await server.handle(RPCBench.method) { request in request.payload }
            try await client.connect(to: server.address, expecting: server.id)
            let payload = [UInt8](repeating: 0x5A, count: payloadSize)
            for _ in 0..<RPCBench.warmUps {
                _ = try await client.request(RPCBench.method, payload, to: server.id)
            }
            let clock = ContinuousClock()
            let end = clock.now + .nanoseconds(Int64(seconds * 1e9))
            let capacity = min(max(Int(seconds * 100_000), 1_000), 2_000_000)
            var samples: [UInt64] = []
            samples.reserveCapacity(capacity)
            while samples.count < capacity, clock.now < end {
                let start = clock.now
                let reply = try await client.request(RPCBench.method, payload, to: server.id)
                let elapsed = clock.now - start
                guard reply.count == payloadSize else { throw BenchError.failed("an echo of the wrong size") }
                samples.append(UInt64(elapsed.nanosecondsClamped))
            }
            await client.shutdown()
            await server.shutdown()
            return LatencySummary(nanoseconds: samples)
        } catch {
            await client.shutdown()
            await server.shutdown()
            throw error
        }
    }
}
