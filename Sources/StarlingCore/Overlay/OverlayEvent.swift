/// What an ``OverlayCore`` reports: its three protocols' events, unchanged.
public enum OverlayEvent: Equatable, Sendable, CustomStringConvertible {
    /// A member joined, was suspected, failed, left or came back (SWIM).
    case membership(MembershipEvent)
    /// A lookup, provider search or provide finished (Kademlia).
    case routing(RoutingEvent)
    /// A broadcast or query arrived, a query hit or echo reply came back, or a notice.
    case spreading(SpreadingEvent)

    public var description: String {
        switch self {
        case .membership(let event): "membership \(event)"
        case .routing(.lookupFinished(let id, let result)): "routing \(id) finished after \(result.hops) hops"
        case .spreading(let event): "spreading \(event)"
        }
    }
}

/// An ``OverlayCore``'s traffic counters.
public struct OverlayStatistics: Equatable, Sendable {
    /// Overlay datagrams sent, by protocol.
    public internal(set) var sent: [OverlayProtocol: Int] = [:]
    /// Overlay datagrams received and handed to a protocol, by protocol.
    public internal(set) var received: [OverlayProtocol: Int] = [:]
    /// Datagrams dropped before any protocol saw them, by reason.
    public internal(set) var drops: [OverlayDrop: Int] = [:]
    /// Messages a protocol produced that exceeded one overlay datagram and were not sent.
    public internal(set) var oversized = 0

    /// All overlay datagrams sent.
    public var totalSent: Int { sent.values.reduce(0, +) }
    /// All overlay datagrams received and handed to a protocol.
    public var totalReceived: Int { received.values.reduce(0, +) }
}
