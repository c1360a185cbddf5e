import Glibc
public import StarlingCore

/// The real driver's source of `now`: the system's clocks, read at the I/O edge.
///
/// StarlingCore never reads a clock; StarlingIO reads these and passes the values in.
/// ``monotonicNow()`` never goes backwards (CLOCK_MONOTONIC); ``wallNow()`` is the
/// wall-clock time used for record expiry and may jump when the system time is set.
public enum SystemClock {
    /// The current monotonic time as a core ``Instant``.
    public static func monotonicNow() -> Instant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Instant(nanoseconds: UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec))
    }

    /// The current wall-clock time in whole Unix seconds.
    public static func wallNow() -> UnixTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UnixTime(seconds: UInt64(max(0, spec.tv_sec)))
    }
}
