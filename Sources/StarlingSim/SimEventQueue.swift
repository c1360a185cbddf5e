internal import HeapModule
internal import StarlingCore

/// The simulator's agenda: datagram deliveries and timer firings, earliest first.
///
/// ### Ordering
/// Entries are ordered by `(time, sequence)`, where the sequence number counts
/// insertions. Two entries at the same instant therefore come out in the order they were
/// scheduled, never in an order that depends on hashing or memory layout, which keeps
/// runs reproducible.
///
/// ### Timers
/// Each node has at most one live timer, re-armed to its core's `pollTimeout()` after
/// every input. Re-arming bumps the node's generation counter instead of searching the
/// heap; an entry whose generation is out of date is stale and is dropped silently when
/// it reaches the front. Re-arming to the deadline already armed schedules nothing.
struct SimEventQueue {
    /// What an entry does when its time comes.
    enum Action {
        /// Hand `payload`, sent by `from`, to `to`'s core.
        case delivery(from: SimNodeID, to: SimNodeID, payload: [UInt8])
        /// Call the node's `handleTimeout(now:)`, if `generation` is still current.
        case timer(SimNodeID, generation: UInt64)
    }

    /// One scheduled action.
    struct Entry: Comparable {
        /// When it happens.
        var time: Instant
        /// Insertion order, unique per queue; breaks ties between equal times.
        var sequence: UInt64
        /// What happens.
        var action: Action

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.time, lhs.sequence) < (rhs.time, rhs.sequence)
        }

        static func == (lhs: Entry, rhs: Entry) -> Bool {
            lhs.time == rhs.time && lhs.sequence == rhs.sequence
        }
    }

    private var heap = Heap<Entry>()
    private var nextSequence: UInt64 = 0
    private var generations: [UInt64] = []
    private var armed: [Instant?] = []
    /// Deliveries scheduled and not yet popped.
    private(set) var deliveriesInFlight = 0

    /// Gives the next node (numbered from 0 in order) an unarmed timer.
    mutating func addNode() {
        generations.append(0)
        armed.append(nil)
    }

    /// Schedules the delivery of `payload` from `from` to `to` at `time`.
    mutating func scheduleDelivery(at time: Instant, from: SimNodeID, to: SimNodeID, payload: [UInt8]) {
        push(time, .delivery(from: from, to: to, payload: payload))
        deliveriesInFlight += 1
    }

    /// The deadline `node`'s timer is armed for, if any.
    func armedDeadline(of node: SimNodeID) -> Instant? {
        armed[node.rawValue]
    }

    /// Arms `node`'s timer for `deadline`, or disarms it for `nil`.
    ///
    /// - Parameters:
    ///   - deadline: the core's `pollTimeout()`.
    ///   - now: the current time; a deadline already past fires at `now`.
    mutating func armTimer(for node: SimNodeID, at deadline: Instant?, now: Instant) {
        let index = node.rawValue
        guard armed[index] != deadline else { return }
        armed[index] = deadline
        generations[index] &+= 1
        if let deadline {
            push(max(deadline, now), .timer(node, generation: generations[index]))
        }
    }

    /// The time of the next live entry, discarding stale timers in front of it.
    mutating func nextTime() -> Instant? {
        discardStale()
        return heap.min?.time
    }

    /// The time and sequence number of the next live entry, discarding stale timers in
    /// front of it; for ordering this queue's entries against a ``SimServiceAgenda``'s.
    mutating func nextKey() -> SimAgendaKey? {
        discardStale()
        return heap.min.map { SimAgendaKey(time: $0.time, sequence: $0.sequence) }
    }

    /// Takes the next sequence number for an event kept outside this queue, so that
    /// events at equal times still run in the order they were scheduled.
    mutating func takeSequence() -> UInt64 {
        defer { nextSequence &+= 1 }
        return nextSequence
    }

    /// Removes and returns the next live entry; a timer entry disarms its node's timer.
    mutating func popNext() -> Entry? {
        discardStale()
        guard let entry = heap.popMin() else { return nil }
        switch entry.action {
        case .delivery: deliveriesInFlight -= 1
        case .timer(let node, _): armed[node.rawValue] = nil
        }
        return entry
    }

    private mutating func push(_ time: Instant, _ action: Action) {
        heap.insert(Entry(time: time, sequence: nextSequence, action: action))
        nextSequence &+= 1
    }

    private mutating func discardStale() {
        while let first = heap.min, case .timer(let node, let generation) = first.action,
            generation != generations[node.rawValue]
        {
            _ = heap.popMin()
        }
    }
}
