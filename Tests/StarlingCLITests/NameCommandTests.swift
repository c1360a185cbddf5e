import Foundation
import StarlingTestSupport
import Testing

/// `starling name` as a user runs it on loopback: a zone owner publishes a pinned name and
/// a name in its own zone, another process resolves and shows them with their chains,
/// and bad input is refused with one line.
@Suite struct NameCommandTests {
    /// A bound against hanging on a slow machine, not a timing check.
    static let wait: Duration = .seconds(120)

    /// Makes an identity key file in a fresh folder and returns its path and peer ID.
    static func identity() async throws -> (path: String, id: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("starling-name-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("owner.key").path
        let made = try await Subprocess.run(try StarlingBinary.path(), ["identity", "new", "--out", path])
        try #require(made.status == 0, "\(made.stderr)")
        let line = try #require(made.stdout.split(separator: "\n").first { $0.hasPrefix("created identity ") })
        return (path, String(line.dropFirst("created identity ".count)))
    }

    @Test func publishThenResolveAndShow_acrossProcesses() async throws {
        let owner = try await Self.identity()
        defer { try? FileManager.default.removeItem(atPath: (owner.path as NSString).deletingLastPathComponent) }
        let publisher = try ChildProcess(
            try StarlingBinary.path(),
            [
                "name", "publish", "www.home", "--key", owner.path, "--pin", "home=\(owner.id)", "--address",
                "127.0.0.1:8080", "--service", "http", "--text", "path=/index.html",
            ])
        defer { publisher.kill() }
        let published = try await publisher.waitForLine(timeout: Self.wait) { $0.hasPrefix("published ") }
        #expect(published.hasPrefix("published www.home sequence "), "\(published)")
        let listening = try await publisher.waitForLine(timeout: Self.wait) { $0.hasPrefix("listening ") }
        let seed = String(listening.dropFirst("listening ".count))

        let resolved = try await Subprocess.run(
            try StarlingBinary.path(), ["name", "resolve", "www.home", "--seed", seed, "--pin", "home=\(owner.id)"])
        #expect(resolved.status == 0, "\(resolved.stderr)")
        let lines = resolved.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "www.home addresses 127.0.0.1:8080 services http text path=/index.html", "\(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("  zone \(owner.id) label www sequence ") == true, "\(lines)")

        let shown = try await Subprocess.run(
            try StarlingBinary.path(), ["name", "show", "www.\(owner.id)", "--seed", seed, "--json"])
        #expect(shown.status == 0, "\(shown.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let record = try #require(object["record"] as? [String: Any])
        #expect(record["addresses"] as? [String] == ["127.0.0.1:8080"])
        #expect(record["zone"] as? String == owner.id)

        // A name nobody published: one line, exit 1.
        let missing = try await Subprocess.run(
            try StarlingBinary.path(), ["name", "resolve", "ftp.\(owner.id)", "--seed", seed])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no such name: ftp.\(owner.id)"), "\(missing.stderr)")

        publisher.terminate()
        #expect(try await publisher.waitForExit(timeout: Self.wait).status == 0)
    }

    @Test(arguments: [
        (["publish", "www.home"], "neither a peer ID nor pinned"),
        (["publish", "bad..name"], "invalid name"),
        (["publish", "www.home", "--pin", "home=nonsense"], "--pin 'home=nonsense' is not NAME=PEER-ID"),
        (["publish", "x.y", "--text", "novalue"], "--text 'novalue' is not KEY=VALUE"),
        (["publish", "x.y", "--service", "Bad Service"], "invalid service name"),
        (["resolve", "www.home", "--seed", "nowhere"], "--seed 'nowhere' is not ADDR:PORT"),
        (["resolve", "www.home", "--timeout", "0"], "--timeout must be from 0.1 to 600 seconds"),
        (["resolve", "www.nobody"], "top-level name \"nobody\" is neither a peer ID nor pinned"),
    ])
    func badArguments_failClearly(arguments: [String], message: String) async throws {
        let result = try await Subprocess.run(try StarlingBinary.path(), ["name"] + arguments)
        #expect(result.status != 0)
        #expect(!result.uncaughtSignal)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stdout.contains("published"))
    }
}
