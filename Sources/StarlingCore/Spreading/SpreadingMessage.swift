/// The kind of a spreading message: its first byte.
///
/// ONLY APPEND — values are protocol.
public enum SpreadingMessageKind: UInt8, CaseIterable, Sendable {
    /// An epidemic broadcast, pushed to `fanout` random neighbours on first receipt.
    case gossip = 0x01
    /// A search flooded to every neighbour but the sender while its TTL lasts.
    case query = 0x02
    /// An answer to a ``query``, routed back along the query's reverse path.
    case queryHit = 0x03
    /// An ICMP-style echo request; answered with an ``echoReply``.
    case echoRequest = 0x04
    /// The answer to an ``echoRequest``, echoing its identifier and timestamp.
    case echoReply = 0x05
    /// A notice that a message could not be forwarded: no route.
    case unreachable = 0x06
    /// A notice that a flood died by its TTL.
    case ttlExceeded = 0x07
}

/// A spreading message, as carried in one datagram.
///
/// ### Wire format
/// Every message starts with its ``SpreadingMessageKind`` byte. Integers are big-endian;
/// IDs (``SpreadingID``) are 16 bytes; peer IDs are 32 raw bytes; a payload is a u16
/// length followed by that many bytes; a signature is 64 bytes of Ed25519.
/// ```
/// gossip       01 | id | origin id | hops u8 | payload | signature
/// query        02 | id | origin id | ttl u8 | hops u8 | flags u8 | payload | signature
/// queryHit     03 | id | responder id | hops u8 | payload | signature
/// echoRequest  04 | identifier u32 | timestamp u64 | sender id
/// echoReply    05 | identifier u32 | timestamp u64 | sender id
/// unreachable  06 | id | subject kind u8 | target id | reporter id
/// ttlExceeded  07 | id | origin id | reporter id | hops u8
/// ```
/// Query flags: bit 0 = the originator wants ``ttlExceeded`` notices. A message must
/// fill its datagram exactly; anything else is malformed.
///
/// The signature of a gossip message or a query is its origin's, of a query hit its
/// responder's, over the bytes ``SpreadingSignature`` names: never the hop count or the
/// TTL, which change on the way. Decoding does not check it; ``SpreadingCore`` does.
public enum SpreadingMessage: Equatable, Sendable {
    /// A broadcast `payload` from `origin`, `hops` links away from it; `signature` is
    /// `origin`'s (``SpreadingSignature/gossipBytes(swarmID:id:origin:payload:)``).
    case gossip(id: SpreadingID, origin: PeerID, hops: UInt8, payload: [UInt8], signature: [UInt8])
    /// A search from `origin` that may travel `ttl` more links; `hops` taken so far;
    /// `signature` is `origin`'s
    /// (``SpreadingSignature/queryBytes(swarmID:id:origin:wantsNotices:payload:)``).
    case query(
        id: SpreadingID, origin: PeerID, ttl: UInt8, hops: UInt8, wantsNotices: Bool, payload: [UInt8],
        signature: [UInt8])
    /// `responder`'s answer to query `id`, `hops` links from the responder so far;
    /// `signature` is `responder`'s
    /// (``SpreadingSignature/queryHitBytes(swarmID:id:queryOrigin:responder:payload:)``).
    case queryHit(id: SpreadingID, responder: PeerID, hops: UInt8, payload: [UInt8], signature: [UInt8])
    /// An echo request; `timestamp` is the sender's clock in nanoseconds.
    case echoRequest(identifier: UInt32, timestamp: UInt64, sender: PeerID)
    /// An echo reply with the request's identifier and timestamp.
    case echoReply(identifier: UInt32, timestamp: UInt64, sender: PeerID)
    /// `reporter` found no route for a `subject` message about `id` meant for `target`.
    case unreachable(id: SpreadingID, subject: SpreadingMessageKind, target: PeerID, reporter: PeerID)
    /// Query `id` from `origin` died by TTL at `reporter`, `hops` links from the origin.
    case ttlExceeded(id: SpreadingID, origin: PeerID, reporter: PeerID, hops: UInt8)

    /// The message's kind.
    public var kind: SpreadingMessageKind {
        switch self {
        case .gossip: .gossip
        case .query: .query
        case .queryHit: .queryHit
        case .echoRequest: .echoRequest
        case .echoReply: .echoReply
        case .unreachable: .unreachable
        case .ttlExceeded: .ttlExceeded
        }
    }

    /// Bytes of a gossip message besides its payload (116).
    public static let gossipOverhead =
        1 + SpreadingConstants.idSize + SpreadingConstants.peerIDSize + 1 + 2 + SpreadingConstants.signatureSize
    /// Bytes of a query besides its payload (118).
    public static let queryOverhead =
        1 + SpreadingConstants.idSize + SpreadingConstants.peerIDSize + 3 + 2 + SpreadingConstants.signatureSize
    /// Bytes of a query hit besides its payload (116).
    public static let queryHitOverhead =
        1 + SpreadingConstants.idSize + SpreadingConstants.peerIDSize + 1 + 2 + SpreadingConstants.signatureSize
    /// The most bytes any message with a payload adds to it (118, a query's): a payload
    /// of `n` bytes travels in a message of at most `n + maximumOverhead` bytes.
    public static let maximumOverhead = max(gossipOverhead, queryOverhead, queryHitOverhead)
    /// Bytes of an echo request or reply.
    public static let echoSize = 1 + 4 + 8 + SpreadingConstants.peerIDSize
    /// Bytes of an unreachable notice.
    public static let unreachableSize = 1 + SpreadingConstants.idSize + 1 + 2 * SpreadingConstants.peerIDSize
    /// Bytes of a TTL-exceeded notice.
    public static let ttlExceededSize = 1 + SpreadingConstants.idSize + 2 * SpreadingConstants.peerIDSize + 1

    /// Encodes the message.
    /// - Throws: ``WireError/unencodable(_:)`` when a payload is longer than its u16 length
    ///   allows or a signature is not 64 bytes.
    public func encode(into writer: inout ByteWriter) throws(WireError) {
        writer.write(kind.rawValue)
        switch self {
        case .gossip(let id, let origin, let hops, let payload, let signature):
            writer.write(id)
            origin.write(into: &writer)
            writer.write(hops)
            try Self.encodePayload(payload, into: &writer)
            try Self.encodeSignature(signature, into: &writer)
        case .query(let id, let origin, let ttl, let hops, let wantsNotices, let payload, let signature):
            writer.write(id)
            origin.write(into: &writer)
            writer.write(ttl)
            writer.write(hops)
            writer.write(wantsNotices ? SpreadingConstants.queryWantsNotices : 0)
            try Self.encodePayload(payload, into: &writer)
            try Self.encodeSignature(signature, into: &writer)
        case .queryHit(let id, let responder, let hops, let payload, let signature):
            writer.write(id)
            responder.write(into: &writer)
            writer.write(hops)
            try Self.encodePayload(payload, into: &writer)
            try Self.encodeSignature(signature, into: &writer)
        case .echoRequest(let identifier, let timestamp, let sender),
            .echoReply(let identifier, let timestamp, let sender):
            writer.write(identifier)
            writer.write(timestamp)
            sender.write(into: &writer)
        case .unreachable(let id, let subject, let target, let reporter):
            writer.write(id)
            writer.write(subject.rawValue)
            target.write(into: &writer)
            reporter.write(into: &writer)
        case .ttlExceeded(let id, let origin, let reporter, let hops):
            writer.write(id)
            origin.write(into: &writer)
            reporter.write(into: &writer)
            writer.write(hops)
        }
    }

    /// The message's bytes.
    /// - Throws: ``WireError/unencodable(_:)`` when a payload is too long.
    public func encoded() throws(WireError) -> [UInt8] {
        var writer = ByteWriter()
        try encode(into: &writer)
        return writer.bytes
    }

    /// Decodes one message that fills `bytes` exactly.
    /// - Throws: ``WireError``: unknown kind, truncation, a bad field or trailing bytes.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireError) -> SpreadingMessage {
        var reader = ByteReader(bytes)
        let kindByte = try reader.readUInt8()
        guard let kind = SpreadingMessageKind(rawValue: kindByte) else { throw .unknownMessageType(kindByte) }
        let message: SpreadingMessage
        switch kind {
        case .gossip:
            let id = try reader.readSpreadingID()
            let origin = try reader.readPeerID()
            let hops = try reader.readUInt8()
            let payload = try readPayload(&reader)
            message = .gossip(
                id: id, origin: origin, hops: hops, payload: payload, signature: try readSignature(&reader))
        case .query:
            let id = try reader.readSpreadingID()
            let origin = try reader.readPeerID()
            let ttl = try reader.readUInt8()
            let hops = try reader.readUInt8()
            let flagsOffset = reader.offset
            let flags = try reader.readUInt8()
            guard flags & ~SpreadingConstants.queryWantsNotices == 0 else {
                throw .invalidValue(offset: flagsOffset, field: "query flags")
            }
            let payload = try readPayload(&reader)
            message = .query(
                id: id, origin: origin, ttl: ttl, hops: hops,
                wantsNotices: flags & SpreadingConstants.queryWantsNotices != 0, payload: payload,
                signature: try readSignature(&reader))
        case .queryHit:
            let id = try reader.readSpreadingID()
            let responder = try reader.readPeerID()
            let hops = try reader.readUInt8()
            let payload = try readPayload(&reader)
            message = .queryHit(
                id: id, responder: responder, hops: hops, payload: payload, signature: try readSignature(&reader))
        case .echoRequest, .echoReply:
            let identifier = try reader.readUInt32()
            let timestamp = try reader.readUInt64()
            let sender = try reader.readPeerID()
            message =
                kind == .echoRequest
                ? .echoRequest(identifier: identifier, timestamp: timestamp, sender: sender)
                : .echoReply(identifier: identifier, timestamp: timestamp, sender: sender)
        case .unreachable:
            let id = try reader.readSpreadingID()
            let subjectOffset = reader.offset
            guard let subject = SpreadingMessageKind(rawValue: try reader.readUInt8()) else {
                throw .invalidValue(offset: subjectOffset, field: "unreachable subject")
            }
            let target = try reader.readPeerID()
            message = .unreachable(id: id, subject: subject, target: target, reporter: try reader.readPeerID())
        case .ttlExceeded:
            let id = try reader.readSpreadingID()
            let origin = try reader.readPeerID()
            let reporter = try reader.readPeerID()
            message = .ttlExceeded(id: id, origin: origin, reporter: reporter, hops: try reader.readUInt8())
        }
        try reader.expectEnd()
        return message
    }

    /// Decodes one message that fills `bytes` exactly.
    /// - Throws: ``WireError``.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> SpreadingMessage {
        try decode(bytes[...])
    }

    private static func encodePayload(_ payload: [UInt8], into writer: inout ByteWriter) throws(WireError) {
        guard payload.count <= SpreadingConstants.maximumWirePayload else {
            throw .unencodable("payload of \(payload.count) bytes")
        }
        writer.write(UInt16(payload.count))
        writer.write(bytes: payload)
    }

    private static func readPayload(_ reader: inout ByteReader) throws(WireError) -> [UInt8] {
        let length = Int(try reader.readUInt16())
        return Array(try reader.readBytes(length))
    }

    private static func encodeSignature(_ signature: [UInt8], into writer: inout ByteWriter) throws(WireError) {
        guard signature.count == SpreadingConstants.signatureSize else {
            throw .unencodable("signature of \(signature.count) bytes")
        }
        writer.write(bytes: signature)
    }

    private static func readSignature(_ reader: inout ByteReader) throws(WireError) -> [UInt8] {
        Array(try reader.readBytes(SpreadingConstants.signatureSize))
    }
}
