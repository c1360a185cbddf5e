/// The payload of a discovery datagram, before any sealing.
///
/// Wire form (`docs/PROTOCOL.md`, "LAN discovery"): a beacon is the sender's signed
/// record; a query is the wanted peer ID then the asker's signed record; an answer is
/// the wanted peer's signed record. Decoding checks structure only; records are
/// verified by whoever stores them.
public enum DiscoveryMessage: Hashable, Sendable {
    /// "Here I am": the sender's own signed record.
    case beacon(SignedPeerRecord)
    /// "Who has `wanted`?": carries the asker's record so the answer can come back by unicast.
    case whoHas(wanted: PeerID, asker: SignedPeerRecord)
    /// "Here is its record": the wanted peer's signed record, passed on unchanged.
    case iHave(SignedPeerRecord)

    /// The datagram type that carries this message.
    public var type: MessageType {
        switch self {
        case .beacon: .beacon
        case .whoHas: .whoHas
        case .iHave: .iHave
        }
    }

    /// Appends the payload (no header, no mode) to `writer`.
    public func encodePayload(into writer: inout ByteWriter) {
        switch self {
        case .beacon(let record), .iHave(let record):
            writer.write(bytes: record.encoded)
        case .whoHas(let wanted, let asker):
            writer.write(bytes: wanted.bytes)
            writer.write(bytes: asker.encoded)
        }
    }

    /// Decodes a payload of `type` that fills `reader` exactly.
    /// - Parameters:
    ///   - type: ``MessageType/beacon``, ``MessageType/whoHas`` or ``MessageType/iHave``.
    ///   - reader: positioned at the payload.
    /// - Returns: the message.
    /// - Throws: ``WireError``, ``WireError/unknownMessageType(_:)`` for any other type.
    public static func decodePayload(type: MessageType, from reader: inout ByteReader) throws(WireError)
        -> DiscoveryMessage
    {
        let message: DiscoveryMessage
        switch type {
        case .beacon:
            message = .beacon(try SignedPeerRecord.decode(from: &reader))
        case .iHave:
            message = .iHave(try SignedPeerRecord.decode(from: &reader))
        case .whoHas:
            let offset = reader.offset
            let bytes = try reader.readBytes(Key32.size)
            guard let wanted = try? PeerID(bytes: bytes) else {
                throw .invalidValue(offset: offset, field: "wanted peer ID")
            }
            message = .whoHas(wanted: wanted, asker: try SignedPeerRecord.decode(from: &reader))
        default:
            throw .unknownMessageType(type.rawValue)
        }
        try reader.expectEnd()
        return message
    }
}
