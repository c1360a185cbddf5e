/// The hybrid topology's fixed values.
///
/// "Specification" values are protocol (`docs/PROTOCOL.md`, "Index messages"):
/// changing one breaks interoperability. "Implementation" values are Starling's policy.
public enum HybridConstants {
    // MARK: Specification
    /// Bytes of a request ID.
    public static let requestIDSize = 4
    /// The most index servers one index list carries.
    public static let maximumIndexes = 64
    /// The most records one lookup answer carries (fewer when they do not fit).
    public static let maximumRecordsPerAnswer = 16
    /// The longest registration lifetime a client may ask for, in seconds.
    public static let maximumLifetimeSeconds: UInt16 = .max

    // MARK: Implementation
    /// The most replicas of a key.
    public static let maximumReplication = 8
    /// The most requests a client has waiting for an answer at once; more lookups wait
    /// in no queue: they fall back to the Kademlia overlay.
    public static let maximumPendingRequests = 4_096
    /// Attempts of one registration (the first send and retransmissions).
    public static let registrationAttempts = 3
    /// Requests in a row that an index server may leave unanswered before the client
    /// counts it as down.
    public static let timeoutsBeforeDown = 2
    /// How soon a client asks again an index server it counts as down (doubling up to
    /// ``maximumIndexRetry``).
    public static let firstIndexRetry: Duration = .seconds(1)
    /// The longest wait before asking a down index server again.
    public static let maximumIndexRetry: Duration = .seconds(30)
    /// How often an index server sweeps expired registrations.
    public static let sweepInterval: Duration = .seconds(5)
    /// Members a client that knows no index server yet asks for the index list too (its
    /// configured index servers may be too busy to answer, as in a join storm).
    public static let bootstrapMembers = 4
    /// Source hosts whose registration rate is tracked by an index server.
    public static let maximumTrackedHosts = 16_384
    /// The most fellow index servers one heartbeat round asks (a random sample beyond).
    public static let maximumFellowsProbed = 8
    /// The most records an index server hands to fellows after one change of the servers
    /// up: what one fellow's total rate accepts at once (``IndexLimits/registrationBurstPerHost``
    /// by default); clients' own registrations refill the rest.
    public static let maximumHandoffsPerChange = 4_096
}
