/// A lookup the super-peers answer: the candidates still to ask, what came back so far,
/// and what it cost.
///
/// A peer lookup asks one super-peer at a time, best first (referrals before the
/// remaining attached super-peers, each group by measured round trip); a service lookup
/// asks one, then its referrals up to ``SuperPeerConstants/lookupParallelism`` at once;
/// a provide waits for the attached super-peers to acknowledge the new record.
struct SuperPeerLookup: Sendable {
    /// A super-peer to ask, and the referral depth that named it (1: an attached
    /// super-peer, or a referral the local super-peer computed).
    struct Candidate: Sendable {
        var id: PeerID
        var address: PeerAddress
        var depth: Int
    }

    /// What is looked up.
    let target: LookupTarget
    /// Super-peers still to ask, best first.
    var queue: [Candidate] = []
    /// Super-peers asked or queued: each is asked once.
    var seen: Set<PeerID> = []
    /// Requests waiting for an answer.
    var inFlight = 0
    /// Requests sent (attaches, for a provide).
    var requests = 0
    /// Requests that timed out.
    var timeouts = 0
    /// Whether some super-peer (or the local one) answered.
    var answered = false
    /// The deepest referral round that contributed a record.
    var hops = 0
    /// For a service: the verified providers found, by peer ID.
    var found: [PeerID: SignedPeerRecord] = [:]
    /// For a provide: the attached super-peers whose acknowledgement is awaited.
    var awaiting: Set<PeerID> = []
    /// For a provide: the record sequence they must hold.
    var sequence: UInt64 = 0
    /// For a provide: the super-peers that accepted it.
    var stored = 0
    /// For a provide: when to stop waiting.
    var deadline: Instant?

    init(target: LookupTarget) {
        self.target = target
    }

    /// How many requests may be in flight at once.
    var width: Int {
        switch target {
        case .peer, .provide: 1
        case .service: answered ? SuperPeerConstants.lookupParallelism : 1
        }
    }

    /// Queues `candidate` unless it was seen or the lookup may ask no more; a peer
    /// lookup puts referrals (depth 2 and more) ahead of the attached super-peers.
    mutating func enqueue(_ candidate: Candidate) {
        guard !seen.contains(candidate.id), seen.count < SuperPeerConstants.maximumLookupQueries else { return }
        seen.insert(candidate.id)
        if case .peer = target, candidate.depth > 1 {
            let index = queue.firstIndex { $0.depth < candidate.depth } ?? queue.endIndex
            queue.insert(candidate, at: index)
        } else {
            queue.append(candidate)
        }
    }
}

/// A lookup request waiting for a super-peer's reply.
struct SuperPeerLookupRequest: Sendable {
    /// The lookup it serves.
    var lookup: LookupID
    /// The super-peer asked.
    var superPeer: PeerID
    /// Where it was sent: the reply must come from there.
    var address: PeerAddress
    /// The referral depth of the super-peer asked.
    var depth: Int
    /// When it was sent (the reply's round trip).
    var sentAt: Instant
    /// When to give up on it.
    var deadline: Instant
}

extension SuperPeerLookup {
    /// How long to wait for a super-peer's reply: RFC 6298's RTO of its measured round
    /// trips within ``SuperPeerConstants/minimumLookupTimeout`` and
    /// ``SuperPeerConstants/maximumLookupTimeout``; the maximum before any was measured.
    static func requestTimeout(roundTrip: RTTEstimate?) -> Duration {
        guard let roundTrip else { return SuperPeerConstants.maximumLookupTimeout }
        let timeout = roundTrip.retransmissionTimeout(minimum: SuperPeerConstants.minimumLookupTimeout)
        return min(timeout, SuperPeerConstants.maximumLookupTimeout)
    }
}
