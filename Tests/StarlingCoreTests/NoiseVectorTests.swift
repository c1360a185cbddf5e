import Foundation
import Testing

@testable import StarlingCore

/// Runs every `*_25519_ChaChaPoly_BLAKE2b` vector of `Resources/noise` (flynn/noise,
/// BSD-3-Clause; see the README there) byte for byte: each handshake message is
/// written and compared, read back by the peer, then the transport messages are
/// checked with the split cipher states.
@Suite struct NoiseVectorTests {
    /// The number of vectors the file must hold; a shorter file fails the suite.
    static let expectedCount = 240

    static let vectorPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Resources/noise/vectors-25519-chachapoly-blake2b.txt").path

    /// The file's blocks, each a dictionary of its `key=hex` lines.
    static func loadVectors() throws -> [[String: String]] {
        let text = try String(contentsOfFile: vectorPath, encoding: .utf8)
        var blocks: [[String: String]] = []
        var current: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                if !current.isEmpty { blocks.append(current) }
                current = [:]
                continue
            }
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            current[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        if !current.isEmpty { blocks.append(current) }
        return blocks
    }

    @Test func vectors_fileHoldsEveryVector() throws {
        let vectors = try Self.loadVectors()
        #expect(vectors.count == Self.expectedCount)
        #expect(vectors.allSatisfy { $0["handshake"] != nil })
    }

    @Test func vectors_allPassByteForByte() throws {
        let vectors = try Self.loadVectors()
        try #require(vectors.count == Self.expectedCount)
        var passed = 0
        for (index, vector) in vectors.enumerated() {
            let name = vector["handshake"] ?? "?"
            do {
                if let failure = try Self.run(vector) {
                    Issue.record("vector \(index) \(name): \(failure)")
                } else {
                    passed += 1
                }
            } catch {
                Issue.record("vector \(index) \(name): threw \(error)")
            }
        }
        print("Noise vectors passed: \(passed) of \(vectors.count)")
        #expect(passed == Self.expectedCount)
    }

    /// Runs one vector; returns a description of the first mismatch, or nil.
    static func run(_ vector: [String: String]) throws -> String? {
        func bytes(_ key: String) -> [UInt8]? { vector[key].flatMap { parseHex($0) } }
        func keyPair(_ key: String) -> (secret: [UInt8], public: Key32)? {
            guard let secret = bytes(key) else { return nil }
            return (secret, publicKey(secret))
        }
        guard let name = vector["handshake"], let initEphemeral = bytes("gen_init_ephemeral"),
            let respEphemeral = bytes("gen_resp_ephemeral")
        else { return "missing handshake name or ephemeral keys" }
        let pattern = try NoiseProtocol(name: name).pattern
        let initStatic = keyPair("init_static")
        let respStatic = keyPair("resp_static")
        let presharedKeys = bytes("preshared_key").map { [[UInt8]](repeating: $0, count: pattern.presharedKeyCount) }
        let prologue = bytes("prologue") ?? []
        var initiator = try NoiseHandshake(
            protocolName: name, initiator: true, prologue: prologue,
            localStatic: pattern.needsLocalStatic(initiator: true) ? initStatic : nil,
            remoteStatic: pattern.needsRemoteStatic(initiator: true) ? respStatic?.public : nil,
            presharedKeys: presharedKeys ?? [], localEphemeralSecret: initEphemeral)
        var responder = try NoiseHandshake(
            protocolName: name, initiator: false, prologue: prologue,
            localStatic: pattern.needsLocalStatic(initiator: false) ? respStatic : nil,
            remoteStatic: pattern.needsRemoteStatic(initiator: false) ? initStatic?.public : nil,
            presharedKeys: presharedKeys ?? [], localEphemeralSecret: respEphemeral)

        var messageIndex = 0
        while let payload = bytes("msg_\(messageIndex)_payload"),
            let expected = bytes("msg_\(messageIndex)_ciphertext"),
            messageIndex < pattern.messages.count
        {
            let initiatorSends = messageIndex % 2 == 0
            let sent =
                initiatorSends
                ? try initiator.writeMessage(payload: payload) : try responder.writeMessage(payload: payload)
            guard sent == expected else { return "handshake message \(messageIndex) ciphertext differs" }
            let received = initiatorSends ? try responder.readMessage(sent) : try initiator.readMessage(sent)
            guard received == payload else { return "handshake message \(messageIndex) payload differs" }
            messageIndex += 1
        }
        guard messageIndex == pattern.messages.count, initiator.isComplete, responder.isComplete else {
            return "handshake did not complete"
        }
        guard initiator.handshakeHash == responder.handshakeHash else { return "handshake hashes differ" }
        if let initStatic, pattern.needsLocalStatic(initiator: true), responder.remoteStaticKey != initStatic.public {
            return "responder learned the wrong initiator static key"
        }
        if let respStatic, pattern.needsLocalStatic(initiator: false), initiator.remoteStaticKey != respStatic.public {
            return "initiator learned the wrong responder static key"
        }

        var initiatorKeys = try initiator.transportKeys()
        var responderKeys = try responder.transportKeys()
        var transportIndex = 0
        while let payload = bytes("msg_\(messageIndex)_payload"), let expected = bytes("msg_\(messageIndex)_ciphertext")
        {
            // Transport messages alternate, initiator first. The file does this for the
            // one-way patterns too: their responder messages use the second cipher state,
            // which the spec (section 7.4) says to discard; it is used here only to check bytes.
            let initiatorSends = transportIndex % 2 == 0
            let sent =
                initiatorSends
                ? try initiatorKeys.sending.encrypt(plaintext: payload)
                : try responderKeys.sending.encrypt(plaintext: payload)
            guard sent == expected else { return "transport message \(messageIndex) ciphertext differs" }
            let received =
                initiatorSends
                ? try responderKeys.receiving.decrypt(ciphertext: sent)
                : try initiatorKeys.receiving.decrypt(ciphertext: sent)
            guard received == payload else { return "transport message \(messageIndex) payload differs" }
            messageIndex += 1
            transportIndex += 1
        }
        guard transportIndex > 0 else { return "no transport messages" }
        return nil
    }
}

/// The X25519 public key of `secret` (test helper; derives what vectors leave out).
func publicKey(_ secret: [UInt8]) -> Key32 {
    NoiseKeyPair(secret: secret)!.publicKey
}
