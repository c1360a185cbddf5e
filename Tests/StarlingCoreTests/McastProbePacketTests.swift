import Testing

@testable import StarlingCore

/// The multicast lab packet: its layout byte by byte, round trips, and hostile input.
@Suite struct McastProbePacketTests {
    static let probe = ProbePacket.probe(
        senderID: 0x0102_0304_0506_0708, sequence: 0x1112_1314_1516_1718,
        sentAtNanoseconds: 0x2122_2324_2526_2728, runLength: 0x3132_3334_3536_3738)

    @Test func probePacket_encoded_probe_hasTheDocumentedLayout() throws {
        let bytes = try Self.probe.encoded(size: 48)
        #expect(bytes.count == 48)
        #expect(Array(bytes[0..<4]) == Array("SMLP".utf8))
        #expect(bytes[4] == ProbeConstants.version)
        #expect(bytes[5] == ProbePacketKind.probe.rawValue)
        #expect(Array(bytes[6..<8]) == [0, 0])
        #expect(Array(bytes[8..<16]) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(Array(bytes[16..<24]) == [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18])
        #expect(Array(bytes[24..<32]) == [0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28])
        #expect(Array(bytes[32..<40]) == [0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38])
        #expect(bytes[40...].allSatisfy { $0 == 0 })
    }

    @Test func probePacket_encoded_sizeBelowTheMinimum_givesTheMinimum() throws {
        #expect(try Self.probe.encoded(size: 0).count == ProbeConstants.minimumProbeSize)
        #expect(ProbeConstants.minimumProbeSize == 40)
        #expect(try Self.probe.encoded(size: ProbeConstants.maximumPacketSize).count == 65_507)
        #expect(throws: WireError.self) { try Self.probe.encoded(size: ProbeConstants.maximumPacketSize + 1) }
    }

    @Test(arguments: [40, 41, 200, 1_472, 9_000])
    func probePacket_consume_roundTripsAProbeOfAnySize(size: Int) throws {
        let bytes = try Self.probe.encoded(size: size)
        #expect(try ProbePacket.consume(bytes) == Self.probe)
    }

    @Test func probePacket_consume_negativeSendTime_roundTrips() throws {
        var probe = Self.probe
        probe.sentAtNanoseconds = -5
        #expect(try ProbePacket.consume(probe.encoded()) == probe)
    }

    @Test func probePacket_consume_message_roundTripsItsText() throws {
        let message = ProbePacket.message(
            Array("héllo, group".utf8), senderID: 9, sequence: 3, sentAtNanoseconds: 1_000)
        let bytes = try message.encoded()
        #expect(bytes.count == ProbeConstants.headerSize + "héllo, group".utf8.count)
        #expect(bytes[5] == ProbePacketKind.message.rawValue)
        #expect(try ProbePacket.consume(bytes) == message)
        let empty = ProbePacket.message([], senderID: 9, sequence: 4, sentAtNanoseconds: 1_000)
        #expect(try ProbePacket.consume(empty.encoded()) == empty)
    }

    @Test func probePacket_encoded_oversizedMessage_throws() {
        let text = [UInt8](repeating: 0x61, count: ProbeConstants.maximumPacketSize - ProbeConstants.headerSize + 1)
        #expect(throws: WireError.self) {
            try ProbePacket.message(text, senderID: 1, sequence: 0, sentAtNanoseconds: 0).encoded()
        }
    }

    /// Every prefix of a probe is refused as truncated, never trapping.
    @Test func probePacket_consume_everyShortPrefix_isTruncated() throws {
        let bytes = try Self.probe.encoded()
        for length in 4..<bytes.count {
            #expect(throws: WireError.self, "length \(length)") { try ProbePacket.consume(Array(bytes[0..<length])) }
        }
        for length in 0..<4 {
            #expect(throws: WireError.self, "length \(length)") { try ProbePacket.consume(Array(bytes[0..<length])) }
            #expect(!ProbePacket.hasMagic(bytes[0..<length]))
        }
    }

    @Test func probePacket_consume_wrongMagicVersionOrKind_isRefused() throws {
        var bytes = try Self.probe.encoded()
        #expect(ProbePacket.hasMagic(bytes[...]))
        var badMagic = bytes
        badMagic[0] = 0x58
        #expect(!ProbePacket.hasMagic(badMagic[...]))
        #expect(throws: WireError.invalidValue(offset: 0, field: "magic")) { try ProbePacket.consume(badMagic) }
        bytes[4] = 2
        #expect(throws: WireError.unsupportedVersion(2)) { try ProbePacket.consume(bytes) }
        bytes[4] = ProbeConstants.version
        bytes[5] = 9
        #expect(throws: WireError.unknownMessageType(9)) { try ProbePacket.consume(bytes) }
    }

    @Test func probePacket_consume_oversizedDatagram_isRefused() throws {
        var bytes = try Self.probe.encoded(size: ProbeConstants.maximumPacketSize)
        bytes.append(0)
        #expect(throws: WireError.self) { try ProbePacket.consume(bytes) }
    }

    @Test func probePacket_consume_paddingContents_areIgnored() throws {
        var bytes = try Self.probe.encoded(size: 64)
        for index in ProbeConstants.minimumProbeSize..<bytes.count { bytes[index] = 0xAA }
        #expect(try ProbePacket.consume(bytes) == Self.probe)
    }

    /// The kind values are protocol: only ever appended to.
    @Test func probePacketKind_rawValues_areFixed() {
        #expect(ProbePacketKind.allCases.map(\.rawValue) == [1, 2])
        #expect(ProbeConstants.magic == 0x534D_4C50)
        #expect(ProbeConstants.headerSize == 32)
    }
}
