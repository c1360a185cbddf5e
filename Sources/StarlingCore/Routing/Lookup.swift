/// One iterative Kademlia lookup: the candidates it knows, closest first, and which
/// of them it has asked.
///
/// ### Purpose
/// The lookup keeps up to ``RoutingConstants/maximumLookupCandidates`` candidates
/// sorted by XOR distance to the target. It asks the closest unasked ones, at most `α`
/// at a time, adds the closer peers each reply names, and is done when the `k`
/// closest candidates that have not failed have all answered (paper, section 2.3).
/// Each kept candidate is asked at most once, and the lookup's deadline bounds the
/// rest, so every lookup ends.
///
/// The type is pure; ``RoutingCore`` sends the requests it picks.
struct Lookup: Sendable {
    /// What the lookup is for.
    enum Purpose: Sendable, Equatable {
        /// A user's `findNode`.
        case findNode
        /// A bootstrap lookup of the local key; refreshes the farther buckets when done.
        case bootstrap
        /// A user's `findPeer`.
        case findPeer(PeerID)
        /// A user's `findProviders`.
        case findProviders(String)
        /// The first phase of `provide` (reported) or of a republish (not reported).
        case provide(String)
        /// A bucket refresh (not reported).
        case refresh
        /// A user's `findName`.
        case findName
        /// The first phase of `storeName`: find the closest peers, then send them the chain.
        case storeName(NameChain)
        /// A `storeName` at a topology's authorities: the chain goes to each seed at once,
        /// and the lookup ends when each acknowledged or timed out; `storedHere` when the
        /// local peer is a holder too and stored it.
        case placeName(NameChain, storedHere: Bool)
    }

    /// How far a candidate has got.
    enum State: Sendable, Equatable {
        case fresh
        case inFlight(requestID: UInt64)
        case answered
        case failed
    }

    /// A peer the lookup may ask.
    struct Candidate: Sendable {
        var contact: RoutingContact
        var distance: RoutingKey
        var state: State
        /// The request round in which this peer is (or would be) asked: 1 for peers
        /// from the local table, one more than the round of the peer that named it.
        var hop: Int
    }

    let id: LookupID
    let purpose: Purpose
    let target: RoutingKey
    /// Whether to report the result as an event.
    let reports: Bool
    /// When the lookup gives up and finishes with what it has.
    let deadline: Instant
    private(set) var candidates: [Candidate] = []
    private(set) var inFlight = 0
    var requests = 0
    var timeouts = 0
    /// The target's verified record (``Purpose/findPeer(_:)``) and the round that found it.
    var foundRecord: (record: SignedPeerRecord, hop: Int)?
    /// Times a peer lookup has asked its timed-out target again.
    private var targetRetries = 0
    /// Verified provider records by provider (``Purpose/findProviders(_:)``).
    var providers: [PeerID: SignedPeerRecord] = [:]
    /// The deepest round that returned a provider.
    var providersHop = 0
    /// The first name chain found that verified and is stored at the target
    /// (``Purpose/findName``), and the round that found it.
    var foundChain: (chain: NameChain, hop: Int)?
    /// Why the last name chain refused was refused.
    var refusedChain: NameError?
    /// Seeds that acknowledged storing the chain (``Purpose/placeName(_:)``).
    var namesStored = 0
    /// The most candidates kept.
    let candidateLimit: Int
    /// The most contacts a reply may name for them to be added (a lookup at a topology's
    /// authorities); nil for any number.
    let referralLimit: Int?

    init(
        id: LookupID, purpose: Purpose, target: RoutingKey, reports: Bool, deadline: Instant,
        seeds: [RoutingContact], candidateLimit: Int = RoutingConstants.maximumLookupCandidates,
        referralLimit: Int? = nil
    ) {
        self.id = id
        self.purpose = purpose
        self.target = target
        self.reports = reports
        self.deadline = deadline
        self.candidateLimit = candidateLimit
        self.referralLimit = referralLimit
        add(seeds, hop: 1, localPeer: nil)
    }

    /// Adds contacts learned at round `hop - 1`, skipping known ones and the local peer,
    /// and forgets the farthest beyond the bound.
    mutating func add(_ contacts: [RoutingContact], hop: Int, localPeer: PeerID?) {
        for contact in contacts where contact.peerID != localPeer {
            let distance = contact.key.distance(to: target)
            let index = insertionIndex(for: distance)
            if index < candidates.count, candidates[index].contact.peerID == contact.peerID { continue }
            if index > 0, candidates[index - 1].contact.peerID == contact.peerID { continue }
            guard index < candidateLimit else { continue }
            candidates.insert(Candidate(contact: contact, distance: distance, state: .fresh, hop: hop), at: index)
        }
        while candidates.count > candidateLimit {
            if case .inFlight = candidates.removeLast().state { inFlight -= 1 }
        }
    }

    /// Picks the closest unasked candidates among the `k` closest live ones, up to
    /// `α` in flight, and marks each with the request ID `makeRequestID` returns.
    mutating func nextQueries(parallelism: Int, bucketSize: Int, makeRequestID: () -> UInt64) -> [(
        RoutingContact, UInt64
    )] {
        var picked: [(RoutingContact, UInt64)] = []
        var live = 0
        for index in candidates.indices {
            guard inFlight < parallelism, live < bucketSize else { break }
            switch candidates[index].state {
            case .failed: continue
            case .answered, .inFlight: live += 1
            case .fresh:
                live += 1
                let requestID = makeRequestID()
                candidates[index].state = .inFlight(requestID: requestID)
                inFlight += 1
                requests += 1
                picked.append((candidates[index].contact, requestID))
            }
        }
        return picked
    }

    /// Records `peer`'s reply to request `requestID`.
    /// - Returns: the round in which `peer` was asked, or `nil` when the reply is not
    ///   for a request of this lookup still in flight.
    mutating func markAnswered(_ peer: PeerID, requestID: UInt64) -> Int? {
        guard let index = candidates.firstIndex(where: { $0.contact.peerID == peer }),
            candidates[index].state == .inFlight(requestID: requestID)
        else { return nil }
        candidates[index].state = .answered
        inFlight -= 1
        return candidates[index].hop
    }

    /// Records that request `requestID` to `peer` timed out.
    ///
    /// A peer lookup asks the wanted peer again after a timeout, up to
    /// ``RoutingConstants/targetRetries`` times: only that peer hands out its own
    /// record, so a busy target or a lost datagram must not end the lookup empty.
    mutating func markFailed(_ peer: PeerID, requestID: UInt64) {
        guard let index = candidates.firstIndex(where: { $0.contact.peerID == peer }),
            candidates[index].state == .inFlight(requestID: requestID)
        else { return }
        inFlight -= 1
        timeouts += 1
        if case .findPeer(let wanted) = purpose, wanted == peer, targetRetries < RoutingConstants.targetRetries {
            targetRetries += 1
            candidates[index].state = .fresh
        } else {
            candidates[index].state = .failed
        }
    }

    /// Whether the `k` closest live candidates have all answered (or none is left to ask).
    func isComplete(bucketSize: Int) -> Bool {
        var live = 0
        for candidate in candidates {
            guard live < bucketSize else { break }
            switch candidate.state {
            case .failed: continue
            case .answered: live += 1
            case .fresh, .inFlight: return false
            }
        }
        return true
    }

    /// The `k` closest candidates that answered, closest first, and the deepest round
    /// among them.
    func closestAnswered(count: Int) -> (contacts: [RoutingContact], hops: Int) {
        var contacts: [RoutingContact] = []
        var hops = 0
        for candidate in candidates where candidate.state == .answered {
            guard contacts.count < count else { break }
            contacts.append(candidate.contact)
            hops = max(hops, candidate.hop)
        }
        return (contacts, hops)
    }

    private func insertionIndex(for distance: RoutingKey) -> Int {
        var low = 0
        var high = candidates.count
        while low < high {
            let middle = (low + high) / 2
            if candidates[middle].distance < distance { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
