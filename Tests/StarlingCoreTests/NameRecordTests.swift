import StarlingCore
import StarlingTestSupport
import Testing

/// Names, name records and chains: parsing, signing, verification and the wire form.
struct NameRecordTests {
    static let wall = UnixTime(seconds: 1_800_000_000)

    static func key(_ seed: UInt64) -> IdentityKeyPair {
        var random = TestRandom(seed: seed)
        return IdentityKeyPair.generate(using: &random)
    }

    static func record(
        _ key: IdentityKeyPair, _ label: String, sequence: UInt64 = 1, expiresIn: Int64 = 3_600, ttl: UInt32 = 60,
        _ content: NameRecord.Content
    ) throws -> SignedNameRecord {
        try NameRecord(
            zone: key.peerID, label: label, sequence: sequence, expiresAt: wall + .seconds(expiresIn), ttl: ttl,
            content: content
        ).sign(with: key)
    }

    static let printerData = NameData(
        peer: key(9).peerID, addresses: [.ipv4(192, 0, 2, 7, port: 4000)], services: ["print"],
        text: [NameText(key: "model", value: "lp-9")])

    @Test func namesParseAsDNSNamesDo() throws {
        let name = try OverlayName("Printer.LAB.alice.")
        #expect(name.labels == ["printer", "lab"])
        #expect(name.topLevel == .pinned("alice"))
        #expect(name.description == "printer.lab.alice")
        #expect(name.parent?.description == "lab.alice")
        let bob = Self.key(2).peerID
        let keyed = try OverlayName("www.\(bob)")
        #expect(keyed.topLevel == .key(bob))
        #expect(try keyed.rootZone(pins: [:]) == bob)
        #expect(throws: NameError.unpinnedTopLevel("alice")) { try name.rootZone(pins: [:]) }
        #expect(try name.rootZone(pins: ["alice": bob]) == bob)
        for bad in ["", "a..b", "bad label.x", "émoji.x", String(repeating: "a", count: 64) + ".x"] {
            #expect(throws: NameError.self) { try OverlayName(bad) }
        }
        let deep = (0...NameConstants.maximumDepth).map { "l\($0)" }.joined(separator: ".") + ".top"
        #expect(throws: NameError.tooDeep(deep)) { try OverlayName(deep) }
    }

    @Test func aChainSurvivesTheWireAndVerifies() throws {
        let alice = Self.key(1)
        let bob = Self.key(2)
        let chain = NameChain(records: [
            try Self.record(alice, "lab", .delegation(bob.peerID)),
            try Self.record(bob, "printer", .data(Self.printerData)),
        ])
        var writer = ByteWriter()
        try chain.encode(into: &writer)
        var reader = ByteReader(writer.bytes)
        let decoded = try NameChain.decode(from: &reader)
        try reader.expectEnd()
        #expect(decoded == chain)
        try decoded.verify(now: Self.wall)
        #expect(decoded.path == "printer.lab")
        #expect(decoded.key == RoutingKey(nameZone: alice.peerID, path: "printer.lab"))
        #expect(decoded.last?.record.content == .data(Self.printerData))
    }

    @Test func forgedAndBrokenChainsAreRefused() throws {
        let alice = Self.key(1)
        let bob = Self.key(2)
        let mallory = Self.key(3)
        // Signed by another key than the zone's.
        #expect(throws: NameError.notOwner("lab")) {
            try NameRecord(
                zone: alice.peerID, label: "lab", sequence: 1, expiresAt: Self.wall + .seconds(60), ttl: 60,
                content: .delegation(mallory.peerID)
            ).sign(with: mallory)
        }
        // A body changed after signing.
        let good = try Self.record(alice, "lab", .delegation(bob.peerID))
        var bytes = good.encoded
        bytes[bytes.count - IdentityKeyPair.signatureSize - 1] ^= 1
        var reader = ByteReader(bytes)
        let tampered = try SignedNameRecord.decode(from: &reader)
        #expect(throws: NameError.self) { try NameChain(records: [tampered]).verify(now: Self.wall) }
        // A link signed by a key the parent did not delegate to.
        let hijacked = NameChain(records: [good, try Self.record(mallory, "printer", .data(Self.printerData))])
        #expect(throws: NameError.forged("printer is not signed by its delegated zone")) {
            try hijacked.verify(now: Self.wall)
        }
        // Data in the middle of a chain.
        let dataFirst = NameChain(records: [
            try Self.record(alice, "lab", .data(NameData())), try Self.record(bob, "printer", .data(NameData())),
        ])
        #expect(throws: NameError.self) { try dataFirst.verify(now: Self.wall) }
        // A loop back to a zone already in the chain.
        let loop = NameChain(records: [
            try Self.record(alice, "a", .delegation(bob.peerID)), try Self.record(bob, "b", .delegation(alice.peerID)),
            try Self.record(alice, "c", .data(NameData())),
        ])
        #expect(throws: NameError.delegationLoop(loop.path)) { try loop.verify(now: Self.wall) }
        // Expired, and an expiry too far ahead.
        let old = try Self.record(alice, "lab", expiresIn: -1, .delegation(bob.peerID))
        #expect(throws: NameError.expired("lab")) { try NameChain(records: [old]).verify(now: Self.wall) }
        let far = try Self.record(alice, "lab", expiresIn: 365 * 86_400, .delegation(bob.peerID))
        #expect(throws: NameError.self) { try NameChain(records: [far]).verify(now: Self.wall) }
    }

    @Test func malformedChainsAreTypedErrors() throws {
        let alice = Self.key(1)
        var writer = ByteWriter()
        try NameChain(records: [try Self.record(alice, "lab", .data(Self.printerData))]).encode(into: &writer)
        let bytes = writer.bytes
        // Every truncation, and a count of zero or too many, fails to decode without trapping.
        for cut in 0..<bytes.count {
            var reader = ByteReader(bytes[..<cut])
            #expect(throws: WireError.self) { try NameChain.decode(from: &reader) }
        }
        for count: UInt8 in [0, UInt8(NameConstants.maximumDepth + 2)] {
            var reader = ByteReader([count] + bytes.dropFirst())
            #expect(throws: WireError.self) { try NameChain.decode(from: &reader) }
        }
        // An unknown record kind.
        let kindOffset = 1 + 1 + 32 + 1 + 3 + 8 + 8 + 4
        var badKind = bytes
        badKind[kindOffset] = 9
        var reader = ByteReader(badKind)
        #expect(throws: WireError.self) { try NameChain.decode(from: &reader) }
    }

    @Test func routingCarriesNameMessages() throws {
        let alice = Self.key(1)
        let chain = NameChain(records: [try Self.record(alice, "www", .data(Self.printerData))])
        let key = try #require(chain.key)
        let contact = RoutingContact(peerID: Self.key(4).peerID, address: .ipv4(192, 0, 2, 4, port: 7946))
        for body: RoutingMessage.Body in [
            .findName(target: key), .name(chain: chain, closer: [contact]), .name(chain: nil, closer: []),
            .storeName(chain: chain), .storeNameAck(stored: true),
        ] {
            let message = RoutingMessage(requestID: 7, sender: alice.peerID, body: body)
            #expect(try RoutingMessage.decode(message.encode()[...]) == message)
        }
    }
}
