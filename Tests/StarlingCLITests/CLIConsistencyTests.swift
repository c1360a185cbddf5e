import Foundation
import StarlingTestSupport
import Testing

/// What every `starling` command shares: `starling --help` groups the commands by use,
/// `--json` prints JSON with the documented keys, and a failure at run time exits non-zero
/// with one line on standard error, `Error: REASON`.
///
/// Every datagram stays on 127.0.0.0/8; failures that would need an interface name one
/// that does not exist, so nothing is sent. Waits are on output lines with a deadline
/// against hangs; nothing sleeps and no figure is held to a timing threshold.
@Suite struct CLIConsistencyTests {
    /// A bound against hanging on a slow machine, not a timing check.
    static let wait: Duration = .seconds(120)
    static let missingInterface = "starling-none0"

    func starling(_ arguments: [String]) async throws -> ProcessResult {
        try await Subprocess.run(try StarlingBinary.path(), arguments)
    }

    /// `text` as one JSON object.
    static func object(_ text: some StringProtocol) throws -> [String: Any] {
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(parsed as? [String: Any], "not a JSON object: \(text)")
    }

    /// Each line of `text` as a JSON object.
    static func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try object($0) }
    }

    /// Checks that `result` is a failure reported as one line that contains `expected`.
    static func expectOneLineFailure(_ result: ProcessResult, _ expected: String, _ arguments: [String]) {
        #expect(result.status != 0, "\(arguments): status \(result.status)")
        #expect(!result.uncaughtSignal, "\(arguments)")
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 1, "\(arguments): stderr was \(result.stderr)")
        #expect(lines.first?.hasPrefix("Error: ") == true, "\(arguments): stderr was \(result.stderr)")
        #expect(result.stderr.contains(expected), "\(arguments): stderr was \(result.stderr)")
    }

    /// Makes a fresh folder for files of one test.
    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "starling-consistency-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    // MARK: - Help

    @Test func help_groupsTheCommandsByUse() async throws {
        let result = try await starling(["--help"])
        #expect(result.status == 0, "\(result.stderr)")
        // Each group's header, then its commands, each line `  NAME  ABSTRACT` (the abstract
        // may wrap onto lines indented further), then a blank line.
        var groups: [(header: String, commands: [String])] = []
        var inGroup = false
        for line in result.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix("SUBCOMMANDS:") {
                groups.append((String(line), []))
                inGroup = true
            } else if line.isEmpty {
                inGroup = false
            } else if inGroup, !line.hasPrefix("   "), let name = line.split(separator: " ").first {
                groups[groups.count - 1].commands.append(String(name))
            }
        }
        #expect(
            groups.map(\.header) == [
                "DEMO SWARMS SUBCOMMANDS:", "DISCOVERY SUBCOMMANDS:", "MULTICAST LAB SUBCOMMANDS:",
                "NAMES SUBCOMMANDS:", "IDENTITIES AND RECORDS SUBCOMMANDS:", "BENCHES SUBCOMMANDS:",
            ], "\(result.stdout)")
        #expect(
            groups.map(\.commands) == [
                ["swarm", "peer", "index"], ["lan", "mdns"], ["udp", "mcast"], ["name"], ["identity", "record"],
                ["bench"],
            ], "\(result.stdout)")
    }

    // MARK: - JSON

    @Test func identityAndRecord_json_printOneObjectWithTheirKeys() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let key = folder + "/me.key"
        let created = try await starling(["identity", "new", "--out", key, "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let identity = try Self.object(created.stdout)
        let id = try #require(identity["id"] as? String)
        #expect(id.count == 52)
        #expect(identity["short"] as? String == String(id.prefix(8)))
        #expect((identity["x25519"] as? String)?.isEmpty == false)
        #expect(identity["file"] as? String == key)

        let shown = try Self.object(try await starling(["identity", "show", key, "--json"]).stdout)
        #expect(shown["id"] as? String == id)
        #expect(shown["x25519"] as? String == identity["x25519"] as? String)

        let record = folder + "/me.record"
        let signed = try await starling([
            "record", "sign", "--key", key, "--address", "127.0.0.1:4000", "--service", "echo", "--sequence", "7",
            "--out", record, "--json",
        ])
        #expect(signed.status == 0, "\(signed.stderr)")
        let verified = try await starling(["record", "verify", record, "--peer", id, "--json"])
        #expect(verified.status == 0, "\(verified.stderr)")
        for text in [signed.stdout, verified.stdout] {
            let object = try Self.object(text)
            #expect(object["id"] as? String == id)
            #expect(object["sequence"] as? Int == 7)
            #expect(object["expires"] is Int)
            #expect(object["addresses"] as? [String] == ["127.0.0.1:4000"])
            #expect(object["services"] as? [String] == ["echo"])
            #expect(object["file"] as? String == record)
        }
    }

    @Test func bench_json_printsOneObject() async throws {
        let result = try await starling(["bench", "records", "--seconds", "0.1", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try Self.object(result.stdout)
        #expect(object["name"] is String)
        #expect(object["starling"] is Double || object["starling"] is Int)
        #expect(object["baseline"] is Double || object["baseline"] is Int)
        #expect(object["unit"] is String)
    }

    @Test func udp_listenAndSend_json_onLoopback() async throws {
        let listener = try ChildProcess(
            try StarlingBinary.path(),
            ["udp", "listen", "--bind", "127.0.0.1", "--port", "0", "--count", "1", "--timeout", "600", "--json"])
        defer { listener.kill() }
        let ready = try Self.object(
            try await listener.waitForLine(timeout: Self.wait) { $0.contains("\"event\":\"ready\"") })
        let address = try #require(ready["address"] as? String)
        #expect(address.hasPrefix("127.0.0.1:"))
        #expect(ready["groups"] as? [String] == [])

        let sent = try await starling(["udp", "send", "--to", address, "--message", "hello", "--json"])
        #expect(sent.status == 0, "\(sent.stderr)")
        let object = try Self.object(sent.stdout)
        #expect(object["event"] as? String == "sent")
        #expect(object["to"] as? String == address)
        #expect(object["bytes"] as? Int == 5)

        let ended = try await listener.waitForExit(timeout: Self.wait)
        #expect(ended.status == 0, "\(ended.stderr)")
        let events = try Self.objects(ended.stdout)
        #expect(events.map { $0["event"] as? String } == ["ready", "datagram", "done"])
        #expect(events.dropFirst().first?["text"] as? String == "hello")
        #expect(events.dropFirst().first?["bytes"] as? Int == 5)
        #expect((events.dropFirst().first?["from"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(events.last?["datagrams"] as? Int == 1)
        #expect(events.last?["reason"] is String)
    }

    @Test func peer_json_printsOneObjectPerEvent() async throws {
        let server = try ChildProcess(try StarlingBinary.path(), ["peer", "--json"])
        defer { server.kill() }
        let started = try Self.object(
            try await server.waitForLine(timeout: Self.wait) { $0.contains("\"event\":\"started\"") })
        let serverID = try #require(started["id"] as? String)
        let address = try #require(started["address"] as? String)

        let client = try await starling(["peer", "--connect", address, "--expect", serverID, "--once", "--json"])
        #expect(client.status == 0, "\(client.stderr)")
        let events = try Self.objects(client.stdout)
        #expect(events.first?["event"] as? String == "started")
        let up = try #require(events.first { $0["event"] as? String == "session_up" }, "\(client.stdout)")
        #expect(up["id"] as? String == serverID)
        #expect(up["address"] as? String == address)
        let reply = try #require(events.first { $0["event"] as? String == "echo_reply" }, "\(client.stdout)")
        #expect(reply["id"] as? String == serverID)
        #expect((reply["text"] as? String)?.hasPrefix("hello from ") == true)

        server.terminate()
        let ended = try await server.waitForExit(timeout: Self.wait)
        #expect(ended.status == 0, "\(ended.stderr)")
        #expect(try Self.objects(ended.stdout).contains { $0["event"] as? String == "session_up" })
    }

    @Test func name_publishAndResolve_json() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let key = folder + "/owner.key"
        let owner = try Self.object(try await starling(["identity", "new", "--out", key, "--json"]).stdout)
        let id = try #require(owner["id"] as? String)
        let publisher = try ChildProcess(
            try StarlingBinary.path(),
            ["name", "publish", "www.\(id)", "--key", key, "--address", "127.0.0.1:8080", "--json"])
        defer { publisher.kill() }
        let published = try Self.object(
            try await publisher.waitForLine(timeout: Self.wait) { $0.contains("\"event\":\"published\"") })
        #expect(published["name"] as? String == "www.\(id)")
        #expect(published["sequence"] is Int)
        #expect(published["id"] as? String == id)
        let seed = try #require(published["address"] as? String)

        let resolved = try await starling(["name", "resolve", "www.\(id)", "--seed", seed, "--json"])
        #expect(resolved.status == 0, "\(resolved.stderr)")
        let object = try Self.object(resolved.stdout)
        #expect(object["name"] as? String == "www.\(id)")
        #expect((object["chain"] as? [Any])?.isEmpty == false)
        let record = try #require(object["record"] as? [String: Any])
        #expect(record["addresses"] as? [String] == ["127.0.0.1:8080"])
        publisher.terminate()
        #expect(try await publisher.waitForExit(timeout: Self.wait).status == 0)
    }

    // MARK: - Failures

    @Test(arguments: [
        (["identity", "show", "/starling-none/me.key"], "no key file"),
        (["identity", "show", "/starling-none/me.key", "--json"], "no key file"),
        (["identity", "new", "--out", "/starling-none/me.key"], "/starling-none/me.key"),
        (["record", "verify", "/starling-none/me.record", "--json"], "cannot read /starling-none/me.record"),
        (["record", "sign", "--key", "/starling-none/me.key", "--out", "/starling-none/r"], "no key file"),
        (["peer", "--key", "/starling-none/me.key"], "no key file"),
        (["peer", "--listen", "192.0.2.1:0", "--json"], "192.0.2.1"),
        (["index", "--secret-file", "/starling-none/secret"], "/starling-none/secret"),
        (["udp", "listen", "--bind", "192.0.2.1", "--port", "0", "--json"], "cannot bind 192.0.2.1:0"),
        (["udp", "send", "--to", "127.0.0.1:9", "--message", "x", "--interface", missingInterface], missingInterface),
        (["lan", "--interface", missingInterface, "--multicast"], missingInterface),
        (["lan", "--interface", missingInterface, "--multicast", "--no-overlay", "--json"], missingInterface),
        (
            ["lan", "--interface", missingInterface, "--multicast", "--secret-file", "/starling-none/secret"],
            "--secret-file"
        ),
        (["mdns", "advertise", "--interface", missingInterface, "--json"], missingInterface),
        (["mdns", "browse", "_x._udp", "--interface", missingInterface, "--json"], missingInterface),
        (
            [
                "mcast", "listen", "--group", "239.255.77.1", "--port", "47001", "--interface", missingInterface,
                "--json",
            ],
            missingInterface
        ),
        (
            ["swarm", "--peers", "1", "--duration", "1", "--graph", "/starling-none/swarm.svg", "--json"],
            "cannot write /starling-none/swarm.svg"
        ),
    ])
    func runtimeFailures_areOneLine(arguments: [String], expected: String) async throws {
        Self.expectOneLineFailure(try await starling(arguments), expected, arguments)
    }

    @Test func timeouts_areOneLine() async throws {
        // Nothing listens on 127.0.0.1:1: the handshakes go unanswered.
        let connect = ["peer", "--connect", "127.0.0.1:1", "--connect-timeout", "0.5", "--json"]
        Self.expectOneLineFailure(try await starling(connect), "cannot connect to 127.0.0.1:1", connect)
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let owner = try await starling(["identity", "new", "--out", folder + "/owner.key", "--json"])
        let id = try #require(try Self.object(owner.stdout)["id"] as? String)
        let resolve = ["name", "resolve", "www.home", "--pin", "home=\(id)", "--seed", "127.0.0.1:1"]
        Self.expectOneLineFailure(
            try await starling(resolve + ["--timeout", "0.5"]), "no member answered at 127.0.0.1:1", resolve)
    }
}

/// The namespace half of ``CLIConsistencyTests``: the `--json` of the commands that
/// multicast, on a lab's link only.
@Suite(.requiresNetworkNamespaces, .serialized)
struct CLIConsistencyLabTests {
    /// A bound against hangs, not a timing check.
    static let deadline = Duration.seconds(120)

    @Test func lanAndMDNSAdvertise_json_printOneObjectPerEvent() async throws {
        try await NamespaceLab.with(hosts: 2) { lab in
            let binary = try StarlingBinary.path()
            let a = lab.hosts[0]
            let b = lab.hosts[1]
            let lan = ["lan", "--multicast", "--expect", "1", "--duration", "120", "--json"]
            let first = try a.namespace.spawn(binary, lan + ["--interface", a.interface])
            let second = try b.namespace.spawn(binary, lan + ["--interface", b.interface])
            defer {
                first.kill()
                second.kill()
            }
            let ended = try await first.waitForExit(timeout: Self.deadline)
            #expect(ended.status == 0, "\(ended.stderr)")
            let events = try CLIConsistencyTests.objects(ended.stdout)
            #expect(events.first?["event"] as? String == "started", "\(ended.stdout)")
            #expect(events.first?["interface"] as? String == a.interface)
            #expect((events.first?["transports"] as? [String])?.count == 1)
            #expect((events.first?["address"] as? String)?.hasPrefix(a.address + ":") == true, "\(ended.stdout)")
            let otherID = try #require(
                try CLIConsistencyTests.object(
                    try await second.waitForLine(timeout: Self.deadline) { $0.contains("\"event\":\"started\"") }
                )["id"] as? String)
            let discovered = events.first { $0["event"] as? String == "discovered" }
            #expect(discovered?["id"] as? String == otherID, "\(ended.stdout)")
            #expect((discovered?["addresses"] as? [String])?.isEmpty == false)
            #expect(events.contains { $0["event"] as? String == "found" && $0["peers"] as? Int == 1 })
            #expect(events.last?["event"] as? String == "members")
            #expect(events.last?["members"] is Int)
            #expect(try await second.waitForExit(timeout: Self.deadline).status == 0)

            let advertiser = try a.namespace.spawn(
                binary,
                [
                    "mdns", "advertise", "--interface", a.interface, "--host-name", "lab-a", "--type", "_demo._udp",
                    "--name", "Demo", "--port", "4242", "--json",
                ])
            defer { advertiser.kill() }
            let line = try await advertiser.waitForLine(timeout: Self.deadline) {
                $0.contains("\"event\":\"advertised\"")
            }
            #expect(try CLIConsistencyTests.object(line)["name"] as? String == "Demo")
            advertiser.terminate()
            #expect(try await advertiser.waitForExit(timeout: Self.deadline).status == 0)
        }
    }
}
