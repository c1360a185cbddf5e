import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Index messages: round trips, documented layout, every truncation, hostile bytes.
@Suite struct IndexMessageTests {
    static let identity = try! IdentityKeyPair(seed: [UInt8](repeating: 7, count: 32))
    static let wallClock = UnixTime(seconds: 1_800_000_000)

    static func record(services: [String] = ["chat"], sequence: UInt64 = 1) -> SignedPeerRecord {
        let record = PeerRecord(
            peerID: identity.peerID, sequence: sequence, expiresAt: wallClock + .seconds(3_600),
            addresses: [.ipv4(10, 0, 0, 1, port: 7946)], services: services)
        return try! record.sign(with: identity)
    }

    static let messages: [IndexMessage] = [
        .register(request: 1, lifetime: 30, record: record()),
        .registered(request: 2, status: .stored, lifetime: 30),
        .registered(request: 3, status: .hostFull, lifetime: 0),
        .findPeer(request: 4, peer: identity.peerID),
        .findService(request: 5, service: "chat"),
        .records(request: 6, records: []),
        .records(request: 7, records: [record(), record(services: [], sequence: 2)]),
        .listIndexes(request: 8, fromIndex: false),
        .listIndexes(request: 9, fromIndex: true),
        .indexes(
            request: .max, members: 10_000,
            entries: [
                IndexEntry(id: identity.peerID, address: .ipv4(10, 0, 0, 1, port: 7946)),
                IndexEntry(id: identity.peerID, address: try! PeerAddress("[2001:db8::1]:9")),
            ]),
        .handoff(request: 0, records: [HandedRecord(lifetime: 17, record: record())]),
        .handoff(
            request: 0,
            records: [
                HandedRecord(lifetime: 17, record: record()), HandedRecord(lifetime: 1, record: record(sequence: 2)),
            ]
        ),
    ]

    @Test func indexMessage_encodeDecode_roundTripsEveryKind() throws {
        for message in Self.messages {
            let bytes = try message.encoded()
            #expect(bytes.first == message.kind.rawValue)
            #expect(try IndexMessage.decode(bytes[...]) == message)
        }
        #expect(Set(Self.messages.map(\.kind)) == Set(IndexMessageKind.allCases))
    }

    @Test func indexMessage_layout_matchesTheDocumentedBytes() throws {
        #expect(
            try IndexMessage.registered(request: 0x0102_0304, status: .stale, lifetime: 30).encoded() == [
                0x02, 0x01, 0x02, 0x03, 0x04, 0x03, 0x00, 0x1E,
            ])
        #expect(try IndexMessage.listIndexes(request: 5, fromIndex: true).encoded() == [0x06, 0, 0, 0, 5, 1])
        #expect(try IndexMessage.findService(request: 1, service: "ab").encoded() == [0x04, 0, 0, 0, 1, 2, 0x61, 0x62])
        let register = try IndexMessage.register(request: 1, lifetime: 30, record: Self.record()).encoded()
        #expect(register.count == IndexMessage.headerSize + 2 + Self.record().encoded.count)
        let handed = [
            HandedRecord(lifetime: 17, record: Self.record()), HandedRecord(lifetime: 1, record: Self.record()),
        ]
        let handoff = try IndexMessage.handoff(request: 0, records: handed).encoded()
        #expect(handoff == [0x08, 0, 0, 0, 0, 2, 0, 17] + Self.record().encoded + [0, 1] + Self.record().encoded)
        let lookup = try IndexMessage.findPeer(request: 1, peer: Self.identity.peerID).encoded()
        #expect(lookup.count == IndexMessage.headerSize + 32)
    }

    @Test func indexMessage_everyTruncation_isRefused() throws {
        for message in Self.messages {
            let bytes = try message.encoded()
            for length in 0..<bytes.count {
                #expect(throws: WireError.self) { try IndexMessage.decode(bytes[0..<length]) }
            }
            #expect(throws: WireError.self) { try IndexMessage.decode((bytes + [0])[...]) }
        }
    }

    @Test func indexMessage_badFields_areRefused() throws {
        #expect(throws: WireError.self) { try IndexMessage.decode([0x09, 0, 0, 0, 1][...]) }
        #expect(throws: WireError.self) { try IndexMessage.decode([0x02, 0, 0, 0, 1, 0x7F, 0, 30][...]) }
        #expect(throws: WireError.self) { try IndexMessage.decode([0x06, 0, 0, 0, 1, 2][...]) }
        #expect(throws: WireError.self) { try IndexMessage.decode([0x04, 0, 0, 0, 1, 2, 0x20, 0x20][...]) }
        #expect(throws: WireError.self) { try IndexMessage.decode([0x05, 0, 0, 0, 1, 17][...]) }
        #expect(throws: WireError.self) {
            try IndexMessage.records(request: 1, records: Array(repeating: Self.record(), count: 17)).encoded()
        }
        // A handoff carries 1 to 16 records.
        #expect(throws: WireError.self) { try IndexMessage.decode([0x08, 0, 0, 0, 0, 0][...]) }
        #expect(throws: WireError.self) { try IndexMessage.decode([0x08, 0, 0, 0, 0, 17][...]) }
        #expect(throws: WireError.self) { try IndexMessage.handoff(request: 0, records: []).encoded() }
    }

    @Test func handoffs_carryAsManyRecordsAsFitOneMessage() throws {
        let handed = HandedRecord(lifetime: 30, record: Self.record())
        let batch = Array(
            repeating: handed, count: IndexMessage.fittingCount(repeatElement(handed.encodedSize, count: 64)))
        #expect(batch.count > 1 && batch.count <= HybridConstants.maximumRecordsPerAnswer)
        let bytes = try IndexMessage.handoff(request: 0, records: batch).encoded()
        #expect(bytes.count <= OverlayConstants.maximumMessageSize)
        // Full by size or by count.
        #expect(
            bytes.count + handed.encodedSize > OverlayConstants.maximumMessageSize
                || batch.count == HybridConstants.maximumRecordsPerAnswer)
    }

    @Test func indexMessage_randomBytes_neverTrap() {
        var random = TestRandom(seed: 11)
        let valid = Self.messages.compactMap { try? $0.encoded() }
        for round in 0..<20_000 {
            var bytes = valid[round % valid.count]
            for _ in 0..<(1 + Int(random.next() % 4)) where !bytes.isEmpty {
                bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            if round % 5 == 0 {
                bytes = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            _ = try? IndexMessage.decode(bytes[...])
        }
    }

    @Test func indexPlacement_spreadsKeysEvenly_andMovesFewWhenAServerGoes() throws {
        let servers = (0..<5).map { byte in
            try! IdentityKeyPair(seed: [UInt8](repeating: UInt8(byte + 1), count: 32)).peerID
        }
        var held = [PeerID: Int]()
        var moved = 0
        let keys = (0..<5_000).map { RoutingKey(service: "service-\($0)") }
        for key in keys {
            let holders = IndexPlacement.holders(of: key, among: servers, count: 2)
            #expect(holders.count == 2 && holders[0] != holders[1])
            for holder in holders { held[holder, default: 0] += 1 }
            let without = IndexPlacement.holders(of: key, among: servers.dropFirst(), count: 2)
            // Losing server 0 changes only the keys it held.
            if !holders.contains(servers[0]) { #expect(without == holders) } else { moved += 1 }
            #expect(IndexPlacement.holders(of: key, among: servers.reversed(), count: 2) == holders)
        }
        // Each of 5 servers holds 2/5 of 5,000 keys: 2,000 ± 10 %.
        for server in servers { #expect((1_800...2_200).contains(held[server] ?? 0), "\(held)") }
        #expect((1_800...2_200).contains(moved))
    }
}
