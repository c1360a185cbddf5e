import Testing

@testable import StarlingCore

@Suite struct SessionMessagesTests {
    func decodeBody<T>(_ bytes: [UInt8], _ body: (inout ByteReader) throws(WireError) -> T) throws -> T {
        var reader = ByteReader(bytes)
        _ = try DatagramHeader.decode(from: &reader)
        return try body(&reader)
    }

    @Test func handshakeMessages_roundTrip() throws {
        let initiation = HandshakeInitiation(kind: .ikPSK2, senderIndex: 7, noiseMessage: Array(0..<96))
        #expect(try decodeBody(initiation.encoded(), HandshakeInitiation.decode(body:)) == initiation)
        let response = HandshakeResponse(kind: .xx, receiverIndex: 7, senderIndex: 9, noiseMessage: Array(0..<80))
        #expect(try decodeBody(response.encoded(), HandshakeResponse.decode(body:)) == response)
        let completion = HandshakeCompletion(receiverIndex: 9, noiseMessage: Array(0..<64))
        #expect(try decodeBody(completion.encoded(), HandshakeCompletion.decode(body:)) == completion)
    }

    @Test func handshakeMessages_everyTruncationOfTheHeader_isTypedError() throws {
        let response = HandshakeResponse(kind: .xx, receiverIndex: 7, senderIndex: 9, noiseMessage: []).encoded()
        for cut in DatagramHeader.size..<HandshakeResponse.headerSize {
            #expect(throws: WireError.self) { try decodeBody(Array(response[..<cut]), HandshakeResponse.decode(body:)) }
        }
    }

    @Test func handshakeMessages_unknownKindOrOversize_isTypedError() throws {
        var bytes = HandshakeInitiation(kind: .xx, senderIndex: 1, noiseMessage: [1]).encoded()
        bytes[2] = 0x7F
        #expect(throws: WireError.invalidValue(offset: 2, field: "handshake kind")) {
            try decodeBody(bytes, HandshakeInitiation.decode(body:))
        }
        let huge = HandshakeInitiation(kind: .xx, senderIndex: 1, noiseMessage: [UInt8](repeating: 0, count: 1025))
        #expect(throws: WireError.self) { try decodeBody(huge.encoded(), HandshakeInitiation.decode(body:)) }
    }

    @Test func handshakeKind_choose_coversEveryCase() {
        #expect(HandshakeKind.choose(knowsResponderKey: true, hasSwarmSecret: false) == .ik)
        #expect(HandshakeKind.choose(knowsResponderKey: false, hasSwarmSecret: false) == .xx)
        #expect(HandshakeKind.choose(knowsResponderKey: true, hasSwarmSecret: true) == .ikPSK2)
        #expect(HandshakeKind.choose(knowsResponderKey: false, hasSwarmSecret: true) == .xxPSK3)
        #expect(HandshakeKind.allCases.map(\.messageCount) == [2, 3, 2, 3])
    }

    @Test func transportHeader_tooShortForTag_isNil() {
        let short = [UInt8](repeating: 0, count: TransportHeader.size + TransportHeader.tagSize - 1)
        #expect(short.withUnsafeBytes { TransportHeader.parse($0) } == nil)
    }

    @Test func transportPayloadLimit_fitsTheDatagramLimit() {
        #expect(TransportHeader.size + SessionLimits.maximumTransportPayload + TransportHeader.tagSize == 1200)
    }
}
