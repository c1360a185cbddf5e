import Foundation
import StarlingTestSupport
import Testing

/// `starling index` as a user runs it: one index server on loopback, its status lines,
/// a clean stop, and bad arguments refused before anything is sent.
@Suite struct IndexCommandTests {
    /// A bound against hanging on a slow machine, not a timing check.
    static let wait: Duration = .seconds(120)

    @Test func text_printsItsAddressAndStatus_thenStopsCleanlyOnSIGTERM() async throws {
        let child = try ChildProcess(try StarlingBinary.path(), ["index", "--interval", "0.2"])
        defer { child.kill() }
        let first = try await child.waitForLine(timeout: Self.wait) { $0.hasPrefix("index ") }
        let words = first.split(separator: " ")
        #expect(words.count == 4 && words[2] == "listening" && words[3].hasPrefix("127.0.0.1:"), "\(first)")
        // The index server registers its own record with itself.
        try await child.waitForLine(timeout: Self.wait) {
            $0.hasPrefix("status registrations=1 members=0 indexes=1/1 fallback=false")
        }
        try await child.waitForLine(timeout: Self.wait) { $0 == "topology role index" }
        child.terminate()
        let ended = try await child.waitForExit(timeout: Self.wait)
        #expect(ended.status == 0, "\(ended.stderr)")
        #expect(!ended.uncaughtSignal)
        #expect(ended.stdout.hasSuffix("stopped\n"))
    }

    @Test func json_printsOneObjectPerLine() async throws {
        let child = try ChildProcess(try StarlingBinary.path(), ["index", "--json", "--interval", "0.2"])
        defer { child.kill() }
        try await child.waitForLine(timeout: Self.wait) { $0.contains("\"event\":\"status\"") }
        child.terminate()
        let ended = try await child.waitForExit(timeout: Self.wait)
        #expect(ended.status == 0, "\(ended.stderr)")
        let objects = ended.stdout.split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        #expect(objects.allSatisfy { $0 != nil }, "\(ended.stdout)")
        let events = objects.compactMap { $0?["event"] as? String }
        #expect(events.first == "started")
        #expect(events.last == "stopped")
        let started = try #require(objects.first ?? nil)
        #expect((started["address"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect((started["id"] as? String)?.isEmpty == false)
        let status = try #require(objects.first { $0?["event"] as? String == "status" } ?? nil)
        #expect(status["registrations"] as? Int == 1)
        #expect(status["index_servers_up"] as? Int == 1)
    }

    @Test func fellow_twoIndexServersFindEachOther() async throws {
        let first = try ChildProcess(try StarlingBinary.path(), ["index", "--interval", "0.2"])
        defer { first.kill() }
        let line = try await first.waitForLine(timeout: Self.wait) { $0.hasPrefix("index ") }
        let words = line.split(separator: " ").map(String.init)
        try #require(words.count == 4, "\(line)")
        let second = try ChildProcess(
            try StarlingBinary.path(), ["index", "--interval", "0.2", "--fellow", words[3]])
        defer { second.kill() }
        let short = String(words[1].prefix(8))
        try await second.waitForLine(timeout: Self.wait) { $0.hasPrefix("topology index up \(short)") }
        // Both count two index servers up, and the second joined the overlay through the first.
        try await second.waitForLine(timeout: Self.wait) { $0.contains("members=1 indexes=2/2") }
        try await first.waitForLine(timeout: Self.wait) { $0.contains("members=1 indexes=2/2") }
        second.terminate()
        first.terminate()
        #expect(try await second.waitForExit(timeout: Self.wait).status == 0)
        #expect(try await first.waitForExit(timeout: Self.wait).status == 0)
    }

    @Test(arguments: [
        (["--listen", "nonsense"], "--listen 'nonsense' is not ADDR:PORT"),
        (["--listen", "127.0.0.1"], "--listen '127.0.0.1' is not ADDR:PORT"),
        (["--fellow", "somewhere"], "--fellow 'somewhere' is not ADDR:PORT"),
        (["--interval", "0"], "--interval must be from 0.1 to 3,600 seconds"),
        (["--key", "/nonexistent/starling.key"], "/nonexistent/starling.key"),
    ])
    func badArguments_failClearly(arguments: [String], message: String) async throws {
        let result = try await Subprocess.run(try StarlingBinary.path(), ["index"] + arguments)
        #expect(result.status != 0)
        #expect(!result.uncaughtSignal)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stdout.contains("listening"))
    }
}
