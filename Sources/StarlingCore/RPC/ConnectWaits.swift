/// The connects a ``PeerCore`` waits on, each until its session is established, its
/// handshake fails, or its timeout passes.
///
/// ### Purpose
/// A caller of ``PeerCore/connect(to:expecting:timeout:now:)`` wants one answer. The
/// table keeps each waiting connect with its deadline and takes it out when a session
/// event or the deadline settles it; ``PeerCore`` turns what it takes out into
/// ``PeerEvent/connectFinished(_:_:)`` events.
///
/// Deadlines never move once set, so the ``DeadlineSchedule`` beside the waits holds an
/// entry per wait; entries of waits that ended early are dropped whenever they reach the
/// top, after every removal, so ``earliestDeadline`` is exact and O(1).
///
/// The table grows only by the local user's commands (a remote party cannot add to it)
/// and every entry leaves by its deadline at the latest.
///
/// - Warning: `now` must never go backwards between calls.
struct ConnectWaits: Sendable {
    /// One waiting connect.
    struct Wait: Equatable, Sendable {
        /// Where the handshake goes.
        let address: PeerAddress
        /// The peer that must answer, or `nil` for whoever answers at ``address``.
        let expected: PeerID?
        /// How long the caller waits, as asked (reported when it times out).
        let timeout: Duration
        /// When the wait times out.
        let deadline: Instant

        /// Whether a session with `peer`, heard from at `address`, settles this wait.
        func isSettled(byEstablished peer: PeerID, at address: PeerAddress) -> Bool {
            if let expected { return expected == peer }
            return self.address == address
        }
    }

    private var waits: [ConnectID: Wait] = [:]
    private var schedule = DeadlineSchedule<ConnectID>()
    private var nextID: UInt64 = 0

    /// Creates an empty table.
    init() {}

    /// Number of waiting connects.
    var count: Int { waits.count }

    /// The wait with `id`, if it still waits.
    subscript(id: ConnectID) -> Wait? { waits[id] }

    /// The earliest deadline of any wait; `nil` when none waits. Exact.
    var earliestDeadline: Instant? { schedule.earliest }

    /// Starts a wait for a session with `expected` (or whoever answers) at `address`,
    /// ending at `now + timeout` at the latest.
    /// - Returns: the wait's new ID.
    mutating func add(address: PeerAddress, expected: PeerID?, timeout: Duration, now: Instant) -> ConnectID {
        let id = ConnectID(rawValue: nextID)
        nextID += 1
        let wait = Wait(address: address, expected: expected, timeout: timeout, deadline: now + timeout)
        waits[id] = wait
        schedule.schedule(id, at: wait.deadline)
        return id
    }

    /// Ends wait `id` without an outcome (its caller gave up).
    /// - Returns: the wait, or `nil` when it was not waiting.
    @discardableResult
    mutating func remove(_ id: ConnectID) -> Wait? {
        guard let wait = waits.removeValue(forKey: id) else { return nil }
        settle()
        return wait
    }

    /// Ends the waits that a session with `peer`, heard from at `address`, settles:
    /// those expecting `peer`, and those expecting nobody in particular at `address`.
    /// - Returns: their IDs, in the order the connects were made.
    mutating func removeEstablished(_ peer: PeerID, at address: PeerAddress) -> [ConnectID] {
        removeAll { $0.isSettled(byEstablished: peer, at: address) }
    }

    /// Ends the waits that a failed handshake to `address`, expecting `expected`, settles.
    /// - Returns: their IDs, in the order the connects were made.
    mutating func removeFailed(at address: PeerAddress, expecting expected: PeerID?) -> [ConnectID] {
        removeAll { $0.address == address && $0.expected == expected }
    }

    /// Ends the waits whose deadline is at or before `now`.
    /// - Returns: them with their IDs, earliest deadline first.
    mutating func removeExpired(now: Instant) -> [(ConnectID, Wait)] {
        var expired: [(ConnectID, Wait)] = []
        while let id = schedule.removeTop(dueBy: now) {
            if let wait = waits.removeValue(forKey: id) { expired.append((id, wait)) }
            settle()
        }
        return expired
    }

    /// Ends every wait.
    mutating func removeAll() {
        waits = [:]
        schedule = DeadlineSchedule()
    }

    // MARK: Internals

    private mutating func removeAll(where settles: (Wait) -> Bool) -> [ConnectID] {
        guard !waits.isEmpty else { return [] }
        let ids = waits.filter { settles($0.value) }.map(\.key).sorted()
        for id in ids { waits[id] = nil }
        if !ids.isEmpty { settle() }
        return ids
    }

    /// Drops entries of ended waits from the top of the schedule, so that its earliest
    /// deadline is a waiting connect's; with no wait left, forgets every entry.
    private mutating func settle() {
        guard !waits.isEmpty else {
            schedule = DeadlineSchedule()
            return
        }
        while let top = schedule.liveTop() {
            let actual = waits[top.owner]?.deadline
            if actual == top.deadline { return }
            schedule.correctTop(to: actual)
        }
    }
}
