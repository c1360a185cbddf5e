/// What a peer says about itself: where to reach it and what it offers.
///
/// ### Purpose
/// A record is signed by its owner (``sign(with:)``) and then passed on unchanged by
/// discovery, index servers and super-peers, which never vouch for it. Of two valid
/// records for one peer, the one with the higher ``sequence`` wins
/// (``supersedes(_:)``).
///
/// The encoding is `docs/PROTOCOL.md`, "Peer record".
public struct PeerRecord: Hashable, Sendable {
    /// The peer the record describes, and the only key that may sign it.
    public var peerID: PeerID
    /// Grows with every new record the peer issues.
    public var sequence: UInt64
    /// After this wall-clock time the record is no longer valid.
    public var expiresAt: UnixTime
    /// Addresses the peer can be reached at, most preferred first.
    public var addresses: [PeerAddress]
    /// Names of the services the peer provides (`[a-z0-9._-]`, 1 to 32 bytes).
    public var services: [String]

    /// Creates a record.
    public init(
        peerID: PeerID, sequence: UInt64, expiresAt: UnixTime, addresses: [PeerAddress] = [],
        services: [String] = []
    ) {
        self.peerID = peerID
        self.sequence = sequence
        self.expiresAt = expiresAt
        self.addresses = addresses
        self.services = services
    }

    /// Whether this record replaces `other`: same peer, higher sequence number.
    public func supersedes(_ other: PeerRecord) -> Bool {
        peerID == other.peerID && sequence > other.sequence
    }

    /// Whether `name` is a valid service name: 1 to 32 bytes of `a-z`, `0-9`, `.`, `_`, `-`.
    public static func isValidServiceName(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard (1...RecordConstants.maximumServiceNameLength).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }

    /// Signs the record with its owner's key.
    /// - Throws: ``RecordError/wrongSigner(expected:actual:)`` when `keyPair` is not
    ///   the record's peer, or ``RecordError/malformed(_:)`` when the record breaks a
    ///   wire limit.
    public func sign(with keyPair: IdentityKeyPair) throws(RecordError) -> SignedPeerRecord {
        guard keyPair.peerID == peerID else { throw .wrongSigner(expected: peerID, actual: keyPair.peerID) }
        var writer = ByteWriter(capacity: RecordConstants.maximumSignedSize)
        do {
            try encodeBody(into: &writer)
        } catch {
            throw .malformed(error)
        }
        let body = writer.bytes
        let signature = keyPair.sign(RecordConstants.signatureDomain + body)
        return SignedPeerRecord(record: self, body: body, signature: signature)
    }

    /// Appends the record body (everything the signature covers, less the domain).
    func encodeBody(into writer: inout ByteWriter) throws(WireError) {
        guard addresses.count <= RecordConstants.maximumAddresses else {
            throw .unencodable("\(addresses.count) addresses; at most \(RecordConstants.maximumAddresses)")
        }
        guard services.count <= RecordConstants.maximumServices else {
            throw .unencodable("\(services.count) services; at most \(RecordConstants.maximumServices)")
        }
        if let bad = services.first(where: { !Self.isValidServiceName($0) }) {
            throw .unencodable("invalid service name \"\(bad)\"")
        }
        writer.write(RecordConstants.formatVersion)
        peerID.write(into: &writer)
        writer.write(sequence)
        writer.write(expiresAt.seconds)
        writer.write(UInt8(addresses.count))
        for address in addresses {
            switch address.host {
            case .ipv4: writer.write(RecordConstants.familyIPv4)
            case .ipv6: writer.write(RecordConstants.familyIPv6)
            }
            writer.write(bytes: address.hostBytes)
            writer.write(address.port)
        }
        writer.write(UInt8(services.count))
        for service in services {
            try writer.writeShortString(service, maximum: RecordConstants.maximumServiceNameLength)
        }
    }

    /// Reads a record body; the reader must then be at the signature.
    static func decodeBody(from reader: inout ByteReader) throws(WireError) -> PeerRecord {
        let versionOffset = reader.offset
        guard try reader.readUInt8() == RecordConstants.formatVersion else {
            throw .invalidValue(offset: versionOffset, field: "record format version")
        }
        let keyBytes = try reader.readBytes(Key32.size)
        // readBytes returned exactly Key32.size bytes, so this cannot fail.
        guard let key = Key32(keyBytes) else { throw .truncated(offset: reader.offset, needed: Key32.size) }
        let peerID = PeerID(publicKey: key)
        let sequence = try reader.readUInt64()
        let expiresAt = UnixTime(seconds: try reader.readUInt64())
        let addressCount = try reader.readCount(maximum: RecordConstants.maximumAddresses)
        var addresses: [PeerAddress] = []
        addresses.reserveCapacity(addressCount)
        for _ in 0..<addressCount {
            let familyOffset = reader.offset
            let host: PeerAddress.Host
            switch try reader.readUInt8() {
            case RecordConstants.familyIPv4:
                host = .ipv4(try reader.readUInt32())
            case RecordConstants.familyIPv6:
                host = .ipv6(high: try reader.readUInt64(), low: try reader.readUInt64())
            default:
                throw .invalidValue(offset: familyOffset, field: "address family")
            }
            addresses.append(PeerAddress(host: host, port: try reader.readUInt16()))
        }
        let serviceCount = try reader.readCount(maximum: RecordConstants.maximumServices)
        var services: [String] = []
        services.reserveCapacity(serviceCount)
        for _ in 0..<serviceCount {
            let nameOffset = reader.offset
            let name = try reader.readShortString(maximum: RecordConstants.maximumServiceNameLength)
            guard isValidServiceName(name) else { throw .invalidString(offset: nameOffset) }
            services.append(name)
        }
        return PeerRecord(
            peerID: peerID, sequence: sequence, expiresAt: expiresAt, addresses: addresses, services: services)
    }
}
