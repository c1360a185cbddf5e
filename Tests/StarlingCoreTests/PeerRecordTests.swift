import StarlingTestSupport
import Testing

@testable import StarlingCore

@Suite struct PeerRecordTests {
    static let owner = try! IdentityKeyPair(seed: [UInt8](0..<32))
    static let now = UnixTime(seconds: 1_800_000_000)

    static func sample(sequence: UInt64 = 7, expiresIn seconds: Int64 = 3600) -> PeerRecord {
        PeerRecord(
            peerID: owner.peerID, sequence: sequence, expiresAt: now + .seconds(seconds),
            addresses: [.ipv4(127, 0, 0, 1, port: 4000), try! PeerAddress("[::1]:4001")],
            services: ["echo", "chat"]
        )
    }

    @Test func sign_thenDecodeAndVerify_roundTrips() throws {
        let signed = try Self.sample().sign(with: Self.owner)
        let decoded = try SignedPeerRecord.decodeDatagram(signed.datagram)
        #expect(decoded == signed)
        #expect(try decoded.verify(now: Self.now) == Self.sample())
        #expect(try decoded.verify(now: Self.now, expecting: Self.owner.peerID) == Self.sample())
    }

    @Test func verify_everySingleBitFlip_isRejected() throws {
        let datagram = try Self.sample().sign(with: Self.owner).datagram
        var rejected = 0
        for bit in 0..<(datagram.count * 8) {
            var flipped = datagram
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            do {
                _ = try SignedPeerRecord.decodeDatagram(flipped).verify(now: Self.now, expecting: Self.owner.peerID)
                Issue.record("bit \(bit) flipped and the record still verified")
            } catch {
                rejected += 1
            }
        }
        #expect(rejected == datagram.count * 8)
    }

    @Test func verify_expired_isRejected() throws {
        let signed = try Self.sample(expiresIn: 10).sign(with: Self.owner)
        #expect(throws: RecordError.expired(expiresAt: Self.now + .seconds(10), now: Self.now + .seconds(10))) {
            try signed.verify(now: Self.now + .seconds(10))
        }
        #expect(throws: Never.self) { try signed.verify(now: Self.now + .seconds(9)) }
    }

    @Test func verify_expiryBeyondLimit_isRejected() throws {
        let signed = try Self.sample(expiresIn: 31 * 24 * 3600).sign(with: Self.owner)
        #expect(throws: RecordError.self) { try signed.verify(now: Self.now) }
    }

    @Test func verify_unexpectedPeer_isWrongSigner() throws {
        var random = TestRandom(seed: 5)
        let other = IdentityKeyPair.generate(using: &random)
        let signed = try Self.sample().sign(with: Self.owner)
        #expect(throws: RecordError.wrongSigner(expected: other.peerID, actual: Self.owner.peerID)) {
            try signed.verify(now: Self.now, expecting: other.peerID)
        }
    }

    @Test func verify_recordClaimingAnotherPeer_isBadSignature() throws {
        // A forger signs a record that names the owner as its peer.
        var random = TestRandom(seed: 6)
        let forger = IdentityKeyPair.generate(using: &random)
        var writer = ByteWriter()
        try Self.sample().encodeBody(into: &writer)
        let forged = SignedPeerRecord(
            record: Self.sample(), body: writer.bytes,
            signature: forger.sign(RecordConstants.signatureDomain + writer.bytes))
        #expect(throws: RecordError.badSignature) { try forged.verify(now: Self.now) }
    }

    @Test func sign_withAnotherKey_isWrongSigner() {
        var random = TestRandom(seed: 7)
        let other = IdentityKeyPair.generate(using: &random)
        #expect(throws: RecordError.wrongSigner(expected: Self.owner.peerID, actual: other.peerID)) {
            try Self.sample().sign(with: other)
        }
    }

    @Test func signature_isDomainSeparated() throws {
        let signed = try Self.sample().sign(with: Self.owner)
        #expect(!Self.owner.peerID.verify(signature: signed.signature, of: signed.body))
    }

    @Test func supersedes_higherSequenceWins() {
        let older = Self.sample(sequence: 1)
        let newer = Self.sample(sequence: 2)
        #expect(newer.supersedes(older))
        #expect(!older.supersedes(newer))
        #expect(!older.supersedes(older))
        var random = TestRandom(seed: 8)
        var stranger = newer
        stranger.peerID = IdentityKeyPair.generate(using: &random).peerID
        #expect(!stranger.supersedes(older))
    }

    @Test func sign_overLimits_isMalformed() {
        var tooManyAddresses = Self.sample()
        tooManyAddresses.addresses = Array(repeating: .ipv4(127, 0, 0, 1, port: 1), count: 9)
        #expect(throws: RecordError.self) { try tooManyAddresses.sign(with: Self.owner) }
        var badService = Self.sample()
        badService.services = ["Upper"]
        #expect(throws: RecordError.self) { try badService.sign(with: Self.owner) }
        var tooManyServices = Self.sample()
        tooManyServices.services = (0..<17).map { "s\($0)" }
        #expect(throws: RecordError.self) { try tooManyServices.sign(with: Self.owner) }
    }

    @Test func sign_atLimits_fitsMaximumSize() throws {
        var record = Self.sample()
        record.addresses = Array(repeating: try PeerAddress("[2001:db8::1]:65535"), count: 8)
        record.services = (0..<16).map { String(repeating: "a", count: 30) + String(format2($0)) }
        let signed = try record.sign(with: Self.owner)
        #expect(signed.encoded.count == RecordConstants.maximumSignedSize)
        #expect(try SignedPeerRecord.decode(signed.encoded[...]).verify(now: Self.now) == record)
    }

    @Test func decode_hostileCountsAndFamilies_areTypedErrors() throws {
        var body = ByteWriter()
        try Self.sample().encodeBody(into: &body)
        let addressCountOffset = 1 + 32 + 8 + 8
        var bytes = body.bytes + [UInt8](repeating: 0, count: 64)
        bytes[addressCountOffset] = 200
        #expect(throws: WireError.lengthTooLarge(offset: addressCountOffset, length: 200, maximum: 8)) {
            try SignedPeerRecord.decode(bytes[...])
        }
        bytes = body.bytes + [UInt8](repeating: 0, count: 64)
        bytes[addressCountOffset + 1] = 5
        #expect(throws: WireError.invalidValue(offset: addressCountOffset + 1, field: "address family")) {
            try SignedPeerRecord.decode(bytes[...])
        }
        bytes = body.bytes + [UInt8](repeating: 0, count: 64)
        bytes[0] = 2
        #expect(throws: WireError.self) { try SignedPeerRecord.decode(bytes[...]) }
    }

    @Test func decode_everyTruncation_isTypedError() throws {
        let encoded = try Self.sample().sign(with: Self.owner).encoded
        for cut in 0..<encoded.count {
            #expect(throws: WireError.self) { try SignedPeerRecord.decode(encoded[..<cut]) }
        }
        #expect(throws: WireError.trailingBytes(count: 1)) { try SignedPeerRecord.decode((encoded + [0])[...]) }
    }

    @Test func decode_randomBytes_neverTraps() {
        var random = TestRandom(seed: 11)
        var decodedCount = 0
        for _ in 0..<5_000 {
            let length = Int(random.next() % 900)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if !bytes.isEmpty { bytes[0] = 1 }
            if bytes.count > 1 { bytes[1] = MessageType.peerRecord.rawValue }
            if let signed = try? SignedPeerRecord.decodeDatagram(bytes) {
                decodedCount += 1
                #expect((try? signed.verify(now: Self.now)) == nil)
            }
        }
        #expect(decodedCount == 0)
    }
}

private func format2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
