import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Routing message codecs: round trips, truncation, hostile input, and the core's
/// handling of malformed datagrams.
@Suite struct RoutingMessageTests {
    static let now = UnixTime(seconds: 1_700_000_000)

    static func signedRecord(seed: UInt64, services: [String] = ["files"]) throws -> (IdentityKeyPair, SignedPeerRecord)
    {
        var random = TestRandom(seed: seed)
        let identity = IdentityKeyPair.generate(using: &random)
        let record = PeerRecord(
            peerID: identity.peerID, sequence: 3, expiresAt: now + .seconds(3_600),
            addresses: [.ipv4(10, 0, 0, 1, port: 4000), PeerAddress(host: .ipv6(high: 0xFE80 << 48, low: 1), port: 9)],
            services: services)
        return (identity, try record.sign(with: identity))
    }

    static func samples() throws -> [RoutingMessage] {
        let (identity, record) = try signedRecord(seed: 1)
        let sender = identity.peerID
        let contacts = (0..<UInt64(20)).map { RoutingTableTests.contact($0) }
        let v6 = RoutingContact(
            peerID: RoutingTableTests.peer(99), address: PeerAddress(host: .ipv6(high: 1, low: 2), port: 7))
        let bodies: [RoutingMessage.Body] = [
            .ping, .pong, .findNode(target: RoutingKey(peer: sender)), .nodes([]), .nodes(contacts), .nodes([v6]),
            .findValue(target: sender), .value(record: nil, closer: contacts), .value(record: record, closer: [v6]),
            .getProviders(service: "files"), .providers(records: [], closer: []),
            .providers(records: [record, record], closer: Array(contacts.prefix(3))),
            .addProvider(service: "files", record: record), .addProviderAck(stored: true),
            .addProviderAck(stored: false),
            .prove(nonce: [UInt8](repeating: 9, count: 32), address: .ipv4(10, 0, 0, 1, port: 4000)),
            .prove(
                nonce: [UInt8](repeating: 9, count: 32), address: PeerAddress(host: .ipv6(high: 1, low: 2), port: 7)),
            .proof(signature: [UInt8](repeating: 5, count: 64)),
            .findName(target: RoutingKey(nameZone: sender, path: "www")), .name(chain: nil, closer: contacts),
            .name(chain: try nameChain(identity), closer: [v6]), .storeName(chain: try nameChain(identity)),
            .storeNameAck(stored: true), .storeNameAck(stored: false),
        ]
        return bodies.enumerated().map {
            RoutingMessage(requestID: UInt64($0.offset) &* 0x0123_4567_89AB_CDEF, sender: sender, body: $0.element)
        }
    }

    /// A one-record name chain in `identity`'s zone.
    static func nameChain(_ identity: IdentityKeyPair) throws -> NameChain {
        NameChain(records: [
            try NameRecord(
                zone: identity.peerID, label: "www", sequence: 1, expiresAt: now + .seconds(3_600), ttl: 60,
                content: .data(NameData(peer: identity.peerID, addresses: [.ipv4(10, 0, 0, 1, port: 80)]))
            ).sign(with: identity)
        ])
    }

    @Test func everyKind_roundTrips() throws {
        let samples = try Self.samples()
        #expect(Set(samples.map(\.body.kind)) == Set(RoutingMessageKind.allCases))
        for message in samples {
            let bytes = try message.encode()
            #expect(bytes.first == message.body.kind.rawValue)
            #expect(bytes.count <= RoutingConstants.maximumMessageSize)
            #expect(try RoutingMessage.decode(bytes[...]) == message)
        }
    }

    @Test func header_layout() throws {
        let sender = RoutingTableTests.peer(5)
        let bytes = try RoutingMessage(requestID: 0x0102_0304_0506_0708, sender: sender, body: .ping).encode()
        #expect(bytes == [0x01, 1, 2, 3, 4, 5, 6, 7, 8] + sender.bytes)
        #expect(bytes.count == RoutingConstants.headerSize)
    }

    @Test func everyTruncation_throws() throws {
        for message in try Self.samples() {
            let bytes = try message.encode()
            for length in 0..<bytes.count {
                #expect(throws: WireError.self) { try RoutingMessage.decode(bytes[..<length]) }
            }
            #expect(throws: WireError.trailingBytes(count: 1)) { try RoutingMessage.decode((bytes + [0])[...]) }
        }
    }

    @Test func hostileFields_areRejected() throws {
        let header = try RoutingMessage(requestID: 1, sender: RoutingTableTests.peer(1), body: .ping).encode()
        #expect(throws: WireError.unknownMessageType(0)) { try RoutingMessage.decode(([0] + header.dropFirst())[...]) }
        #expect(throws: WireError.unknownMessageType(0xFF)) {
            try RoutingMessage.decode(([0xFF] + header.dropFirst())[...])
        }
        var nodes = header
        nodes[0] = RoutingMessageKind.nodes.rawValue
        #expect(throws: WireError.lengthTooLarge(offset: 41, length: 255, maximum: 20)) {
            try RoutingMessage.decode((nodes + [255])[...])
        }
        var add = header
        add[0] = RoutingMessageKind.addProvider.rawValue
        add += [5] + Array("files".utf8) + [0xFF, 0xFF]
        #expect(throws: WireError.self) { try RoutingMessage.decode(add[...]) }
        var value = header
        value[0] = RoutingMessageKind.value.rawValue
        #expect(throws: WireError.invalidValue(offset: 41, field: "record flag")) {
            try RoutingMessage.decode((value + [2, 0])[...])
        }
        var service = header
        service[0] = RoutingMessageKind.getProviders.rawValue
        #expect(throws: WireError.invalidString(offset: 41)) {
            try RoutingMessage.decode((service + [1, UInt8(ascii: "A")])[...])
        }
        let huge = [UInt8](repeating: 4, count: RoutingConstants.maximumMessageSize + 1)
        #expect(throws: WireError.self) { try RoutingMessage.decode(huge[...]) }
    }

    @Test func encode_refusesWhatCannotBeDecoded() {
        let sender = RoutingTableTests.peer(1)
        let many = (0..<UInt64(21)).map { RoutingTableTests.contact($0) }
        #expect(throws: WireError.self) {
            try RoutingMessage(requestID: 1, sender: sender, body: .nodes(many)).encode()
        }
        #expect(throws: WireError.self) {
            try RoutingMessage(requestID: 1, sender: sender, body: .getProviders(service: "Bad!")).encode()
        }
    }

    @Test func randomAndMutatedBytes_neverTrap() throws {
        var random = TestRandom(seed: 42)
        let encoded = try Self.samples().map { try $0.encode() }
        var decoded = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                let length = Int(random.next() % 300)
                bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if let first = bytes.indices.first { bytes[first] = UInt8(random.next() % 12) }
            } else {
                bytes = encoded[Int(random.next() % UInt64(encoded.count))]
                for _ in 0..<(1 + random.next() % 3) {
                    let index = Int(random.next() % UInt64(bytes.count))
                    bytes[index] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                }
            }
            if (try? RoutingMessage.decode(bytes[...])) != nil { decoded += 1 }
        }
        #expect(decoded < 20_000)
    }

    @Test func core_countsMalformedAndIgnoresStrayReplies() throws {
        let (identity, _) = try Self.signedRecord(seed: 3)
        var core = RoutingCore(localID: identity.peerID, wallClockAtZero: Self.now, random: TestRandom(seed: 1))
        let source = PeerAddress.ipv4(10, 0, 0, 2, port: 4000)
        var random = TestRandom(seed: 9)
        for _ in 0..<500 {
            let bytes = (0..<Int(random.next() % 80)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            core.handleMessage(bytes[...], from: source, now: .zero)
        }
        #expect(core.drops[.malformed, default: 0] >= 490)
        let stray = try RoutingMessage(requestID: 5, sender: RoutingTableTests.peer(2), body: .pong).encode()
        core.handleMessage(stray[...], from: source, now: .zero)
        #expect(core.drops[.unexpectedResponse] == 1)
        let fromSelf = try RoutingMessage(requestID: 5, sender: identity.peerID, body: .ping).encode()
        core.handleMessage(fromSelf[...], from: source, now: .zero)
        #expect(core.drops[.fromSelf] == 1)
        var buffer: [UInt8] = []
        #expect(core.pollTransmit(now: .zero, into: &buffer) == nil)
    }

    @Test func core_markAlive_fillsTheTableWithoutEvictionPings() throws {
        let (identity, _) = try Self.signedRecord(seed: 3)
        var core = RoutingCore(localID: identity.peerID, wallClockAtZero: Self.now, random: TestRandom(seed: 1))
        // Far more members than the table holds: the full buckets cache the rest, and
        // nothing is sent, since membership (not a ping) says when a slot frees.
        for index in 0..<500 {
            core.markAlive(
                peer: RoutingTableTests.peer(UInt64(index) + 10),
                address: .ipv4(10, 0, UInt8(index >> 8), UInt8(index & 0xFF), port: 4000), now: .zero)
        }
        #expect(core.table.count > 0)
        #expect(core.table.count < 500)
        var buffer: [UInt8] = []
        #expect(core.pollTransmit(now: .zero, into: &buffer) == nil)
    }

    @Test func core_answersPingAndStoresVerifiedProvider() throws {
        let (identity, _) = try Self.signedRecord(seed: 3)
        let (other, record) = try Self.signedRecord(seed: 4)
        var core = RoutingCore(localID: identity.peerID, wallClockAtZero: Self.now, random: TestRandom(seed: 1))
        let source = PeerAddress.ipv4(10, 0, 0, 2, port: 4000)
        var buffer: [UInt8] = []
        let ping = try RoutingMessage(requestID: 77, sender: other.peerID, body: .ping).encode()
        core.handleMessage(ping[...], from: source, now: .zero)
        #expect(core.pollTransmit(now: .zero, into: &buffer) == source)
        #expect(
            try RoutingMessage.decode(buffer[...])
                == RoutingMessage(requestID: 77, sender: identity.peerID, body: .pong))
        // Not in the table until it proves its ID at that address.
        #expect(core.table.contact(for: other.peerID) == nil)
        let challenge = try #require(core.pollTransmit(now: .zero, into: &buffer))
        #expect(challenge == source)
        guard case .prove(let nonce, let address) = try RoutingMessage.decode(buffer[...]).body else {
            Issue.record("expected PROVE")
            return
        }
        let requestID = try RoutingMessage.decode(buffer[...]).requestID
        let signature = RoutingProof.sign(nonce: nonce, address: address, challenger: identity.peerID, with: other)
        let proof = try RoutingMessage(requestID: requestID, sender: other.peerID, body: .proof(signature: signature))
            .encode()
        core.handleMessage(proof[...], from: source, now: .zero)
        #expect(core.table.contact(for: other.peerID)?.address == source)
        // A valid record is stored; one for a service it does not list is refused.
        for (service, stored) in [("files", true), ("chat", false)] {
            let add = try RoutingMessage(
                requestID: 78, sender: other.peerID, body: .addProvider(service: service, record: record))
            core.handleMessage(try add.encode()[...], from: source, now: .zero)
            #expect(core.pollTransmit(now: .zero, into: &buffer) == source)
            #expect(try RoutingMessage.decode(buffer[...]).body == .addProviderAck(stored: stored))
        }
        #expect(core.providerStore.count == 1)
        // A forged signature is refused.
        var forgedSignature = record.signature
        forgedSignature[0] ^= 1
        let forged = try SignedPeerRecord.decode((record.body + forgedSignature)[...])
        let add = try RoutingMessage(
            requestID: 79, sender: other.peerID, body: .addProvider(service: "files", record: forged))
        core.handleMessage(try add.encode()[...], from: source, now: .zero)
        #expect(core.pollTransmit(now: .zero, into: &buffer) == source)
        #expect(try RoutingMessage.decode(buffer[...]).body == .addProviderAck(stored: false))
    }
}
