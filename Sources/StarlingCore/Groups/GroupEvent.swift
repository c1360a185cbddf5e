/// What a ``GroupsCore`` reports to its user.
public enum GroupEvent: Equatable, Sendable, CustomStringConvertible {
    /// A join took effect: a rendezvous peer registered this member and it is linked
    /// to the group's mesh (or is the group's only member so far). Messages sent to the
    /// group from now on reach it.
    case joined(GroupID)
    /// A group message arrived for the first time, `hops` links from its origin;
    /// `viaLAN` when it came as one IP multicast datagram on the LAN segment.
    case message(group: GroupID, id: GroupMessageID, hops: Int, payload: [UInt8], viaLAN: Bool)
    /// Messages a non-member sent to `group` were dropped: no rendezvous peer answered,
    /// or the group has no members.
    case sendFailed(group: GroupID, messages: Int, reason: GroupSendFailure)

    public var description: String {
        switch self {
        case .joined(let group): "joined \(group)"
        case .message(let group, let id, let hops, let payload, let viaLAN):
            "message \(id) in \(group) hops \(hops) \(payload.count) bytes\(viaLAN ? " via LAN" : "")"
        case .sendFailed(let group, let messages, let reason):
            "\(messages) messages to \(group) dropped: \(reason)"
        }
    }
}

/// Why messages a non-member sent to a group were dropped.
public enum GroupSendFailure: Equatable, Sendable, CustomStringConvertible {
    /// The group's rendezvous peers know no member.
    case noMembers
    /// No rendezvous peer answered.
    case noRendezvous

    public var description: String {
        switch self {
        case .noMembers: "the group has no members"
        case .noRendezvous: "no rendezvous peer answered"
        }
    }
}

/// Why a group command was refused.
public enum GroupError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not 1 to 255 UTF-8 bytes, or with control characters.
    case invalidName(String)
    /// The payload does not fit one group message.
    case payloadTooLarge(size: Int, maximum: Int)
    /// ``GroupConstants/maximumJoinedGroups`` are joined already.
    case tooManyGroups(maximum: Int)
    /// Too many messages wait for a group's members to be found.
    case tooManyWaiting(maximum: Int)
    /// This peer takes part in no overlay.
    case noOverlay

    public var description: String {
        switch self {
        case .invalidName(let name): "'\(name)' is not a group name (1 to 255 UTF-8 bytes, no control characters)"
        case .payloadTooLarge(let size, let maximum): "group payload of \(size) bytes exceeds \(maximum)"
        case .tooManyGroups(let maximum): "already in \(maximum) groups"
        case .tooManyWaiting(let maximum): "\(maximum) messages already wait for the group's members"
        case .noOverlay: "this peer takes part in no overlay"
        }
    }
}

/// A ``GroupsCore``'s counters.
public struct GroupStatistics: Equatable, Sendable {
    /// Messages this peer sent to groups (as origin).
    public internal(set) var originated = 0
    /// Messages delivered to this peer's user.
    public internal(set) var delivered = 0
    /// Of ``delivered``, those that came by LAN multicast.
    public internal(set) var deliveredViaLAN = 0
    /// Copies of messages pushed to links (data messages sent by unicast).
    public internal(set) var pushed = 0
    /// IP multicast datagrams sent to the LAN channel with a message.
    public internal(set) var multicast = 0
    /// Copies received that were delivered before.
    public internal(set) var duplicates = 0
    /// Messages that did not open under the group key, or whose sequence was refused.
    public internal(set) var unauthentic = 0
    /// Messages for a group this peer has not joined.
    public internal(set) var notMember = 0
    /// Messages asked for after an announcement (grafts sent).
    public internal(set) var grafts = 0
    /// Announced messages that never arrived, every announcer asked.
    public internal(set) var unrecovered = 0
    /// Links moved to lazy after a duplicate (prunes sent).
    public internal(set) var prunes = 0
    /// Links refused (full) or timed out unanswered.
    public internal(set) var linksRefused = 0
    /// Registrations refused by this rendezvous peer (its tables full).
    public internal(set) var registrationsRefused = 0
    /// Messages from a new origin dropped because ``GroupConstants/maximumOrigins`` were
    /// tracked.
    public internal(set) var originsRefused = 0
    /// Messages of announcements not tracked (``GroupConstants/maximumMissing``).
    public internal(set) var missingRefused = 0
    /// Group messages that could not be decoded.
    public internal(set) var malformed = 0
    /// Group messages from a sender that is no live member at the datagram's source.
    public internal(set) var unknownSenders = 0
}
