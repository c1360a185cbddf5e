/// What a super-peer says about itself, as adverts carry it and peers pass it on.
///
/// ### Purpose
/// Every peer keeps the newest advert of each super-peer it knows: its address, score,
/// load, free slots and count of super-peers, for the election's count of super-peers and
/// for leaves to choose where to attach. Of two adverts of one peer, the one with the
/// higher `(roleEpoch, sequence)` wins: the owner sets ``roleEpoch`` at every role change
/// to the wall-clock second of the change (one more than before if that is not later, so
/// it rises across restarts too) and raises ``sequence`` at every advert it makes, so an old advert passed on by others never
/// replaces a newer one, and one that stops rising is forgotten after
/// ``SuperPeerConstants/advertLifetimeIntervals`` advert intervals. That lifetime runs
/// from when its subject made it: an advert passed on carries its ``age``, so that an
/// entry nobody refreshes dies out everywhere at once, rather than living another
/// lifetime at each peer that learns it anew and passes it on.
///
/// Adverts are not signed: an entry about a third party is a hint. An advert its subject
/// sends from its member address (first-hand) replaces any entry passed on by others,
/// whatever their versions; only a first-hand withdrawal ends a leaf's link; and a leaf
/// counts a super-peer as its own only when that super-peer itself accepts the attach.
///
/// ### Wire format
/// ```
/// id (32) | address | score u32 | leaf count u16 | free slots u16 |
/// super-peers u16 | members u32 | role epoch u32 | sequence u32 | flags u8 | age u16
/// ```
/// An address is a family byte (4 or 6), the host bytes and a u16 port. Flags: bit 0 =
/// super-peer (clear: the peer has withdrawn, and leaves should detach from it). Age:
/// tenths of a second, rounded up, at most 65,535.
public struct SuperPeerAdvert: Hashable, Sendable {
    /// The peer the advert is about.
    public var id: PeerID
    /// Where it receives overlay datagrams.
    public var address: PeerAddress
    /// Its election score (``SuperPeerElection/score(capacity:uptime:isReachable:)``).
    public var score: UInt32
    /// Leaves attached to it.
    public var leafCount: UInt16
    /// Further leaves it would accept.
    public var freeSlots: UInt16
    /// The super-peers it counts, itself included. Super-peers hear from one another
    /// directly, so their count is the swarm's best; a leaf takes the largest its own
    /// super-peers report when it exceeds its own count.
    public var superPeers: UInt16
    /// The alive members a super-peer counts, itself included (super-peers hold every
    /// member; see ``SuperPeerCore/estimatedMembers``); 0 in a leaf's advert. Leaves that
    /// hold only the super-peers (``SuperPeerConfiguration/leafViewThreshold``) count the
    /// swarm by these.
    public var members: UInt32
    /// Set at each of its role changes (see above).
    public var roleEpoch: UInt32
    /// Raised at each of its adverts.
    public var sequence: UInt32
    /// Whether it is a super-peer (`false`: a withdrawal).
    public var isSuperPeer: Bool
    /// How long ago its subject made it, as the peer that passes it on counts (zero in
    /// the subject's own): the receiver counts its lifetime from then. On the wire in
    /// tenths of a second, rounded up (so that passing an advert on never makes it
    /// younger), at most 65,535.
    public var age: Duration

    /// Creates an advert.
    public init(
        id: PeerID, address: PeerAddress, score: UInt32, leafCount: UInt16, freeSlots: UInt16, superPeers: UInt16,
        members: UInt32 = 0, roleEpoch: UInt32, sequence: UInt32, isSuperPeer: Bool, age: Duration = .zero
    ) {
        self.id = id
        self.address = address
        self.score = score
        self.leafCount = leafCount
        self.freeSlots = freeSlots
        self.superPeers = superPeers
        self.members = members
        self.roleEpoch = roleEpoch
        self.sequence = sequence
        self.isSuperPeer = isSuperPeer
        self.age = age
    }

    /// The most bytes one advert takes (with an IPv6 address).
    public static let maximumSize = SuperPeerConstants.peerIDSize + 19 + 4 + 2 + 2 + 2 + 4 + 4 + 4 + 1 + 2

    /// The unit of ``age`` on the wire: a tenth of a second.
    public static let ageUnit: Duration = .milliseconds(100)

    /// ``age`` in ``ageUnit``s, rounded up, at most 65,535.
    var ageUnits: UInt16 {
        guard age > .zero else { return 0 }
        guard age < Self.ageUnit * Int(UInt16.max) else { return .max }
        let unit = Self.ageUnit.nanosecondsClamped
        return UInt16((age.nanosecondsClamped + unit - 1) / unit)
    }

    /// Whether this advert replaces `other`: a higher role epoch, or the same epoch and
    /// a higher sequence.
    public func supersedes(_ other: SuperPeerAdvert) -> Bool {
        (roleEpoch, sequence) > (other.roleEpoch, other.sequence)
    }

    /// Appends the advert's bytes.
    public func encode(into writer: inout ByteWriter) {
        id.write(into: &writer)
        writer.writeMembershipAddress(address)
        writer.write(score)
        writer.write(leafCount)
        writer.write(freeSlots)
        writer.write(superPeers)
        writer.write(members)
        writer.write(roleEpoch)
        writer.write(sequence)
        writer.write(isSuperPeer ? SuperPeerConstants.advertSuperPeerFlag : 0)
        writer.write(ageUnits)
    }

    /// Reads an advert at the reader's position.
    /// - Throws: ``WireError``: truncation, a bad address family or unknown flags.
    public static func decode(from reader: inout ByteReader) throws(WireError) -> SuperPeerAdvert {
        let id = try reader.readPeerID()
        let address = try reader.readMembershipAddress()
        let score = try reader.readUInt32()
        let leafCount = try reader.readUInt16()
        let freeSlots = try reader.readUInt16()
        let superPeers = try reader.readUInt16()
        let members = try reader.readUInt32()
        let roleEpoch = try reader.readUInt32()
        let sequence = try reader.readUInt32()
        let flagsOffset = reader.offset
        let flags = try reader.readUInt8()
        guard flags & ~SuperPeerConstants.advertSuperPeerFlag == 0 else {
            throw .invalidValue(offset: flagsOffset, field: "advert flags")
        }
        let age = try reader.readUInt16()
        return SuperPeerAdvert(
            id: id, address: address, score: score, leafCount: leafCount, freeSlots: freeSlots,
            superPeers: superPeers, members: members, roleEpoch: roleEpoch, sequence: sequence,
            isSuperPeer: flags & SuperPeerConstants.advertSuperPeerFlag != 0, age: ageUnit * Int(age))
    }
}
