import StarlingCore
import StarlingTestSupport
import Testing

/// Super-peer messages: round trips, documented layout, sizes, every truncation,
/// hostile bytes.
@Suite struct SuperPeerMessageTests {
    static func id(_ byte: UInt8) -> PeerID {
        PeerID(publicKey: Key32([UInt8](repeating: byte, count: 32))!)
    }

    static let v4 = PeerAddress.ipv4(10, 0, 0, 1, port: 4000)
    static let v6 = PeerAddress(host: .ipv6(high: 0x2001_0db8_0000_0000, low: 1), port: 65_535)

    static func advert(
        _ byte: UInt8, address: PeerAddress = v4, isSuperPeer: Bool = true, age: Duration = .zero
    ) -> SuperPeerAdvert {
        SuperPeerAdvert(
            id: id(byte), address: address, score: 0x0102_0304, leafCount: 90, freeSlots: 0x00B4,
            superPeers: 0x0A0B, members: 10_000, roleEpoch: 7, sequence: 0xFFFF_FFFF, isSuperPeer: isSuperPeer,
            age: age)
    }

    /// The largest record there is: 8 IPv6 addresses and 16 services of 32 bytes.
    static let largestRecord: SignedPeerRecord = {
        var random = TestRandom(seed: 5)
        let key = IdentityKeyPair.generate(using: &random)
        let record = PeerRecord(
            peerID: key.peerID, sequence: .max, expiresAt: UnixTime(seconds: 1_800_000_000),
            addresses: Array(repeating: v6, count: 8),
            services: (0..<16).map { String(repeating: "s", count: 31) + String($0 % 10) })
        return try! record.sign(with: key)
    }()

    static var filter: QueryRoutingFilter {
        var filter = QueryRoutingFilter(log2Bits: 11, hashCount: 4)
        filter.insert("chat.v1 music")
        return filter
    }

    static var largestFilter: QueryRoutingFilter {
        var filter = QueryRoutingFilter(log2Bits: SuperPeerConstants.maximumFilterLog2Bits, hashCount: 8)
        filter.insert("every keyword")
        return filter
    }

    static let messages: [SuperPeerMessage] = [
        .advert(sender: advert(1), others: []),
        .advert(
            sender: advert(1, address: v6),
            others: (UInt8(2)...17).map { byte -> SuperPeerAdvert in
                let age = SuperPeerAdvert.ageUnit * (Int(byte) * 1_000)
                return advert(byte, address: v6, isSuperPeer: byte % 2 == 0, age: age)
            }),
        .attach(record: largestRecord, filter: filter),
        .attach(record: largestRecord, filter: largestFilter),
        .attachReply(sender: id(3), refusal: nil, alternatives: []),
        .attachReply(
            sender: id(3), refusal: .full,
            alternatives: (4...7).map { SuperPeerAlternative(id: id($0), address: $0 % 2 == 0 ? v4 : v6) }),
        .filterUpdate(leaf: id(4), filter: filter),
        .detach(sender: id(5), reason: .demoted),
        .keepalive(leaf: id(6), recordSequence: 0x0102_0304_0506_0708, candidacy: 64),
        .relay(origin: id(7), target: id(8), payload: [1, 2, 3]),
        .relay(
            origin: id(7), target: id(8), payload: [UInt8](repeating: 9, count: SuperPeerConstants.maximumRelayPayload)),
        .superPeerFilter(sender: id(9), filter: filter),
        .lookup(request: 0x0102_0304, asker: id(7), target: .peer(id(8))),
        .lookup(request: 1, asker: id(7), target: .service("chat.v1")),
        .lookupReply(
            request: 0x0102_0304, records: [],
            referrals: [SuperPeerAlternative(id: id(9), address: .ipv4(10, 0, 0, 9, port: 4000))]),
        .lookupReply(
            request: .max, records: [largestRecord],
            referrals: (1...4).map { SuperPeerAlternative(id: id($0), address: v6) }),
        .lookupReply(
            request: 2, records: [smallRecord, smallRecord],
            referrals: (1...16).map { SuperPeerAlternative(id: id($0), address: v4) }),
        .detach(sender: id(5), reason: .handover),
        .handoverOffer(sender: id(5)),
    ]

    /// A record with one IPv4 address and one service.
    static let smallRecord: SignedPeerRecord = {
        var random = TestRandom(seed: 6)
        let key = IdentityKeyPair.generate(using: &random)
        let record = PeerRecord(
            peerID: key.peerID, sequence: 3, expiresAt: UnixTime(seconds: 1_800_000_000), addresses: [v4],
            services: ["chat.v1"])
        return try! record.sign(with: key)
    }()

    @Test func superPeerMessage_encodeDecode_roundTripsEveryKind() throws {
        for message in Self.messages {
            let bytes = try message.encoded()
            #expect(bytes.first == message.kind.rawValue)
            #expect(try SuperPeerMessage.decode(bytes) == message)
        }
        #expect(Set(Self.messages.map(\.kind.rawValue)) == Set(SuperPeerMessageKind.allCases.map(\.rawValue)))
    }

    @Test func superPeerMessage_largestOfEachKind_fitsTheMessageLimit() throws {
        for message in Self.messages {
            #expect(try message.encoded().count <= SuperPeerConstants.maximumMessageSize)
        }
        // The largest advert: 17 IPv6 adverts; the largest attach: largest record and table.
        #expect(try Self.messages[1].encoded().count == 1 + 76 + 1 + 16 * 76)
        #expect(SuperPeerAdvert.maximumSize == 76)
        #expect(try Self.messages[3].encoded().count == 1 + RecordConstants.maximumSignedSize + 2 + 512)
        #expect(try Self.messages[10].encoded().count == SuperPeerConstants.maximumMessageSize)
    }

    @Test func superPeerMessage_sizes_matchNamedConstants() throws {
        #expect(try Self.messages[7].encoded().count == SuperPeerMessage.detachSize)
        #expect(try Self.messages[18].encoded().count == SuperPeerMessage.handoverOfferSize)
        #expect(try Self.messages[8].encoded().count == SuperPeerMessage.keepaliveSize)
        #expect(try Self.messages[9].encoded().count == SuperPeerMessage.relayOverhead + 3)
        #expect(try Self.messages[0].encoded().count == 1 + 64 + 1)
        #expect(try Self.messages[12].encoded().count == SuperPeerMessage.peerLookupSize)
        #expect(try Self.messages[13].encoded().count == 1 + 4 + 32 + 1 + 1 + 7)
        #expect(try Self.messages[14].encoded().count == SuperPeerMessage.lookupReplyOverhead + 32 + 7)
    }

    @Test func superPeerMessage_advertAndKeepalive_haveDocumentedLayout() throws {
        let bytes = try Self.messages[0].encoded()
        #expect(bytes[0] == 0x01)
        #expect(Array(bytes[1..<33]) == [UInt8](repeating: 1, count: 32))
        #expect(Array(bytes[33..<40]) == [4, 10, 0, 0, 1, 0x0F, 0xA0])
        #expect(Array(bytes[40..<44]) == [1, 2, 3, 4])
        #expect(Array(bytes[44..<48]) == [0, 90, 0, 0xB4])
        #expect(Array(bytes[48..<50]) == [0x0A, 0x0B])
        #expect(Array(bytes[50..<54]) == [0, 0, 0x27, 0x10])
        #expect(Array(bytes[54..<62]) == [0, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Array(bytes[62...]) == [0x01, 0x00, 0x00, 0x00])
        let keepalive = try Self.messages[8].encoded()
        #expect(keepalive[0] == 0x06 && keepalive[1] == 6 && keepalive[32] == 6)
        #expect(Array(keepalive[33..<41]) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(Array(keepalive[41...]) == [0, 0, 0, 64])
        let reply = try Self.messages[5].encoded()
        #expect(Array(reply[0..<1]) == [0x03] && reply[33] == 0x02 && reply[34] == 4)
        let detach = try Self.messages[7].encoded()
        #expect(detach.first == 0x05 && detach.last == 0x02)
    }

    /// The examples in ``SuperPeerMessage``'s documentation, byte for byte.
    @Test func superPeerMessage_documentedExamples_encodeExactly() throws {
        let advert = hex(
            "01" + String(repeating: "01", count: 32)
                + "04 0a000001 0fa0 01020304 005a 00b4 0a0b 00002710 00000007 ffffffff 01 0000" + "00")
        #expect(try Self.messages[0].encoded() == advert && advert.count == 66)
        let keepalive = hex("06" + String(repeating: "06", count: 32) + "0102030405060708 00000040")
        #expect(try Self.messages[8].encoded() == keepalive && keepalive.count == 45)
        let lookup = hex("09 01020304" + String(repeating: "07", count: 32) + "01" + String(repeating: "08", count: 32))
        #expect(try Self.messages[12].encoded() == lookup && lookup.count == 70)
        let reply = hex("0a 01020304 00 01" + String(repeating: "09", count: 32) + "04 0a000009 0fa0")
        #expect(try Self.messages[14].encoded() == reply && reply.count == 46)
    }

    @Test func superPeerAdvert_age_isSentInTenthsOfASecondRoundedUpAndClamped() throws {
        for (age, units) in [
            (Duration.zero, 0), (.nanoseconds(1), 1), (.milliseconds(100), 1), (.milliseconds(101), 2),
            (.milliseconds(12_500), 125), (.seconds(6_553.5), 65_535), (.seconds(100_000), 65_535),
            (.nanoseconds(Int64.max), 65_535),
        ] as [(Duration, Int)] {
            let bytes = try SuperPeerMessage.advert(sender: Self.advert(1, age: age), others: []).encoded()
            #expect(Int(bytes[63]) << 8 | Int(bytes[64]) == units, "\(age)")
            guard case .advert(let decoded, _) = try SuperPeerMessage.decode(bytes) else {
                Issue.record("not an advert")
                continue
            }
            #expect(decoded.age == SuperPeerAdvert.ageUnit * units)
            #expect(decoded.age >= min(age, SuperPeerAdvert.ageUnit * 65_535))
        }
    }

    @Test func superPeerMessage_decode_everyTruncationThrows() throws {
        for message in Self.messages {
            let bytes = try message.encoded()
            for length in 0..<bytes.count {
                #expect(throws: WireError.self) { try SuperPeerMessage.decode(bytes[0..<length]) }
            }
        }
    }

    @Test func superPeerMessage_decode_rejectsTrailingUnknownAndBadFields() throws {
        #expect(throws: WireError.trailingBytes(count: 1)) {
            try SuperPeerMessage.decode(try Self.messages[8].encoded() + [0])
        }
        #expect(throws: WireError.unknownMessageType(0x00)) { try SuperPeerMessage.decode([0x00]) }
        #expect(throws: WireError.unknownMessageType(0x0C)) { try SuperPeerMessage.decode([0x0C]) }
        var badFlags = try Self.messages[0].encoded()
        badFlags[62] = 0x03
        #expect(throws: WireError.invalidValue(offset: 62, field: "advert flags")) {
            try SuperPeerMessage.decode(badFlags)
        }
        var manyAdverts = try Self.messages[0].encoded()
        manyAdverts[65] = 17
        #expect(throws: WireError.lengthTooLarge(offset: 65, length: 17, maximum: 16)) {
            try SuperPeerMessage.decode(manyAdverts)
        }
        var badOutcome = try Self.messages[4].encoded()
        badOutcome[33] = 0x05
        #expect(throws: WireError.invalidValue(offset: 33, field: "attach outcome")) {
            try SuperPeerMessage.decode(badOutcome)
        }
        var badReason = try Self.messages[7].encoded()
        badReason[33] = 0
        #expect(throws: WireError.invalidValue(offset: 33, field: "detach reason")) {
            try SuperPeerMessage.decode(badReason)
        }
        var badFilterSize = try Self.messages[6].encoded()
        badFilterSize[33] = 13
        #expect(throws: WireError.invalidValue(offset: 33, field: "filter size")) {
            try SuperPeerMessage.decode(badFilterSize)
        }
        var badHashes = try Self.messages[6].encoded()
        badHashes[34] = 9
        #expect(throws: WireError.invalidValue(offset: 34, field: "filter hash count")) {
            try SuperPeerMessage.decode(badHashes)
        }
        var longRelay = try Self.messages[9].encoded()
        longRelay[65] = 0xFF
        #expect(throws: WireError.self) { try SuperPeerMessage.decode(longRelay) }
        #expect(throws: WireError.self) {
            try SuperPeerMessage.decode([UInt8](repeating: 0x07, count: SuperPeerConstants.maximumMessageSize + 1))
        }
    }

    @Test func superPeerMessage_lookupDecode_rejectsBadTargetsAndLongLists() throws {
        var badTarget = try Self.messages[12].encoded()
        badTarget[37] = 0x03
        #expect(throws: WireError.invalidValue(offset: 37, field: "lookup target")) {
            try SuperPeerMessage.decode(badTarget)
        }
        var badService = try Self.messages[13].encoded()
        badService[39] = 0x20  // a space: not a valid service name
        #expect(throws: WireError.invalidValue(offset: 38, field: "service")) {
            try SuperPeerMessage.decode(badService)
        }
        var emptyService = Array(try Self.messages[13].encoded()[0..<39])
        emptyService[38] = 0
        #expect(throws: WireError.self) { try SuperPeerMessage.decode(emptyService) }
        var manyRecords = try Self.messages[14].encoded()
        manyRecords[5] = 17
        #expect(throws: WireError.lengthTooLarge(offset: 5, length: 17, maximum: 16)) {
            try SuperPeerMessage.decode(manyRecords)
        }
        var manyReferrals = try Self.messages[14].encoded()
        manyReferrals[6] = 17
        #expect(throws: WireError.lengthTooLarge(offset: 6, length: 17, maximum: 16)) {
            try SuperPeerMessage.decode(manyReferrals)
        }
        var badRecord = try Self.messages[16].encoded()
        badRecord[6] ^= 0xFF  // the first record's version byte
        #expect(throws: WireError.self) { try SuperPeerMessage.decode(badRecord) }
    }

    @Test func superPeerMessage_lookupEncode_rejectsOverlongListsAndBadServices() {
        let manyRecords = SuperPeerMessage.lookupReply(
            request: 1, records: Array(repeating: Self.smallRecord, count: 17), referrals: [])
        #expect(throws: WireError.self) { try manyRecords.encoded() }
        let manyReferrals = SuperPeerMessage.lookupReply(
            request: 1, records: [],
            referrals: (1...17).map { SuperPeerAlternative(id: Self.id($0), address: Self.v4) })
        #expect(throws: WireError.self) { try manyReferrals.encoded() }
        let oversized = SuperPeerMessage.lookupReply(
            request: 1, records: [Self.largestRecord, Self.largestRecord], referrals: [])
        #expect(throws: WireError.self) { try oversized.encoded() }
        let badService = SuperPeerMessage.lookup(request: 1, asker: Self.id(1), target: .service("no spaces"))
        #expect(throws: WireError.self) { try badService.encoded() }
    }

    @Test func superPeerMessage_encode_rejectsOverlongLists() {
        let manyAdverts = SuperPeerMessage.advert(sender: Self.advert(1), others: (2...18).map { Self.advert($0) })
        #expect(throws: WireError.self) { try manyAdverts.encoded() }
        let manyAlternatives = SuperPeerMessage.attachReply(
            sender: Self.id(1), refusal: .full,
            alternatives: (2...6).map { SuperPeerAlternative(id: Self.id($0), address: Self.v4) })
        #expect(throws: WireError.self) { try manyAlternatives.encoded() }
        let longRelay = SuperPeerMessage.relay(
            origin: Self.id(1), target: Self.id(2),
            payload: [UInt8](repeating: 0, count: SuperPeerConstants.maximumRelayPayload + 1))
        #expect(throws: WireError.self) { try longRelay.encoded() }
    }

    @Test func superPeerMessage_decode_randomAndMutatedBytesNeverTrap() throws {
        var random = TestRandom(seed: 11)
        for _ in 0..<5_000 {
            let length = Int.random(in: 0..<200, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !bytes.isEmpty { bytes[0] = UInt8.random(in: 0...11, using: &random) }
            _ = try? SuperPeerMessage.decode(bytes)
        }
        for message in Self.messages {
            let bytes = try message.encoded()
            for _ in 0..<200 {
                var mutated = bytes
                for _ in 0..<3 {
                    mutated[Int.random(in: 0..<mutated.count, using: &random)] = UInt8.random(
                        in: 0...255, using: &random)
                }
                _ = try? SuperPeerMessage.decode(mutated)
            }
        }
    }
}
