/// Why a ``StreamSession`` failed or refused a command.
///
/// Every failure of a stream is one of these; no input, however hostile or however
/// chunked, makes a stream session trap. A session that reports one through
/// ``StreamEvent/failed(_:)`` is finished: it reads no more input and seals no more data.
public enum StreamError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The first byte of the stream is not ``StreamConstants/header``: the peer does not
    /// speak this version of Starling's stream protocol (or is not Starling at all).
    case unsupportedHeader(UInt8)
    /// The handshake failed for a reason other than the swarm: a malformed handshake
    /// message, an identity payload that does not match its Noise key, or the peer
    /// abandoning the handshake for such a reason.
    case handshakeFailed
    /// A transport chunk did not authenticate: it was altered, reordered, replayed or
    /// forged.
    case authenticationFailed
    /// The initiator expected another peer than the one that completed the handshake.
    case unexpectedPeer(expected: PeerID, actual: PeerID)
    /// A handshake message did not authenticate or the handshake kinds differ: the peers
    /// have different swarm IDs or swarm secrets (or one has a secret and the other
    /// none), or an attacker altered the handshake. A responder with a swarm secret
    /// reports ``invalidMAC`` instead, before answering, and its initiator ``truncated``.
    case wrongSwarm
    /// A responder of a private swarm refused the initiator's first frame, whose swarm
    /// MAC (``StreamAdmission``) is missing or wrong: the initiator lacks the swarm secret
    /// or has another swarm ID (or the frame was altered). The responder sent nothing
    /// and closes; the initiator sees the connection end (``truncated``).
    case invalidMAC
    /// A responder of a private swarm refused the initiator's first frame: its swarm MAC
    /// is valid but the time in it is more than ``StreamConstants/openingWindow`` from
    /// the responder's: a replayed opening, or clocks too far apart. As for
    /// ``invalidMAC``, the responder sent nothing.
    case staleOpening
    /// A message of `size` bytes is larger than `maximum`: refused by ``StreamSession/send(_:)``,
    /// or declared by the peer (and then refused before any of it is buffered).
    case payloadTooLarge(size: Int, maximum: Int)
    /// A frame or record breaks the stream's rules: a frame longer than a Noise message,
    /// an unknown record type, or a record out of place.
    case malformedFrame
    /// The stream ended before the peer closed it: inside a frame, inside a message,
    /// during the handshake, or at a message boundary without a close record.
    case truncated
    /// ``StreamSession/send(_:)`` was called before the handshake completed.
    case notEstablished
    /// The stream is closed (by this side or by the peer): nothing more can be sent.
    case closed

    /// A sentence that says what went wrong.
    public var description: String {
        switch self {
        case .unsupportedHeader(let byte):
            "the stream does not begin with the Starling stream header 0xb1 (it begins with 0x"
                + (byte < 16 ? "0" : "") + String(byte, radix: 16) + ")"
        case .handshakeFailed: "the stream handshake failed"
        case .authenticationFailed: "a stream chunk failed authentication"
        case .unexpectedPeer(let expected, let actual):
            "expected peer \(expected.shortDescription) but \(actual.shortDescription) answered"
        case .wrongSwarm: "the peer belongs to another swarm or has another swarm secret"
        case .invalidMAC: "the stream's first frame lacks a valid swarm MAC (not a member of this private swarm)"
        case .staleOpening:
            "the stream's first frame is more than \(StreamConstants.openingWindow.components.seconds) s old or ahead"
                + " (a replay, or clocks too far apart)"
        case .payloadTooLarge(let size, let maximum):
            "a message of \(size) bytes is larger than the maximum of \(maximum) bytes"
        case .malformedFrame: "the stream carries a malformed frame or record"
        case .truncated: "the stream ended before the peer closed it"
        case .notEstablished: "the stream handshake has not completed yet"
        case .closed: "the stream is closed"
        }
    }
}
