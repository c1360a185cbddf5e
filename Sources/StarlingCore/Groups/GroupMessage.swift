/// The kind of a group message: its first byte.
///
/// ONLY APPEND — values are protocol.
public enum GroupMessageKind: UInt8, CaseIterable, Sendable {
    /// A member's membership report (or leave) for some of its groups, to one of each
    /// group's rendezvous peers.
    case report = 0x01
    /// A rendezvous peer's samples of groups' members, answering a report that asked.
    case members = 0x02
    /// Asks to make (or confirms) a mesh link in a group.
    case link = 0x03
    /// Ends a mesh link, or refuses one.
    case unlink = 0x04
    /// A group message, sealed with the group key.
    case data = 0x05
    /// "Stop pushing me this group's messages; announce them" (Plumtree's PRUNE).
    case prune = 0x06
    /// Announces messages the sender has (Plumtree's IHAVE).
    case iHave = 0x07
    /// "Push me this group's messages again, and send me this one" (Plumtree's GRAFT).
    case graft = 0x08
    /// A member's membership report (or leave) for some of its groups, to its LAN
    /// segment's group channel.
    case lanReport = 0x09
}

/// One group in a ``GroupMessage/report``.
public struct GroupReportEntry: Equatable, Sendable {
    /// Flag: the reporter wants a sample of the group's members.
    public static let wantsMembers: UInt8 = 0x01
    /// Flag: the reporter leaves the group (IGMP's leave).
    public static let leaving: UInt8 = 0x02
    /// Flag: the reporter only sends to the group, it is no member.
    public static let sendOnly: UInt8 = 0x04

    /// The group.
    public var group: GroupID
    /// ``wantsMembers``, ``leaving``, ``sendOnly``.
    public var flags: UInt8

    /// Wraps a group and its flags.
    public init(group: GroupID, flags: UInt8) {
        self.group = group
        self.flags = flags
    }
}

/// A group's message ID: its origin and the origin's sequence number.
public struct GroupMessageID: Hashable, Sendable, CustomStringConvertible {
    /// The member that sent the message first.
    public var origin: PeerID
    /// The origin's sequence number: increasing per origin, starting from the origin's
    /// wall clock in microseconds, so a restarted origin never reuses one.
    public var sequence: UInt64

    /// Wraps an origin and a sequence number.
    public init(origin: PeerID, sequence: UInt64) {
        self.origin = origin
        self.sequence = sequence
    }

    public var description: String { "\(origin.shortDescription)#\(sequence)" }
}

/// A group message, as carried in one overlay datagram of protocol
/// ``OverlayProtocol/group``.
///
/// ### Wire format
/// Every message starts with its ``GroupMessageKind`` byte and the sender's peer ID.
/// Group IDs are 32 bytes; a message ID is the origin's peer ID and a u64 sequence;
/// an address is membership's (family, host, port); counts are u8.
/// ```
/// report    01 | sender | count | { group | flags u8 }*
/// members   02 | sender | count | { group | count | { peer id | address }* }*
/// link      03 | sender | group
/// unlink    04 | sender | group
/// data      05 | sender | group | origin | sequence u64 | hops u8 | nonce (24) | sealed payload
/// prune     06 | sender | group
/// ihave     07 | sender | group | count | { origin | sequence u64 }*
/// graft     08 | sender | group | origin | sequence u64
/// lanReport 09 | sender | count | { group | flags u8 }*
/// ```
/// A `data` message's sealed payload is XChaCha20-Poly1305 under the group's key
/// (``GroupKey``) with additional data `group ‖ origin ‖ sequence`; the hop count is not
/// authenticated (it changes on the way). A message must fill its datagram exactly.
public enum GroupMessage: Equatable, Sendable {
    /// Membership reports and leaves for `entries`.
    case report(sender: PeerID, entries: [GroupReportEntry])
    /// Samples of groups' members.
    case members(sender: PeerID, answers: [GroupMembersAnswer])
    /// Make or confirm a mesh link.
    case link(sender: PeerID, group: GroupID)
    /// End or refuse a mesh link.
    case unlink(sender: PeerID, group: GroupID)
    /// A sealed message, `hops` links from its origin.
    case data(sender: PeerID, group: GroupID, id: GroupMessageID, hops: UInt8, nonce: [UInt8], sealed: [UInt8])
    /// Move the link to lazy.
    case prune(sender: PeerID, group: GroupID)
    /// Announced message IDs.
    case iHave(sender: PeerID, group: GroupID, ids: [GroupMessageID])
    /// Move the link to eager, and send `id`.
    case graft(sender: PeerID, group: GroupID, id: GroupMessageID)
    /// Membership reports and leaves for `entries`, on the LAN group channel.
    case lanReport(sender: PeerID, entries: [GroupReportEntry])

    /// The message's kind.
    public var kind: GroupMessageKind {
        switch self {
        case .report: .report
        case .members: .members
        case .link: .link
        case .unlink: .unlink
        case .data: .data
        case .prune: .prune
        case .iHave: .iHave
        case .graft: .graft
        case .lanReport: .lanReport
        }
    }

    /// The peer that sent the message.
    public var sender: PeerID {
        switch self {
        case .report(let sender, _), .members(let sender, _), .link(let sender, _), .unlink(let sender, _),
            .data(let sender, _, _, _, _, _), .prune(let sender, _), .iHave(let sender, _, _),
            .graft(let sender, _, _), .lanReport(let sender, _):
            sender
        }
    }

    /// Appends the message to `writer`.
    /// - Throws: ``WireError/unencodable(_:)`` for more entries than a count byte holds
    ///   or the protocol allows, or a nonce of the wrong size.
    public func encode(into writer: inout ByteWriter) throws(WireError) {
        writer.write(kind.rawValue)
        sender.write(into: &writer)
        switch self {
        case .report(_, let entries), .lanReport(_, let entries):
            guard entries.count <= GroupConstants.maximumReportEntries else { throw .unencodable("report entries") }
            writer.write(UInt8(entries.count))
            for entry in entries {
                entry.group.key.write(into: &writer)
                writer.write(entry.flags)
            }
        case .members(_, let answers):
            guard answers.count <= GroupConstants.maximumAnswers else { throw .unencodable("answers") }
            writer.write(UInt8(answers.count))
            for answer in answers {
                guard answer.members.count <= GroupConstants.maximumSampleSize else { throw .unencodable("members") }
                answer.group.key.write(into: &writer)
                writer.write(UInt8(answer.members.count))
                for member in answer.members {
                    member.id.write(into: &writer)
                    writer.writeMembershipAddress(member.address)
                }
            }
        case .link(_, let group), .unlink(_, let group), .prune(_, let group):
            group.key.write(into: &writer)
        case .data(_, let group, let id, let hops, let nonce, let sealed):
            guard nonce.count == SwarmSealKey.nonceSize, sealed.count >= SwarmSealKey.tagSize else {
                throw .unencodable("sealed group data")
            }
            group.key.write(into: &writer)
            Self.write(id, into: &writer)
            writer.write(hops)
            writer.write(bytes: nonce)
            writer.write(bytes: sealed)
        case .iHave(_, let group, let ids):
            guard ids.count <= GroupConstants.maximumIHaveEntries else { throw .unencodable("ihave entries") }
            group.key.write(into: &writer)
            writer.write(UInt8(ids.count))
            for id in ids { Self.write(id, into: &writer) }
        case .graft(_, let group, let id):
            group.key.write(into: &writer)
            Self.write(id, into: &writer)
        }
    }

    /// The message's bytes.
    public func encoded() throws(WireError) -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        try encode(into: &writer)
        return writer.bytes
    }

    /// Reads one whole message.
    /// - Throws: ``WireError`` for an unknown kind, truncated input, counts over the
    ///   protocol's limits, an unknown address family or trailing bytes.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireError) -> GroupMessage {
        var reader = ByteReader(bytes)
        let rawKind = try reader.readUInt8()
        guard let kind = GroupMessageKind(rawValue: rawKind) else { throw .unknownMessageType(rawKind) }
        let sender = try reader.readPeerID()
        let message: GroupMessage
        switch kind {
        case .report, .lanReport:
            let count = try reader.readCount(maximum: GroupConstants.maximumReportEntries)
            var entries: [GroupReportEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let group = try reader.readGroupID()
                entries.append(GroupReportEntry(group: group, flags: try reader.readUInt8()))
            }
            message =
                kind == .report
                ? .report(sender: sender, entries: entries) : .lanReport(sender: sender, entries: entries)
        case .members:
            let answerCount = try reader.readCount(maximum: GroupConstants.maximumAnswers)
            var answers: [GroupMembersAnswer] = []
            answers.reserveCapacity(answerCount)
            for _ in 0..<answerCount {
                let group = try reader.readGroupID()
                let count = try reader.readCount(maximum: GroupConstants.maximumSampleSize)
                var members: [GroupMember] = []
                members.reserveCapacity(count)
                for _ in 0..<count {
                    let id = try reader.readPeerID()
                    members.append(GroupMember(id: id, address: try reader.readMembershipAddress()))
                }
                answers.append(GroupMembersAnswer(group: group, members: members))
            }
            message = .members(sender: sender, answers: answers)
        case .link: message = .link(sender: sender, group: try reader.readGroupID())
        case .unlink: message = .unlink(sender: sender, group: try reader.readGroupID())
        case .prune: message = .prune(sender: sender, group: try reader.readGroupID())
        case .data:
            let group = try reader.readGroupID()
            let id = try readID(&reader)
            let hops = try reader.readUInt8()
            let nonce = Array(try reader.readBytes(SwarmSealKey.nonceSize))
            let sealed = Array(reader.readRest())
            guard sealed.count >= SwarmSealKey.tagSize else {
                throw .truncated(offset: reader.offset, needed: SwarmSealKey.tagSize - sealed.count)
            }
            message = .data(sender: sender, group: group, id: id, hops: hops, nonce: nonce, sealed: sealed)
        case .iHave:
            let group = try reader.readGroupID()
            let count = try reader.readCount(maximum: GroupConstants.maximumIHaveEntries)
            var ids: [GroupMessageID] = []
            ids.reserveCapacity(count)
            for _ in 0..<count { ids.append(try readID(&reader)) }
            message = .iHave(sender: sender, group: group, ids: ids)
        case .graft:
            let group = try reader.readGroupID()
            message = .graft(sender: sender, group: group, id: try readID(&reader))
        }
        try reader.expectEnd()
        return message
    }

    private static func write(_ id: GroupMessageID, into writer: inout ByteWriter) {
        id.origin.write(into: &writer)
        writer.write(id.sequence)
    }

    private static func readID(_ reader: inout ByteReader) throws(WireError) -> GroupMessageID {
        let origin = try reader.readPeerID()
        return GroupMessageID(origin: origin, sequence: try reader.readUInt64())
    }
}

/// One group's sample in a ``GroupMessage/members(sender:answers:)`` message.
public struct GroupMembersAnswer: Equatable, Sendable {
    /// The group.
    public var group: GroupID
    /// Some of its members (none when it has no other).
    public var members: [GroupMember]

    /// Wraps a group and its sample.
    public init(group: GroupID, members: [GroupMember]) {
        self.group = group
        self.members = members
    }

    /// Bytes the answer takes in a message.
    var encodedSize: Int {
        members.reduce(GroupConstants.idSize + 1) { size, member in
            // Peer ID, then family, host and port.
            if case .ipv4 = member.address.host { size + 32 + 7 } else { size + 32 + 19 }
        }
    }
}

/// A group member as a rendezvous peer hands it out: its ID and overlay address.
public struct GroupMember: Hashable, Sendable {
    /// The member's peer ID.
    public var id: PeerID
    /// Where it receives overlay datagrams.
    public var address: PeerAddress

    /// Wraps an ID and an address.
    public init(id: PeerID, address: PeerAddress) {
        self.id = id
        self.address = address
    }
}
