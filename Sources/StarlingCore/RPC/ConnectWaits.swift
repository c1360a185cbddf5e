/// The connects a ``PeerCore`` waits on, each until its session is established, its
/// handshake fails, or its timeout passes.
///
/// ### Purpose
/// A caller of ``PeerCore/connect(to:expecting:timeout:now:)`` wants one answer. The
/// table keeps each waiting connect with its deadline and takes it out when a session
/// event or the deadline settles it; ``PeerCore`` turns what it takes out into
/// ``PeerEvent/connectFinished(_:_:)`` events.
///
/// The waits and their deadlines are a ``WaitTable``, so ``earliestDeadline`` is exact
/// and O(1).
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

    private var waits = WaitTable<ConnectID, Wait>()
    private var nextID: UInt64 = 0

    /// Creates an empty table.
    init() {}

    /// Number of waiting connects.
    var count: Int { waits.count }

    /// The wait with `id`, if it still waits.
    subscript(id: ConnectID) -> Wait? { waits[id] }

    /// The earliest deadline of any wait; `nil` when none waits. Exact.
    var earliestDeadline: Instant? { waits.earliestDeadline }

    /// Starts a wait for a session with `expected` (or whoever answers) at `address`,
    /// ending at `now + timeout` at the latest.
    /// - Returns: the wait's new ID.
    mutating func add(address: PeerAddress, expected: PeerID?, timeout: Duration, now: Instant) -> ConnectID {
        let id = ConnectID(rawValue: nextID)
        nextID += 1
        let wait = Wait(address: address, expected: expected, timeout: timeout, deadline: now + timeout)
        // A table without a capacity takes every wait.
        _ = waits.insert(wait, for: id, deadline: wait.deadline)
        return id
    }

    /// Ends wait `id` without an outcome (its caller gave up).
    /// - Returns: the wait, or `nil` when it was not waiting.
    @discardableResult
    mutating func remove(_ id: ConnectID) -> Wait? {
        waits.remove(id)
    }

    /// Ends the waits that a session with `peer`, heard from at `address`, settles:
    /// those expecting `peer`, and those expecting nobody in particular at `address`.
    /// - Returns: their IDs, in the order the connects were made.
    mutating func removeEstablished(_ peer: PeerID, at address: PeerAddress) -> [ConnectID] {
        waits.removeAll { $0.isSettled(byEstablished: peer, at: address) }.map(\.0)
    }

    /// Ends the waits that a failed handshake to `address`, expecting `expected`, settles.
    /// - Returns: their IDs, in the order the connects were made.
    mutating func removeFailed(at address: PeerAddress, expecting expected: PeerID?) -> [ConnectID] {
        waits.removeAll { $0.address == address && $0.expected == expected }.map(\.0)
    }

    /// Ends the waits whose deadline is at or before `now`.
    /// - Returns: them with their IDs, earliest deadline first.
    mutating func removeExpired(now: Instant) -> [(ConnectID, Wait)] {
        waits.removeExpired(now: now)
    }
}
