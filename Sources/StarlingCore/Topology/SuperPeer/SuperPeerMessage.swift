/// The kind of a super-peer message: its first byte.
///
/// ONLY APPEND — values are protocol.
public enum SuperPeerMessageKind: UInt8, CaseIterable, Sendable {
    /// A super-peer announces itself (or withdraws) and passes on others' adverts.
    case advert = 0x01
    /// A leaf asks a super-peer to hold it: its signed record and its filter.
    case attach = 0x02
    /// A super-peer's answer to an ``attach`` or a ``keepalive``.
    case attachReply = 0x03
    /// A leaf's new filter, to the super-peers that hold it.
    case filterUpdate = 0x04
    /// Either side ends a link.
    case detach = 0x05
    /// A leaf renews its lease at a super-peer.
    case keepalive = 0x06
    /// A payload for a leaf, carried through its super-peer.
    case relay = 0x07
    /// A super-peer's union of its leaves' filters, to the other super-peers.
    case superPeerFilter = 0x08
    /// Any peer asks a super-peer for a peer's record or a service's providers.
    case lookup = 0x09
    /// A super-peer's answer to a ``lookup``: the matching records it holds and other
    /// super-peers to ask.
    case lookupReply = 0x0A
    /// A super-peer offers its role to a much stronger leaf it holds.
    case handoverOffer = 0x0B
}

/// What a ``SuperPeerMessage/lookup(request:asker:target:)`` asks for.
///
/// ONLY APPEND — the target kinds (`01` peer, `02` service) are protocol.
public enum SuperPeerLookupTarget: Hashable, Sendable {
    /// The signed record of this peer.
    case peer(PeerID)
    /// The signed records of the peers that provide this service.
    case service(String)

    /// The kind byte on the wire.
    var kindByte: UInt8 {
        switch self {
        case .peer: 0x01
        case .service: 0x02
        }
    }

    /// The keywords that select the super-peers whose leaves might match: those of the
    /// peer ID's text (what every leaf inserts into its filter) or of the service name.
    public var keywords: [String] {
        switch self {
        case .peer(let peer): QueryRoutingFilter.keywords(of: Array(peer.description.utf8))
        case .service(let service): QueryRoutingFilter.keywords(of: Array(service.utf8))
        }
    }
}

/// Why a super-peer refused an attach or a keepalive.
///
/// ONLY APPEND — values are protocol.
public enum SuperPeerRefusal: UInt8, CaseIterable, Sendable {
    /// The receiver is not a super-peer (any more).
    case notSuperPeer = 0x01
    /// It holds ``SuperPeerConfiguration/maximumLeaves`` leaves.
    case full = 0x02
    /// The leaf's record did not verify (bad signature, expired).
    case invalidRecord = 0x03
    /// A keepalive from a leaf it does not hold (lease expired, or the super-peer
    /// restarted): the leaf should attach again.
    case notAttached = 0x04
}

/// Why a link ended, as a ``SuperPeerMessage/detach(sender:reason:)`` says.
///
/// ONLY APPEND — values are protocol.
public enum SuperPeerDetachReason: UInt8, CaseIterable, Sendable {
    /// The leaf moves to another super-peer or leaves the swarm.
    case leaving = 0x01
    /// The super-peer demoted itself to a leaf.
    case demoted = 0x02
    /// The leaf promoted itself to super-peer.
    case promoted = 0x03
    /// The super-peer dropped the leaf (its lease ran out).
    case evicted = 0x04
    /// The leaf took the super-peer's role over, as the super-peer offered
    /// (``SuperPeerMessage/handoverOffer(sender:)``): it promoted, and the super-peer
    /// demotes. The leaf's other super-peers get ``promoted``.
    case handover = 0x05
}

/// A super-peer message, as carried in one overlay datagram (protocol byte 0x06).
///
/// ### Wire format
/// Every message starts with its ``SuperPeerMessageKind`` byte. Integers are
/// big-endian; peer IDs are 32 raw bytes; an address is a family byte (4 or 6), the host
/// bytes and a u16 port; an advert is ``SuperPeerAdvert``'s 64 (IPv4) or 76 (IPv6) bytes; a filter is
/// ``QueryRoutingFilter``'s `2 + 2^log2Bits / 8` bytes; a record is a
/// ``SignedPeerRecord``, body then signature.
/// ```
/// advert           01 | sender advert | count u8 | count × advert
/// attach           02 | leaf's signed record | filter
/// attachReply      03 | sender id | outcome u8 | count u8 | count × (id | address)
/// filterUpdate     04 | leaf id | filter
/// detach           05 | sender id | reason u8
/// keepalive        06 | leaf id | record sequence u64 | candidacy u32
/// relay            07 | origin id | target id | length u16 | payload
/// superPeerFilter  08 | sender id | filter
/// lookup           09 | request u32 | asker id | 01 | peer id
///                  09 | request u32 | asker id | 02 | length u8 | service (UTF-8)
/// lookupReply      0a | request u32 | count u8 | count × record
///                     | count u8 | count × (id | address)
/// handoverOffer    0b | sender id
/// ```
/// An advert carries at most ``SuperPeerConstants/maximumAdvertEntries`` others' adverts;
/// an attach reply's outcome is 0 (accepted) or a ``SuperPeerRefusal``, followed by at
/// most ``SuperPeerConstants/maximumAlternatives`` other super-peers to try. A detach
/// reason is a ``SuperPeerDetachReason``. A relay payload is at most
/// ``SuperPeerConstants/maximumRelayPayload`` bytes. A lookup reply carries at most
/// ``SuperPeerConstants/maximumLookupRecords`` records (as their owners signed them) and
/// ``SuperPeerConstants/maximumReferrals`` referrals. Every message fits
/// ``SuperPeerConstants/maximumMessageSize`` bytes and must fill its datagram exactly.
///
/// ### Example
/// The advert of super-peer `0101…01` (32 bytes of 0x01) at 10.0.0.1:4000: score
/// 16,909,060, 90 leaves, 180 free slots, 2,571 super-peers counted, 10,000 members
/// counted, role epoch 7, sequence 4,294,967,295, super-peer flag set, age 0 (its own),
/// passing on no others (66 bytes):
/// ```
/// 01 0101010101010101010101010101010101010101010101010101010101010101
///    04 0a000001 0fa0 01020304 005a 00b4 0a0b 00002710 00000007 ffffffff 01 0000
///    00
/// ```
/// A keepalive of leaf `0606…06` whose record has sequence 0x0102030405060708, offering
/// candidacy 64 (45 bytes):
/// ```
/// 06 0606060606060606060606060606060606060606060606060606060606060606
///    0102030405060708 00000040
/// ```
/// A lookup by peer `0707…07` (request 0x01020304) for peer `0808…08` (70 bytes):
/// ```
/// 09 01020304 0707070707070707070707070707070707070707070707070707070707070707
///    01 0808080808080808080808080808080808080808080808080808080808080808
/// ```
/// Its reply with no record and one referral, super-peer `0909…09` at 10.0.0.9:4000 (46 bytes):
/// ```
/// 0a 01020304 00 01 0909090909090909090909090909090909090909090909090909090909090909
///    04 0a000009 0fa0
/// ```
public enum SuperPeerMessage: Equatable, Sendable {
    /// `sender`'s own advert and up to 16 others it knows.
    case advert(sender: SuperPeerAdvert, others: [SuperPeerAdvert])
    /// A leaf's request to be held: its signed record (whose peer ID is the leaf) and filter.
    case attach(record: SignedPeerRecord, filter: QueryRoutingFilter)
    /// `sender`'s answer: `nil` refusal for accepted; `alternatives` are other super-peers.
    case attachReply(sender: PeerID, refusal: SuperPeerRefusal?, alternatives: [SuperPeerAlternative])
    /// `leaf`'s new filter.
    case filterUpdate(leaf: PeerID, filter: QueryRoutingFilter)
    /// `sender` ends its link with the receiver.
    case detach(sender: PeerID, reason: SuperPeerDetachReason)
    /// `leaf` renews its lease; `recordSequence` tells the super-peer whether it holds
    /// the leaf's newest record, and `candidacy` what the leaf offers as the
    /// super-peer's successor (``SuperPeerCore/candidacy``: its score, 0 when it cannot be
    /// elected now).
    case keepalive(leaf: PeerID, recordSequence: UInt64, candidacy: UInt32)
    /// `payload` from `origin` for `target`, through `target`'s super-peer.
    case relay(origin: PeerID, target: PeerID, payload: [UInt8])
    /// `sender`'s union of its leaves' filters.
    case superPeerFilter(sender: PeerID, filter: QueryRoutingFilter)
    /// `asker` (its member ID: only alive members are answered) asks for `target`;
    /// the reply echoes `request`.
    case lookup(request: UInt32, asker: PeerID, target: SuperPeerLookupTarget)
    /// The answer to lookup `request`: the matching `records` the super-peer holds, as
    /// their owners signed them, and `referrals`, other super-peers whose leaves might match.
    case lookupReply(request: UInt32, records: [SignedPeerRecord], referrals: [SuperPeerAlternative])
    /// Super-peer `sender` offers its role to the leaf it sends this to: a leaf that can
    /// be elected promotes and answers with a ``SuperPeerDetachReason/handover`` detach,
    /// on which the super-peer demotes.
    case handoverOffer(sender: PeerID)

    /// The message's kind.
    public var kind: SuperPeerMessageKind {
        switch self {
        case .advert: .advert
        case .attach: .attach
        case .attachReply: .attachReply
        case .filterUpdate: .filterUpdate
        case .detach: .detach
        case .keepalive: .keepalive
        case .relay: .relay
        case .superPeerFilter: .superPeerFilter
        case .lookup: .lookup
        case .lookupReply: .lookupReply
        case .handoverOffer: .handoverOffer
        }
    }

    /// Bytes of a detach.
    public static let detachSize = 1 + SuperPeerConstants.peerIDSize + 1
    /// Bytes of a handover offer.
    public static let handoverOfferSize = 1 + SuperPeerConstants.peerIDSize
    /// Bytes of a keepalive.
    public static let keepaliveSize = 1 + SuperPeerConstants.peerIDSize + 8 + 4
    /// Bytes of a lookup for a peer.
    public static let peerLookupSize = 1 + 4 + 2 * SuperPeerConstants.peerIDSize + 1
    /// Bytes of a lookup reply with no record and no referral.
    public static let lookupReplyOverhead = 1 + 4 + 1 + 1
    /// Bytes of a relay besides its payload.
    public static let relayOverhead = 1 + 2 * SuperPeerConstants.peerIDSize + 2

    /// Encodes the message.
    /// - Throws: ``WireError/unencodable(_:)`` when a list or payload is longer than
    ///   allowed.
    public func encode(into writer: inout ByteWriter) throws(WireError) {
        writer.write(kind.rawValue)
        switch self {
        case .advert(let sender, let others):
            guard others.count <= SuperPeerConstants.maximumAdvertEntries else {
                throw .unencodable("\(others.count) advert entries")
            }
            sender.encode(into: &writer)
            writer.write(UInt8(others.count))
            for advert in others { advert.encode(into: &writer) }
        case .attach(let record, let filter):
            writer.write(bytes: record.body)
            writer.write(bytes: record.signature)
            filter.encode(into: &writer)
        case .attachReply(let sender, let refusal, let alternatives):
            guard alternatives.count <= SuperPeerConstants.maximumAlternatives else {
                throw .unencodable("\(alternatives.count) alternatives")
            }
            sender.write(into: &writer)
            writer.write(refusal?.rawValue ?? 0)
            writer.write(UInt8(alternatives.count))
            for alternative in alternatives {
                alternative.id.write(into: &writer)
                writer.writeMembershipAddress(alternative.address)
            }
        case .filterUpdate(let id, let filter), .superPeerFilter(let id, let filter):
            id.write(into: &writer)
            filter.encode(into: &writer)
        case .detach(let sender, let reason):
            sender.write(into: &writer)
            writer.write(reason.rawValue)
        case .handoverOffer(let sender):
            sender.write(into: &writer)
        case .keepalive(let leaf, let recordSequence, let candidacy):
            leaf.write(into: &writer)
            writer.write(recordSequence)
            writer.write(candidacy)
        case .relay(let origin, let target, let payload):
            guard payload.count <= SuperPeerConstants.maximumRelayPayload else {
                throw .unencodable("relay payload of \(payload.count) bytes")
            }
            origin.write(into: &writer)
            target.write(into: &writer)
            writer.write(UInt16(payload.count))
            writer.write(bytes: payload)
        case .lookup(let request, let asker, let target):
            writer.write(request)
            asker.write(into: &writer)
            writer.write(target.kindByte)
            switch target {
            case .peer(let peer): peer.write(into: &writer)
            case .service(let service):
                guard PeerRecord.isValidServiceName(service) else { throw .unencodable("service name \(service)") }
                try writer.writeShortString(service, maximum: RecordConstants.maximumServiceNameLength)
            }
        case .lookupReply(let request, let records, let referrals):
            guard records.count <= SuperPeerConstants.maximumLookupRecords else {
                throw .unencodable("\(records.count) lookup records")
            }
            guard referrals.count <= SuperPeerConstants.maximumReferrals else {
                throw .unencodable("\(referrals.count) referrals")
            }
            writer.write(request)
            writer.write(UInt8(records.count))
            for record in records {
                writer.write(bytes: record.body)
                writer.write(bytes: record.signature)
            }
            writer.write(UInt8(referrals.count))
            for referral in referrals {
                referral.id.write(into: &writer)
                writer.writeMembershipAddress(referral.address)
            }
        }
        guard writer.count <= SuperPeerConstants.maximumMessageSize else {
            throw .unencodable("super-peer message of \(writer.count) bytes")
        }
    }

    /// The message's bytes.
    /// - Throws: ``WireError/unencodable(_:)``.
    public func encoded() throws(WireError) -> [UInt8] {
        var writer = ByteWriter()
        try encode(into: &writer)
        return writer.bytes
    }

    /// Decodes one message that fills `bytes` exactly.
    /// - Throws: ``WireError``: unknown kind, truncation, a bad field or trailing bytes.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireError) -> SuperPeerMessage {
        guard bytes.count <= SuperPeerConstants.maximumMessageSize else {
            throw .lengthTooLarge(offset: 0, length: bytes.count, maximum: SuperPeerConstants.maximumMessageSize)
        }
        var reader = ByteReader(bytes)
        let kindByte = try reader.readUInt8()
        guard let kind = SuperPeerMessageKind(rawValue: kindByte) else { throw .unknownMessageType(kindByte) }
        let message: SuperPeerMessage
        switch kind {
        case .advert:
            let sender = try SuperPeerAdvert.decode(from: &reader)
            let count = try reader.readCount(maximum: SuperPeerConstants.maximumAdvertEntries)
            var others: [SuperPeerAdvert] = []
            others.reserveCapacity(count)
            for _ in 0..<count { others.append(try SuperPeerAdvert.decode(from: &reader)) }
            message = .advert(sender: sender, others: others)
        case .attach:
            let record = try SignedPeerRecord.decode(from: &reader)
            message = .attach(record: record, filter: try QueryRoutingFilter.decode(from: &reader))
        case .attachReply:
            let sender = try reader.readPeerID()
            let outcomeOffset = reader.offset
            let outcome = try reader.readUInt8()
            var refusal: SuperPeerRefusal?
            if outcome != 0 {
                guard let known = SuperPeerRefusal(rawValue: outcome) else {
                    throw .invalidValue(offset: outcomeOffset, field: "attach outcome")
                }
                refusal = known
            }
            let count = try reader.readCount(maximum: SuperPeerConstants.maximumAlternatives)
            var alternatives: [SuperPeerAlternative] = []
            for _ in 0..<count {
                let id = try reader.readPeerID()
                alternatives.append(SuperPeerAlternative(id: id, address: try reader.readMembershipAddress()))
            }
            message = .attachReply(sender: sender, refusal: refusal, alternatives: alternatives)
        case .filterUpdate:
            let leaf = try reader.readPeerID()
            message = .filterUpdate(leaf: leaf, filter: try QueryRoutingFilter.decode(from: &reader))
        case .detach:
            let sender = try reader.readPeerID()
            let reasonOffset = reader.offset
            guard let reason = SuperPeerDetachReason(rawValue: try reader.readUInt8()) else {
                throw .invalidValue(offset: reasonOffset, field: "detach reason")
            }
            message = .detach(sender: sender, reason: reason)
        case .keepalive:
            let leaf = try reader.readPeerID()
            let recordSequence = try reader.readUInt64()
            message = .keepalive(leaf: leaf, recordSequence: recordSequence, candidacy: try reader.readUInt32())
        case .relay:
            let origin = try reader.readPeerID()
            let target = try reader.readPeerID()
            let lengthOffset = reader.offset
            let length = Int(try reader.readUInt16())
            guard length <= SuperPeerConstants.maximumRelayPayload else {
                throw .lengthTooLarge(
                    offset: lengthOffset, length: length, maximum: SuperPeerConstants.maximumRelayPayload)
            }
            message = .relay(origin: origin, target: target, payload: Array(try reader.readBytes(length)))
        case .superPeerFilter:
            let sender = try reader.readPeerID()
            message = .superPeerFilter(sender: sender, filter: try QueryRoutingFilter.decode(from: &reader))
        case .lookup:
            let request = try reader.readUInt32()
            let asker = try reader.readPeerID()
            let targetOffset = reader.offset
            switch try reader.readUInt8() {
            case 0x01:
                message = .lookup(request: request, asker: asker, target: .peer(try reader.readPeerID()))
            case 0x02:
                let offset = reader.offset
                let service = try reader.readShortString(
                    maximum: RecordConstants.maximumServiceNameLength, allowEmpty: false)
                guard PeerRecord.isValidServiceName(service) else {
                    throw .invalidValue(offset: offset, field: "service")
                }
                message = .lookup(request: request, asker: asker, target: .service(service))
            default:
                throw .invalidValue(offset: targetOffset, field: "lookup target")
            }
        case .lookupReply:
            let request = try reader.readUInt32()
            let recordCount = try reader.readCount(maximum: SuperPeerConstants.maximumLookupRecords)
            var records: [SignedPeerRecord] = []
            for _ in 0..<recordCount { records.append(try SignedPeerRecord.decode(from: &reader)) }
            let referralCount = try reader.readCount(maximum: SuperPeerConstants.maximumReferrals)
            var referrals: [SuperPeerAlternative] = []
            for _ in 0..<referralCount {
                let id = try reader.readPeerID()
                referrals.append(SuperPeerAlternative(id: id, address: try reader.readMembershipAddress()))
            }
            message = .lookupReply(request: request, records: records, referrals: referrals)
        case .handoverOffer:
            message = .handoverOffer(sender: try reader.readPeerID())
        }
        try reader.expectEnd()
        return message
    }

    /// Decodes one message that fills `bytes` exactly.
    /// - Throws: ``WireError``.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> SuperPeerMessage { try decode(bytes[...]) }
}

/// Another super-peer an attach reply suggests, or a lookup reply refers to: its ID
/// and address.
public struct SuperPeerAlternative: Hashable, Sendable {
    /// The super-peer.
    public var id: PeerID
    /// Where it receives overlay datagrams.
    public var address: PeerAddress

    /// Wraps an ID and an address.
    public init(id: PeerID, address: PeerAddress) {
        self.id = id
        self.address = address
    }
}
