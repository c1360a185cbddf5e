import Foundation
import StarlingTestSupport
import Testing

/// `starling peer` across processes on loopback: sessions both ways, echo requests,
/// private swarms, graceful exit and bad arguments.
@Suite struct PeerCommandTests {
    static let wait: Duration = .seconds(120)

    /// Starts `starling peer` with `arguments` and waits until it listens.
    /// - Returns: the process, its peer ID and its address.
    func startPeer(_ arguments: [String]) async throws -> (ChildProcess, id: String, address: String) {
        let child = try ChildProcess(try StarlingBinary.path(), ["peer"] + arguments)
        let id = try await child.waitForLine(timeout: Self.wait) { $0.hasPrefix("peer ") }.dropFirst(5)
        let address = try await child.waitForLine(timeout: Self.wait) { $0.hasPrefix("listening ") }.dropFirst(10)
        return (child, String(id), String(address))
    }

    func secretFile(_ byte: String, in directory: String) throws -> String {
        let path = directory + "/secret-\(byte)"
        let created = FileManager.default.createFile(
            atPath: path, contents: Data((String(repeating: byte, count: 64) + "\n").utf8),
            attributes: [.posixPermissions: 0o600])
        guard created else { throw CocoaError(.fileWriteUnknown) }
        return path
    }

    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "starling-peer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test func twoProcesses_establishSessionsAndEchoBothWays() async throws {
        let (server, serverID, serverAddress) = try await startPeer(["--listen", "127.0.0.1:0"])
        defer { server.kill() }
        let (client, clientID, _) = try await startPeer(["--connect", serverAddress, "--expect", serverID])
        defer { client.kill() }
        #expect(serverAddress.hasPrefix("127.0.0.1:"))

        try await client.waitForLine(timeout: Self.wait) { $0.hasPrefix("session up \(serverID) ") }
        try await server.waitForLine(timeout: Self.wait) { $0.hasPrefix("session up \(clientID) ") }
        // Each side asks the other; each answer carries the asker's own greeting back.
        let clientShort = String(clientID.prefix(8))
        let serverShort = String(serverID.prefix(8))
        try await client.waitForLine(timeout: Self.wait) {
            $0 == "echo reply from \(serverShort): hello from \(clientShort)"
        }
        try await server.waitForLine(timeout: Self.wait) {
            $0 == "echo reply from \(clientShort): hello from \(serverShort)"
        }

        // SIGTERM: the peer closes its session, says so, and exits cleanly.
        client.terminate()
        let ended = try await client.waitForExit(timeout: Self.wait)
        #expect(ended.status == 0, "\(ended.stderr)")
        #expect(!ended.uncaughtSignal)
        #expect(ended.stdout.contains("session down \(serverID) local"))
    }

    @Test func once_exitsAfterTheFirstEchoWithStatusZero() async throws {
        let (server, serverID, serverAddress) = try await startPeer([])
        defer { server.kill() }
        let client = try ChildProcess(try StarlingBinary.path(), ["peer", "--connect", serverAddress, "--once"])
        defer { client.kill() }
        let result = try await client.waitForExit(timeout: Self.wait)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("session up \(serverID) \(serverAddress)"))
        #expect(result.stdout.contains("echo reply from \(serverID.prefix(8))"))
    }

    @Test func privateSwarm_sameSecretConnects_otherSecretFailsClearly() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let one = try secretFile("1", in: directory)
        let two = try secretFile("2", in: directory)
        let (server, serverID, serverAddress) = try await startPeer(["--secret-file", one])
        defer { server.kill() }

        let member = try ChildProcess(
            try StarlingBinary.path(), ["peer", "--secret-file", one, "--connect", serverAddress, "--once"])
        defer { member.kill() }
        let joined = try await member.waitForExit(timeout: Self.wait)
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(joined.stdout.contains("session up \(serverID)"))

        let outsider = try ChildProcess(
            try StarlingBinary.path(),
            ["peer", "--secret-file", two, "--connect", serverAddress, "--connect-timeout", "1", "--once"])
        defer { outsider.kill() }
        let refused = try await outsider.waitForExit(timeout: Self.wait)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("cannot connect to \(serverAddress): no session with"))
        #expect(!refused.stdout.contains("session up"))
    }

    @Test(arguments: [
        (["--listen", "localhost"], "--listen 'localhost' is not ADDR:PORT"),
        (["--listen", "127.0.0.1:70000"], "--listen '127.0.0.1:70000' is not ADDR:PORT"),
        (["--expect", "abc"], "--expect is only used with --connect ADDR"),
        (["--connect", "127.0.0.1:9", "--expect", "abc"], "--expect 'abc' is not a peer ID"),
        (["--connect-timeout", "0"], "--connect-timeout must be from 0.1 to 600 seconds"),
        (["--key", "/nonexistent/key"], "no key file at /nonexistent/key"),
        (["--secret-file", "/nonexistent/secret"], "no swarm secret file at /nonexistent/secret"),
    ])
    func badArguments_failClearly(arguments: [String], message: String) async throws {
        let result = try await Subprocess.run(try StarlingBinary.path(), ["peer"] + arguments)
        #expect(result.status != 0)
        #expect(!result.uncaughtSignal)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func secretFile_openPermissionsOrBadContents_failClearly() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let open = try secretFile("a", in: directory)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: open)
        let openResult = try await Subprocess.run(try StarlingBinary.path(), ["peer", "--secret-file", open])
        #expect(openResult.status == 1)
        #expect(openResult.stderr.contains("must not be readable by others"))

        let short = directory + "/short"
        #expect(
            FileManager.default.createFile(
                atPath: short, contents: Data("abcd\n".utf8), attributes: [.posixPermissions: 0o600]))
        let shortResult = try await Subprocess.run(try StarlingBinary.path(), ["peer", "--secret-file", short])
        #expect(shortResult.status == 1)
        #expect(shortResult.stderr.contains("expected 64 hexadecimal digits"))
    }
}
