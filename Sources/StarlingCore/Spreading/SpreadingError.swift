/// Why a ``SpreadingCore`` command was refused.
public enum SpreadingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The payload is longer than ``SpreadingConfiguration/maximumPayloadSize``.
    case payloadTooLarge(size: Int, maximum: Int)
    /// A TTL outside `1…maximumTTL`.
    case invalidTTL(Int)
    /// No reverse path is known (or it expired) for the query being answered.
    case noRoute(SpreadingID)
    /// The peer is not a current neighbour.
    case unknownPeer(PeerID)
    /// ``SpreadingConfiguration/maximumPendingEchoes`` requests are outstanding already.
    case tooManyPendingEchoes

    /// A sentence for people.
    public var description: String {
        switch self {
        case .payloadTooLarge(let size, let maximum): "payload of \(size) bytes exceeds \(maximum)"
        case .invalidTTL(let ttl): "TTL \(ttl) is outside the allowed range"
        case .noRoute(let id): "no reverse path for query \(id)"
        case .unknownPeer(let peer): "\(peer.shortDescription) is not a neighbour"
        case .tooManyPendingEchoes: "too many echo requests outstanding"
        }
    }
}
