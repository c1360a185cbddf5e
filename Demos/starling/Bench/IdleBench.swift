import Foundation
import NIOCore
import NIOPosix
import Starling

/// `starling bench idle`: what an idle peer of a big swarm costs in memory.
///
/// Launches `STARLING_IDLE_PEERS` (default 10,000) overlay peers in one ``Swarm`` on
/// 127.0.0.1, alone (no seeds, no traffic), and measures the resident memory they add
/// per peer. The baseline, measured the same way in a fresh child process (freed memory
/// stays resident, so the two must not share one), is as many bare NIO UDP channels,
/// bound with no handler: the floor any NIO-based peer pays.
enum IdleBench {
    static let baselineVariable = "STARLING_IDLE_BASELINE_ONLY"

    static func run() async throws -> BenchResult {
        let environment = ProcessInfo.processInfo.environment
        let count = environment["STARLING_IDLE_PEERS"].flatMap { Int($0) } ?? 10_000
        if environment[baselineVariable] != nil {
            let perChannel = try await channelsResidentPerPeer(count: count)
            return BenchResult(
                name: "idle-baseline", starling: perChannel, baseline: perChannel, unit: "bytes/channel", detail: "")
        }
        let rssBefore = ResidentMemory.bytes()
        let launchStart = ContinuousClock.now
        var configuration = Swarm.Configuration(peers: count)
        configuration.launchConcurrency = 64
        let swarm = try await Swarm.launch(configuration)
        let launchSeconds = (ContinuousClock.now - launchStart).seconds
        let perPeer = Double(ResidentMemory.bytes() - rssBefore) / Double(count)
        await swarm.shutdown()
        let perChannel = try childBaseline(count: count)

        var result = BenchResult(
            name: "idle", starling: perPeer / 1024, baseline: perChannel / 1024, unit: "KiB resident/peer",
            detail: """
                \(count) idle overlay peers (no TCP listener) launched in \(String(format: "%.1f", launchSeconds)) s; \
                baseline: \(count) bare NIO UDP channels in a fresh process
                """)
        result.lowerIsBetter = true
        result.targets = [BenchTarget(text: "≤ 50 KB resident per idle peer", met: perPeer <= 50_000)]
        return result
    }

    /// Resident bytes per bound NIO UDP channel without handlers, `count` of them.
    private static func channelsResidentPerPeer(count: Int) async throws -> Double {
        OpenFileLimit.raiseToMaximum()
        let group = MultiThreadedEventLoopGroup.singleton
        let before = ResidentMemory.bytes()
        var channels: [any Channel] = []
        channels.reserveCapacity(count)
        for _ in 0..<count {
            channels.append(try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get())
        }
        let perChannel = Double(ResidentMemory.bytes() - before) / Double(count)
        for channel in channels { try? await channel.close() }
        return perChannel
    }

    /// Runs the baseline in a fresh copy of this program and reads its figure.
    private static func childBaseline(count: Int) throws -> Double {
        let process = Process()
        process.executableURL = Bundle.main.executableURL
        process.arguments = ["bench", "idle", "--json"]
        var environment = ProcessInfo.processInfo.environment
        environment[baselineVariable] = "1"
        environment["STARLING_IDLE_PEERS"] = "\(count)"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        guard process.terminationStatus == 0, let value = object?["baseline"] as? Double else {
            throw ChildFailure(description: "the baseline child failed: \(String(decoding: data, as: UTF8.self))")
        }
        return value
    }

    struct ChildFailure: Error, CustomStringConvertible {
        let description: String
    }
}
