public import StarlingCore
public import StarlingIO

/// Why a ``Peer`` call failed.
///
/// Each case says what went wrong in terms of the call; the session and request
/// layers' own errors are carried unchanged where they are the cause.
public enum PeerError: Error, Equatable, Sendable {
    /// The configuration is invalid; the text says which setting and why.
    case invalidConfiguration(String)
    /// The socket could not be bound to the address; the text is the system's reason.
    case bindFailed(address: PeerAddress, reason: String)
    /// The peer was shut down (or is shutting down): it makes and answers nothing.
    case shutDown
    /// No session was established within the connect timeout.
    case connectTimedOut(address: PeerAddress, after: Duration)
    /// The handshake failed: timed out after its retransmissions, the answer did not
    /// authenticate (a different swarm secret, for instance), or an unexpected peer answered.
    case handshakeFailed(SessionError)
    /// The session layer refused a datagram: too large, or no session with the peer.
    case session(SessionError)
    /// A request failed: timed out, unreachable, rejected, too large, or not served.
    case request(RPCError)
    /// A message for ``Peer/sendMessage(_:to:)`` is larger than
    /// ``PeerConfiguration/maximumMessageSize`` allows.
    case payloadTooLarge(size: Int, maximum: Int)
    /// A TCP stream could not be made, or failed.
    case stream(StreamConnectionError)
    /// The calling task was cancelled before the answer arrived.
    case cancelled
    /// The call needs an overlay and ``PeerConfiguration/overlay`` is `nil`.
    case overlayDisabled
    /// A lookup found no valid record of the peer.
    case peerNotFound(PeerID)
    /// The routing layer refused the command.
    case routing(RoutingError)
    /// The spreading layer refused the command (payload too large, unknown peer, …).
    case spreading(SpreadingError)
    /// An echo request to the peer got no reply in time.
    case echoTimedOut(PeerID)
    /// An anycast request (``Peer/requestNearest(_:_:service:timeout:)``) failed.
    case anycast(AnycastError)
    /// A group command was refused (bad name, payload too large, too many groups).
    case group(GroupError)
    /// A name could not be published or resolved (``Peer/resolveName(_:)``).
    case name(NameError)
}

extension PeerError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): "invalid configuration: \(reason)"
        case .bindFailed(let address, let reason): "cannot bind \(address): \(reason)"
        case .shutDown: "the peer is shut down"
        case .connectTimedOut(let address, let after): "no session with \(address) within \(after)"
        case .handshakeFailed(let error): "handshake failed: \(error)"
        case .session(let error): "\(error)"
        case .request(let error): "\(error)"
        case .payloadTooLarge(let size, let maximum): "a message of \(size) bytes exceeds the maximum of \(maximum)"
        case .stream(let error): "stream: \(error)"
        case .cancelled: "cancelled"
        case .overlayDisabled: "this peer has no overlay (PeerConfiguration.overlay is nil)"
        case .peerNotFound(let peer): "no record of \(peer.shortDescription) was found"
        case .routing(let error): "routing: \(error)"
        case .spreading(let error): "spreading: \(error)"
        case .anycast(let error): "anycast: \(error)"
        case .group(let error): "group: \(error)"
        case .name(let error): "\(error)"
        case .echoTimedOut(let peer): "no echo reply from \(peer.shortDescription)"
        }
    }
}
