import Synchronization

/// Counts of a ``StreamListener``'s inbound connections, by how their handshake ended.
///
/// Counts only grow (wrapping is out of reach for `UInt64`); read them with
/// ``StreamListener/statistics``.
public struct StreamListenerStatistics: Equatable, Sendable {
    /// Handshakes that completed.
    public var established: UInt64 = 0
    /// Connections refused without an answer because their first frame lacked a valid
    /// swarm MAC (``StarlingCore/StreamError/invalidMAC``): only a private swarm counts
    /// these; its listener sent such a connection no byte.
    public var invalidMAC: UInt64 = 0
    /// Connections refused without an answer because their first frame's swarm MAC was
    /// valid but its time too far from the listener's
    /// (``StarlingCore/StreamError/staleOpening``): replays, or members whose clocks
    /// disagree by more than ``StarlingCore/StreamConstants/openingWindow``.
    public var staleOpening: UInt64 = 0
    /// Other failed handshakes: a foreign protocol, a wrong swarm in an open swarm, a
    /// timeout, a malformed message, a lost connection.
    public var failed: UInt64 = 0

    /// All zero.
    public init() {}
}

/// The listener's counters, shared by its connections' event loops.
final class StreamListenerCounters: Sendable {
    private let counts = Mutex(StreamListenerStatistics())

    /// A copy of the counts.
    var snapshot: StreamListenerStatistics { counts.withLock { $0 } }

    /// Counts one handshake's end: `nil` for success, else its error.
    func count(_ error: StreamConnectionError?) {
        counts.withLock { counts in
            switch error {
            case nil: counts.established &+= 1
            case .stream(.invalidMAC)?: counts.invalidMAC &+= 1
            case .stream(.staleOpening)?: counts.staleOpening &+= 1
            default: counts.failed &+= 1
            }
        }
    }
}
