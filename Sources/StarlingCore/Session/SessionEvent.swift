/// What the session layer reports to its user.
public enum SessionEvent: Equatable, Sendable {
    /// A session with `peer` is established (both sides proved their keys).
    case established(peer: PeerID, address: PeerAddress)
    /// A datagram arrived from `peer` over its session.
    case datagram(peer: PeerID, payload: [UInt8])
    /// The session with `peer` ended.
    case closed(peer: PeerID, reason: SessionCloseReason)
    /// A handshake this peer started did not complete.
    case handshakeFailed(address: PeerAddress, expected: PeerID?, error: SessionError)
}

/// Why a session ended.
public enum SessionCloseReason: Equatable, Sendable {
    /// Nothing was heard from the peer for longer than the session may live.
    case expired
    /// This side closed it.
    case local
    /// The session table was full and a new peer took the place of this one, the peer
    /// heard from least recently (see ``SessionConfiguration/maximumSessions``).
    case evicted
}

/// A session-layer failure reported to the user.
public enum SessionError: Error, Equatable, Sendable {
    /// No handshake response arrived in time after every retransmission.
    case handshakeTimedOut(attempts: Int)
    /// Responses arrived but none authenticated: the peer has another swarm secret, is
    /// another swarm, or is not the peer expected.
    case authenticationFailed
    /// The peer completed the handshake with another key than the one expected.
    case unexpectedPeer(expected: PeerID, actual: PeerID)
    /// No session with the peer, and none is being set up.
    case noSession(PeerID)
    /// The payload does not fit one datagram.
    case payloadTooLarge(size: Int, maximum: Int)
    /// The table of this side's own half-done handshakes is full.
    case tooManyHandshakes
    /// The session table is full and no session is idle long enough to evict.
    case tooManySessions
}
