import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import NeighboursApp

/// The `starling-neighbours` executable, run as a user runs it (`make example`): two
/// copies on 127.0.0.1, the second seeded by the first, stopped by SIGTERM.
@Suite("starling-neighbours executable")
struct ExecutableTests {
    @Test(
        "two copies on 127.0.0.1 print their peer and URL and see each other; SIGTERM stops one gracefully: it exits 0 and the other sees it leave",
        .timeLimit(.minutes(3)))
    func sigtermLeavesTheOverlay() async throws {
        let binary = try Self.binary()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let first = try await Child.start(binary, ["--http-port", "0"])
        defer { first.kill() }
        let second = try await Child.start(binary, ["--http-port", "0", "--seed", first.peerAddress])
        defer { second.kill() }

        let seen = try await NeighboursAppTests.poll("\(first.url)/neighbours lists the second copy alive") {
            try await Self.neighbours(at: first.url, on: group).first(where: {
                $0.id == second.peerID && $0.state == "alive"
            })
        }
        #expect(seen?.address == second.peerAddress)

        #expect(try await second.terminate() == 0)
        let left = try await NeighboursAppTests.poll("\(first.url)/neighbours lists the second copy as left") {
            try await Self.neighbours(at: first.url, on: group).first(where: {
                $0.id == second.peerID && $0.state == "left"
            })
        }
        #expect(left != nil)
        #expect(try await first.terminate() == 0)
        try await group.shutdownGracefully()
    }

    private static func neighbours(at url: String, on group: any EventLoopGroup) async throws -> [Neighbour] {
        let response = try await HTTPClient.get("/neighbours", from: url, on: group)
        try #require(response.status == 200)
        return try JSONDecoder().decode([Neighbour].self, from: Data(response.body.utf8))
    }

    /// The built `starling-neighbours`, beside the test runner (`make example-test` builds
    /// every product before the tests).
    private static func binary() throws -> URL {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        // On Linux the runner is `<build>/debug/…PackageTests.xctest`; on Darwin it is
        // inside the bundle's `Contents/MacOS`.
        while directory.pathComponents.count > 1 {
            let candidate = directory.appendingPathComponent("starling-neighbours")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            if directory.lastPathComponent == "debug" || directory.lastPathComponent == "release" { break }
            directory = directory.deletingLastPathComponent()
        }
        throw HTTPClientError(
            description: "starling-neighbours is not built beside \(runner.path): run `swift build` "
                + "(or `make example-test`) first")
    }
}

/// One running copy of the executable, its standard output in a file.
private final class Child: Sendable {
    let process: Process
    let output: URL
    /// From its `peer <ID> <address>` line.
    let peerID: String
    let peerAddress: String
    /// From its `http <URL>` line.
    let url: String

    private init(process: Process, output: URL, lines: [String: [String]]) {
        self.process = process
        self.output = output
        self.peerID = lines["peer"]?.first ?? ""
        self.peerAddress = lines["peer"]?.dropFirst().first ?? ""
        self.url = lines["http"]?.first ?? ""
    }

    /// Starts `binary` with `arguments` and waits (polling its output) until it has printed
    /// its peer and HTTP lines.
    static func start(_ binary: URL, _ arguments: [String]) async throws -> Child {
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("starling-neighbours-\(UInt64.random(in: 0...UInt64.max)).out")
        guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
            throw HTTPClientError(description: "cannot create \(output.path)")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments + ["--log-level", "warning"]
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let lines = try await NeighboursAppTests.poll("\(binary.lastPathComponent) prints its peer and URL") {
            () async throws -> [String: [String]]? in
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            var lines: [String: [String]] = [:]
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                if let first = words.first { lines[first] = Array(words.dropFirst()) }
            }
            guard process.isRunning else { return [:] }
            return lines["peer"] != nil && lines["http"] != nil ? lines : nil
        }
        let child = Child(process: process, output: output, lines: lines ?? [:])
        guard !child.url.isEmpty, child.peerAddress.contains(":") else {
            child.kill()
            throw HTTPClientError(description: "\(binary.lastPathComponent) \(arguments) printed no peer and URL")
        }
        return child
    }

    /// Sends SIGTERM and waits (at most 300 polls, 30 s) for the exit.
    /// - Returns: the exit status, or `nil` when it did not exit by itself with one.
    func terminate() async throws -> Int32? {
        process.terminate()
        _ = try await NeighboursAppTests.poll("the child exits after SIGTERM") { process.isRunning ? nil : true }
        guard !process.isRunning, process.terminationReason == .exit else { return nil }
        return process.terminationStatus
    }

    /// Kills the child if it still runs, and removes its output file.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: output)
    }
}
