/// An ICMP-style control notice that reached the peer it was meant for.
public enum SpreadingNotice: Equatable, Sendable, CustomStringConvertible {
    /// `reporter` had no route for a `subject` message about `id` that this peer sent
    /// (for example a query hit whose reverse path had expired).
    case unreachable(id: SpreadingID, subject: SpreadingMessageKind, reporter: PeerID)
    /// This peer's query `id` died by TTL at `reporter`, `hops` links away. Only the
    /// first such notice per query is reported.
    case ttlExceeded(id: SpreadingID, reporter: PeerID, hops: Int)

    /// A short form for logs and traces.
    public var description: String {
        switch self {
        case .unreachable(let id, let subject, let reporter):
            "unreachable \(subject) \(id) at \(reporter.shortDescription)"
        case .ttlExceeded(let id, let reporter, let hops):
            "ttlExceeded \(id) at \(reporter.shortDescription) hops \(hops)"
        }
    }
}

/// What a ``SpreadingCore`` reports to its user.
public enum SpreadingEvent: Equatable, Sendable, CustomStringConvertible {
    /// A gossip message arrived for the first time; it has been forwarded already.
    case delivered(id: SpreadingID, origin: PeerID, hops: Int, payload: [UInt8])
    /// A query arrived for the first time, `hops` links from its origin. Call
    /// ``SpreadingCore/answer(_:payload:now:)`` to send a hit back.
    case query(id: SpreadingID, origin: PeerID, hops: Int, payload: [UInt8])
    /// An answer to this peer's query, from `responder`, `hops` links away.
    case queryHit(id: SpreadingID, responder: PeerID, hops: Int, payload: [UInt8])
    /// An echo reply arrived; `rtt` also went into ``SpreadingCore/rtt(of:)``.
    case echoReply(peer: PeerID, identifier: UInt32, rtt: Duration)
    /// An echo request got no reply within the echo timeout.
    case echoTimedOut(peer: PeerID, identifier: UInt32)
    /// A control notice for this peer.
    case notice(SpreadingNotice)

    /// A short form for logs and traces.
    public var description: String {
        switch self {
        case .delivered(let id, let origin, let hops, let payload):
            "delivered \(id) from \(origin.shortDescription) hops \(hops) \(payload.count)B"
        case .query(let id, let origin, let hops, _): "query \(id) from \(origin.shortDescription) hops \(hops)"
        case .queryHit(let id, let responder, let hops, _):
            "queryHit \(id) from \(responder.shortDescription) hops \(hops)"
        case .echoReply(let peer, let identifier, let rtt): "echoReply \(peer.shortDescription) #\(identifier) \(rtt)"
        case .echoTimedOut(let peer, let identifier): "echoTimedOut \(peer.shortDescription) #\(identifier)"
        case .notice(let notice): notice.description
        }
    }
}
