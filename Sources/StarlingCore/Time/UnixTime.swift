/// A wall-clock time in whole seconds since 1970-01-01T00:00:00Z.
///
/// Used where a time crosses machines (record expiry). Like ``Instant`` it is passed
/// in, never read by the core.
public struct UnixTime: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Seconds since the Unix epoch.
    public var seconds: UInt64

    /// Creates a time `seconds` after the epoch.
    public init(seconds: UInt64) {
        self.seconds = seconds
    }

    public static func < (lhs: UnixTime, rhs: UnixTime) -> Bool { lhs.seconds < rhs.seconds }

    /// The time `duration` later, in whole seconds (saturating).
    public static func + (lhs: UnixTime, rhs: Duration) -> UnixTime {
        let delta = rhs.components.seconds
        if delta >= 0 {
            let (sum, overflow) = lhs.seconds.addingReportingOverflow(UInt64(delta))
            return UnixTime(seconds: overflow ? .max : sum)
        }
        return UnixTime(seconds: lhs.seconds > delta.magnitude ? lhs.seconds - delta.magnitude : 0)
    }

    public var description: String { "\(seconds)" }
}
