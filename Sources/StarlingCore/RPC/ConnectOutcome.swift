/// Identifies one waiting connect of a ``PeerCore``
/// (``PeerCore/connect(to:expecting:timeout:now:)``); its
/// ``PeerEvent/connectFinished(_:_:)`` carries it back.
///
/// IDs count up from zero in each core and are never reused while the core runs.
public struct ConnectID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number the core gave the connect.
    public let rawValue: UInt64

    /// Wraps a number.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Orders IDs by their number, which is the order the connects were made in.
    public static func < (lhs: ConnectID, rhs: ConnectID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `connect#` and the number in decimal.
    public var description: String { "connect#\(rawValue)" }
}

/// How a waiting connect ended; reported once per ``ConnectID``.
public enum ConnectOutcome: Equatable, Sendable {
    /// A session with the peer is established (or already was).
    case established(PeerID)
    /// The handshake to the connect's address, for its expected peer, failed.
    case handshakeFailed(SessionError)
    /// No session was established within the connect's timeout.
    case timedOut(address: PeerAddress, after: Duration)
}
