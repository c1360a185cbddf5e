internal import DequeModule

/// The outgoing requests of one peer: what to resend when, and what has timed out.
///
/// ### Purpose
/// Holds each request from the call until its one outcome: a response (``complete(_:from:)``),
/// a failure of its peer's session (``removeAll(to:)``) or its deadline
/// (``removeDue(now:)``). It never sends: ``PeerCore`` asks it what is due, sends, and
/// reports each copy back with ``markSent(_:now:using:)``. A request waits in
/// ``Phase/awaitingSession`` while its peer has no session, and is sent when one is made.
///
/// ``earliestDeadline`` is kept up to date by every mutation, so reading it is O(1).
/// ``floor(to:)``, the lowest ID in flight to a peer, costs amortised O(1): each peer
/// has a queue of its IDs in the order added (which is ID order), whose completed
/// front entries are dropped lazily.
///
/// - Warning: `now` must never go backwards between calls.
struct RequestTracker: Sendable {
    /// Where a request stands.
    enum Phase: Equatable, Sendable {
        /// No session with the peer yet (or any more): send when one is established.
        case awaitingSession
        /// At least one copy went out; the next is due at the instant, or never (`nil`).
        case sent(nextRetransmit: Instant?)
    }

    /// One request in flight.
    struct Outgoing: Equatable, Sendable {
        /// The peer asked.
        let peer: PeerID
        /// The method asked for, to name it in a ``RPCError/noHandler(method:)``.
        let method: String
        /// The encoded request message, resent unchanged.
        let message: [UInt8]
        /// Where to connect when the peer has no session, if known.
        let address: PeerAddress?
        /// When the request fails if no response has come.
        let deadline: Instant
        /// Where it stands.
        var phase: Phase = .awaitingSession
        /// Copies sent so far.
        var attemptsSent = 0
        /// When the first copy went out.
        var firstSentAt: Instant?

        /// The next instant at which the tracker has something to do for this request.
        var nextDeadline: Instant {
            if case .sent(let next?) = phase, next < deadline { return next }
            return deadline
        }
    }

    /// The largest retransmit jitter, in thousandths of the delay (0 in exact tests).
    let jitterPerMille: Int64

    /// The requests in flight, by ID.
    private(set) var requests: [RequestID: Outgoing] = [:]

    /// The earliest retransmission or deadline of any request; `nil` when none is held.
    private(set) var earliestDeadline: Instant?

    /// Per peer, the IDs added for it in ascending order; some may be completed already.
    private var lanes: [PeerID: Deque<RequestID>] = [:]

    /// Creates an empty tracker.
    init(jitterPerMille: Int64 = RPCConstants.maximumJitterPerMille) {
        self.jitterPerMille = jitterPerMille
    }

    /// Number of requests in flight.
    var count: Int { requests.count }

    /// The request with `id`, if in flight.
    subscript(id: RequestID) -> Outgoing? { requests[id] }

    /// The requests to `peer` waiting for a session, by ID.
    func awaitingSession(to peer: PeerID) -> [RequestID] {
        requests.filter { $0.value.peer == peer && $0.value.phase == .awaitingSession }.map(\.key).sorted()
    }

    /// The lowest ID in flight to `peer`, or `nil` when none is: the floor that a new
    /// request to `peer` (with a higher ID) carries, if any. Amortised O(1).
    mutating func floor(to peer: PeerID) -> RequestID? {
        guard var lane = lanes.removeValue(forKey: peer) else { return nil }
        while let first = lane.first, requests[first] == nil { lane.removeFirst() }
        guard let first = lane.first else { return nil }
        lanes[peer] = lane
        return first
    }

    /// Starts tracking a request, waiting for a session until ``markSent(_:now:using:)``.
    /// - Precondition: `id` is not in flight.
    mutating func add(_ id: RequestID, _ request: Outgoing) {
        precondition(requests[id] == nil, "request IDs are unique while in flight")
        requests[id] = request
        lower(to: request.nextDeadline)
        var lane = lanes.removeValue(forKey: request.peer) ?? []
        if let last = lane.last, id < last {
            // IDs count up and never wrap in practice; keep the order if they do.
            var index = lane.count
            while index > 0, id < lane[index - 1] { index -= 1 }
            lane.insert(id, at: index)
        } else {
            lane.append(id)
        }
        // Completed IDs stuck behind a long-running one: compact, amortised O(1).
        if lane.count > 2 * requests.count + 32 {
            lane.removeAll { requests[$0] == nil }
        }
        lanes[request.peer] = lane
    }

    /// Whether the request may still send a copy at `now`: fewer than
    /// ``RPCConstants/maximumAttempts`` copies, and within
    /// ``RPCConstants/maximumResendWindow`` of the first.
    func maySend(_ id: RequestID, now: Instant) -> Bool {
        guard let request = requests[id], request.attemptsSent < RPCConstants.maximumAttempts else { return false }
        guard let first = request.firstSentAt else { return true }
        return now < first + RPCConstants.maximumResendWindow
    }

    /// Call after sending a copy of request `id`: counts it and schedules the next.
    mutating func markSent(_ id: RequestID, now: Instant, using generator: inout some RandomNumberGenerator) {
        guard var request = requests[id] else { return }
        let first = request.firstSentAt ?? now
        let next = RPCBackoff.nextRetransmit(
            afterAttempt: request.attemptsSent, sentAt: now, firstSentAt: first, jitterPerMille: jitterPerMille,
            using: &generator)
        request.firstSentAt = first
        request.attemptsSent += 1
        request.phase = .sent(nextRetransmit: next)
        update(id, request)
    }

    /// Call when request `id` may send no more copies; it waits for its deadline.
    mutating func markExhausted(_ id: RequestID) {
        guard var request = requests[id] else { return }
        request.phase = .sent(nextRetransmit: nil)
        update(id, request)
    }

    /// Call when request `id`'s peer has no session: it waits for one.
    mutating func markAwaitingSession(_ id: RequestID) {
        guard var request = requests[id] else { return }
        request.phase = .awaitingSession
        update(id, request)
    }

    /// Completes request `id` with a response from `peer`.
    /// - Returns: the request, or `nil` when it is not in flight (already completed: a
    ///   duplicate response) or was sent to another peer.
    mutating func complete(_ id: RequestID, from peer: PeerID) -> Outgoing? {
        guard let request = requests[id], request.peer == peer else { return nil }
        remove(id)
        return request
    }

    /// Removes every request to `peer`, in ID order.
    mutating func removeAll(to peer: PeerID) -> [(RequestID, Outgoing)] {
        lanes[peer] = nil
        let ids = requests.filter { $0.value.peer == peer }.map(\.key).sorted()
        return ids.compactMap { id in
            requests[id].map { request in
                remove(id); return (id, request)
            }
        }
    }

    /// Takes what is due at `now`, in ID order.
    /// - Returns: `retransmit`, the requests whose next copy is due (still tracked;
    ///   call ``markSent(_:now:using:)`` or another `mark…` for each), and `expired`,
    ///   the requests whose deadline passed (removed).
    mutating func removeDue(now: Instant) -> (retransmit: [RequestID], expired: [(RequestID, Outgoing)]) {
        guard let earliest = earliestDeadline, earliest <= now else { return ([], []) }
        var retransmit: [RequestID] = []
        var expired: [(RequestID, Outgoing)] = []
        for (id, request) in requests where request.nextDeadline <= now {
            if request.deadline <= now {
                expired.append((id, request))
            } else {
                retransmit.append(id)
            }
        }
        expired.sort { $0.0 < $1.0 }
        for (id, request) in expired {
            requests[id] = nil
            if lanes[request.peer]?.first == id { _ = floor(to: request.peer) }
        }
        recomputeEarliest()
        return (retransmit.sorted(), expired)
    }

    // MARK: Deadline bookkeeping

    private mutating func update(_ id: RequestID, _ request: Outgoing) {
        let old = requests[id]?.nextDeadline
        requests[id] = request
        if old == earliestDeadline, request.nextDeadline != old {
            recomputeEarliest()
        } else {
            lower(to: request.nextDeadline)
        }
    }

    private mutating func remove(_ id: RequestID) {
        guard let request = requests.removeValue(forKey: id) else { return }
        if lanes[request.peer]?.first == id { _ = floor(to: request.peer) }
        if request.nextDeadline == earliestDeadline { recomputeEarliest() }
    }

    private mutating func lower(to deadline: Instant) {
        if earliestDeadline.map({ deadline < $0 }) ?? true { earliestDeadline = deadline }
    }

    private mutating func recomputeEarliest() {
        earliestDeadline = requests.values.lazy.map(\.nextDeadline).min()
    }
}
