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

    /// Creates a report.
    public init(timerLag: Duration = .zero, receiveDrops: Int = 0) {
        self.timerLag = timerLag
        self.receiveDrops = receiveDrops
    }
}
