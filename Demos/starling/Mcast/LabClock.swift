#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The wall clock the multicast lab stamps and measures probes with.
enum LabClock {
    /// Nanoseconds since the Unix epoch on `CLOCK_REALTIME`.
    ///
    /// The one clock that two hosts can share (through NTP or PTP, or by being network
    /// namespaces of one machine), so a receiver can subtract a sender's stamp from it.
    static func nowNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
