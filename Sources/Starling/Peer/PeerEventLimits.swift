extension Peer {
    /// How many events of each kind ``Peer/events`` holds for a reader that has not read
    /// them yet, and what happens to more.
    ///
    /// ### Policy
    /// Every kind has its own bound, so a flood of one kind (datagrams from a busy peer)
    /// never pushes out another (a session going down). While a kind's bound is reached,
    /// each further event of that kind is dropped when it happens (the newest is the one
    /// refused; nothing already queued is lost) and counted in ``Peer/droppedEvents``.
    /// Memory therefore stays bounded however slowly the events are read; the cost of a
    /// dropped event depends on its kind:
    ///
    /// - Datagrams, broadcasts, queries, query hits and notices: their protocols are
    ///   unreliable already; a dropped one is as if the network had lost it.
    /// - Session and membership events: the state they report is still there to ask
    ///   for (``Peer/connectedPeers()``, ``Peer/members()``); a dropped one loses only
    ///   the moment of the change.
    /// - Messages (``Peer/sendMessage(_:to:)``): the one kind whose loss the reader
    ///   cannot make up, since the sender saw the message delivered to the stream. A
    ///   dropped message is lost for good, counted in ``DroppedEvents/messages``. Size
    ///   ``messages`` and ``messageBytes`` for the largest burst a reader may fall
    ///   behind by, or read the events promptly.
    ///
    /// - Warning: a bound of events, not of time: an event waits unread for as long as
    ///   the reader takes.
    public struct EventLimits: Equatable, Sendable {
        /// Session events: ``Event/sessionUp(peer:address:)``,
        /// ``Event/sessionDown(peer:reason:)`` and ``Event/handshakeFailed(address:expected:error:)``.
        /// Default 4,096; raising it costs about 100 bytes per event held.
        public var sessions = 4_096
        /// ``Event/datagram(peer:payload:)`` events. Default 65,536: with full
        /// 1,200-byte datagrams, about 80 MB held for a reader that stopped reading.
        public var datagrams = 65_536
        /// ``Event/message(peer:payload:)`` events. Default 1,024.
        public var messages = 1_024
        /// The payload bytes of the messages held, together. Default 64 MiB; a message
        /// larger than this bound (see ``PeerConfiguration/maximumMessageSize``) is
        /// always dropped, so keep it above that.
        public var messageBytes = 64 << 20
        /// ``Event/membership(_:)``, ``Event/topology(_:)``, ``Event/groupJoined(group:)``
        /// and ``Event/groupSendFailed(group:messages:reason:)`` events. Default 16,384: a
        /// swarm of thousands joining
        /// at once reports one event per member.
        public var membership = 16_384
        /// ``Event/broadcast(origin:payload:)`` and ``Event/groupMessage(_:)`` events.
        /// Default 65,536.
        public var broadcasts = 65_536
        /// ``Event/query(id:origin:payload:)`` events. Default 4,096.
        public var queries = 4_096
        /// ``Event/queryHit(id:responder:payload:)`` events. Default 4,096.
        public var queryHits = 4_096
        /// ``Event/notice(_:)`` events. Default 1,024.
        public var notices = 1_024

        /// The defaults above.
        public init() {}

        /// The bound of `kind`.
        func limit(of kind: EventKind) -> Int {
            switch kind {
            case .session: sessions
            case .datagram: datagrams
            case .message: messages
            case .membership: membership
            case .broadcast: broadcasts
            case .query: queries
            case .queryHit: queryHits
            case .notice: notices
            }
        }

        /// Checks that every bound is positive.
        /// - Throws: ``PeerError/invalidConfiguration(_:)`` naming the first that is not.
        func validate() throws(PeerError) {
            for kind in EventKind.allCases where limit(of: kind) <= 0 {
                throw .invalidConfiguration("eventLimits.\(kind) must be positive")
            }
            guard messageBytes > 0 else { throw .invalidConfiguration("eventLimits.messageBytes must be positive") }
        }
    }
}

/// The kinds of ``Peer/Event`` that ``Peer/EventLimits`` bounds one by one.
enum EventKind: Int, CaseIterable, CustomStringConvertible {
    case session, datagram, message, membership, broadcast, query, queryHit, notice

    var description: String {
        switch self {
        case .session: "sessions"
        case .datagram: "datagrams"
        case .message: "messages"
        case .membership: "membership"
        case .broadcast: "broadcasts"
        case .query: "queries"
        case .queryHit: "queryHits"
        case .notice: "notices"
        }
    }
}

extension Peer.Event {
    /// The kind whose bound this event counts against.
    var kind: EventKind {
        switch self {
        case .sessionUp, .sessionDown, .handshakeFailed: .session
        case .datagram: .datagram
        case .message: .message
        case .membership, .topology, .groupJoined, .groupSendFailed: .membership
        case .broadcast, .groupMessage: .broadcast
        case .query: .query
        case .queryHit: .queryHit
        case .notice: .notice
        }
    }

    /// The bytes the event counts against ``Peer/EventLimits/messageBytes``: a
    /// message's payload, 0 for every other kind.
    var messageBytes: Int {
        if case .message(_, let payload) = self { payload.count } else { 0 }
    }
}
