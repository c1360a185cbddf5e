/// Identifies one outgoing request of a ``PeerCore``; its response carries it back.
///
/// A core numbers its requests consecutively from a random start in the lower half of
/// the 64-bit range, so that they never wrap in practice and the floors it sends only
/// grow; a restarted peer also sends a new incarnation (``PeerCore/incarnation``), so
/// its new IDs are never judged against its previous run's floor.
public struct RequestID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 64-bit value sent on the wire.
    public let rawValue: UInt64

    /// Wraps a wire value.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Orders IDs by their wire value.
    public static func < (lhs: RequestID, rhs: RequestID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `request#` and the wire value in decimal.
    public var description: String { "request#\(rawValue)" }
}

/// Identifies one incoming request: the peer that sent it and the ID that peer gave it.
public struct IncomingRequestID: Hashable, Sendable, CustomStringConvertible {
    /// The requesting peer.
    public let peer: PeerID
    /// The requester's ID for the request.
    public let requestID: RequestID

    /// Creates an identifier.
    public init(peer: PeerID, requestID: RequestID) {
        self.peer = peer
        self.requestID = requestID
    }

    /// The request ID and the requesting peer.
    public var description: String { "\(requestID) from \(peer)" }
}

/// A request a peer sent to this one, for a method this one serves.
///
/// Answer it exactly once with ``PeerCore/respond(to:payload:now:)`` or
/// ``PeerCore/reject(_:reason:now:)``; copies of it that arrive meanwhile are not
/// reported again.
public struct IncomingRequest: Equatable, Sendable {
    /// Identifies the request in the answer.
    public let id: IncomingRequestID
    /// The method asked for; always one this peer serves.
    public let method: String
    /// The requester's bytes.
    public let payload: [UInt8]

    /// Creates a request.
    public init(id: IncomingRequestID, method: String, payload: [UInt8]) {
        self.id = id
        self.method = method
        self.payload = payload
    }

    /// The requesting peer.
    public var peer: PeerID { id.peer }
}
