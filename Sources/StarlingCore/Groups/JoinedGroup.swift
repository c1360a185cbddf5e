/// A mesh link of a group: to a member this peer pushes messages to (eager) or only
/// announces them to (lazy), as Plumtree keeps them.
struct GroupLink: Sendable {
    enum State: Equatable, Sendable {
        /// Asked for `asks` times, last at `since`, not yet confirmed: announced to, not
        /// pushed to.
        case pending(since: Instant, asks: Int)
        /// Messages are pushed to it whole.
        case eager
        /// Messages are announced to it (`ihave`); it grafts what it misses.
        case lazy
    }

    var address: PeerAddress
    var state: State

    /// Whether the link is confirmed (eager or lazy).
    var isActive: Bool {
        if case .pending = state { return false }
        return true
    }
}

/// A group this peer has joined: its key, its mesh links, the members it could link
/// to, and its rendezvous peers.
struct JoinedGroup: Sendable {
    let key: GroupKey
    var links: [PeerID: GroupLink] = [:]
    /// Members learnt from rendezvous answers, not linked (bounded).
    var candidates: [PeerID: PeerAddress] = [:]
    /// The peers this member reports the group to, as last worked out.
    var rendezvous: [GroupMember] = []
    /// Whether a rendezvous peer answered a report of this join.
    var answered = false
    /// Whether ``GroupEvent/joined(_:)`` was reported.
    var reportedJoined = false
    /// Messages received or sent lately, newest last: announced again to random links
    /// once a second for ``GroupConstants/reannounceWindow`` (gossipsub's gossip), which
    /// repairs what a lost push and lost announcements left out.
    var recent: [RecentMessage] = []
    /// When the next membership report is due.
    var reportAt: Instant
    /// When members may be asked for next (too few links, no candidate left).
    var nextAskAt: Instant
    /// The wait after the next request for members: doubled while answers bring nobody
    /// new (a group of one), back to ``GroupConstants/reportRetry`` when one does.
    var askInterval = GroupConstants.reportRetry

    init(key: GroupKey, now: Instant) {
        self.key = key
        reportAt = now
        nextAskAt = now
    }

    /// Whether to ask the rendezvous peers for members now: until one answers, and
    /// while too few links are left with nobody to link to; never sooner than the
    /// backoff allows, so that lost answers (an overloaded rendezvous peer) are not met
    /// with more questions.
    func wantsMembers(now: Instant) -> Bool {
        nextAskAt <= now && (!answered || (links.count < GroupConstants.lowLinks && candidates.isEmpty))
    }

    /// Notes a request for members made at `now`.
    mutating func asked(now: Instant) {
        nextAskAt = now + askInterval
        askInterval = min(askInterval * 2, GroupConstants.maximumAskInterval)
    }

    /// Confirmed links.
    var activeLinks: Int { links.values.count(where: \.isActive) }

    /// Link peers in ID order: the deterministic iteration order.
    var linkOrder: [PeerID] { links.keys.sorted() }
}

/// A group this peer sends to without being a member (gossipsub's fanout): the members
/// it sends each message to, and the messages that wait for them to be found.
struct FanoutGroup: Sendable {
    let key: GroupKey
    var members: [GroupMember] = []
    var expiresAt: Instant
    var waiting: [RetainedMessage] = []
    var askedAt: Instant?
    var asks = 0
}

/// A message kept to answer grafts, or waiting to be sent.
struct RetainedMessage: Sendable {
    var group: GroupID
    var id: GroupMessageID
    var hops: UInt8
    var nonce: [UInt8]
    var sealed: [UInt8]
}

/// A message announced by `ihave` and not yet received.
struct MissingMessage: Sendable {
    var group: GroupID
    /// Peers that announced it, in order; asked in turn, round and round.
    var announcers: [PeerID]
    /// Times it was asked for.
    var grafts = 0
    /// When the first announcement came.
    var announcedAt: Instant
    /// When to ask the next announcer.
    var due: Instant
    /// Whether an announcer was asked: its arrival then says nothing of the tree's delay.
    var asked = false
}

/// A message announced again for a while, with the links known to have it or told of
/// it (they sent it, announced it, or were announced it), which need no announcement.
struct RecentMessage: Sendable {
    var id: GroupMessageID
    var at: Instant
    var informed: [PeerID]

    /// Links remembered as informed, per message.
    static let maximumInformed = 8
}

/// An announcement batch's destination: one link of one group.
struct LinkKey: Hashable, Sendable {
    var peer: PeerID
    var group: GroupID
}
