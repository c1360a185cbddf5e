/// Counters of a ``SpreadingCore``'s traffic and of the input it dropped.
public struct SpreadingStatistics: Equatable, Sendable {
    /// Messages decoded and handled.
    public internal(set) var messagesReceived = 0
    /// Messages queued for sending.
    public internal(set) var messagesSent = 0
    /// Datagrams that did not decode; each was dropped.
    public internal(set) var malformedDropped = 0
    /// Gossip messages and queries seen before, and query hits passed on before; each
    /// was dropped.
    public internal(set) var duplicatesDropped = 0
    /// Gossip delivered but not forwarded because it reached the hop limit.
    public internal(set) var hopLimitReached = 0
    /// Queries that arrived with no TTL left, or whose TTL ran out here with other
    /// neighbours still unreached; none was forwarded.
    public internal(set) var queriesExpired = 0
    /// Hits and notices with no reverse path (expired or never known); each was dropped.
    public internal(set) var noRouteDropped = 0
    /// Query messages received, copies included: the search traffic this peer carries.
    public internal(set) var queriesReceived = 0
    /// Query messages sent, originated or forwarded.
    public internal(set) var queriesSent = 0
    /// Query copies not sent to a leaf neighbour because its filter could not match (or
    /// it was the query's origin).
    public internal(set) var queriesFiltered = 0
    /// Echo replies that matched no outstanding request (late, forged or duplicated).
    public internal(set) var unexpectedEchoReplies = 0
    /// TTL-exceeded notices not passed on because one for the same query already was.
    public internal(set) var noticesSuppressed = 0
    /// Gossip messages, queries and hits whose signature did not verify, or that repeated
    /// a forgery already refused; each was dropped, neither delivered nor forwarded.
    public internal(set) var forgedOrigin = 0
    /// Ed25519 signatures checked: at most one per message not seen before (copies of a
    /// message already accepted or refused are not checked again).
    public internal(set) var signatureVerifications = 0
    /// The error of the last malformed datagram.
    public internal(set) var lastDecodeError: WireError?

    /// All zero.
    public init() {}
}
