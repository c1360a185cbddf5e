import Foundation
import StarlingTestSupport
import Testing

/// Drives the built `starling` executable as a user would.
@Suite struct CLITests {
    final class Workspace {
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "starling-cli-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func file(_ name: String) -> String { path + "/" + name }
    }

    func starling(_ arguments: String...) async throws -> ProcessResult {
        try await Subprocess.run(try StarlingBinary.path(), arguments)
    }

    @Test func identity_new_thenShow_printsTheSameID() async throws {
        let workspace = try Workspace()
        let key = workspace.file("me.key")
        let created = try await starling("identity", "new", "--out", key)
        #expect(created.status == 0, "\(created.stderr)")
        let id = try #require(created.stdout.split(separator: "\n").first?.split(separator: " ").last)
        #expect(id.count == 52)
        let shown = try await starling("identity", "show", key)
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("peer id     \(id)"))
        #expect(shown.stdout.contains("short       \(id.prefix(8))"))
    }

    @Test func identity_new_existingFile_failsClearly() async throws {
        let workspace = try Workspace()
        let key = workspace.file("me.key")
        #expect(try await starling("identity", "new", "--out", key).status == 0)
        let again = try await starling("identity", "new", "--out", key)
        #expect(again.status != 0)
        #expect(again.stderr.contains("already exists"))
        #expect(!again.uncaughtSignal)
    }

    @Test func identity_show_badFiles_failClearly() async throws {
        let workspace = try Workspace()
        let missing = try await starling("identity", "show", workspace.file("missing.key"))
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no key file"))
        let junk = workspace.file("junk.key")
        #expect(
            FileManager.default.createFile(
                atPath: junk, contents: Data("hello".utf8), attributes: [.posixPermissions: 0o600]))
        let junkResult = try await starling("identity", "show", junk)
        #expect(junkResult.status == 1)
        #expect(junkResult.stderr.contains("not a valid Starling key file"))
        let open = workspace.file("open.key")
        #expect(try await starling("identity", "new", "--out", open).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: open)
        let openResult = try await starling("identity", "show", open)
        #expect(openResult.status == 1)
        #expect(openResult.stderr.contains("chmod 600"))
    }

    @Test func record_signThenVerify_roundTrips_andTamperingFails() async throws {
        let workspace = try Workspace()
        let key = workspace.file("me.key")
        let record = workspace.file("me.record")
        let created = try await starling("identity", "new", "--out", key)
        let id = String(try #require(created.stdout.split(separator: "\n").first?.split(separator: " ").last))
        let signed = try await starling(
            "record", "sign", "--key", key, "--address", "127.0.0.1:4000", "--address", "[::1]:4000",
            "--service", "echo", "--sequence", "42", "--out", record)
        #expect(signed.status == 0, "\(signed.stderr)")
        let verified = try await starling("record", "verify", record, "--peer", id)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("valid record"))
        #expect(verified.stdout.contains("sequence    42"))
        #expect(verified.stdout.contains("address     [::1]:4000"))
        #expect(verified.stdout.contains("service     echo"))

        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: record)))
        bytes[20] ^= 0x01
        let tampered = workspace.file("tampered.record")
        try Data(bytes).write(to: URL(fileURLWithPath: tampered))
        let rejected = try await starling("record", "verify", tampered)
        #expect(rejected.status == 1)
        #expect(rejected.stderr.contains("invalid record"))

        let other = workspace.file("other.key")
        let otherID = try await starling("identity", "new", "--out", other).stdout.split(separator: "\n")[0].split(
            separator: " "
        ).last!
        let wrongPeer = try await starling("record", "verify", record, "--peer", String(otherID))
        #expect(wrongPeer.status == 1)
        #expect(wrongPeer.stderr.contains("expected \(otherID)"))
    }

    @Test(arguments: [
        (["record", "sign", "--key", "k", "--out", "o", "--address", "localhost:80"], "invalid --address"),
        (["record", "sign", "--key", "k", "--out", "o", "--address", "127.0.0.1:99999"], "invalid --address"),
        (["record", "sign", "--key", "k", "--out", "o", "--service", "Bad Name"], "invalid service name"),
        (["record", "sign", "--key", "k", "--out", "o", "--ttl", "0"], "--ttl must be"),
        (["record", "sign", "--key", "k", "--out", "o", "--sequence", "-4"], "sequence"),
        (["record", "verify", "f", "--peer", "notapeerid"], "invalid --peer"),
        (["identity", "frobnicate"], "Unexpected argument"),
        (["bench", "records", "--seconds", "0"], "--seconds must be"),
    ])
    func badArguments_failWithAClearMessage(arguments: [String], expected: String) async throws {
        let result = try await Subprocess.run(try StarlingBinary.path(), arguments)
        #expect(result.status != 0)
        #expect(!result.uncaughtSignal)
        #expect(result.stderr.contains(expected), "stderr was: \(result.stderr)")
    }

    @Test func record_verify_garbageFile_failsWithoutCrashing() async throws {
        let workspace = try Workspace()
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for index in 0..<20 {
            let path = workspace.file("garbage\(index)")
            let bytes: [UInt8] =
                [1, 1]
                + (0..<(index * 37)).map { _ in
                    state ^= state << 13
                    state ^= state >> 7
                    state ^= state << 17
                    return UInt8(truncatingIfNeeded: state)
                }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let result = try await starling("record", "verify", path)
            #expect(result.status == 1)
            #expect(!result.uncaughtSignal)
            #expect(result.stderr.contains("invalid record"))
        }
    }
}
