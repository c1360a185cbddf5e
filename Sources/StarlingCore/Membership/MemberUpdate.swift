/// One piece of membership news: a member's state at an incarnation, as gossiped.
///
/// ### Wire format
/// ```
/// state        u8   (MemberState raw value)
/// incarnation  u32
/// member       32 bytes (peer ID)
/// family       u8   (4 or 6)
/// host         4 or 16 bytes
/// port         u16
/// signature    64 bytes, only when state is alive or left (``MemberClaim``)
/// accuser      32 bytes, only when state is suspect or dead
/// ```
/// The same record carries a member's full state in a push-pull exchange. Alive and
/// left are claims the member signs itself; suspect and dead are hearsay, whoever the
/// accuser field names.
public struct MemberUpdate: Hashable, Sendable {
    /// The state being announced.
    public var state: MemberState
    /// The incarnation it applies to.
    public var incarnation: UInt32
    /// The member it is about.
    public var member: PeerID
    /// The member's address.
    public var address: PeerAddress
    /// Who suspects or declared the member dead; `nil` for alive and left (and ignored
    /// by the encoder for those states). Lifeguard counts distinct accusers.
    public var accuser: PeerID?
    /// The member's signature of an alive or left claim (``MemberClaim``); `nil` for
    /// suspect and dead. An alive or left update without one is encoded with 64 zero
    /// bytes, which no receiver accepts.
    public var signature: ClaimSignature?

    /// Creates an update.
    public init(
        state: MemberState, incarnation: UInt32, member: PeerID, address: PeerAddress, accuser: PeerID? = nil,
        signature: ClaimSignature? = nil
    ) {
        self.state = state
        self.incarnation = incarnation
        self.member = member
        self.address = address
        self.accuser = state.isHearsay ? (accuser ?? member) : nil
        self.signature = state.isHearsay ? nil : signature
    }

    /// The update's size on the wire.
    public var encodedSize: Int {
        let host = if case .ipv4 = address.host { 4 } else { 16 }
        let tail = state.isHearsay ? MembershipConstants.peerIDSize : ClaimSignature.size
        return 1 + 4 + MembershipConstants.peerIDSize + 1 + host + 2 + tail
    }

    /// Appends the update.
    public func encode(into writer: inout ByteWriter) {
        writer.write(state.rawValue)
        writer.write(incarnation)
        member.write(into: &writer)
        writer.writeMembershipAddress(address)
        if state.isHearsay {
            (accuser ?? member).write(into: &writer)
        } else if let signature {
            signature.write(into: &writer)
        } else {
            writer.write(bytes: MembershipConstants.missingSignature)
        }
    }

    /// Reads one update.
    /// - Throws: ``WireError`` for truncated input or an unknown state or address family.
    public static func decode(from reader: inout ByteReader) throws(WireError) -> MemberUpdate {
        let stateOffset = reader.offset
        guard let state = MemberState(rawValue: try reader.readUInt8()) else {
            throw .invalidValue(offset: stateOffset, field: "member state")
        }
        let incarnation = try reader.readUInt32()
        let member = try reader.readPeerID()
        let address = try reader.readMembershipAddress()
        var accuser: PeerID?
        var signature: ClaimSignature?
        if state.isHearsay {
            accuser = try reader.readPeerID()
        } else {
            signature = ClaimSignature(head: try reader.readKey32(), tail: try reader.readKey32())
        }
        return MemberUpdate(
            state: state, incarnation: incarnation, member: member, address: address, accuser: accuser,
            signature: signature)
    }
}

extension ByteWriter {
    /// Appends an address as family, host bytes and port.
    mutating func writeMembershipAddress(_ address: PeerAddress) {
        switch address.host {
        case .ipv4: write(MembershipConstants.familyIPv4)
        case .ipv6: write(MembershipConstants.familyIPv6)
        }
        write(bytes: address.hostBytes)
        write(address.port)
    }
}

extension ByteReader {
    /// Reads an address written by ``ByteWriter/writeMembershipAddress(_:)``.
    mutating func readMembershipAddress() throws(WireError) -> PeerAddress {
        let familyOffset = offset
        let family = try readUInt8()
        let host: PeerAddress.Host
        switch family {
        case MembershipConstants.familyIPv4:
            host = .ipv4(try readUInt32())
        case MembershipConstants.familyIPv6:
            let high = try readUInt64()
            host = .ipv6(high: high, low: try readUInt64())
        default:
            throw .invalidValue(offset: familyOffset, field: "address family")
        }
        return PeerAddress(host: host, port: try readUInt16())
    }
}
