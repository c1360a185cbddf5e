import Foundation
import StarlingCore

/// A child process of `starling swarm --processes K`: its own swarm that joins the
/// parent's through the parent's first peer, and reports in JSON when done.
final class ChildSwarm: Sendable {
    /// What a child reported.
    struct Result: Decodable {
        let peers: Int
        let lookupsOK: Int
        let lookupsTotal: Int
        let rssBytes: Int

        enum CodingKeys: String, CodingKey {
            case peers
            case lookupsOK = "lookups_ok"
            case lookupsTotal = "lookups_total"
            case rssBytes = "rss_bytes"
        }
    }

    private let process: Process
    private let output: Pipe
    private let exited: AsyncStream<Void>
    private let duration: Double

    /// Starts the child.
    /// - Throws: when the program cannot be started.
    init(peers: Int, total: Int, duration: Double, loss: Double, seed: UInt64, join: PeerAddress) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).standardizedFileURL
        if let resolved = Bundle.main.executableURL { process.executableURL = resolved }
        process.arguments = [
            "swarm", "--peers", "\(peers)", "--total", "\(total)", "--duration", "\(duration)", "--loss", "\(loss)",
            "--seed", "\(seed)", "--join", "\(join)", "--json",
        ]
        output = Pipe()
        process.standardOutput = output
        self.duration = duration
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        exited = stream
        process.terminationHandler = { _ in continuation.finish() }
        try process.run()
    }

    /// Waits for the child to finish (terminating it if it overruns its duration by a
    /// minute) and returns its report, or nil if it failed.
    func finish() async -> Result? {
        let process = self.process
        let watchdog = Task {
            try await Task.sleep(for: .seconds(duration + 60))
            process.terminate()
        }
        for await _ in exited {}
        watchdog.cancel()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        guard process.terminationStatus == 0 || process.terminationStatus == 1 else { return nil }
        return try? JSONDecoder().decode(Result.self, from: data)
    }
}
