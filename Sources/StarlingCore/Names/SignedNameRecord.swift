/// A ``NameRecord`` with its zone's Ed25519 signature, exactly as it travels.
///
/// Decoding only checks the structure; ``verify(now:)`` checks the signature over the
/// exact received bytes and the expiry. Wire form (`docs/PROTOCOL.md`, "Name records"):
/// the body, then a 64-byte signature over `"starling/name-record/v1" 0x00 || body`.
public struct SignedNameRecord: Hashable, Sendable {
    /// The decoded record.
    public let record: NameRecord
    /// The body bytes exactly as signed.
    public let body: [UInt8]
    /// The Ed25519 signature.
    public let signature: [UInt8]

    init(record: NameRecord, body: [UInt8], signature: [UInt8]) {
        self.record = record
        self.body = body
        self.signature = signature
    }

    /// The signed record's bytes: body then signature.
    public var encoded: [UInt8] { body + signature }

    /// Decodes a signed record at the reader's position. Does not verify it.
    public static func decode(from reader: inout ByteReader) throws(WireError) -> SignedNameRecord {
        let start = reader.offset
        let record = try NameRecord.decodeBody(from: &reader)
        let body = Array(reader.bytes[(reader.bytes.startIndex + start)..<(reader.bytes.startIndex + reader.offset)])
        let signature = Array(try reader.readBytes(IdentityKeyPair.signatureSize))
        return SignedNameRecord(record: record, body: body, signature: signature)
    }

    /// Checks the signature under the zone's key and the expiry.
    ///
    /// - Parameters:
    ///   - now: the current wall-clock time.
    ///   - name: the name the record is for, for the error.
    /// - Throws: ``NameError/forged(_:)`` for a bad signature or an expiry beyond
    ///   ``NameConstants/maximumLifetime``, ``NameError/expired(_:)`` once expired.
    public func verify(now: UnixTime, name: String) throws(NameError) {
        guard record.zone.verify(signature: signature, of: NameConstants.signatureDomain + body) else {
            throw .forged("bad signature on \(name)")
        }
        guard record.expiresAt > now else { throw .expired(name) }
        guard record.expiresAt <= now + NameConstants.maximumLifetime else {
            throw .forged("expiry of \(name) too far ahead")
        }
    }
}
