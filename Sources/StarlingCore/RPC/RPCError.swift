/// Why a request failed, or a request-side command was refused.
public enum RPCError: Error, Equatable, Sendable {
    /// No response arrived before the request's timeout, though the request was sent.
    case timedOut
    /// No session with the peer could be made: its handshake failed, no address was
    /// given for a peer without a session, the session was closed locally, or the
    /// timeout passed before any copy of the request could be sent.
    case unreachable
    /// The peer's handler refused the request (or the peer was too busy), saying why.
    case rejected(reason: String)
    /// A payload does not fit one datagram: the request's (thrown by the call), or the
    /// response the peer's handler produced (reported as the response).
    case payloadTooLarge(size: Int, maximum: Int)
    /// The peer serves no method of this name.
    case noHandler(method: String)
    /// The method name is empty, longer than ``RPCConstants/maximumMethodLength``, or
    /// has a character outside `a`–`z`, `0`–`9`, `.`, `_`, `/` and `-`.
    case invalidMethod(String)
    /// As many requests wait for an answer as the caller's table holds (for stream
    /// requests, ``StreamConstants/maximumWaitingRequests``); the request was not sent.
    case tooManyRequests(maximum: Int)
}

extension RPCError: CustomStringConvertible {
    /// A sentence for people.
    public var description: String {
        switch self {
        case .timedOut: "the request timed out"
        case .unreachable: "the peer is unreachable"
        case .rejected(let reason): "the peer rejected the request: \(reason)"
        case .payloadTooLarge(let size, let maximum): "a payload of \(size) bytes exceeds the maximum of \(maximum)"
        case .noHandler(let method): "the peer serves no method \"\(method)\""
        case .invalidMethod(let method): "\"\(method)\" is not a valid method name"
        case .tooManyRequests(let maximum): "\(maximum) requests wait for an answer already"
        }
    }
}
