/// The first byte of every routing message: what it is.
///
/// ONLY APPEND — values are protocol.
public enum RoutingMessageKind: UInt8, Sendable, CaseIterable {
    /// `PING`: are you alive? Answered by ``pong``.
    case ping = 0x01
    /// `PONG`: the reply to ``ping``.
    case pong = 0x02
    /// `FIND_NODE`: which `k` peers do you know closest to this key? Answered by ``nodes``.
    case findNode = 0x03
    /// `NODES`: the reply to ``findNode``.
    case nodes = 0x04
    /// `FIND_VALUE` for a peer record: give me this peer's signed record, or closer
    /// peers. Answered by ``value``.
    case findValue = 0x05
    /// `VALUE`: the reply to ``findValue``.
    case value = 0x06
    /// `GET_PROVIDERS`: which peers provide this service, and who is closer to it?
    /// Answered by ``providers``.
    case getProviders = 0x07
    /// `PROVIDERS`: the reply to ``getProviders``.
    case providers = 0x08
    /// `ADD_PROVIDER`: store this signed provider record. Answered by ``addProviderAck``.
    case addProvider = 0x09
    /// `ADD_PROVIDER_ACK`: the reply to ``addProvider``.
    case addProviderAck = 0x0A
    /// `PROVE`: prove that you own your peer ID and receive at this address. Answered
    /// by ``proof``.
    case prove = 0x0B
    /// `PROOF`: the reply to ``prove``, a signature by the sender's peer ID.
    case proof = 0x0C
    /// `FIND_NAME`: give me the name chain stored at this key, or closer peers.
    /// Answered by ``name``.
    case findName = 0x0D
    /// `NAME`: the reply to ``findName``.
    case name = 0x0E
    /// `STORE_NAME`: store this name chain at its key. Answered by ``storeNameAck``.
    case storeName = 0x0F
    /// `STORE_NAME_ACK`: the reply to ``storeName``.
    case storeNameAck = 0x10
}

/// One Kademlia routing message.
///
/// ### Wire form
/// All integers big-endian. Every message starts with the header:
///
/// | bytes | field |
/// |-------|-------|
/// | 1 | ``RoutingMessageKind`` |
/// | 8 | request ID: chosen by the requester, echoed by the reply |
/// | 32 | the sender's peer ID |
///
/// then a body per kind (a *contact list* is a count byte, at most 20, then that many
/// ``RoutingContact`` wire forms; a *record* is a 2-byte length then a
/// ``SignedPeerRecord`` exactly as signed; a *service* is a length byte, 1 to 32, then
/// the name):
///
/// | kind | body |
/// |------|------|
/// | `PING`, `PONG` | empty |
/// | `FIND_NODE` | target key (32) |
/// | `NODES` | contact list |
/// | `FIND_VALUE` | target peer ID (32) |
/// | `VALUE` | flag (1: 0 or 1), record if the flag is 1, contact list |
/// | `GET_PROVIDERS` | service |
/// | `PROVIDERS` | record count (1, at most 8), records, contact list |
/// | `FIND_NAME` | target key (32) |
/// | `NAME` | flag (1: 0 or 1), ``NameChain`` if the flag is 1, contact list |
/// | `STORE_NAME` | ``NameChain`` |
/// | `STORE_NAME_ACK` | stored (1: 0 or 1) |
/// | `ADD_PROVIDER` | service, record |
/// | `ADD_PROVIDER_ACK` | stored (1: 0 or 1) |
/// | `PROVE` | nonce (32), the address it was sent to (family 1, host 4 or 16, port 2), zero bytes up to 112 bytes in all |
/// | `PROOF` | Ed25519 signature (64) of ``RoutingProof/signedBytes(nonce:address:challenger:)`` |
///
/// A provider record is the provider's own ``SignedPeerRecord`` listing the service:
/// peers store and pass it on unchanged, never vouching for it. The sender's peer ID is
/// a claim until the message travels inside an authenticated session.
public struct RoutingMessage: Hashable, Sendable {
    /// What a message carries, by kind.
    public enum Body: Hashable, Sendable {
        /// `PING`.
        case ping
        /// `PONG`.
        case pong
        /// `FIND_NODE` for `target`.
        case findNode(target: RoutingKey)
        /// `NODES`: the contacts closest to the requested target.
        case nodes([RoutingContact])
        /// `FIND_VALUE` for `target`'s signed record.
        case findValue(target: PeerID)
        /// `VALUE`: the record when the responder has it, and closer contacts.
        case value(record: SignedPeerRecord?, closer: [RoutingContact])
        /// `GET_PROVIDERS` for `service`.
        case getProviders(service: String)
        /// `PROVIDERS`: stored provider records and closer contacts.
        case providers(records: [SignedPeerRecord], closer: [RoutingContact])
        /// `ADD_PROVIDER`: store `record` as a provider of `service`.
        case addProvider(service: String, record: SignedPeerRecord)
        /// `ADD_PROVIDER_ACK`: whether the record was stored.
        case addProviderAck(stored: Bool)
        /// `PROVE`: a challenge of ``RoutingConstants/proofNonceSize`` random bytes, sent
        /// to `address`.
        case prove(nonce: [UInt8], address: PeerAddress)
        /// `PROOF`: the sender's signature over the challenge.
        case proof(signature: [UInt8])
        /// `FIND_NAME` for the chain stored at `target`.
        case findName(target: RoutingKey)
        /// `NAME`: the chain when the responder holds it, and closer contacts.
        case name(chain: NameChain?, closer: [RoutingContact])
        /// `STORE_NAME`: store `chain` at its key.
        case storeName(chain: NameChain)
        /// `STORE_NAME_ACK`: whether the chain was stored.
        case storeNameAck(stored: Bool)

        /// The body's kind.
        public var kind: RoutingMessageKind {
            switch self {
            case .ping: .ping
            case .pong: .pong
            case .findNode: .findNode
            case .nodes: .nodes
            case .findValue: .findValue
            case .value: .value
            case .getProviders: .getProviders
            case .providers: .providers
            case .addProvider: .addProvider
            case .addProviderAck: .addProviderAck
            case .prove: .prove
            case .proof: .proof
            case .findName: .findName
            case .name: .name
            case .storeName: .storeName
            case .storeNameAck: .storeNameAck
            }
        }

        /// Whether this is a reply (its request ID answers an earlier request).
        public var isResponse: Bool {
            switch self {
            case .pong, .nodes, .value, .providers, .addProviderAck, .proof, .name, .storeNameAck: true
            case .ping, .findNode, .findValue, .getProviders, .addProvider, .prove, .findName, .storeName: false
            }
        }
    }

    /// Matches a reply to its request.
    public var requestID: UInt64
    /// Who sent the message (a claim; see the type's discussion).
    public var sender: PeerID
    /// The kind and its fields.
    public var body: Body

    /// Creates a message.
    public init(requestID: UInt64, sender: PeerID, body: Body) {
        self.requestID = requestID
        self.sender = sender
        self.body = body
    }

    /// The message's bytes.
    /// - Throws: ``WireError/unencodable(_:)`` for too many contacts or records, an
    ///   invalid service name, or an oversized record.
    public func encode() throws(WireError) -> [UInt8] {
        var writer = ByteWriter(capacity: 256)
        writer.write(body.kind.rawValue)
        writer.write(requestID)
        sender.write(into: &writer)
        switch body {
        case .ping, .pong:
            break
        case .findNode(let target):
            target.write(into: &writer)
        case .nodes(let contacts):
            try Self.write(contacts, into: &writer)
        case .findValue(let target):
            target.write(into: &writer)
        case .value(let record, let closer):
            writer.write(UInt8(record == nil ? 0 : 1))
            if let record { try Self.write(record, into: &writer) }
            try Self.write(closer, into: &writer)
        case .getProviders(let service):
            try Self.write(service: service, into: &writer)
        case .providers(let records, let closer):
            guard records.count <= RoutingConstants.maximumProvidersPerMessage else {
                throw .unencodable(
                    "\(records.count) provider records; at most \(RoutingConstants.maximumProvidersPerMessage)")
            }
            writer.write(UInt8(records.count))
            for record in records { try Self.write(record, into: &writer) }
            try Self.write(closer, into: &writer)
        case .addProvider(let service, let record):
            try Self.write(service: service, into: &writer)
            try Self.write(record, into: &writer)
        case .addProviderAck(let stored):
            writer.write(UInt8(stored ? 1 : 0))
        case .prove(let nonce, let address):
            guard nonce.count == RoutingConstants.proofNonceSize else {
                throw .unencodable("nonce of \(nonce.count) bytes; exactly \(RoutingConstants.proofNonceSize)")
            }
            writer.write(bytes: nonce)
            RoutingContact.encode(address, into: &writer)
            writer.write(bytes: [UInt8](repeating: 0, count: RoutingConstants.proveMessageSize - writer.bytes.count))
        case .proof(let signature):
            guard signature.count == IdentityKeyPair.signatureSize else {
                throw .unencodable("signature of \(signature.count) bytes; exactly \(IdentityKeyPair.signatureSize)")
            }
            writer.write(bytes: signature)
        case .findName(let target):
            target.write(into: &writer)
        case .name(let chain, let closer):
            writer.write(UInt8(chain == nil ? 0 : 1))
            try chain?.encode(into: &writer)
            try Self.write(closer, into: &writer)
        case .storeName(let chain):
            try chain.encode(into: &writer)
        case .storeNameAck(let stored):
            writer.write(UInt8(stored ? 1 : 0))
        }
        return writer.bytes
    }

    /// Decodes a message that fills `bytes` exactly. Records are not verified.
    /// - Throws: ``WireError`` for an unknown kind, truncation, trailing bytes, bad
    ///   fields, or more than ``RoutingConstants/maximumMessageSize`` bytes.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireError) -> RoutingMessage {
        guard bytes.count <= RoutingConstants.maximumMessageSize else {
            throw .lengthTooLarge(offset: 0, length: bytes.count, maximum: RoutingConstants.maximumMessageSize)
        }
        var reader = ByteReader(bytes)
        let rawKind = try reader.readUInt8()
        guard let kind = RoutingMessageKind(rawValue: rawKind) else { throw .unknownMessageType(rawKind) }
        let requestID = try reader.readUInt64()
        let sender = try reader.readPeerID()
        let body: Body
        switch kind {
        case .ping: body = .ping
        case .pong: body = .pong
        case .findNode:
            let raw = try reader.readBytes(RoutingConstants.keySize)
            body = .findNode(target: RoutingKey(bytes: raw) ?? .zero)
        case .nodes: body = .nodes(try readContacts(from: &reader))
        case .findValue: body = .findValue(target: try reader.readPeerID())
        case .value:
            let flagOffset = reader.offset
            let record: SignedPeerRecord?
            switch try reader.readUInt8() {
            case 0: record = nil
            case 1: record = try readRecord(from: &reader)
            default: throw .invalidValue(offset: flagOffset, field: "record flag")
            }
            body = .value(record: record, closer: try readContacts(from: &reader))
        case .getProviders: body = .getProviders(service: try readService(from: &reader))
        case .providers:
            let count = try reader.readCount(maximum: RoutingConstants.maximumProvidersPerMessage)
            var records: [SignedPeerRecord] = []
            for _ in 0..<count { records.append(try readRecord(from: &reader)) }
            body = .providers(records: records, closer: try readContacts(from: &reader))
        case .addProvider:
            let service = try readService(from: &reader)
            body = .addProvider(service: service, record: try readRecord(from: &reader))
        case .addProviderAck: body = .addProviderAck(stored: try readFlag(from: &reader, field: "stored flag"))
        case .findName:
            let raw = try reader.readBytes(RoutingConstants.keySize)
            body = .findName(target: RoutingKey(bytes: raw) ?? .zero)
        case .name:
            let chain =
                try readFlag(from: &reader, field: "chain flag") ? try NameChain.decode(from: &reader) : nil
            body = .name(chain: chain, closer: try readContacts(from: &reader))
        case .storeName: body = .storeName(chain: try NameChain.decode(from: &reader))
        case .storeNameAck: body = .storeNameAck(stored: try readFlag(from: &reader, field: "stored flag"))
        case .prove:
            let nonce = Array(try reader.readBytes(RoutingConstants.proofNonceSize))
            let address = try RoutingContact.decodeAddress(from: &reader)
            let paddingOffset = reader.offset
            let padding = try reader.readBytes(RoutingConstants.proveMessageSize - paddingOffset)
            guard padding.allSatisfy({ $0 == 0 }) else { throw .invalidValue(offset: paddingOffset, field: "padding") }
            body = .prove(nonce: nonce, address: address)
        case .proof:
            body = .proof(signature: Array(try reader.readBytes(IdentityKeyPair.signatureSize)))
        }
        try reader.expectEnd()
        return RoutingMessage(requestID: requestID, sender: sender, body: body)
    }

    private static func write(_ contacts: [RoutingContact], into writer: inout ByteWriter) throws(WireError) {
        guard contacts.count <= RoutingConstants.maximumContactsPerMessage else {
            throw .unencodable("\(contacts.count) contacts; at most \(RoutingConstants.maximumContactsPerMessage)")
        }
        writer.write(UInt8(contacts.count))
        for contact in contacts { contact.encode(into: &writer) }
    }

    private static func write(_ record: SignedPeerRecord, into writer: inout ByteWriter) throws(WireError) {
        let encoded = record.encoded
        guard encoded.count <= RecordConstants.maximumSignedSize else {
            throw .unencodable("record of \(encoded.count) bytes; at most \(RecordConstants.maximumSignedSize)")
        }
        writer.write(UInt16(encoded.count))
        writer.write(bytes: encoded)
    }

    private static func write(service: String, into writer: inout ByteWriter) throws(WireError) {
        guard PeerRecord.isValidServiceName(service) else { throw .unencodable("invalid service name \"\(service)\"") }
        try writer.writeShortString(service, maximum: RecordConstants.maximumServiceNameLength)
    }

    private static func readFlag(from reader: inout ByteReader, field: String) throws(WireError) -> Bool {
        let offset = reader.offset
        let flag = try reader.readUInt8()
        guard flag <= 1 else { throw .invalidValue(offset: offset, field: field) }
        return flag == 1
    }

    private static func readContacts(from reader: inout ByteReader) throws(WireError) -> [RoutingContact] {
        let count = try reader.readCount(maximum: RoutingConstants.maximumContactsPerMessage)
        var contacts: [RoutingContact] = []
        contacts.reserveCapacity(count)
        for _ in 0..<count { contacts.append(try RoutingContact.decode(from: &reader)) }
        return contacts
    }

    private static func readRecord(from reader: inout ByteReader) throws(WireError) -> SignedPeerRecord {
        let lengthOffset = reader.offset
        let length = Int(try reader.readUInt16())
        guard length <= RecordConstants.maximumSignedSize else {
            throw .lengthTooLarge(offset: lengthOffset, length: length, maximum: RecordConstants.maximumSignedSize)
        }
        return try SignedPeerRecord.decode(try reader.readBytes(length))
    }

    private static func readService(from reader: inout ByteReader) throws(WireError) -> String {
        let offset = reader.offset
        let name = try reader.readShortString(maximum: RecordConstants.maximumServiceNameLength, allowEmpty: false)
        guard PeerRecord.isValidServiceName(name) else { throw .invalidString(offset: offset) }
        return name
    }
}
