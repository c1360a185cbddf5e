/// What a peer core's stream calls (``StreamCalls``) report, as
/// ``PeerEvent/stream(_:)``.
public enum StreamCallEvent: Equatable, Sendable {
    /// A reliable message arrived from `peer` on a stream.
    case message(peer: PeerID, payload: [UInt8])
    /// A peer asks this one, on a stream, to run a served method; answer it with
    /// ``PeerCore/respond(toStream:payload:)`` or ``PeerCore/reject(onStream:reason:)``.
    case request(IncomingStreamRequest)
    /// A request made with ``PeerCore/streamRequest(_:_:on:timeout:now:)`` ended: the
    /// peer's answer, or why there is none. Reported exactly once per request, and
    /// never after ``PeerCore/cancelStreamRequest(_:)``.
    case response(RequestID, Result<[UInt8], RPCError>)
}

/// Identifies one incoming stream request: the stream it came on and the ID its sender
/// gave it.
public struct IncomingStreamRequestID: Hashable, Sendable, CustomStringConvertible {
    /// The stream the request came on, and its answer goes back on.
    public let stream: StreamID
    /// The requester's ID for the request.
    public let requestID: RequestID

    /// Creates an identifier.
    public init(stream: StreamID, requestID: RequestID) {
        self.stream = stream
        self.requestID = requestID
    }

    /// The request ID and the stream.
    public var description: String { "\(requestID) on \(stream)" }
}

/// A request a peer sent to this one on a stream, for a method this one serves.
///
/// A stream is reliable and ordered, so each request arrives once: answer it once with
/// ``PeerCore/respond(toStream:payload:)`` or ``PeerCore/reject(onStream:reason:)``.
public struct IncomingStreamRequest: Equatable, Sendable {
    /// Identifies the request in the answer.
    public let id: IncomingStreamRequestID
    /// The requesting peer.
    public let peer: PeerID
    /// The method asked for; always one this peer serves.
    public let method: String
    /// The requester's bytes.
    public let payload: [UInt8]

    /// Creates a request.
    public init(id: IncomingStreamRequestID, peer: PeerID, method: String, payload: [UInt8]) {
        self.id = id
        self.peer = peer
        self.method = method
        self.payload = payload
    }
}
