import NIOCore
public import StarlingCore

/// Why a stream connection could not be made, or failed.
///
/// Protocol failures carry the sans-I/O session's ``StarlingCore/StreamError``; the other
/// cases are the socket's and the clock's.
public enum StreamConnectionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The stream protocol failed: wrong swarm, authentication, an oversized or
    /// malformed message, truncation, or a send after close (``StarlingCore/StreamError/closed``).
    case stream(StreamError)
    /// No TCP connection could be made (refused, unreachable); `reason` is the system's.
    case connectFailed(reason: String)
    /// The TCP connection did not complete within the configured connect timeout.
    case connectTimedOut
    /// The handshake did not complete within the configured handshake timeout.
    case handshakeTimedOut
    /// The established connection broke (reset by the peer, or another I/O error);
    /// `reason` is the system's.
    case connectionLost(reason: String)
    /// The configuration is invalid; nothing was bound or connected.
    case invalidConfiguration(SessionConfiguration.ValidationError)
    /// The listener could not bind its address; `reason` is the system's.
    case bindFailed(reason: String)

    /// A sentence that says what went wrong.
    public var description: String {
        switch self {
        case .stream(let error): error.description
        case .connectFailed(let reason): "could not connect: \(reason)"
        case .connectTimedOut: "the connection attempt timed out"
        case .handshakeTimedOut: "the stream handshake timed out"
        case .connectionLost(let reason): "the connection was lost: \(reason)"
        case .invalidConfiguration(let error): "invalid stream configuration: \(error)"
        case .bindFailed(let reason): "could not listen: \(reason)"
        }
    }

    /// The error for a failure of an established connection's channel or stream.
    init(lost error: any Error) {
        if let error = error as? StreamConnectionError {
            self = error
        } else if let error = error as? StreamError {
            self = .stream(error)
        } else if let error = error as? ChannelError, error == .ioOnClosedChannel || error == .alreadyClosed {
            self = .stream(.closed)
        } else {
            self = .connectionLost(reason: "\(error)")
        }
    }

    /// The error for a failed connection attempt.
    init(connecting error: any Error) {
        if case ChannelError.connectTimeout = error {
            self = .connectTimedOut
        } else {
            self = .connectFailed(reason: "\(error)")
        }
    }
}
