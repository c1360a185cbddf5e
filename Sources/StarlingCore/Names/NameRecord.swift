/// One label's record in one zone, signed by the zone's key: either a delegation of the
/// label to another key's zone, or the label's data.
///
/// ### Purpose
/// A record is the unit of ownership: only the zone's key can sign it, and of two valid
/// records for the same zone and label the one with the higher ``sequence`` wins, so
/// nobody can forge one or roll it back to an older one it has seen. ``expiresAt``
/// bounds how long an old record can be replayed to a resolver that never saw a newer
/// one; ``ttl`` is how long resolvers may cache it.
///
/// The encoding is `docs/PROTOCOL.md`, "Name records".
public struct NameRecord: Hashable, Sendable {
    /// What a record says.
    public enum Content: Hashable, Sendable {
        /// The label is a zone of its own, owned by this key.
        case delegation(PeerID)
        /// The label's data.
        case data(NameData)
    }

    /// The zone's key: the only key that may sign the record.
    public var zone: PeerID
    /// The label within the zone; empty for the zone's apex (the data of the zone's own name).
    public var label: String
    /// Grows with every new record the owner issues for this label.
    public var sequence: UInt64
    /// After this wall-clock time the record is no longer valid.
    public var expiresAt: UnixTime
    /// How long a resolver may cache the record, in seconds.
    public var ttl: UInt32
    /// A delegation or data.
    public var content: Content

    /// Creates a record.
    public init(zone: PeerID, label: String, sequence: UInt64, expiresAt: UnixTime, ttl: UInt32, content: Content) {
        self.zone = zone
        self.label = label
        self.sequence = sequence
        self.expiresAt = expiresAt
        self.ttl = ttl
        self.content = content
    }

    /// Signs the record with its zone's key.
    /// - Throws: ``NameError/notOwner(_:)`` when `keyPair` is not the zone's key, or
    ///   ``NameError/invalidData(_:)`` when the record breaks a wire limit.
    public func sign(with keyPair: IdentityKeyPair) throws(NameError) -> SignedNameRecord {
        guard keyPair.peerID == zone else { throw .notOwner(label) }
        var writer = ByteWriter(capacity: 256)
        do {
            try encodeBody(into: &writer)
        } catch {
            throw .invalidData("\(error)")
        }
        let body = writer.bytes
        return SignedNameRecord(record: self, body: body, signature: keyPair.sign(NameConstants.signatureDomain + body))
    }

    /// Appends the body (everything the signature covers, less the domain).
    func encodeBody(into writer: inout ByteWriter) throws(WireError) {
        guard label.isEmpty || OverlayName.isValidLabel(label) else { throw .unencodable("bad label \"\(label)\"") }
        writer.write(NameConstants.formatVersion)
        zone.write(into: &writer)
        try writer.writeShortString(label, maximum: NameConstants.maximumLabelLength)
        writer.write(sequence)
        writer.write(expiresAt.seconds)
        writer.write(ttl)
        switch content {
        case .delegation(let child):
            writer.write(NameConstants.kindDelegation)
            child.write(into: &writer)
        case .data(let data):
            writer.write(NameConstants.kindData)
            try data.encode(into: &writer)
        }
    }

    /// Reads a body; the reader must then be at the signature.
    static func decodeBody(from reader: inout ByteReader) throws(WireError) -> NameRecord {
        let versionOffset = reader.offset
        guard try reader.readUInt8() == NameConstants.formatVersion else {
            throw .invalidValue(offset: versionOffset, field: "name record format version")
        }
        let zone = try reader.readPeerID()
        let labelOffset = reader.offset
        let label = try reader.readShortString(maximum: NameConstants.maximumLabelLength)
        guard label.isEmpty || OverlayName.isValidLabel(label) else {
            throw .invalidValue(offset: labelOffset, field: "label")
        }
        let sequence = try reader.readUInt64()
        let expiresAt = UnixTime(seconds: try reader.readUInt64())
        let ttl = try reader.readUInt32()
        let kindOffset = reader.offset
        let content: Content
        switch try reader.readUInt8() {
        case NameConstants.kindDelegation: content = .delegation(try reader.readPeerID())
        case NameConstants.kindData: content = .data(try NameData.decode(from: &reader))
        default: throw .invalidValue(offset: kindOffset, field: "name record kind")
        }
        return NameRecord(
            zone: zone, label: label, sequence: sequence, expiresAt: expiresAt, ttl: ttl, content: content)
    }
}

/// What a name stands for: a peer, where to reach it, what it offers, and text.
public struct NameData: Hashable, Sendable {
    /// The peer the name stands for, if any.
    public var peer: PeerID?
    /// Addresses, most preferred first (at most ``NameConstants/maximumAddresses``).
    public var addresses: [PeerAddress]
    /// Service names (``PeerRecord/isValidServiceName(_:)``; at most
    /// ``NameConstants/maximumServices``).
    public var services: [String]
    /// Key and value pairs, in order (at most ``NameConstants/maximumTextEntries``).
    public var text: [NameText]

    /// Creates data.
    public init(peer: PeerID? = nil, addresses: [PeerAddress] = [], services: [String] = [], text: [NameText] = []) {
        self.peer = peer
        self.addresses = addresses
        self.services = services
        self.text = text
    }

    /// Checks the wire limits: at most ``NameConstants/maximumAddresses`` addresses,
    /// ``NameConstants/maximumServices`` valid service names and
    /// ``NameConstants/maximumTextEntries`` text entries, with keys and values within
    /// their lengths.
    /// - Throws: ``NameError/invalidData(_:)`` naming the first problem.
    public func validate() throws(NameError) {
        var writer = ByteWriter()
        do {
            try encode(into: &writer)
        } catch {
            throw .invalidData("\(error)")
        }
    }

    func encode(into writer: inout ByteWriter) throws(WireError) {
        guard addresses.count <= NameConstants.maximumAddresses else {
            throw .unencodable("\(addresses.count) addresses; at most \(NameConstants.maximumAddresses)")
        }
        guard services.count <= NameConstants.maximumServices else {
            throw .unencodable("\(services.count) services; at most \(NameConstants.maximumServices)")
        }
        guard text.count <= NameConstants.maximumTextEntries else {
            throw .unencodable("\(text.count) text entries; at most \(NameConstants.maximumTextEntries)")
        }
        if let bad = services.first(where: { !PeerRecord.isValidServiceName($0) }) {
            throw .unencodable("invalid service name \"\(bad)\"")
        }
        writer.write(UInt8(peer == nil ? 0 : 1))
        peer?.write(into: &writer)
        writer.write(UInt8(addresses.count))
        for address in addresses { RoutingContact.encode(address, into: &writer) }
        writer.write(UInt8(services.count))
        for service in services {
            try writer.writeShortString(service, maximum: RecordConstants.maximumServiceNameLength)
        }
        writer.write(UInt8(text.count))
        for entry in text {
            guard !entry.key.isEmpty else { throw .unencodable("empty text key") }
            try writer.writeShortString(entry.key, maximum: NameConstants.maximumTextKeyLength)
            try writer.writeShortString(entry.value, maximum: NameConstants.maximumTextValueLength)
        }
    }

    static func decode(from reader: inout ByteReader) throws(WireError) -> NameData {
        let flagOffset = reader.offset
        let peer: PeerID?
        switch try reader.readUInt8() {
        case 0: peer = nil
        case 1: peer = try reader.readPeerID()
        default: throw .invalidValue(offset: flagOffset, field: "peer flag")
        }
        let addressCount = try reader.readCount(maximum: NameConstants.maximumAddresses)
        var addresses: [PeerAddress] = []
        for _ in 0..<addressCount { addresses.append(try RoutingContact.decodeAddress(from: &reader)) }
        let serviceCount = try reader.readCount(maximum: NameConstants.maximumServices)
        var services: [String] = []
        for _ in 0..<serviceCount {
            let offset = reader.offset
            let service = try reader.readShortString(maximum: RecordConstants.maximumServiceNameLength)
            guard PeerRecord.isValidServiceName(service) else { throw .invalidValue(offset: offset, field: "service") }
            services.append(service)
        }
        let textCount = try reader.readCount(maximum: NameConstants.maximumTextEntries)
        var text: [NameText] = []
        for _ in 0..<textCount {
            let key = try reader.readShortString(maximum: NameConstants.maximumTextKeyLength, allowEmpty: false)
            let value = try reader.readShortString(maximum: NameConstants.maximumTextValueLength)
            text.append(NameText(key: key, value: value))
        }
        return NameData(peer: peer, addresses: addresses, services: services, text: text)
    }
}

/// One text entry of a name's data.
public struct NameText: Hashable, Sendable {
    /// The key: 1 to ``NameConstants/maximumTextKeyLength`` bytes of UTF-8.
    public var key: String
    /// The value: up to ``NameConstants/maximumTextValueLength`` bytes of UTF-8.
    public var value: String

    /// Creates an entry.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
