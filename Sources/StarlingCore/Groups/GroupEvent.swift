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
