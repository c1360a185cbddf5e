/// What a ``PeerCore`` reports to its user.
public enum PeerEvent: Equatable, Sendable {
    /// A session with `peer` is established (both sides proved their keys).
    case established(peer: PeerID, address: PeerAddress)
    /// A plain datagram arrived from `peer` (sent with ``PeerCore/sendDatagram(_:to:now:)``).
    case datagram(peer: PeerID, payload: [UInt8])
    /// The session with `peer` ended.
    case closed(peer: PeerID, reason: SessionCloseReason)
    /// A handshake this peer started did not complete. Requests waiting for that
    /// session fail with ``RPCError/unreachable``.
    case handshakeFailed(address: PeerAddress, expected: PeerID?, error: SessionError)
    /// A peer asks this one to run a served method; answer it with
    /// ``PeerCore/respond(to:payload:now:)`` or ``PeerCore/reject(_:reason:now:)``.
    case request(IncomingRequest)
    /// A request made with ``PeerCore/request(_:_:to:address:timeout:now:)`` ended:
    /// the peer's answer, or why there is none. Reported exactly once per request.
    case response(RequestID, Result<[UInt8], RPCError>)
    /// A connect made with ``PeerCore/connect(to:expecting:timeout:now:)`` ended: the
    /// session is up, its handshake failed, or it timed out. Reported exactly once per
    /// connect, and never after ``PeerCore/cancelConnect(_:)``.
    case connectFinished(ConnectID, ConnectOutcome)
    /// A message, request or response on one of the peer's streams (``StreamCalls``).
    case stream(StreamCallEvent)
}
