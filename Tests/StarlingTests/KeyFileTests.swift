import Foundation
import Starling
import StarlingCore
import Testing

@Suite struct KeyFileTests {
    /// A private temporary directory, removed when the test ends.
    final class TemporaryDirectory {
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "starling-keyfile-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func file(_ name: String) -> String { path + "/" + name }
    }

    let keyPair = try! IdentityKeyPair(seed: [UInt8](repeating: 3, count: 32))

    @Test func save_thenLoad_roundTripsWithMode0600() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("id.key")
        try KeyFile.save(keyPair, to: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try KeyFile.load(from: path).peerID == keyPair.peerID)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["id.key"])
    }

    @Test func save_existingFile_isRefusedUnlessOverwrite() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("id.key")
        try KeyFile.save(keyPair, to: path)
        var random = SecureRandom()
        let other = IdentityKeyPair.generate(using: &random)
        #expect(throws: KeyFileError.alreadyExists(path: path)) { try KeyFile.save(other, to: path) }
        #expect(try KeyFile.load(from: path).peerID == keyPair.peerID)
        try KeyFile.save(other, to: path, overwrite: true)
        #expect(try KeyFile.load(from: path).peerID == other.peerID)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["id.key"])
    }

    @Test func create_writesANewIdentity() throws {
        let directory = try TemporaryDirectory()
        var random = SecureRandom()
        let created = try KeyFile.create(at: directory.file("new.key"), using: &random)
        #expect(try KeyFile.load(from: directory.file("new.key")).peerID == created.peerID)
    }

    @Test(arguments: [0o640, 0o604, 0o644, 0o660, 0o666])
    func load_groupOrOtherAccess_isInsecurePermissions(mode: Int) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("id.key")
        try KeyFile.save(keyPair, to: path)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        #expect(throws: KeyFileError.insecurePermissions(path: path, mode: UInt32(mode))) {
            try KeyFile.load(from: path)
        }
    }

    @Test func load_truncatedOrCorruptOrForeign_isInvalidContents() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("id.key")
        let good = KeyFileFormat.encode(keyPair)
        let cases: [([UInt8], KeyFileFormat.DecodeError)] = [
            (Array(good.prefix(40)), .truncated(size: 40, expected: KeyFileFormat.size)),
            ([], .truncated(size: 0, expected: KeyFileFormat.size)),
            (good + [1, 2, 3], .tooLong(size: KeyFileFormat.size + 1, expected: KeyFileFormat.size)),
            (Array("-----BEGIN OPENSSH PRIVATE KEY-----".utf8), .notAKeyFile),
            (good.enumerated().map { $0.offset == 60 ? $0.element ^ 0x10 : $0.element }, .corrupt),
        ]
        for (contents, reason) in cases {
            try? FileManager.default.removeItem(atPath: path)
            #expect(
                FileManager.default.createFile(
                    atPath: path, contents: Data(contents), attributes: [.posixPermissions: 0o600]))
            #expect(throws: KeyFileError.invalidContents(path: path, reason: reason)) { try KeyFile.load(from: path) }
        }
    }

    @Test func load_missingOrDirectoryOrSymlink_isTypedError() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: KeyFileError.notFound(path: directory.file("nope"))) {
            try KeyFile.load(from: directory.file("nope"))
        }
        try FileManager.default.createDirectory(
            atPath: directory.file("dir"), withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        #expect(throws: KeyFileError.notARegularFile(path: directory.file("dir"))) {
            try KeyFile.load(from: directory.file("dir"))
        }
        try KeyFile.save(keyPair, to: directory.file("real.key"))
        try FileManager.default.createSymbolicLink(
            atPath: directory.file("link.key"), withDestinationPath: directory.file("real.key"))
        #expect(throws: KeyFileError.self) { try KeyFile.load(from: directory.file("link.key")) }
    }

    @Test func errors_describeThemselvesForPeople() {
        let message = KeyFileError.insecurePermissions(path: "/tmp/k", mode: 0o644).description
        #expect(message.contains("644"))
        #expect(message.contains("chmod 600 /tmp/k"))
        #expect(KeyFileError.invalidContents(path: "k", reason: .corrupt).description.contains("corrupt"))
    }
}
