/// What a ``HybridCore`` reports to the ``OverlayCore`` that drives it.
public enum HybridEvent: Hashable, Sendable {
    /// A role, index server or fallback change, for the user.
    case topology(TopologyEvent)
    /// A lookup answered by the index servers finished.
    case lookupFinished(LookupID, LookupResult)
    /// No index server could answer lookup `id`: the overlay must finish it through the
    /// Kademlia overlay, adding the index requests and timeouts already spent.
    case fallback(LookupID, HybridLookup.Target, requests: Int, timeouts: Int)
}

/// A lookup sent to index servers: the holders of its key, asked one after the other.
public struct HybridLookup: Hashable, Sendable {
    /// What is looked up (shared with the super-peer topology's lookups).
    public typealias Target = LookupTarget

    /// What is looked up.
    public let target: Target
    /// The index servers to ask, best first.
    var candidates: [PeerID]
    /// The next candidate to ask.
    var next = 0
    /// Requests sent.
    var requests = 0
    /// Requests that timed out.
    var timeouts = 0
    /// Whether some index server answered.
    var answered = false
    /// For a provide: the holders whose registration of the needed record is awaited.
    var awaiting: Set<PeerID> = []
    /// For a provide: the record sequence the holders must store.
    var sequence: UInt64 = 0
    /// For a provide: holders that stored it.
    var stored = 0
}
