import StarlingCore
import StarlingTestSupport
import Testing

/// Membership messages: round trips, every truncation, hostile bytes.
@Suite struct MembershipMessageTests {
    static func id(_ byte: UInt8) -> PeerID {
        PeerID(publicKey: Key32([UInt8](repeating: byte, count: 32))!)
    }

    static let v4 = PeerAddress.ipv4(10, 0, 0, 7, port: 4000)
    static let v6 = PeerAddress(host: .ipv6(high: 0x2001_0db8_0000_0000, low: 42), port: 7946)

    /// Signature bytes for the codec (not checked by it).
    static let signature = ClaimSignature((0..<64).map { UInt8($0) })

    static let updates: [MemberUpdate] = [
        MemberUpdate(state: .alive, incarnation: 1, member: id(1), address: v4, signature: signature),
        MemberUpdate(state: .suspect, incarnation: 7, member: id(2), address: v6, accuser: id(3)),
        MemberUpdate(state: .dead, incarnation: .max, member: id(4), address: v4, accuser: id(5)),
        MemberUpdate(state: .left, incarnation: 0, member: id(6), address: v6, signature: signature),
    ]

    static let messages: [MembershipMessage] = [
        .ping(sequence: 1, target: id(1), sender: id(2), digest: 0, updates: []),
        .ping(sequence: .max, target: id(1), sender: id(2), digest: .max, updates: updates),
        .pingRequest(sequence: 9, target: id(3), targetAddress: v6, sender: id(4)),
        .pingRequest(sequence: 9, target: id(3), targetAddress: v4, sender: id(4)),
        .ack(
            sequence: 5, sender: id(5), digest: 0x0123_4567_89AB_CDEF,
            coordinate: NetworkCoordinate(
                vector: [0.5, -0.25, 0, 0, 0, 0, 0, 0.125], height: 0.0009765625, error: 0.75, adjustment: -0.0625),
            updates: updates),
        .ack(sequence: 0, sender: id(5), digest: 0, coordinate: .origin, updates: []),
        .nack(sequence: 77, sender: id(8)),
        .pushPull(sender: id(9), replyRequested: true, isJoin: true, isPartial: false, members: updates),
        .pushPull(sender: id(9), replyRequested: false, isJoin: false, isPartial: true, members: []),
        .gossip(sender: id(10), updates: updates),
        .syncRequest(requester: updates[0], level: 0, buckets: [7]),
        .syncRequest(requester: updates[3], level: 8, buckets: (0..<256).map { UInt32($0) * 0x0101_0101 }),
    ]

    @Test func membershipMessage_encodeDecode_roundTripsEveryKind() throws {
        for message in Self.messages {
            let bytes = try message.encoded()
            #expect(bytes.first == message.kind.rawValue)
            #expect(try MembershipMessage.decode(bytes) == message)
        }
        #expect(Set(Self.messages.map(\.kind.rawValue)) == Set(MembershipMessageKind.allCases.map(\.rawValue)))
    }

    @Test func memberUpdate_encodedSize_matchesBytes() {
        for update in Self.updates {
            var writer = ByteWriter()
            update.encode(into: &writer)
            #expect(writer.count == update.encodedSize)
        }
        // A claim: state, incarnation, ID, IPv4 address, signature. Hearsay names its
        // accuser instead of a signature.
        #expect(Self.updates[0].encodedSize == 108)
        #expect(Self.updates[2].encodedSize == 76)
    }

    @Test func memberUpdate_unsignedClaim_travelsAsZerosAndNeverVerifies() throws {
        let unsigned = MemberUpdate(state: .alive, incarnation: 1, member: Self.id(1), address: Self.v4)
        var writer = ByteWriter()
        unsigned.encode(into: &writer)
        #expect(writer.bytes.suffix(64) == [UInt8](repeating: 0, count: 64))
        var reader = ByteReader(writer.bytes)
        let decoded = try MemberUpdate.decode(from: &reader)
        #expect(!MemberClaim.isValid(decoded, swarmID: MembershipConstants.publicSwarmID))
    }

    @Test func membershipMessage_syncRequest_levelAboveEightOrShortBuckets_isRejected() throws {
        var bytes = try MembershipMessage.syncRequest(requester: Self.updates[0], level: 1, buckets: [1, 2])
            .encoded()
        let levelAt = 1 + Self.updates[0].encodedSize
        #expect(bytes.count == MembershipMessage.syncRequestHeaderSize + Self.updates[0].encodedSize + 8)
        bytes[levelAt] = 9
        #expect(throws: WireError.self) { try MembershipMessage.decode(bytes) }
        bytes[levelAt] = 2
        #expect(throws: WireError.self) { try MembershipMessage.decode(bytes) }
        #expect(throws: WireError.self) {
            try MembershipMessage.syncRequest(requester: Self.updates[0], level: 2, buckets: [1]).encoded()
        }
    }

    @Test func membershipMessage_ping_hasDocumentedLayout() throws {
        let bytes = try MembershipMessage.ping(
            sequence: 0x0102_0304, target: Self.id(0xAA), sender: Self.id(0xBB), digest: 0xD1, updates: []
        )
        .encoded()
        #expect(bytes.count == MembershipMessage.pingHeaderSize)
        #expect(Array(bytes[0..<5]) == [0x01, 0x01, 0x02, 0x03, 0x04])
        #expect(bytes[5] == 0xAA && bytes[37] == 0xBB && bytes[76] == 0xD1 && bytes.last == 0)
    }

    @Test func membershipMessage_decode_everyTruncationThrows() throws {
        for message in Self.messages {
            let bytes = try message.encoded()
            for length in 0..<bytes.count {
                #expect(throws: WireError.self) { try MembershipMessage.decode(bytes[0..<length]) }
            }
        }
    }

    @Test func membershipMessage_decode_rejectsTrailingUnknownAndBadFields() throws {
        #expect(throws: WireError.trailingBytes(count: 1)) {
            try MembershipMessage.decode(try MembershipMessage.nack(sequence: 1, sender: Self.id(1)).encoded() + [0])
        }
        #expect(throws: WireError.unknownMessageType(0x7F)) { try MembershipMessage.decode([0x7F]) }
        var badState = try MembershipMessage.gossip(sender: Self.id(1), updates: [Self.updates[0]]).encoded()
        badState[MembershipMessage.gossipHeaderSize] = 9
        #expect(throws: WireError.self) { try MembershipMessage.decode(badState) }
        var badFamily = try MembershipMessage.gossip(sender: Self.id(1), updates: [Self.updates[0]]).encoded()
        badFamily[MembershipMessage.gossipHeaderSize + 37] = 5
        #expect(throws: WireError.self) { try MembershipMessage.decode(badFamily) }
        let hostileCount: [UInt8] = [0x05, 0x01] + [UInt8](repeating: 1, count: 32) + [0xFF, 0xFF]
        #expect(throws: WireError.self) { try MembershipMessage.decode(hostileCount) }
    }

    @Test func membershipMessage_decode_randomBytesNeverTrap() throws {
        var random = TestRandom(seed: 7)
        var decoded = 0
        for round in 0..<20_000 {
            let length = Int.random(in: 0..<200, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            // Give half the inputs a valid kind so decoding gets past the first byte.
            if round.isMultiple(of: 2), !bytes.isEmpty { bytes[0] = UInt8.random(in: 1...6, using: &random) }
            if (try? MembershipMessage.decode(bytes)) != nil { decoded += 1 }
        }
        // Mutations of valid messages, byte by byte.
        for message in Self.messages {
            let bytes = try message.encoded()
            for index in bytes.indices {
                var mutated = bytes
                mutated[index] ^= UInt8.random(in: 1...255, using: &random)
                _ = try? MembershipMessage.decode(mutated)
            }
        }
        #expect(decoded >= 0)
    }

    @Test func membershipMessage_encode_rejectsTooManyUpdates() {
        let many = [MemberUpdate](repeating: Self.updates[0], count: 256)
        #expect(throws: WireError.self) { try MembershipMessage.gossip(sender: Self.id(1), updates: many).encoded() }
    }
}
