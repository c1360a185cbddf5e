/// The first byte of every session payload a ``PeerCore`` sends: which layer it is for.
///
/// ONLY APPEND — values are protocol.
public enum RPCChannel: UInt8, Sendable, CaseIterable {
    /// A plain user datagram; the rest of the payload is the user's bytes.
    case datagram = 0x00
    /// An ``RPCRequest``.
    case request = 0x01
    /// An ``RPCResponse``.
    case response = 0x02
}

/// How a request ended, as its response says; the byte after the request ID.
///
/// ONLY APPEND — values are protocol.
public enum RPCStatus: UInt8, Sendable, CaseIterable {
    /// The handler answered; the rest is its payload.
    case ok = 0x00
    /// The handler (or a busy peer) refused; the rest is a UTF-8 reason.
    case rejected = 0x01
    /// The handler's answer did not fit one datagram; `size u32`, `maximum u32` follow.
    case tooLarge = 0x02
    /// The peer serves no such method; nothing follows.
    case noHandler = 0x03
}

/// A request: which method to run on the peer, with what payload.
///
/// ```
/// 0         1               9           17                21       22          22+m
/// | 0x01    | request ID u64 | floor u64 | incarnation u32 | m u8  | method … | payload …
/// ```
/// `floor` acknowledges the requester's earlier requests: it never again sends one with
/// a lower ID to this peer, so the responder may forget them (see `docs/PROTOCOL.md`,
/// "Request/response"). It is at most the request ID.
public struct RPCRequest: Equatable, Sendable {
    /// Identifies the request among the sender's; the response carries it back.
    public var id: UInt64
    /// The smallest request ID the sender may still send to this peer: the lowest ID it
    /// has outstanding to it, this request's included. At most ``id``.
    public var floor: UInt64
    /// The sender's run, chosen at random when it starts: request IDs and floors are
    /// compared only within one incarnation.
    public var incarnation: UInt32
    /// The method to run: see ``isValidMethod(_:)``.
    public var method: String
    /// The caller's bytes.
    public var payload: [UInt8]

    /// Creates a request; ``encoded(maximumSize:)`` refuses it if `floor` exceeds `id`.
    public init(id: UInt64, floor: UInt64, incarnation: UInt32, method: String, payload: [UInt8]) {
        self.id = id
        self.floor = floor
        self.incarnation = incarnation
        self.method = method
        self.payload = payload
    }

    /// Creates a request that acknowledges nothing earlier: its floor is its own ID and
    /// its incarnation 0, as for a request sent once over a stream.
    public init(id: UInt64, method: String, payload: [UInt8]) {
        self.init(id: id, floor: id, incarnation: 0, method: method, payload: payload)
    }

    /// Whether `method` is 1 to ``RPCConstants/maximumMethodLength`` bytes of
    /// `a`–`z`, `0`–`9`, `.`, `_`, `/` and `-`.
    public static func isValidMethod(_ method: String) -> Bool {
        isValidMethod(utf8: method.utf8)
    }

    /// Checks that a request for `method` with `payloadCount` bytes can go out in one
    /// datagram.
    /// - Throws: ``RPCError/invalidMethod(_:)`` or ``RPCError/payloadTooLarge(size:maximum:)``
    ///   (above ``RPCConstants/maximumRequestPayload(methodLength:)``).
    public static func check(method: String, payloadCount: Int) throws(RPCError) {
        guard isValidMethod(method) else { throw .invalidMethod(method) }
        let maximum = RPCConstants.maximumRequestPayload(methodLength: method.utf8.count)
        guard payloadCount <= maximum else { throw .payloadTooLarge(size: payloadCount, maximum: maximum) }
    }

    /// The message's bytes, channel byte first.
    /// - Parameter maximumSize: the largest message allowed: one datagram's
    ///   ``RPCConstants/maximumMessageSize`` by default, the stream's maximum message
    ///   size when the request travels over a stream.
    /// - Throws: ``WireError/unencodable(_:)`` for an invalid method, a floor above the
    ///   ID, or when the message would exceed `maximumSize`.
    public func encoded(maximumSize: Int = RPCConstants.maximumMessageSize) throws(WireError) -> [UInt8] {
        guard Self.isValidMethod(method) else { throw .unencodable("invalid method name \"\(method)\"") }
        guard floor <= id else { throw .unencodable("floor \(floor) above request ID \(id)") }
        let size = RPCConstants.requestFixedSize + method.utf8.count + payload.count
        guard size <= maximumSize else {
            throw .unencodable("request of \(size) bytes exceeds \(maximumSize)")
        }
        var writer = ByteWriter(capacity: size)
        writer.write(RPCChannel.request.rawValue)
        writer.write(id)
        writer.write(floor)
        writer.write(incarnation)
        try writer.writeShortString(method, maximum: RPCConstants.maximumMethodLength)
        writer.write(bytes: payload)
        return writer.bytes
    }

    /// Decodes a whole request message, channel byte first.
    /// - Parameter maximumSize: the largest message accepted (see ``encoded(maximumSize:)``).
    /// - Throws: ``WireError`` when the input is longer than `maximumSize`, is not on
    ///   the request channel, is cut short, has a floor above its ID, or has an invalid
    ///   method name.
    public static func decode(
        _ bytes: ArraySlice<UInt8>, maximumSize: Int = RPCConstants.maximumMessageSize
    ) throws(WireError) -> RPCRequest {
        var reader = try openMessage(bytes, channel: .request, maximumSize: maximumSize)
        let id = try reader.readUInt64()
        let floorAt = reader.offset
        let floor = try reader.readUInt64()
        guard floor <= id else { throw .invalidValue(offset: floorAt, field: "floor") }
        let incarnation = try reader.readUInt32()
        let at = reader.offset
        let length = try reader.readCount(maximum: RPCConstants.maximumMethodLength)
        let name = try reader.readBytes(length)
        guard isValidMethod(utf8: name), let method = String(validating: name, as: UTF8.self) else {
            throw .invalidValue(offset: at, field: "method")
        }
        return RPCRequest(
            id: id, floor: floor, incarnation: incarnation, method: method, payload: Array(reader.readRest()))
    }

    private static func isValidMethod(utf8: some Collection<UInt8>) -> Bool {
        guard (1...RPCConstants.maximumMethodLength).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "/"), UInt8(ascii: "-"): true
            default: false
            }
        }
    }
}

/// A response: the outcome of one request, sent back to its sender.
///
/// ```
/// 0         1               9          10
/// | 0x02    | request ID u64 | status u8 | body …
/// ```
/// The body depends on the status: the payload (`ok`), a UTF-8 reason of at most
/// ``RPCConstants/maximumReasonLength`` bytes (`rejected`), `size u32` and `maximum u32`
/// (`tooLarge`), or nothing (`noHandler`).
public struct RPCResponse: Equatable, Sendable {
    /// What the peer made of the request.
    public enum Outcome: Equatable, Sendable {
        /// The handler's answer.
        case ok([UInt8])
        /// The handler or the peer refused, saying why.
        case rejected(String)
        /// The handler's answer of `size` bytes exceeded `maximum`.
        case tooLarge(size: Int, maximum: Int)
        /// The peer serves no such method.
        case noHandler

        /// The status byte of this outcome.
        public var status: RPCStatus {
            switch self {
            case .ok: .ok
            case .rejected: .rejected
            case .tooLarge: .tooLarge
            case .noHandler: .noHandler
            }
        }
    }

    /// The ID of the request answered.
    public var id: UInt64
    /// The outcome.
    public var outcome: Outcome

    /// Creates a response.
    public init(id: UInt64, outcome: Outcome) {
        self.id = id
        self.outcome = outcome
    }

    /// The message's bytes, channel byte first.
    /// - Parameter maximumSize: the largest message allowed: one datagram's
    ///   ``RPCConstants/maximumMessageSize`` by default, the stream's maximum message
    ///   size when the response travels over a stream.
    /// - Throws: ``WireError/unencodable(_:)`` when the message would exceed
    ///   `maximumSize` or a reason exceeds
    ///   ``RPCConstants/maximumReasonLength`` bytes.
    public func encoded(maximumSize: Int = RPCConstants.maximumMessageSize) throws(WireError) -> [UInt8] {
        var writer = ByteWriter(capacity: RPCConstants.responseHeaderSize)
        writer.write(RPCChannel.response.rawValue)
        writer.write(id)
        writer.write(outcome.status.rawValue)
        switch outcome {
        case .ok(let payload):
            guard payload.count <= maximumSize - RPCConstants.responseHeaderSize else {
                throw .unencodable("response payload of \(payload.count) bytes")
            }
            writer.write(bytes: payload)
        case .rejected(let reason):
            guard reason.utf8.count <= RPCConstants.maximumReasonLength else {
                throw .unencodable("reason of \(reason.utf8.count) bytes")
            }
            writer.write(bytes: reason.utf8)
        case .tooLarge(let size, let maximum):
            writer.write(UInt32(clamping: size))
            writer.write(UInt32(clamping: maximum))
        case .noHandler:
            break
        }
        return writer.bytes
    }

    /// Decodes a whole response message, channel byte first.
    /// - Parameter maximumSize: the largest message accepted (see ``encoded(maximumSize:)``).
    /// - Throws: ``WireError`` when the input is longer than `maximumSize`, is not on
    ///   the response channel, is cut
    ///   short, has an unknown status, an invalid or over-long reason, or trailing bytes.
    public static func decode(
        _ bytes: ArraySlice<UInt8>, maximumSize: Int = RPCConstants.maximumMessageSize
    ) throws(WireError) -> RPCResponse {
        var reader = try openMessage(bytes, channel: .response, maximumSize: maximumSize)
        let id = try reader.readUInt64()
        let at = reader.offset
        guard let status = RPCStatus(rawValue: try reader.readUInt8()) else {
            throw .invalidValue(offset: at, field: "status")
        }
        let outcome: Outcome
        switch status {
        case .ok:
            outcome = .ok(Array(reader.readRest()))
        case .rejected:
            let start = reader.offset
            guard reader.remaining <= RPCConstants.maximumReasonLength else {
                throw .lengthTooLarge(
                    offset: start, length: reader.remaining, maximum: RPCConstants.maximumReasonLength)
            }
            guard let reason = String(validating: reader.readRest(), as: UTF8.self) else {
                throw .invalidString(offset: start)
            }
            outcome = .rejected(reason)
        case .tooLarge:
            let size = Int(try reader.readUInt32())
            outcome = .tooLarge(size: size, maximum: Int(try reader.readUInt32()))
        case .noHandler:
            outcome = .noHandler
        }
        try reader.expectEnd()
        return RPCResponse(id: id, outcome: outcome)
    }

    /// `reason` cut to at most ``RPCConstants/maximumReasonLength`` bytes of UTF-8, at a
    /// character boundary.
    public static func truncatedReason(_ reason: String) -> String {
        guard reason.utf8.count > RPCConstants.maximumReasonLength else { return reason }
        var result = ""
        var length = 0
        for character in reason {
            let size = character.utf8.count
            guard length + size <= RPCConstants.maximumReasonLength else { break }
            result.append(character)
            length += size
        }
        return result
    }
}

/// A reader past the channel byte of an RPC message, after the size and channel checks.
private func openMessage(
    _ bytes: ArraySlice<UInt8>, channel: RPCChannel, maximumSize: Int
) throws(WireError) -> ByteReader {
    guard bytes.count <= maximumSize else {
        throw .lengthTooLarge(offset: 0, length: bytes.count, maximum: maximumSize)
    }
    var reader = ByteReader(bytes)
    let first = try reader.readUInt8()
    guard first == channel.rawValue else { throw .invalidValue(offset: 0, field: "channel") }
    return reader
}

extension RPCResponse.Outcome {
    /// What the requester's call ends with for this outcome of a request for `method`.
    public func result(method: String) -> Result<[UInt8], RPCError> {
        switch self {
        case .ok(let payload): .success(payload)
        case .rejected(let reason): .failure(.rejected(reason: reason))
        case .tooLarge(let size, let maximum): .failure(.payloadTooLarge(size: size, maximum: maximum))
        case .noHandler: .failure(.noHandler(method: method))
        }
    }
}
