/// What a ``StreamSession`` reports to its driver, in order, through
/// ``StreamSession/pollEvent()``.
public enum StreamEvent: Equatable, Sendable {
    /// The handshake completed with `peer`, whose identity it proved. On the initiator
    /// this follows the responder's confirmation, so both sides hold the same keys.
    case established(peer: PeerID)
    /// A whole application message arrived.
    case message([UInt8])
    /// The peer closed the stream cleanly: every message it sent has been reported.
    case closed
    /// The stream failed; the session is finished.
    case failed(StreamError)
}
