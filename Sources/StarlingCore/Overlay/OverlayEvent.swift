/// What an ``OverlayCore`` reports: its protocols' events, unchanged, and its topology's.
public enum OverlayEvent: Equatable, Sendable, CustomStringConvertible {
    /// A member joined, was suspected, failed, left or came back (SWIM).
    case membership(MembershipEvent)
    /// A lookup, provider search or provide finished (Kademlia).
    case routing(RoutingEvent)
    /// A broadcast or query arrived, a query hit or echo reply came back, or a notice.
    case spreading(SpreadingEvent)
    /// The peer's role, and (hybrid) index servers found and lost, fallback started and
    /// ended.
    case topology(TopologyEvent)
    /// A group join took effect, a group message arrived, or a non-member's send failed.
    case group(GroupEvent)
    /// A name resolution or publication ended.
    case name(NameEvent)

    public var description: String {
        switch self {
        case .membership(let event): "membership \(event)"
        case .routing(.lookupFinished(let id, let result)): "routing \(id) finished after \(result.hops) hops"
        case .spreading(let event): "spreading \(event)"
        case .topology(let event): "topology \(event)"
        case .group(let event): "group \(event)"
        case .name(let event): "name \(event)"
        }
    }
}

/// An ``OverlayCore``'s traffic counters.
public struct OverlayStatistics: Equatable, Sendable {
    /// Overlay datagrams sent, by protocol.
    public internal(set) var sent: [OverlayProtocol: Int] = [:]
    /// Bytes of the overlay datagrams sent (envelope included), by protocol.
    public internal(set) var sentBytes: [OverlayProtocol: Int] = [:]
    /// Overlay datagrams received and handed to a protocol, by protocol.
    public internal(set) var received: [OverlayProtocol: Int] = [:]
    /// Datagrams dropped before any protocol saw them, by reason.
    public internal(set) var drops: [OverlayDrop: Int] = [:]
    /// Messages a protocol produced that exceeded one overlay datagram and were not sent.
    public internal(set) var oversized = 0
    /// Session datagrams sent through a super-peer because their peer is reachable only
    /// through one (super-peer topology).
    public internal(set) var relayedSent = 0
    /// Relayed session datagrams received and handed to the session layer.
    public internal(set) var relayedReceived = 0
    /// Relayed datagrams refused: from an address that is no alive super-peer's, from an
    /// origin that is no live member, too long to relay, or too many waiting.
    public internal(set) var relaysRefused = 0
    /// Relay routes not made because ``OverlayConstants/maximumRelayRoutes`` were held.
    public internal(set) var relayRoutesRefused = 0

    /// All overlay datagrams sent.
    public var totalSent: Int { sent.values.reduce(0, +) }
    /// All overlay datagrams received and handed to a protocol.
    public var totalReceived: Int { received.values.reduce(0, +) }
}

/// How an ``OverlayCore`` kept its answers to unproven addresses within what they sent.
public struct OverlayAdmissionStatistics: Equatable, Sendable {
    /// Address check challenges sent.
    public internal(set) var challengesSent = 0
    /// Challenges of others answered.
    public internal(set) var responsesSent = 0
    /// Challenges not answered: the asking address had no credit left, or too many
    /// checks were queued.
    public internal(set) var refusedChallenges = 0
    /// Responses that matched a challenge: addresses proven (or proven again).
    public internal(set) var addressesProven = 0
    /// Responses that matched no waiting challenge (late, repeated or forged).
    public internal(set) var unmatchedResponses = 0
    /// Datagrams held because their unproven address had too little credit.
    public internal(set) var heldDatagrams = 0
    /// Held datagrams sent once their address proved it receives.
    public internal(set) var releasedDatagrams = 0
    /// Datagrams dropped instead of held (the hold was full) or dropped while held (no
    /// proof in time, or their address was forgotten).
    public internal(set) var droppedHeldDatagrams = 0
}
