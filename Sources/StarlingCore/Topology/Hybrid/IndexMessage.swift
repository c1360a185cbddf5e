/// The kind of an index message: its first byte.
///
/// ONLY APPEND — values are protocol.
public enum IndexMessageKind: UInt8, CaseIterable, Sendable {
    /// A client registers its signed record (and so its services) for a lifetime.
    case register = 0x01
    /// An index server's answer to ``register``.
    case registered = 0x02
    /// A lookup of a peer's record.
    case findPeer = 0x03
    /// A query for the providers of a service.
    case findService = 0x04
    /// The answer to ``findPeer`` or ``findService``: the records found.
    case records = 0x05
    /// A request for the index servers the receiver knows.
    case listIndexes = 0x06
    /// The answer to ``listIndexes``: the responder first, then the others it knows.
    case indexes = 0x07
    /// An index server hands records it holds to a fellow that now holds one of their
    /// keys (a fellow was lost or came); no answer.
    case handoff = 0x08
}

/// What an index server did with a registration.
///
/// ONLY APPEND — values are protocol.
public enum IndexRegistrationStatus: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// Stored (or refreshed) under the peer and every service it lists.
    case stored = 0x00
    /// Stored under the peer, but some of its services already have the most providers
    /// the index server holds.
    case storedPartly = 0x01
    /// The record did not verify (signature, expiry, service names).
    case invalid = 0x02
    /// The index server holds a newer record of the peer.
    case stale = 0x03
    /// The index server holds the most registrations it accepts.
    case full = 0x04
    /// The source host holds the most registrations the index server accepts from one host.
    case hostFull = 0x05
    /// The source host (or all hosts together) registers faster than accepted.
    case rateLimited = 0x06

    /// Whether the record is held.
    public var isStored: Bool { self == .stored || self == .storedPartly }

    public var description: String {
        switch self {
        case .stored: "stored"
        case .storedPartly: "stored partly"
        case .invalid: "invalid"
        case .stale: "stale"
        case .full: "full"
        case .hostFull: "host full"
        case .rateLimited: "rate-limited"
        }
    }
}

/// An index server's entry in an index list: its peer ID and overlay address.
public struct IndexEntry: Hashable, Sendable {
    /// The index server's peer ID.
    public var id: PeerID
    /// Where it receives overlay datagrams.
    public var address: PeerAddress

    /// Creates an entry.
    public init(id: PeerID, address: PeerAddress) {
        self.id = id
        self.address = address
    }
}

/// A record an index server hands to a fellow (``IndexMessage/handoff(request:records:)``),
/// with the lifetime its registration has left.
public struct HandedRecord: Equatable, Sendable {
    /// Seconds the registration has left.
    public var lifetime: UInt16
    /// The record, as its owner registered it.
    public var record: SignedPeerRecord

    /// Creates a handed record.
    public init(lifetime: UInt16, record: SignedPeerRecord) {
        self.lifetime = lifetime
        self.record = record
    }

    /// Bytes it takes in a `handoff`.
    var encodedSize: Int { 2 + record.body.count + record.signature.count }
}

/// A message between a hybrid client and an index server (overlay protocol `0x05`).
///
/// ### Wire format
/// Every message starts with its ``IndexMessageKind`` byte, then a 4-byte request ID
/// that the answer repeats. Integers are big-endian; peer IDs are 32 raw bytes; a
/// signed record is a ``SignedPeerRecord``'s bytes (self-delimiting); an address is
/// family (4 or 6) ‖ host (4 or 16 bytes) ‖ port u16; a service is a length byte and
/// 1–32 bytes of UTF-8.
/// ```
/// register     01 | request u32 | lifetime u16 (s) | signed record
/// registered   02 | request u32 | status u8 | lifetime u16 (s)
/// findPeer     03 | request u32 | peer id
/// findService  04 | request u32 | service
/// records      05 | request u32 | count u8 | signed record × count
/// listIndexes  06 | request u32 | flags u8
/// indexes      07 | request u32 | members u32 | count u8 | (peer id | address) × count
/// handoff      08 | request u32 (0) | count u8 | (lifetime left u16 (s) | signed record) × count
/// ```
/// `listIndexes` flag bit 0: the asker is an index server itself (the receiver then
/// asks it back and lists it). An `indexes` answer's `members` is the number of members
/// the responder holds (itself included) when it is an index server, 0 otherwise: clients
/// of a large swarm hold a partial view (``HybridConfiguration/clientViewThreshold``) by
/// the count. A `records` answer holds at most
/// ``HybridConstants/maximumRecordsPerAnswer`` records, a `handoff` 1 to as many, and an
/// `indexes` answer at most
/// ``HybridConstants/maximumIndexes`` entries. A message must fill its datagram exactly.
///
/// Index servers pass records on unchanged: a client verifies every record it is given.
public enum IndexMessage: Equatable, Sendable {
    /// A registration of `record` for `lifetime` seconds.
    case register(request: UInt32, lifetime: UInt16, record: SignedPeerRecord)
    /// What happened to registration `request`, and the lifetime granted (seconds).
    case registered(request: UInt32, status: IndexRegistrationStatus, lifetime: UInt16)
    /// A lookup of `peer`.
    case findPeer(request: UInt32, peer: PeerID)
    /// A query for the providers of `service`.
    case findService(request: UInt32, service: String)
    /// The records found for `request`.
    case records(request: UInt32, records: [SignedPeerRecord])
    /// A request for the known index servers; `fromIndex` when the asker is one.
    case listIndexes(request: UInt32, fromIndex: Bool)
    /// The known index servers, the responder first, and the number of members the
    /// responder holds (0 from a client).
    case indexes(request: UInt32, members: UInt32, entries: [IndexEntry])
    /// Records handed over by a fellow index server, each held for its lifetime left.
    case handoff(request: UInt32, records: [HandedRecord])

    /// The message's kind.
    public var kind: IndexMessageKind {
        switch self {
        case .register: .register
        case .registered: .registered
        case .findPeer: .findPeer
        case .findService: .findService
        case .records: .records
        case .listIndexes: .listIndexes
        case .indexes: .indexes
        case .handoff: .handoff
        }
    }

    /// The request ID the message carries.
    public var request: UInt32 {
        switch self {
        case .register(let request, _, _), .registered(let request, _, _), .findPeer(let request, _),
            .findService(let request, _), .records(let request, _), .listIndexes(let request, _),
            .indexes(let request, _, _), .handoff(let request, _):
            request
        }
    }

    /// Bytes before a message's body: kind and request ID.
    public static let headerSize = 1 + HybridConstants.requestIDSize

    /// How many of the leading items of `sizes` (records of a `records` answer or a
    /// `handoff`, in bytes) one message carries: as many as fit one overlay message after
    /// the header and the count byte, at most ``HybridConstants/maximumRecordsPerAnswer``.
    static func fittingCount(_ sizes: some Sequence<Int>) -> Int {
        var size = headerSize + 1
        var count = 0
        for itemSize in sizes {
            size += itemSize
            guard size <= OverlayConstants.maximumMessageSize,
                count < HybridConstants.maximumRecordsPerAnswer
            else { break }
            count += 1
        }
        return count
    }

    /// Writes the message into `writer`.
    /// - Throws: ``WireError/unencodable(_:)`` for an invalid service name or a
    ///   list over its maximum.
    public func encode(into writer: inout ByteWriter) throws(WireError) {
        writer.write(kind.rawValue)
        writer.write(request)
        switch self {
        case .register(_, let lifetime, let record):
            writer.write(lifetime)
            writer.write(bytes: record.body)
            writer.write(bytes: record.signature)
        case .handoff(_, let records):
            guard (1...HybridConstants.maximumRecordsPerAnswer).contains(records.count) else {
                throw .unencodable("a handoff of \(records.count) records")
            }
            writer.write(UInt8(records.count))
            for handed in records {
                writer.write(handed.lifetime)
                writer.write(bytes: handed.record.body)
                writer.write(bytes: handed.record.signature)
            }
        case .registered(_, let status, let lifetime):
            writer.write(status.rawValue)
            writer.write(lifetime)
        case .findPeer(_, let peer):
            peer.write(into: &writer)
        case .findService(_, let service):
            guard PeerRecord.isValidServiceName(service) else { throw .unencodable("service name \(service)") }
            try writer.writeShortString(service, maximum: RecordConstants.maximumServiceNameLength)
        case .records(_, let records):
            guard records.count <= HybridConstants.maximumRecordsPerAnswer else {
                throw .unencodable("more than \(HybridConstants.maximumRecordsPerAnswer) records")
            }
            writer.write(UInt8(records.count))
            for record in records {
                writer.write(bytes: record.body)
                writer.write(bytes: record.signature)
            }
        case .listIndexes(_, let fromIndex):
            writer.write(fromIndex ? UInt8(1) : 0)
        case .indexes(_, let members, let entries):
            writer.write(members)
            guard entries.count <= HybridConstants.maximumIndexes else {
                throw .unencodable("more than \(HybridConstants.maximumIndexes) index entries")
            }
            writer.write(UInt8(entries.count))
            for entry in entries {
                RoutingContact(peerID: entry.id, address: entry.address).encode(into: &writer)
            }
        }
    }

    /// The message's bytes.
    public func encoded() throws(WireError) -> [UInt8] {
        var writer = ByteWriter(capacity: 128)
        try encode(into: &writer)
        return writer.bytes
    }

    /// Decodes a message that fills `bytes` exactly. Records are not verified.
    /// - Throws: ``WireError`` for an unknown kind, truncated, oversized, trailing or
    ///   invalid fields.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireError) -> IndexMessage {
        var reader = ByteReader(bytes)
        let kindByte = try reader.readUInt8()
        guard let kind = IndexMessageKind(rawValue: kindByte) else { throw .unknownMessageType(kindByte) }
        let request = try reader.readUInt32()
        let message: IndexMessage
        switch kind {
        case .register:
            let lifetime = try reader.readUInt16()
            message = .register(
                request: request, lifetime: lifetime, record: try SignedPeerRecord.decode(from: &reader))
        case .handoff:
            let offset = reader.offset
            let count = try reader.readCount(maximum: HybridConstants.maximumRecordsPerAnswer)
            guard count > 0 else { throw .invalidValue(offset: offset, field: "record count") }
            var records: [HandedRecord] = []
            records.reserveCapacity(count)
            for _ in 0..<count {
                let lifetime = try reader.readUInt16()
                records.append(HandedRecord(lifetime: lifetime, record: try SignedPeerRecord.decode(from: &reader)))
            }
            message = .handoff(request: request, records: records)
        case .registered:
            let offset = reader.offset
            guard let status = IndexRegistrationStatus(rawValue: try reader.readUInt8()) else {
                throw .invalidValue(offset: offset, field: "registration status")
            }
            message = .registered(request: request, status: status, lifetime: try reader.readUInt16())
        case .findPeer:
            message = .findPeer(request: request, peer: try reader.readPeerID())
        case .findService:
            let offset = reader.offset
            let service = try reader.readShortString(
                maximum: RecordConstants.maximumServiceNameLength, allowEmpty: false)
            guard PeerRecord.isValidServiceName(service) else { throw .invalidValue(offset: offset, field: "service") }
            message = .findService(request: request, service: service)
        case .records:
            let count = try reader.readCount(maximum: HybridConstants.maximumRecordsPerAnswer)
            var records: [SignedPeerRecord] = []
            records.reserveCapacity(count)
            for _ in 0..<count { records.append(try SignedPeerRecord.decode(from: &reader)) }
            message = .records(request: request, records: records)
        case .listIndexes:
            let offset = reader.offset
            let flags = try reader.readUInt8()
            guard flags & ~1 == 0 else { throw .invalidValue(offset: offset, field: "flags") }
            message = .listIndexes(request: request, fromIndex: flags == 1)
        case .indexes:
            let members = try reader.readUInt32()
            let count = try reader.readCount(maximum: HybridConstants.maximumIndexes)
            var entries: [IndexEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let contact = try RoutingContact.decode(from: &reader)
                entries.append(IndexEntry(id: contact.peerID, address: contact.address))
            }
            message = .indexes(request: request, members: members, entries: entries)
        }
        try reader.expectEnd()
        return message
    }
}
