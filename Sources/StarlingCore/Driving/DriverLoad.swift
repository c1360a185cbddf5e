/// What a driver observed about its own timeliness, reported to a core with
/// ``ProtocolCore/noteLoad(_:now:)``.
///
/// A peer on a busy machine answers late and reads late; without knowing that, its
/// failure detector would blame the peers it probes. The simulator's CPU model and the
/// SwiftNIO driver report the same two measurements.
public struct DriverLoad: Equatable, Sendable {
    /// How long after its deadline the timer fired (zero when on time).
    public var timerLag: Duration
    /// Datagrams the socket's receive queue dropped since the previous report.
    public var receiveDrops: Int
    /// Bytes received and not yet read when the report was made: input the core has not
    /// seen, such as an ack it is about to give up waiting for.
    public var unreadBytes: Int

    /// Creates a report.
    public init(timerLag: Duration = .zero, receiveDrops: Int = 0, unreadBytes: Int = 0) {
        self.timerLag = timerLag
        self.receiveDrops = receiveDrops
        self.unreadBytes = unreadBytes
    }

    /// Whether the report says anything (a driver need not send an empty one).
    public var isEmpty: Bool { timerLag == .zero && receiveDrops == 0 && unreadBytes == 0 }
}
