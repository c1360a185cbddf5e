import StarlingTestSupport
import Testing

@testable import StarlingCore

/// RPC request and response messages: round trips, the documented examples, every
/// truncation, hostile lengths and values, and random input.
@Suite struct RPCMessageTests {
    /// `docs/PROTOCOL.md`, "Request/response", example `rpc-request`: request 42, floor
    /// 40, incarnation 0x0a0b0c0d, method "echo", payload "hi" (`ProtocolDocTests`
    /// checks the document's copy).
    static let requestExample = hex("01 000000000000002a 0000000000000028 0a0b0c0d 04 6563686f 6869")
    /// The request of ``requestExample``.
    static let requestExampleValue = RPCRequest(
        id: 42, floor: 40, incarnation: 0x0a0b_0c0d, method: "echo", payload: Array("hi".utf8))
    /// `docs/PROTOCOL.md`, "Request/response", example `rpc-response`: the successful
    /// answer "hi" to request 42.
    static let responseExample = hex("02 000000000000002a 00 6869")

    static let outcomes: [RPCResponse.Outcome] = [
        .ok([]), .ok([1, 2, 3]), .ok([UInt8](repeating: 0xAB, count: RPCConstants.maximumResponsePayload)),
        .rejected(""), .rejected("no thanks"), .rejected("übel ✋"),
        .rejected(String(repeating: "r", count: RPCConstants.maximumReasonLength)),
        .tooLarge(size: 5000, maximum: 1159), .tooLarge(size: 0, maximum: Int(UInt32.max)), .noHandler,
    ]

    // MARK: Examples and round trips

    @Test func rpcRequest_example_matchesDocument() throws {
        let request = Self.requestExampleValue
        #expect(try request.encoded() == Self.requestExample)
        #expect(try RPCRequest.decode(Self.requestExample[...]) == request)
    }

    @Test func rpcResponse_example_matchesDocument() throws {
        let response = RPCResponse(id: 42, outcome: .ok(Array("hi".utf8)))
        #expect(try response.encoded() == Self.responseExample)
        #expect(try RPCResponse.decode(Self.responseExample[...]) == response)
    }

    @Test(arguments: ["a", "echo", "kv/get", "svc.v2_beta-1", String(repeating: "z", count: 64)])
    func rpcRequest_encodeDecode_roundTrips(method: String) throws {
        let maximum = RPCConstants.maximumRequestPayload(methodLength: method.utf8.count)
        for payload in [[], [0], [UInt8](repeating: 7, count: maximum)] as [[UInt8]] {
            let request = RPCRequest(
                id: 0xFEDC_BA98_7654_3210, floor: 0x0123_4567_89AB_CDEF, incarnation: .max, method: method,
                payload: payload)
            let bytes = try request.encoded()
            #expect(bytes.count == RPCConstants.requestFixedSize + method.utf8.count + payload.count)
            #expect(try RPCRequest.decode(bytes[...]) == request)
        }
    }

    @Test func rpcResponse_encodeDecode_roundTripsEveryOutcome() throws {
        for outcome in Self.outcomes {
            let response = RPCResponse(id: .max, outcome: outcome)
            let bytes = try response.encoded()
            #expect(bytes[9] == outcome.status.rawValue)
            #expect(try RPCResponse.decode(bytes[...]) == response, "\(outcome)")
        }
    }

    @Test func rpcMessages_decode_acceptSlicesThatDoNotStartAtZero() throws {
        let padded = [0xEE, 0xEE] + Self.requestExample
        #expect(try RPCRequest.decode(padded[2...]).method == "echo")
        let paddedResponse = [0xEE] + Self.responseExample
        #expect(try RPCResponse.decode(paddedResponse[1...]).outcome == .ok(Array("hi".utf8)))
    }

    // MARK: Truncation

    @Test func rpcRequest_everyTruncation_failsOrShortensThePayload() throws {
        let request = RPCRequest(id: 9, floor: 7, incarnation: 3, method: "kv/put", payload: [1, 2, 3, 4])
        let bytes = try request.encoded()
        let header = RPCConstants.requestFixedSize + request.method.utf8.count
        for length in 0..<bytes.count {
            let prefix = bytes[0..<length]
            if length < header {
                #expect(throws: WireError.self, "prefix \(length)") { try RPCRequest.decode(prefix) }
            } else {
                #expect(try RPCRequest.decode(prefix).payload == Array(request.payload.prefix(length - header)))
            }
        }
    }

    @Test func rpcResponse_everyTruncation_failsOrShortensThePayload() throws {
        for outcome in Self.outcomes {
            let bytes = try RPCResponse(id: 3, outcome: outcome).encoded()
            for length in 0..<bytes.count {
                let prefix = bytes[0..<length]
                switch outcome {
                case .ok(let payload) where length >= RPCConstants.responseHeaderSize:
                    let expected = Array(payload.prefix(length - RPCConstants.responseHeaderSize))
                    #expect(try RPCResponse.decode(prefix).outcome == .ok(expected))
                case .rejected(let reason) where length >= RPCConstants.responseHeaderSize:
                    // A shorter reason is valid unless the cut splits a character.
                    let cut = Array(reason.utf8.prefix(length - RPCConstants.responseHeaderSize))
                    if let text = String(validating: cut, as: UTF8.self) {
                        #expect(try RPCResponse.decode(prefix).outcome == .rejected(text))
                    } else {
                        #expect(throws: WireError.invalidString(offset: 10)) { try RPCResponse.decode(prefix) }
                    }
                default:
                    #expect(throws: WireError.self, "\(outcome) prefix \(length)") { try RPCResponse.decode(prefix) }
                }
            }
        }
    }

    @Test func rpcMessages_truncatedHeader_reportsWhereAndHowMuch() {
        #expect(throws: WireError.truncated(offset: 0, needed: 1)) { try RPCRequest.decode([][...]) }
        #expect(throws: WireError.truncated(offset: 1, needed: 8)) { try RPCRequest.decode([1][...]) }
        #expect(throws: WireError.truncated(offset: 9, needed: 4)) {
            try RPCRequest.decode(hex("01 0000000000000001 00000000")[...])
        }
        #expect(throws: WireError.truncated(offset: 17, needed: 2)) {
            try RPCRequest.decode(hex("01 0000000000000001 0000000000000001 0000")[...])
        }
        #expect(throws: WireError.truncated(offset: 22, needed: 2)) {
            try RPCRequest.decode(hex("01 0000000000000001 0000000000000001 00000000 04 6563")[...])
        }
        #expect(throws: WireError.truncated(offset: 9, needed: 1)) {
            try RPCResponse.decode(hex("02 0000000000000001")[...])
        }
        #expect(throws: WireError.truncated(offset: 14, needed: 2)) {
            try RPCResponse.decode(hex("02 0000000000000001 02 00001388 0000")[...])
        }
    }

    // MARK: Hostile input

    @Test func rpcRequest_hostileMethodLengths_areRejected() {
        let id = "01 0000000000000001 0000000000000001 00000007"
        // Longer than 64, whatever follows: refused before reading the name.
        for length in [65, 200, 255] {
            let bytes = hex(id + String(format: length)) + [UInt8](repeating: 0x61, count: 300)
            #expect(throws: WireError.lengthTooLarge(offset: 21, length: length, maximum: 64)) {
                try RPCRequest.decode(bytes[...])
            }
        }
        // Empty, uppercase, space, non-ASCII, invalid UTF-8.
        for name in ["", "41", "6120", "c3a9", "ff"] {
            let bytes = hex(id + String(format: name.count / 2) + name)
            #expect(throws: WireError.invalidValue(offset: 21, field: "method"), "\(name)") {
                try RPCRequest.decode(bytes[...])
            }
        }
    }

    @Test func rpcRequest_floorAboveTheID_isRejected() throws {
        let bytes = hex("01 0000000000000005 0000000000000006 00000000 01 61")
        #expect(throws: WireError.invalidValue(offset: 9, field: "floor")) { try RPCRequest.decode(bytes[...]) }
        let equal = hex("01 0000000000000005 0000000000000005 00000000 01 61")
        #expect(try RPCRequest.decode(equal[...]) == RPCRequest(id: 5, method: "a", payload: []))
    }

    @Test func rpcMessages_oversizedInput_isRefusedUnread() throws {
        let huge =
            try RPCRequest(id: 1, method: "m", payload: []).encoded()
            + [UInt8](repeating: 0, count: RPCConstants.maximumMessageSize)
        #expect(throws: WireError.lengthTooLarge(offset: 0, length: huge.count, maximum: 1169)) {
            try RPCRequest.decode(huge[...])
        }
        let response = hex("02 0000000000000001 00") + [UInt8](repeating: 0, count: 1160)
        #expect(throws: WireError.lengthTooLarge(offset: 0, length: 1170, maximum: 1169)) {
            try RPCResponse.decode(response[...])
        }
    }

    @Test func rpcResponse_hostileBodies_areRejected() {
        let head = "0000000000000001"
        let cases: [(String, WireError)] = [
            ("01" + head + "00", .invalidValue(offset: 0, field: "channel")),
            ("00" + head + "00", .invalidValue(offset: 0, field: "channel")),
            ("02" + head + "04", .invalidValue(offset: 9, field: "status")),
            ("02" + head + "ff", .invalidValue(offset: 9, field: "status")),
            ("02" + head + "03 00", .trailingBytes(count: 1)),
            ("02" + head + "02 00000001 00000002 09", .trailingBytes(count: 1)),
            ("02" + head + "01 c328", .invalidString(offset: 10)),
            (
                "02" + head + "01 " + String(repeating: "61", count: 257),
                .lengthTooLarge(offset: 10, length: 257, maximum: 256)
            ),
        ]
        for (text, error) in cases {
            #expect(throws: error, "\(text)") { try RPCResponse.decode(hex(text)[...]) }
        }
        #expect(throws: WireError.invalidValue(offset: 0, field: "channel")) {
            try RPCRequest.decode(hex("02" + head + "01 61")[...])
        }
    }

    @Test func rpcMessages_randomBytes_neverTrapAndDecodedValuesReencodeExactly() throws {
        var random = TestRandom(seed: 0x5250_43)
        var decoded = 0
        for round in 0..<20_000 {
            let length =
                round % 10 == 0 ? Int.random(in: 0...1300, using: &random) : Int.random(in: 0...40, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            // Mostly valid channels and statuses, so decoding gets past the first checks.
            if length > 0 { bytes[0] = UInt8.random(in: 0...3, using: &random) }
            if length > 9 { bytes[9] = UInt8.random(in: 0...4, using: &random) }
            if length > 9, round % 2 == 0 { bytes[9] = UInt8.random(in: 0...8, using: &random) }
            // Requests: a floor at most the ID, and a short method name.
            if length > 21, bytes[0] == 1 {
                bytes[9] = min(bytes[9], bytes[1])
                bytes[21] = UInt8.random(in: 0...8, using: &random)
            }
            if let request = try? RPCRequest.decode(bytes[...]) {
                #expect(try request.encoded() == bytes)
                decoded += 1
            }
            if let response = try? RPCResponse.decode(bytes[...]) {
                #expect(try response.encoded() == bytes)
                decoded += 1
            }
        }
        #expect(decoded > 100)
    }

    // MARK: Encoder limits and helpers

    @Test func rpcMessages_encode_refusesWhatDecodeWouldRefuse() {
        let maximum = RPCConstants.maximumRequestPayload(methodLength: 4)
        #expect(throws: WireError.self) {
            try RPCRequest(id: 1, method: "echo", payload: [UInt8](repeating: 0, count: maximum + 1)).encoded()
        }
        #expect(throws: WireError.self) { try RPCRequest(id: 1, method: "Echo", payload: []).encoded() }
        #expect(throws: WireError.self) {
            try RPCRequest(id: 1, floor: 2, incarnation: 0, method: "echo", payload: []).encoded()
        }
        #expect(throws: WireError.self) {
            try RPCResponse(id: 1, outcome: .ok([UInt8](repeating: 0, count: RPCConstants.maximumResponsePayload + 1)))
                .encoded()
        }
        #expect(throws: WireError.self) {
            try RPCResponse(id: 1, outcome: .rejected(String(repeating: "x", count: 257))).encoded()
        }
    }

    @Test func rpcRequest_isValidMethod_table() {
        let cases: [(String, Bool)] = [
            ("a", true), ("echo", true), ("kv/get", true), ("a.b_c-d/e9", true),
            (String(repeating: "m", count: 64), true), ("", false), (String(repeating: "m", count: 65), false),
            ("Echo", false), ("a b", false), ("a:b", false), ("é", false), ("a\u{0}", false),
        ]
        for (method, valid) in cases {
            #expect(RPCRequest.isValidMethod(method) == valid, "\(method)")
        }
    }

    @Test func rpcResponse_truncatedReason_cutsAtACharacterBoundary() {
        #expect(RPCResponse.truncatedReason("short") == "short")
        let ascii = String(repeating: "a", count: 300)
        #expect(RPCResponse.truncatedReason(ascii).utf8.count == 256)
        // "é" is two bytes: 255 bytes of "a" then "é" would need 257, so it is dropped.
        let split = String(repeating: "a", count: 255) + "é"
        #expect(RPCResponse.truncatedReason(split) == String(repeating: "a", count: 255))
    }

    @Test func rpcConstants_sizes_followFromTheSessionLimit() {
        #expect(RPCConstants.maximumMessageSize == 1169)
        #expect(RPCConstants.maximumResponsePayload == 1159)
        #expect(RPCConstants.requestFixedSize == 22)
        #expect(RPCConstants.maximumRequestPayload(methodLength: 4) == 1143)
    }
}

extension String {
    /// Two hex digits of `value`.
    fileprivate init(format value: Int) {
        self = (value < 16 ? "0" : "") + String(value, radix: 16)
    }
}
