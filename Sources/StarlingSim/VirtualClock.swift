public import StarlingCore

/// The simulator's clock: time moves only when the simulation moves it.
///
/// ### Purpose
/// StarlingCore takes `now` as an argument; in the simulator `now` comes from here.
/// The clock never goes backwards, which is the one promise every core relies on, so
/// ``advance(to:)`` refuses an earlier instant.
public struct VirtualClock: Sendable {
    /// Why the clock refused to move.
    public enum ClockError: Error, Equatable, Sendable {
        /// The requested instant is before the current one.
        case wouldGoBackwards(now: Instant, requested: Instant)
    }

    /// The current virtual time.
    public private(set) var now: Instant

    /// Creates a clock at `start` (the origin by default).
    public init(start: Instant = .zero) {
        now = start
    }

    /// Moves the clock forward by `duration` (zero or more).
    /// - Throws: ``ClockError/wouldGoBackwards(now:requested:)`` for a negative duration.
    public mutating func advance(by duration: Duration) throws(ClockError) {
        try advance(to: now + duration)
    }

    /// Moves the clock to `instant`, which may equal but not precede ``now``.
    /// - Throws: ``ClockError/wouldGoBackwards(now:requested:)``.
    public mutating func advance(to instant: Instant) throws(ClockError) {
        guard instant >= now else { throw .wouldGoBackwards(now: now, requested: instant) }
        now = instant
    }
}
