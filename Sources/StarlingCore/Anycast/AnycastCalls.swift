internal import DequeModule

/// The anycast requests of one ``NodeCore`` in flight: each waits for its provider
/// lookup, then for one provider's answer at a time (``AnycastPlan``).
struct AnycastCalls: Sendable {
    /// One anycast request.
    struct Call: Sendable {
        var service: String
        var method: String
        var payload: [UInt8]
        /// When the caller's time runs out.
        var deadline: Instant
        /// The providers still to try; nil while the lookup runs.
        var plan: AnycastPlan?
        /// The providers' addresses, from their records.
        var addresses: [PeerID: PeerAddress] = [:]
        /// The provider asked now, if any, and how far it is estimated to be.
        var asking: RankedPeer?
        /// The request to it.
        var request: RequestID?
        /// When it has had its time for the step it is in (handshake, then answer).
        var attemptDeadline: Instant?
        var attempts = 0
        var candidates = 0
        var lastError: RPCError?
    }

    var calls: [AnycastID: Call] = [:]
    /// Provider lookups, by the lookup's ID.
    var lookups: [LookupID: AnycastID] = [:]
    /// Requests to providers, by the request's ID.
    var requests: [RequestID: AnycastID] = [:]
    /// Requests in flight, by provider (the load the two choices compare).
    var inFlight: [PeerID: Int] = [:]
    /// Requests given up on for the next provider, whose late response or time-out the
    /// user must not see (each ends within the call's time).
    var abandoned: Set<RequestID> = []
    /// Events for the user: the node's own, taken out of its parts' queues while calls
    /// were in flight (in their order), and the anycasts' results.
    var events = Deque<NodeCore.Event>()
    var nextID: UInt64 = 1

    /// Whether there is anything to take from the node's events.
    var isIdle: Bool { calls.isEmpty && abandoned.isEmpty }

    /// The earliest attempt deadline, if any call is asking a provider.
    var earliestDeadline: Instant? {
        calls.values.lazy.compactMap(\.attemptDeadline).min()
    }

    /// Counts a request to `provider` in or out of flight.
    mutating func count(_ provider: PeerID, by change: Int) {
        let load = (inFlight[provider] ?? 0) + change
        inFlight[provider] = load > 0 ? load : nil
    }
}
