import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Behaviour of ``NoiseHandshake`` beyond the vectors: refusals, typed errors,
/// transactional reads, and hostile input.
@Suite struct NoiseHandshakeTests {
    static let psk = [UInt8](repeating: 0x5a, count: 32)

    /// A static key pair from a seeded generator.
    static func staticPair(_ seed: UInt64) -> (secret: [UInt8], public: Key32) {
        var random = TestRandom(seed: seed)
        let pair = NoiseKeyPair(using: &random)
        return (pair.secret.bytes, pair.publicKey)
    }

    /// An initiator and responder for `pattern`, with every key it needs.
    static func pair(
        _ pattern: String, seed: UInt64 = 1, initiatorPSK: [UInt8] = psk, responderPSK: [UInt8] = psk
    ) throws -> (NoiseHandshake, NoiseHandshake) {
        let noise = try NoiseProtocol(name: "Noise_\(pattern)_25519_ChaChaPoly_BLAKE2b")
        let initStatic = staticPair(seed &+ 100)
        let respStatic = staticPair(seed &+ 200)
        let count = noise.pattern.presharedKeyCount
        var random = TestRandom(seed: seed)
        let initiator = try NoiseHandshake(
            noiseProtocol: noise, initiator: true, prologue: [1, 2],
            localStatic: noise.pattern.needsLocalStatic(initiator: true) ? initStatic : nil,
            remoteStatic: noise.pattern.needsRemoteStatic(initiator: true) ? respStatic.public : nil,
            presharedKeys: [[UInt8]](repeating: initiatorPSK, count: count), generator: &random)
        let responder = try NoiseHandshake(
            noiseProtocol: noise, initiator: false, prologue: [1, 2],
            localStatic: noise.pattern.needsLocalStatic(initiator: false) ? respStatic : nil,
            remoteStatic: noise.pattern.needsRemoteStatic(initiator: false) ? initStatic.public : nil,
            presharedKeys: [[UInt8]](repeating: responderPSK, count: count), generator: &random)
        return (initiator, responder)
    }

    @Test func handshake_xx_completesAndTransportsBothWays() throws {
        var (initiator, responder) = try Self.pair("XX")
        #expect(try responder.readMessage(initiator.writeMessage(payload: [1])) == [1])
        #expect(try initiator.readMessage(responder.writeMessage(payload: [2])) == [2])
        #expect(try responder.readMessage(initiator.writeMessage(payload: [3])) == [3])
        #expect(initiator.isComplete && responder.isComplete)
        #expect(initiator.remoteStaticKey == Self.staticPair(201).public)
        var a = try initiator.transportKeys()
        var b = try responder.transportKeys()
        #expect(a.handshakeHash == b.handshakeHash)
        #expect(try b.receiving.decrypt(ciphertext: a.sending.encrypt(plaintext: [7])) == [7])
        #expect(try a.receiving.decrypt(ciphertext: b.sending.encrypt(plaintext: [8])) == [8])
    }

    @Test func split_namesDirections_andMovesTheCipherStatesOut() throws {
        var (initiator, responder) = try Self.pair("XX")
        _ = try responder.readMessage(initiator.writeMessage())
        _ = try initiator.readMessage(responder.writeMessage())
        _ = try responder.readMessage(initiator.writeMessage())
        let pair = try initiator.split()
        var keys = try responder.transportKeys()
        // The cipher states are moved out of the pair, not copied: each exists once.
        var forward = pair.initiatorToResponder
        var backward = pair.responderToInitiator
        #expect(try keys.receiving.decrypt(ciphertext: forward.encrypt(plaintext: [1])) == [1])
        #expect(try backward.decrypt(ciphertext: keys.sending.encrypt(plaintext: [2])) == [2])
        #expect(forward.nonce == 1)
        #expect(backward.nonce == 1)
    }

    @Test func handshake_identityKeyPair_worksAsStaticKey() throws {
        var random = TestRandom(seed: 9)
        let identity = IdentityKeyPair.generate(using: &random)
        let local = (secret: identity.x25519SecretKey, public: identity.x25519PublicKey)
        var initiator = try NoiseHandshake(
            protocolName: "Noise_IK_25519_ChaChaPoly_BLAKE2b", initiator: true, localStatic: Self.staticPair(1),
            remoteStatic: identity.x25519PublicKey, generator: &random)
        var responder = try NoiseHandshake(
            protocolName: "Noise_IK_25519_ChaChaPoly_BLAKE2b", initiator: false, localStatic: local,
            generator: &random)
        #expect(try responder.readMessage(initiator.writeMessage(payload: [4])) == [4])
        #expect(responder.remoteStaticKey == Self.staticPair(1).public)
    }

    @Test func readMessage_tampered_isDecryptionFailedAndRecoverable() throws {
        var (initiator, responder) = try Self.pair("IKpsk2")
        let message = try initiator.writeMessage(payload: [1, 2, 3])
        for index in [0, 40, message.count - 1] {
            var tampered = message
            tampered[index] ^= 0x80
            #expect(throws: NoiseError.decryptionFailed) { try responder.readMessage(tampered) }
        }
        // A failed read leaves the handshake untouched: the genuine message still reads.
        #expect(try responder.readMessage(message) == [1, 2, 3])
        #expect(try initiator.readMessage(responder.writeMessage()) == [])
        #expect(initiator.isComplete && responder.isComplete)
    }

    @Test(arguments: ["IKpsk2", "XXpsk3", "NNpsk0", "Npsk0", "NNpsk0+psk2"])
    func handshake_wrongPSK_fails(pattern: String) throws {
        var (initiator, responder) = try Self.pair(
            pattern, responderPSK: [UInt8](repeating: 0x5b, count: 32))
        var failed = false
        while !initiator.isComplete && !failed {
            do {
                if initiator.isMyTurn {
                    _ = try responder.readMessage(initiator.writeMessage())
                } else {
                    _ = try initiator.readMessage(responder.writeMessage())
                }
            } catch {
                #expect(error == .decryptionFailed)
                failed = true
            }
        }
        #expect(failed)
    }

    @Test func calls_outOfTurn_areTypedErrors() throws {
        var (initiator, responder) = try Self.pair("NN")
        #expect(throws: NoiseError.outOfTurn) { try responder.writeMessage() }
        #expect(throws: NoiseError.outOfTurn) { try initiator.readMessage([UInt8](repeating: 0, count: 48)) }
        #expect(throws: NoiseError.handshakeNotComplete) { _ = try initiator.split() }
        let first = try initiator.writeMessage()
        #expect(throws: NoiseError.outOfTurn) { try initiator.writeMessage() }
        _ = try responder.readMessage(first)
        _ = try initiator.readMessage(responder.writeMessage())
        #expect(throws: NoiseError.handshakeAlreadyComplete) { try initiator.writeMessage() }
        #expect(throws: NoiseError.handshakeAlreadyComplete) { try responder.readMessage(first) }
    }

    @Test func init_refusesMissingUnexpectedAndInvalidKeys() {
        var random = TestRandom(seed: 3)
        let ik = "Noise_IK_25519_ChaChaPoly_BLAKE2b"
        let local = Self.staticPair(1)
        #expect(throws: NoiseError.missingKey(.remoteStatic)) {
            try NoiseHandshake(protocolName: ik, initiator: true, localStatic: local, generator: &random)
        }
        #expect(throws: NoiseError.missingKey(.localStatic)) {
            try NoiseHandshake(protocolName: ik, initiator: false, generator: &random)
        }
        #expect(throws: NoiseError.unexpectedKey(.remoteStatic)) {
            try NoiseHandshake(
                protocolName: "Noise_XX_25519_ChaChaPoly_BLAKE2b", initiator: true, localStatic: local,
                remoteStatic: local.public, generator: &random)
        }
        #expect(throws: NoiseError.invalidKey(.localStatic)) {
            try NoiseHandshake(
                protocolName: ik, initiator: false, localStatic: (local.secret, Self.staticPair(2).public),
                generator: &random)
        }
        let nnpsk0 = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b"
        #expect(throws: NoiseError.missingKey(.presharedKey)) {
            try NoiseHandshake(protocolName: nnpsk0, initiator: true, generator: &random)
        }
        #expect(throws: NoiseError.unexpectedKey(.presharedKey)) {
            try NoiseHandshake(
                protocolName: nnpsk0, initiator: true, presharedKeys: [Self.psk, Self.psk], generator: &random)
        }
        #expect(throws: NoiseError.invalidKey(.presharedKey)) {
            try NoiseHandshake(protocolName: nnpsk0, initiator: true, presharedKeys: [[1, 2, 3]], generator: &random)
        }
        #expect(throws: NoiseError.invalidKey(.localEphemeral)) {
            try NoiseHandshake(
                protocolName: nnpsk0, initiator: true, presharedKeys: [Self.psk], localEphemeralSecret: [])
        }
    }

    @Test(arguments: [
        "Noise_XX_448_ChaChaPoly_BLAKE2b", "Noise_XX_25519_AESGCM_BLAKE2b", "Noise_XX_25519_ChaChaPoly_SHA256",
        "Noise_XX_25519_ChaChaPoly", "NoiseXX_25519_ChaChaPoly_BLAKE2b", "Noise_XX_25519_ChaChaPoly_BLAKE2b_",
        "", "Noise__25519_ChaChaPoly_BLAKE2b_x",
    ])
    func protocolName_unsupported_isTyped(name: String) {
        #expect(throws: NoiseError.unsupportedProtocolName(name)) { try NoiseProtocol(name: name) }
    }

    @Test(arguments: [
        "ZZ", "", "XXfallback", "XXpsk4", "NNpsk0+psk0", "NNpsk01", "NNpsk", "NN+", "NNpsk0+", "xx", "XXX",
    ])
    func pattern_unsupported_isTyped(name: String) {
        #expect(throws: NoiseError.unsupportedPattern(name)) { try HandshakePattern(name: name) }
    }

    @Test func pattern_pskModifiers_placeTokens() throws {
        let pattern = try HandshakePattern(name: "NNpsk0+psk2")
        #expect(pattern.messages == [[.psk, .e], [.e, .ee, .psk]])
        #expect(pattern.presharedKeyCount == 2)
        #expect(try HandshakePattern(name: "XXpsk3").messages.last == [.s, .se, .psk])
        #expect(try HandshakePattern(name: "IK").responderPreMessage == [.s])
        #expect(try HandshakePattern(name: "K").isOneWay)
        #expect(
            NoiseProtocol(pattern: try HandshakePattern(name: "IKpsk2")).name
                == "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b")
    }

    @Test func readMessage_lowOrderEphemeral_isInvalidSharedSecret() throws {
        var (_, responder) = try Self.pair("NN")
        let zeroKey = [UInt8](repeating: 0, count: 32)
        _ = try responder.readMessage(zeroKey)
        var (initiator, _) = try Self.pair("NN")
        _ = try initiator.writeMessage()
        #expect(throws: NoiseError.invalidSharedSecret) { try initiator.readMessage(zeroKey) }
    }

    @Test func messages_badLengths_areTyped() throws {
        var (initiator, responder) = try Self.pair("XX")
        #expect(throws: NoiseError.invalidMessageLength) { try responder.readMessage([1, 2, 3]) }
        #expect(throws: NoiseError.messageTooLarge) { try responder.readMessage([UInt8](repeating: 0, count: 65536)) }
        #expect(throws: NoiseError.messageTooLarge) {
            try initiator.writeMessage(payload: [UInt8](repeating: 0, count: 65535 - 31))
        }
        _ = try responder.readMessage(initiator.writeMessage(payload: [UInt8](repeating: 0, count: 65535 - 32)))
        let second = try responder.writeMessage()
        #expect(throws: NoiseError.invalidMessageLength) { try initiator.readMessage(Array(second.prefix(32 + 47))) }
        #expect(throws: NoiseError.invalidMessageLength) { try initiator.readMessage(Array(second.dropLast(1))) }
        #expect(try initiator.readMessage(second) == [])
    }

    @Test(arguments: ["NN", "XX", "IK", "IKpsk2", "XXpsk3", "KK", "N", "X"])
    func readMessage_randomBytes_neverTrap(pattern: String) throws {
        var random = TestRandom(seed: 0xF00D)
        for round in 0..<150 {
            var (initiator, responder) = try Self.pair(pattern, seed: UInt64(round))
            let genuine = try initiator.writeMessage(payload: [UInt8](repeating: 1, count: round % 20))
            var noise = (0..<Int(random.next() % 200)).map { _ in UInt8.random(in: 0...255, using: &random) }
            if round % 2 == 0 {
                // Mutate the genuine message instead: flip, cut or extend it.
                noise = genuine
                let choice = random.next() % 3
                if choice == 0, !noise.isEmpty { noise[Int(random.next() % UInt64(noise.count))] ^= 1 }
                if choice == 1 { noise = Array(noise.prefix(Int(random.next() % UInt64(noise.count + 1)))) }
                if choice == 2 { noise += [UInt8(truncatingIfNeeded: random.next())] }
            }
            // In NN and XX the first message is in the clear, so altered bytes may be accepted.
            if (try? responder.readMessage(noise)) == nil {
                // Refused bytes leave the responder as it was: the genuine message still reads.
                _ = try responder.readMessage(genuine)
            }
            if !initiator.isComplete { _ = try? initiator.readMessage(noise) }
        }
    }
}
