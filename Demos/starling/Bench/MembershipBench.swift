import Foundation
import Starling
import StarlingCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `starling bench membership`: SWIM over real loopback sockets, 200 peers in one process.
///
/// Three phases, each on a fresh ``Swarm`` with the `.local` overlay:
/// 1. Convergence: the time from the first join until every peer believes all others
///    alive, and the process's resident memory then. The baseline is the floor of
///    "everyone hears from everyone": 200 raw UDP sockets in one thread each sending one
///    datagram to every other, until all have arrived.
/// 2. Failure detection: one peer vanishes without leaving; the time until every other
///    peer has declared it failed.
/// 3. Loss: `--seconds` of running at 5 % injected receive loss after convergence;
///    every `failed` event is a false failure, since nobody was killed.
///
/// `STARLING_MEMBERSHIP_BENCH_PEERS` changes the 200.
enum MembershipBench {
    static func run(seconds: Double) async throws -> BenchResult {
        let peers = ProcessInfo.processInfo.environment["STARLING_MEMBERSHIP_BENCH_PEERS"].flatMap { Int($0) } ?? 200
        let baseline = try RawFullMesh.seconds(sockets: peers)
        let rssBefore = ResidentMemory.bytes()
        let cost = try MembershipCost.measure(members: peers - 1, seconds: 0.2)

        // 1. Convergence.
        let (swarm, converged) = try await launchAndConverge(peers: peers, loss: 0)
        let rss = ResidentMemory.bytes()

        // 2. A peer killed without leaving.
        let failedBefore = swarm.counters.counts.membership["failed", default: 0]
        let killedAt = ContinuousClock.now
        await swarm.peers[peers / 2].shutdown(leavingOverlay: false)
        let detected = await bounded(.seconds(60)) {
            await swarm.counters.wait { $0.membership["failed", default: 0] >= failedBefore + peers - 1 }
        }
        let detection = detected ? (ContinuousClock.now - killedAt).seconds : .infinity
        await swarm.shutdown()

        // 3. Loss.
        let (lossy, lossyConverged) = try await launchAndConverge(peers: peers, loss: 0.05)
        let falseBefore = lossy.counters.counts.membership["failed", default: 0]
        let suspectedBefore = lossy.counters.counts.membership["suspected", default: 0]
        try? await Task.sleep(for: .seconds(seconds))
        let counts = lossy.counters.counts
        let falseFailures = counts.membership["failed", default: 0] - falseBefore
        let suspicions = counts.membership["suspected", default: 0] - suspectedBefore
        let stillConverged = counts.isConverged(members: peers)
        await lossy.shutdown()

        var result = BenchResult(
            name: "membership", starling: converged, baseline: baseline, unit: "s",
            detail: """
                \(peers) peers, .local SWIM: first join → all see all alive in \(format(converged)) s \
                (raw full-mesh announce \(format(baseline)) s); RSS \(rss / 1_048_576) MiB \
                (\(rssBefore / 1_048_576) MiB before launch); killed peer failed at all others after \
                \(format(detection)) s; \(format(seconds)) s at 5 % loss: \(falseFailures) false failures, \
                \(suspicions) suspicions (all refuted: \(stillConverged ? "yes" : "no")), converged at 5 % loss \
                in \(format(lossyConverged)) s; \(cost.text)
                """)
        result.lowerIsBetter = true
        result.targets = [
            BenchTarget(text: "converged ≤ 1.0 s", met: converged <= 1.0),
            BenchTarget(text: "resident memory ≤ 30 MB", met: rss <= 30_000_000),
            BenchTarget(text: "killed peer failed at all ≤ 3 s", met: detection <= 3.0),
            BenchTarget(text: "zero false failures at 5 % loss over \(format(seconds)) s", met: falseFailures == 0),
        ]
        return result
    }

    /// Launches a swarm and waits (at most a minute) until it has converged.
    /// - Returns: the swarm and the seconds from the first join to convergence
    ///   (infinity when it did not converge).
    private static func launchAndConverge(peers: Int, loss: Double) async throws -> (Swarm, Double) {
        var configuration = Swarm.Configuration(peers: peers)
        configuration.injectedLoss = loss
        configuration.lossSeed = 77
        let firstJoin = Mutex<ContinuousClock.Instant?>(nil)
        let swarm = try await Swarm.launch(configuration) { _, _ in
            firstJoin.withLock { if $0 == nil { $0 = .now } }
        }
        let converged = await bounded(.seconds(60)) {
            await swarm.counters.wait { $0.isConverged(members: peers) }
        }
        let start = firstJoin.withLock { $0 } ?? .now
        return (swarm, converged ? (ContinuousClock.now - start).seconds : .infinity)
    }

    private static func format(_ value: Double) -> String { String(format: "%.3f", value) }
}

/// The raw floor of membership convergence: `n` UDP sockets on 127.0.0.1, each sending
/// one 64-byte datagram to every other from one thread, until all `n × (n − 1)` arrived.
enum RawFullMesh {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func seconds(sockets count: Int) throws -> Double {
        var sockets: [Int32] = []
        var addresses: [sockaddr_in] = []
        defer { for fd in sockets { close(fd) } }
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            sockets.append(fd)
            var size: Int32 = 1 << 20
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard bound == 0 else { throw Failure(description: "bind: errno \(errno)") }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            addresses.append(address)
        }
        let payload = [UInt8](repeating: 0x5A, count: 64)
        var buffer = [UInt8](repeating: 0, count: 2048)
        let start = ContinuousClock.now
        var received = 0
        let expected = count * (count - 1)
        for (index, fd) in sockets.enumerated() {
            for (other, address) in addresses.enumerated() where other != index {
                var target = address
                _ = withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            // Drain as we go, so that no receive buffer overflows.
            for fd in sockets { while recv(fd, &buffer, buffer.count, 0) > 0 { received += 1 } }
        }
        let deadline = start + .seconds(5)
        while received < expected, ContinuousClock.now < deadline {
            for fd in sockets { while recv(fd, &buffer, buffer.count, 0) > 0 { received += 1 } }
        }
        guard received == expected else {
            throw Failure(description: "raw full mesh: \(received) of \(expected) datagrams arrived")
        }
        return (ContinuousClock.now - start).seconds
    }
}
