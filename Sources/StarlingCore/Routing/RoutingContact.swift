/// A peer as the routing layer knows it: its ID, its routing key, and one address.
///
/// Wire form (inside routing messages): peer ID (32 bytes), address family (1 byte:
/// 4 or 6), host (4 or 16 bytes), port (2 bytes, big-endian). The key is never sent;
/// the receiver derives it from the ID.
public struct RoutingContact: Hashable, Sendable, CustomStringConvertible {
    /// The peer.
    public let peerID: PeerID
    /// Its routing key, ``RoutingKey/init(peer:)``.
    public let key: RoutingKey
    /// Where it was last heard from.
    public var address: PeerAddress

    /// Creates a contact, deriving its key.
    public init(peerID: PeerID, address: PeerAddress) {
        self.peerID = peerID
        self.key = RoutingKey(peer: peerID)
        self.address = address
    }

    /// The short peer ID and the address.
    public var description: String { "\(peerID.shortDescription)@\(address)" }

    /// Appends the contact's wire form.
    func encode(into writer: inout ByteWriter) {
        peerID.write(into: &writer)
        Self.encode(address, into: &writer)
    }

    /// Appends an address's wire form: family (1 byte: 4 or 6), host (4 or 16), port (2).
    static func encode(_ address: PeerAddress, into writer: inout ByteWriter) {
        switch address.host {
        case .ipv4: writer.write(RecordConstants.familyIPv4)
        case .ipv6: writer.write(RecordConstants.familyIPv6)
        }
        writer.write(bytes: address.hostBytes)
        writer.write(address.port)
    }

    /// Reads a contact's wire form.
    static func decode(from reader: inout ByteReader) throws(WireError) -> RoutingContact {
        let peerID = try reader.readPeerID()
        return RoutingContact(peerID: peerID, address: try decodeAddress(from: &reader))
    }

    /// Reads an address's wire form.
    static func decodeAddress(from reader: inout ByteReader) throws(WireError) -> PeerAddress {
        let familyOffset = reader.offset
        let host: PeerAddress.Host
        switch try reader.readUInt8() {
        case RecordConstants.familyIPv4: host = .ipv4(try reader.readUInt32())
        case RecordConstants.familyIPv6: host = .ipv6(high: try reader.readUInt64(), low: try reader.readUInt64())
        default: throw .invalidValue(offset: familyOffset, field: "address family")
        }
        return PeerAddress(host: host, port: try reader.readUInt16())
    }
}
