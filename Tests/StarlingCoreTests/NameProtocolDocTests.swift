import Testing

@testable import StarlingCore

/// The name examples of docs/PROTOCOL.md ("Overlay names"), checked as
/// ``ProtocolDocTests`` checks the others.
extension ProtocolDocTests {
    /// A (seed 00…1f) delegates `lab` to B (seed 20…3f), which publishes `printer` as C
    /// (seed 40…5f) at 127.0.0.1:4000: the chain stored for `printer.lab.<A>`.
    static func exampleNameChain() throws -> NameChain {
        let expiry = UnixTime(seconds: 1_800_003_600)
        let lab = try NameRecord(
            zone: exampleKey.peerID, label: "lab", sequence: 1, expiresAt: expiry, ttl: 300,
            content: .delegation(secondKey.peerID)
        ).sign(with: exampleKey)
        let printer = try NameRecord(
            zone: secondKey.peerID, label: "printer", sequence: 2, expiresAt: expiry, ttl: 300,
            content: .data(
                NameData(
                    peer: thirdKey.peerID, addresses: [.ipv4(127, 0, 0, 1, port: 4000)], services: ["print"],
                    text: [NameText(key: "model", value: "lp-9")]))
        ).sign(with: secondKey)
        return NameChain(records: [lab, printer])
    }

    @Test func nameChain_example_decodesVerifiesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["name-chain"])
        let chain = try Self.exampleNameChain()
        var writer = ByteWriter()
        try chain.encode(into: &writer)
        #expect(bytes == writer.bytes, "expected:\n\(formatted(writer.bytes))")
        var reader = ByteReader(bytes)
        let decoded = try NameChain.decode(from: &reader)
        try reader.expectEnd()
        #expect(decoded == chain)
        try decoded.verify(now: UnixTime(seconds: 1_800_000_000))
        #expect(decoded.path == "printer.lab")
    }

    @Test func routingFindName_example_decodesAndReencodes() throws {
        let bytes = try #require(try Self.examples()["routing-find-name"])
        let target = RoutingKey(nameZone: Self.exampleKey.peerID, path: "printer.lab")
        #expect(try Self.exampleNameChain().key == target)
        let expected = try RoutingMessage(
            requestID: 0x1122_3344_5566_7788, sender: Self.thirdKey.peerID, body: .findName(target: target)
        ).encode()
        #expect(bytes == expected, "expected:\n\(formatted(expected))")
        #expect(try RoutingMessage.decode(bytes[...]).body == .findName(target: target))
    }
}
