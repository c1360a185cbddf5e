/// The numbers of anycast: how near counts as "as near as the best", and how long a
/// provider gets before the next one is tried.
public enum AnycastConstants {
    /// Providers whose estimated round trip is within this fraction of the best
    /// one's count as equally near, and share the load (two random choices).
    public static let nearMargin = 0.05
    /// …or within this much of it, for round trips so short that 5 % is noise.
    public static let nearSlack = Duration.microseconds(500)
    /// What a provider may take beyond its estimated round trip to answer before the
    /// next one is tried: its own work and a scheduler's delay.
    public static let answerSlack = Duration.milliseconds(250)
    /// How long a provider of which no round trip is known gets.
    public static let unknownRoundTrip = Duration.seconds(1)
    /// Providers one anycast request tries at most.
    public static let maximumAttempts = 8
    /// Anycast requests in flight on one peer at most.
    public static let maximumInFlight = 1_024
}
