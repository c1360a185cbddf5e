import StarlingCore
import StarlingTestSupport
import Testing

/// Spreading messages: round trips, documented layout, every truncation, hostile bytes.
@Suite struct SpreadingMessageTests {
    static func id(_ byte: UInt8) -> PeerID {
        PeerID(publicKey: Key32([UInt8](repeating: byte, count: 32))!)
    }

    static let messageID = SpreadingID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10)

    /// A stand-in signature: the codec does not check it.
    static let signature = [UInt8](0..<64)

    static let messages: [SpreadingMessage] = [
        .gossip(id: messageID, origin: id(1), hops: 0, payload: [], signature: signature),
        .gossip(id: messageID, origin: id(1), hops: 255, payload: [1, 2, 3], signature: signature),
        .query(id: messageID, origin: id(2), ttl: 7, hops: 0, wantsNotices: false, payload: [9], signature: signature),
        .query(id: messageID, origin: id(2), ttl: 1, hops: 6, wantsNotices: true, payload: [], signature: signature),
        .queryHit(id: messageID, responder: id(3), hops: 2, payload: [5, 6], signature: signature),
        .echoRequest(identifier: 7, timestamp: .max, sender: id(4)),
        .echoReply(identifier: .max, timestamp: 0, sender: id(5)),
        .unreachable(id: messageID, subject: .queryHit, target: id(6), reporter: id(7)),
        .ttlExceeded(id: messageID, origin: id(8), reporter: id(9), hops: 3),
    ]

    @Test func spreadingMessage_encodeDecode_roundTripsEveryKind() throws {
        for message in Self.messages {
            let bytes = try message.encoded()
            #expect(bytes.first == message.kind.rawValue)
            #expect(try SpreadingMessage.decode(bytes) == message)
        }
        #expect(Set(Self.messages.map(\.kind.rawValue)) == Set(SpreadingMessageKind.allCases.map(\.rawValue)))
    }

    @Test func spreadingMessage_sizes_matchNamedConstants() throws {
        let sizes: [(SpreadingMessage, Int)] = [
            (Self.messages[1], SpreadingMessage.gossipOverhead + 3),
            (Self.messages[2], SpreadingMessage.queryOverhead + 1),
            (Self.messages[4], SpreadingMessage.queryHitOverhead + 2),
            (Self.messages[5], SpreadingMessage.echoSize), (Self.messages[6], SpreadingMessage.echoSize),
            (Self.messages[7], SpreadingMessage.unreachableSize), (Self.messages[8], SpreadingMessage.ttlExceededSize),
        ]
        for (message, size) in sizes { #expect(try message.encoded().count == size) }
    }

    @Test func spreadingMessage_query_hasDocumentedLayout() throws {
        let bytes = try Self.messages[3].encoded()
        #expect(bytes[0] == 0x02)
        #expect(Array(bytes[1..<17]) == Array(1...16))
        #expect(bytes[17] == 2 && bytes[48] == 2)
        #expect(Array(bytes[49..<54]) == [1, 6, 0x01, 0, 0])
        // The signature ends the message.
        #expect(Array(bytes[54...]) == Self.signature)
        #expect(SpreadingMessage.maximumOverhead == SpreadingMessage.queryOverhead)
        #expect(SpreadingMessage.queryOverhead == 118 && SpreadingMessage.gossipOverhead == 116)
    }

    @Test func spreadingID_description_isThirtyTwoHexDigits() {
        #expect(Self.messageID.description == "0102030405060708090a0b0c0d0e0f10")
        #expect(SpreadingID(high: 0, low: 1).description == String(repeating: "0", count: 31) + "1")
    }

    @Test func spreadingMessage_decode_everyTruncationThrows() throws {
        for message in Self.messages {
            let bytes = try message.encoded()
            for length in 0..<bytes.count {
                #expect(throws: WireError.self) { try SpreadingMessage.decode(bytes[0..<length]) }
            }
        }
    }

    @Test func spreadingMessage_decode_rejectsTrailingUnknownAndBadFields() throws {
        #expect(throws: WireError.trailingBytes(count: 1)) {
            try SpreadingMessage.decode(try Self.messages[5].encoded() + [0])
        }
        #expect(throws: WireError.unknownMessageType(0x7F)) { try SpreadingMessage.decode([0x7F]) }
        #expect(throws: WireError.unknownMessageType(0x00)) { try SpreadingMessage.decode([0x00]) }
        var badFlags = try Self.messages[2].encoded()
        badFlags[51] = 0x02
        #expect(throws: WireError.invalidValue(offset: 51, field: "query flags")) {
            try SpreadingMessage.decode(badFlags)
        }
        var badSubject = try Self.messages[7].encoded()
        badSubject[17] = 0x99
        #expect(throws: WireError.invalidValue(offset: 17, field: "unreachable subject")) {
            try SpreadingMessage.decode(badSubject)
        }
        // A payload length larger than the bytes that follow.
        var longPayload = try Self.messages[0].encoded()
        longPayload[longPayload.count - 2 - SpreadingConstants.signatureSize] = 0xFF
        #expect(throws: WireError.self) { try SpreadingMessage.decode(longPayload) }
    }

    @Test func spreadingMessage_encode_rejectsOversizedPayloadAndBadSignatureSize() {
        let message = SpreadingMessage.gossip(
            id: Self.messageID, origin: Self.id(1), hops: 0, payload: [UInt8](repeating: 0, count: 65_536),
            signature: Self.signature)
        #expect(throws: WireError.self) { try message.encoded() }
        for size in [0, 63, 65] {
            let unsigned = SpreadingMessage.queryHit(
                id: Self.messageID, responder: Self.id(3), hops: 0, payload: [],
                signature: [UInt8](repeating: 1, count: size))
            #expect(throws: WireError.unencodable("signature of \(size) bytes")) { try unsigned.encoded() }
        }
    }

    @Test func spreadingSignature_signedBytes_haveDocumentedLayout() throws {
        let swarm = [UInt8](repeating: 0xEE, count: 32)
        let payload: [UInt8] = [0xAB, 0xCD]
        let gossip = SpreadingSignature.gossipBytes(
            swarmID: swarm, id: Self.messageID, origin: Self.id(1), payload: payload)
        let domain = Array("starling/spreading/gossip/v1".utf8) + [0]
        #expect(gossip == domain + swarm + Array(1...16) + Self.id(1).bytes + [0, 2] + payload)
        let query = SpreadingSignature.queryBytes(
            swarmID: swarm, id: Self.messageID, origin: Self.id(2), wantsNotices: true, payload: payload)
        #expect(
            query == Array("starling/spreading/query/v1".utf8) + [0] + swarm + Array(1...16) + Self.id(2).bytes
                + [1, 0, 2] + payload)
        let hit = SpreadingSignature.queryHitBytes(
            swarmID: swarm, id: Self.messageID, queryOrigin: Self.id(2), responder: Self.id(3), payload: payload)
        #expect(
            hit == Array("starling/spreading/query-hit/v1".utf8) + [0] + swarm + Array(1...16) + Self.id(2).bytes
                + Self.id(3).bytes + [0, 2] + payload)
        // A signed message verifies over exactly those bytes.
        let key = try IdentityKeyPair(seed: [UInt8](repeating: 9, count: 32))
        guard
            case .gossip(_, let origin, _, _, let signature) = SpreadingMessage.signedGossip(
                id: Self.messageID, hops: 4, payload: payload, swarmID: swarm, by: key)
        else {
            Issue.record("not a gossip message")
            return
        }
        #expect(origin == key.peerID)
        let signed = SpreadingSignature.gossipBytes(
            swarmID: swarm, id: Self.messageID, origin: origin, payload: payload)
        #expect(key.peerID.verify(signature: signature, of: signed))
    }

    @Test func spreadingMessage_decode_randomBytesNeverTrap() throws {
        var random = TestRandom(seed: 42)
        var decoded = 0
        for round in 0..<20_000 {
            var bytes = (0..<Int.random(in: 0..<120, using: &random)).map { _ in
                UInt8.random(in: 0...255, using: &random)
            }
            // Half the time keep a valid kind byte so the field decoders are exercised too.
            if round.isMultiple(of: 2), !bytes.isEmpty { bytes[0] = UInt8.random(in: 1...7, using: &random) }
            if (try? SpreadingMessage.decode(bytes)) != nil { decoded += 1 }
        }
        // Mutations of valid messages: flip one byte each.
        for message in Self.messages {
            let bytes = try message.encoded()
            for index in bytes.indices {
                var mutated = bytes
                mutated[index] ^= UInt8.random(in: 1...255, using: &random)
                _ = try? SpreadingMessage.decode(mutated)
            }
        }
        #expect(decoded >= 0)
    }
}
