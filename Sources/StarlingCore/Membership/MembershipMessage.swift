/// The kind of a membership message: its first byte.
///
/// ONLY APPEND — values are protocol.
public enum MembershipMessageKind: UInt8, CaseIterable, Sendable {
    /// A direct probe. Answered with an ``ack``.
    case ping = 0x01
    /// Asks the receiver to probe a target on the sender's behalf (indirect probe).
    case pingRequest = 0x02
    /// Answers a ``ping`` (or relays a target's answer to an indirect probe).
    case ack = 0x03
    /// Lifeguard: a relay's "the target did not answer me either", so the prober
    /// knows its own links work.
    case nack = 0x04
    /// A full state exchange, for joining and anti-entropy.
    case pushPull = 0x05
    /// Updates with no probe, sent when leaving.
    case gossip = 0x06
    /// Asks for the members of the digest buckets that differ from the sender's.
    case syncRequest = 0x07
}

/// A membership message, as carried in one datagram.
///
/// ### Wire format
/// Every message starts with its ``MembershipMessageKind`` byte. Integers are
/// big-endian; peer IDs are 32 raw bytes; `updates` is a one-byte count followed by
/// that many ``MemberUpdate`` records.
/// ```
/// ping         01 | sequence u32 | target id | sender id | digest u64 | updates
/// pingRequest  02 | sequence u32 | target id | target address | sender id
/// ack          03 | sequence u32 | sender id | digest u64 | coordinate | updates
/// nack         04 | sequence u32 | sender id
/// pushPull     05 | flags u8 | sender id | count u16 | count × MemberUpdate
/// gossip       06 | sender id | updates
/// syncRequest  07 | requester MemberUpdate | level u8 | 2^level × bucket u32
/// ```
/// An address is a family byte (4 or 6), the host bytes and a u16 port. Push-pull flags:
/// bit 0 = reply requested, bit 1 = join, bit 2 = partial (a sample of the sender's
/// members), bit 3 = scoped (the sender holds a partial view, ``MembershipView``: a
/// request asks for the featured members only, and a reply holds only those). An ack carries its sender's network coordinate (44 bytes,
/// ``NetworkCoordinate``), so that a prober learns where the peers it probes are at no
/// extra datagram. A digest summarizes whom the sender holds live (``MembershipDigest``); a
/// sync request carries the requester's own record (alive, at its address) and a level
/// of at most ``MembershipConstants/maximumSyncLevel``. A message
/// must fill its datagram exactly.
public enum MembershipMessage: Equatable, Sendable {
    /// A direct probe of `target`.
    case ping(sequence: UInt32, target: PeerID, sender: PeerID, digest: UInt64, updates: [MemberUpdate])
    /// Asks the receiver to ping `target` at `targetAddress` and relay the answer.
    case pingRequest(sequence: UInt32, target: PeerID, targetAddress: PeerAddress, sender: PeerID)
    /// The answer to the ping (or ping request) numbered `sequence`.
    case ack(sequence: UInt32, sender: PeerID, digest: UInt64, coordinate: NetworkCoordinate, updates: [MemberUpdate])
    /// A relay's report that the target of ping request `sequence` did not answer.
    case nack(sequence: UInt32, sender: PeerID)
    /// Part or all of the sender's member list; `isPartial` when `members` is only a
    /// sample of it (a partial answer, or a pull that carries only the sender).
    case pushPull(
        sender: PeerID, replyRequested: Bool, isJoin: Bool, isPartial: Bool, isScoped: Bool = false,
        members: [MemberUpdate])
    /// Updates sent on their own.
    case gossip(sender: PeerID, updates: [MemberUpdate])
    /// Asks for the members of every bucket whose hash differs from the requester's; the
    /// answer is a partial push-pull with no reply requested. `requester` is the
    /// sender's own record, so that a member that has not heard of it yet learns of it.
    case syncRequest(requester: MemberUpdate, level: Int, buckets: [UInt32])

    /// The member that sent the message.
    public var sender: PeerID {
        switch self {
        case .ping(_, _, let sender, _, _), .pingRequest(_, _, _, let sender), .ack(_, let sender, _, _, _),
            .nack(_, let sender), .pushPull(let sender, _, _, _, _, _), .gossip(let sender, _):
            sender
        case .syncRequest(let requester, _, _):
            requester.member
        }
    }

    /// The message's kind.
    public var kind: MembershipMessageKind {
        switch self {
        case .ping: .ping
        case .pingRequest: .pingRequest
        case .ack: .ack
        case .nack: .nack
        case .pushPull: .pushPull
        case .gossip: .gossip
        case .syncRequest: .syncRequest
        }
    }

    /// Bytes before the update list of a ping (kind, sequence, two IDs, digest, count).
    public static let pingHeaderSize = 1 + 4 + 2 * MembershipConstants.peerIDSize + 8 + 1
    /// Bytes before the update list of an ack (kind, sequence, ID, digest, coordinate, count).
    public static let ackHeaderSize = 1 + 4 + MembershipConstants.peerIDSize + 8 + CoordinateConstants.encodedSize + 1
    /// Bytes of a sync request besides the requester's record and the buckets (kind, level).
    public static let syncRequestHeaderSize = 1 + 1
    /// Bytes before the update list of a gossip message (kind, ID, count).
    public static let gossipHeaderSize = 1 + MembershipConstants.peerIDSize + 1
    /// Bytes before the records of a push-pull message (kind, flags, ID, count).
    public static let pushPullHeaderSize = 1 + 1 + MembershipConstants.peerIDSize + 2

    /// Encodes the message.
    /// - Throws: ``WireError/unencodable(_:)`` when a list is longer than its count allows.
    public func encode(into writer: inout ByteWriter) throws(WireError) {
        writer.write(kind.rawValue)
        switch self {
        case .ping(let sequence, let target, let sender, let digest, let updates):
            writer.write(sequence)
            target.write(into: &writer)
            sender.write(into: &writer)
            writer.write(digest)
            try Self.encodeUpdates(updates, into: &writer)
        case .pingRequest(let sequence, let target, let targetAddress, let sender):
            writer.write(sequence)
            target.write(into: &writer)
            writer.writeMembershipAddress(targetAddress)
            sender.write(into: &writer)
        case .ack(let sequence, let sender, let digest, let coordinate, let updates):
            writer.write(sequence)
            sender.write(into: &writer)
            writer.write(digest)
            coordinate.encode(into: &writer)
            try Self.encodeUpdates(updates, into: &writer)
        case .nack(let sequence, let sender):
            writer.write(sequence)
            sender.write(into: &writer)
        case .pushPull(let sender, let replyRequested, let isJoin, let isPartial, let isScoped, let members):
            guard members.count <= MembershipConstants.maximumPushPullRecords else {
                throw .unencodable("\(members.count) push-pull records")
            }
            var flags: UInt8 = 0
            if replyRequested { flags |= MembershipConstants.pushPullReplyRequested }
            if isJoin { flags |= MembershipConstants.pushPullJoin }
            if isPartial { flags |= MembershipConstants.pushPullPartial }
            if isScoped { flags |= MembershipConstants.pushPullScoped }
            writer.write(flags)
            sender.write(into: &writer)
            writer.write(UInt16(members.count))
            for member in members { member.encode(into: &writer) }
        case .gossip(let sender, let updates):
            sender.write(into: &writer)
            try Self.encodeUpdates(updates, into: &writer)
        case .syncRequest(let requester, let level, let buckets):
            guard (0...MembershipConstants.maximumSyncLevel).contains(level), buckets.count == 1 << level else {
                throw .unencodable("sync request of \(buckets.count) buckets at level \(level)")
            }
            requester.encode(into: &writer)
            writer.write(UInt8(level))
            for bucket in buckets { writer.write(bucket) }
        }
    }

    /// The message's bytes.
    /// - Throws: ``WireError/unencodable(_:)`` when a list is longer than its count allows.
    public func encoded() throws(WireError) -> [UInt8] {
        var writer = ByteWriter()
        try encode(into: &writer)
        return writer.bytes
    }

    /// Decodes one message that fills `bytes` exactly.
    /// - Throws: ``WireError``: unknown kind, truncation, a bad field or trailing bytes.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireError) -> MembershipMessage {
        var reader = ByteReader(bytes)
        let kindByte = try reader.readUInt8()
        guard let kind = MembershipMessageKind(rawValue: kindByte) else { throw .unknownMessageType(kindByte) }
        let message: MembershipMessage
        switch kind {
        case .ping:
            let sequence = try reader.readUInt32()
            let target = try reader.readPeerID()
            let sender = try reader.readPeerID()
            let digest = try reader.readUInt64()
            message = .ping(
                sequence: sequence, target: target, sender: sender, digest: digest,
                updates: try decodeUpdates(&reader))
        case .pingRequest:
            let sequence = try reader.readUInt32()
            let target = try reader.readPeerID()
            let address = try reader.readMembershipAddress()
            message = .pingRequest(
                sequence: sequence, target: target, targetAddress: address, sender: try reader.readPeerID())
        case .ack:
            let sequence = try reader.readUInt32()
            let sender = try reader.readPeerID()
            let digest = try reader.readUInt64()
            let coordinate = try NetworkCoordinate.decode(from: &reader)
            message = .ack(
                sequence: sequence, sender: sender, digest: digest, coordinate: coordinate,
                updates: try decodeUpdates(&reader))
        case .nack:
            let sequence = try reader.readUInt32()
            message = .nack(sequence: sequence, sender: try reader.readPeerID())
        case .pushPull:
            let flags = try reader.readUInt8()
            let sender = try reader.readPeerID()
            let count = Int(try reader.readUInt16())
            var members: [MemberUpdate] = []
            // Each record is at least 76 bytes, so a hostile count cannot reserve much.
            members.reserveCapacity(min(count, reader.remaining / MembershipConstants.minimumUpdateSize))
            for _ in 0..<count { members.append(try MemberUpdate.decode(from: &reader)) }
            message = .pushPull(
                sender: sender, replyRequested: flags & MembershipConstants.pushPullReplyRequested != 0,
                isJoin: flags & MembershipConstants.pushPullJoin != 0,
                isPartial: flags & MembershipConstants.pushPullPartial != 0,
                isScoped: flags & MembershipConstants.pushPullScoped != 0, members: members)
        case .gossip:
            let sender = try reader.readPeerID()
            message = .gossip(sender: sender, updates: try decodeUpdates(&reader))
        case .syncRequest:
            let requester = try MemberUpdate.decode(from: &reader)
            let levelOffset = reader.offset
            let level = Int(try reader.readUInt8())
            guard level <= MembershipConstants.maximumSyncLevel else {
                throw .invalidValue(offset: levelOffset, field: "sync level")
            }
            var buckets: [UInt32] = []
            buckets.reserveCapacity(1 << level)
            for _ in 0..<(1 << level) { buckets.append(try reader.readUInt32()) }
            message = .syncRequest(requester: requester, level: level, buckets: buckets)
        }
        try reader.expectEnd()
        return message
    }

    /// Decodes one message that fills `bytes` exactly.
    /// - Throws: ``WireError``.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> MembershipMessage {
        try decode(bytes[...])
    }

    private static func encodeUpdates(_ updates: [MemberUpdate], into writer: inout ByteWriter) throws(WireError) {
        guard updates.count <= MembershipConstants.maximumPiggybackedUpdates else {
            throw .unencodable("\(updates.count) piggybacked updates")
        }
        writer.write(UInt8(updates.count))
        for update in updates { update.encode(into: &writer) }
    }

    private static func decodeUpdates(_ reader: inout ByteReader) throws(WireError) -> [MemberUpdate] {
        let count = try reader.readCount(maximum: MembershipConstants.maximumPiggybackedUpdates)
        var updates: [MemberUpdate] = []
        updates.reserveCapacity(count)
        for _ in 0..<count { updates.append(try MemberUpdate.decode(from: &reader)) }
        return updates
    }
}
