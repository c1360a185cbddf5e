#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's open-file limit (`RLIMIT_NOFILE`): what a swarm of many peers needs
/// most, one or two descriptors per peer.
public struct OpenFileLimit: Sendable, Equatable {
    /// The limit in force (the soft limit).
    public var current: Int
    /// The most the soft limit may be raised to without privileges (the hard limit).
    public var maximum: Int

    /// The limits now.
    public static func read() -> OpenFileLimit {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return OpenFileLimit(current: Self.clamped(limit.rlim_cur), maximum: Self.clamped(limit.rlim_max))
    }

    /// Raises the soft limit as far as the hard limit allows.
    /// - Returns: the limits afterwards.
    @discardableResult
    public static func raiseToMaximum() -> OpenFileLimit {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return read()
    }

    private static func clamped(_ value: rlim_t) -> Int {
        value > rlim_t(Int.max) ? Int.max : Int(value)
    }
}
