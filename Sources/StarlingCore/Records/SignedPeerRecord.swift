/// A ``PeerRecord`` with its owner's Ed25519 signature, exactly as it travels.
///
/// ### Purpose
/// Decoding (``decode(_:)``) only checks the structure; ``verify(now:expecting:)``
/// checks the signature over the exact received bytes, the expiry, and optionally who
/// signed. Only a verified record should change any state.
///
/// Wire form (`docs/PROTOCOL.md`, "Peer record"): the body, then a 64-byte signature
/// over `"starling/peer-record/v1" 0x00 || body`.
public struct SignedPeerRecord: Hashable, Sendable {
    /// The decoded record.
    public let record: PeerRecord
    /// The body bytes exactly as signed.
    public let body: [UInt8]
    /// The Ed25519 signature.
    public let signature: [UInt8]

    init(record: PeerRecord, body: [UInt8], signature: [UInt8]) {
        self.record = record
        self.body = body
        self.signature = signature
    }

    /// The signed record's bytes: body then signature.
    public var encoded: [UInt8] { body + signature }

    /// The record as a whole datagram: header (``MessageType/peerRecord``) then
    /// ``encoded``.
    public var datagram: [UInt8] {
        var writer = ByteWriter(capacity: DatagramHeader.size + body.count + signature.count)
        DatagramHeader(type: .peerRecord).encode(into: &writer)
        writer.write(bytes: body)
        writer.write(bytes: signature)
        return writer.bytes
    }

    /// Decodes a signed record that fills `bytes` exactly. Does not verify it.
    /// - Throws: ``WireError`` for truncated, oversized, trailing or invalid fields.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireError) -> SignedPeerRecord {
        var reader = ByteReader(bytes)
        let signed = try decode(from: &reader)
        try reader.expectEnd()
        return signed
    }

    /// Decodes a signed record at the reader's position. Does not verify it.
    public static func decode(from reader: inout ByteReader) throws(WireError) -> SignedPeerRecord {
        let start = reader.offset
        let record = try PeerRecord.decodeBody(from: &reader)
        let body = Array(reader.bytes[(reader.bytes.startIndex + start)..<(reader.bytes.startIndex + reader.offset)])
        let signature = Array(try reader.readBytes(IdentityKeyPair.signatureSize))
        return SignedPeerRecord(record: record, body: body, signature: signature)
    }

    /// Decodes a whole datagram holding a signed record. Does not verify it.
    /// - Throws: ``WireError``, including ``WireError/unknownMessageType(_:)`` when the
    ///   datagram holds another message.
    public static func decodeDatagram(_ bytes: [UInt8]) throws(WireError) -> SignedPeerRecord {
        var reader = ByteReader(bytes)
        let header = try DatagramHeader.decode(from: &reader)
        guard header.type == .peerRecord else { throw .unknownMessageType(header.type.rawValue) }
        let signed = try decode(from: &reader)
        try reader.expectEnd()
        return signed
    }

    /// Checks the signature, the expiry and, optionally, the signer.
    ///
    /// - Parameters:
    ///   - now: the current wall-clock time (passed in; the core reads no clock).
    ///   - expected: when set, the peer the record must belong to.
    /// - Returns: the verified record.
    /// - Throws: ``RecordError``.
    @discardableResult
    public func verify(now: UnixTime, expecting expected: PeerID? = nil) throws(RecordError) -> PeerRecord {
        if let expected, expected != record.peerID {
            throw .wrongSigner(expected: expected, actual: record.peerID)
        }
        guard record.peerID.verify(signature: signature, of: RecordConstants.signatureDomain + body) else {
            throw .badSignature
        }
        guard record.expiresAt > now else { throw .expired(expiresAt: record.expiresAt, now: now) }
        let limit = now + RecordConstants.maximumLifetime
        guard record.expiresAt <= limit else { throw .expiryTooFar(expiresAt: record.expiresAt, limit: limit) }
        return record
    }
}
