internal import HeapModule

/// The deadlines one peer's sessions keep; each case is one slot of a ``TimerTable``.
///
/// The case says when the deadline is due; ``SessionTimers`` says which protocol
/// events set and cancel it (WireGuard paper 6.2–6.5; wireguard-go `device/timers.go`).
/// Handshake retransmission is not here: it belongs to the handshake, which exists
/// before its peer is known (see `PendingInitiation`).
enum SessionTimer: Int, CaseIterable, Sendable {
    /// When to send an empty keepalive because data arrived and nothing has gone back.
    case sendKeepalive
    /// When to start a new handshake because data went out and nothing authenticated came back.
    case newHandshake
    /// When to erase every session key because no session has been derived for a long time.
    case zeroKeyMaterial
    /// When to stop accepting packets on the session that a rekey replaced.
    case discardPreviousSession
}

/// At most one deadline per ``SessionTimer``; the core reports only the earliest.
///
/// ### Purpose
/// A driver arms one real timer for ``earliest()`` and re-arms it only when that
/// changes; when it fires, the core takes ``removeExpired(now:)`` and handles each
/// case. Setting a timer replaces its previous deadline (quinn-proto `TimerTable`).
struct TimerTable: Equatable, Sendable {
    /// Deadlines, one per ``SessionTimer`` case in order; `nil` when not armed. Held
    /// inline, so copying a table allocates nothing.
    private var sendKeepalive: Instant?
    private var newHandshake: Instant?
    private var zeroKeyMaterial: Instant?
    private var discardPreviousSession: Instant?

    /// Creates a table with nothing armed.
    init() {}

    /// The deadline of `timer`, or `nil` when it is not armed.
    subscript(timer: SessionTimer) -> Instant? {
        get {
            switch timer {
            case .sendKeepalive: sendKeepalive
            case .newHandshake: newHandshake
            case .zeroKeyMaterial: zeroKeyMaterial
            case .discardPreviousSession: discardPreviousSession
            }
        }
        set {
            switch timer {
            case .sendKeepalive: sendKeepalive = newValue
            case .newHandshake: newHandshake = newValue
            case .zeroKeyMaterial: zeroKeyMaterial = newValue
            case .discardPreviousSession: discardPreviousSession = newValue
            }
        }
    }

    /// Whether `timer` is armed.
    func isPending(_ timer: SessionTimer) -> Bool {
        self[timer] != nil
    }

    /// Arms `timer` for `deadline`, replacing any earlier setting.
    mutating func set(_ timer: SessionTimer, at deadline: Instant) {
        self[timer] = deadline
    }

    /// Disarms `timer`; does nothing when it is not armed.
    mutating func cancel(_ timer: SessionTimer) {
        self[timer] = nil
    }

    /// The armed timer due first, ties going to the earlier case; `nil` when none is armed.
    func earliest() -> (timer: SessionTimer, deadline: Instant)? {
        var best: (timer: SessionTimer, deadline: Instant)?
        for timer in SessionTimer.allCases {
            guard let deadline = self[timer] else { continue }
            if let current = best, current.deadline <= deadline { continue }
            best = (timer, deadline)
        }
        return best
    }

    /// The timers due at `now` (deadline at or before it), earliest first, ties in case
    /// order. Changes nothing.
    func expired(now: Instant) -> [SessionTimer] {
        var due: [(timer: SessionTimer, deadline: Instant)] = []
        for timer in SessionTimer.allCases {
            if let deadline = self[timer], deadline <= now { due.append((timer, deadline)) }
        }
        return due.sorted { ($0.deadline, $0.timer.rawValue) < ($1.deadline, $1.timer.rawValue) }.map(\.timer)
    }

    /// Disarms and returns the timers due at `now`, in ``expired(now:)`` order.
    mutating func removeExpired(now: Instant) -> [SessionTimer] {
        let due = expired(now: now)
        for timer in due { cancel(timer) }
        return due
    }
}

/// The earliest deadline among many owners (peers, half-done handshakes), kept so that
/// reading it costs O(1) however many owners there are.
///
/// ### Purpose
/// Each owner keeps its own deadline; this schedule only remembers a *lower bound* of
/// it in a min-heap. ``schedule(_:at:)`` must be called whenever an owner's deadline
/// may have moved earlier (a later or removed deadline needs no call). ``settle(_:)``
/// then corrects the heap's top against the owners' real deadlines, so that after it
/// ``earliest`` is exact. A deadline that moves later leaves a stale entry that is
/// fixed only when it reaches the top, so a busy owner whose timers are re-armed on
/// every packet costs one heap operation at most when it is the earliest, not per packet.
///
/// - Warning: calling ``earliest`` without ``settle(_:)`` after a change may report a
///   deadline that is too early (never one that is too late).
struct DeadlineSchedule<Owner: Hashable & Sendable>: Sendable {
    private struct Entry: Comparable, Sendable {
        var deadline: Instant
        /// Orders equal deadlines by insertion and tells an owner's live entry apart.
        var sequence: UInt64
        var owner: Owner

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.deadline, lhs.sequence) < (rhs.deadline, rhs.sequence)
        }

        static func == (lhs: Entry, rhs: Entry) -> Bool {
            lhs.deadline == rhs.deadline && lhs.sequence == rhs.sequence
        }
    }

    private var heap = Heap<Entry>()
    /// Each owner's live entry; any other entry of the owner in the heap is superseded.
    private var live: [Owner: (deadline: Instant, sequence: UInt64)] = [:]
    private var nextSequence: UInt64 = 0

    /// Creates an empty schedule.
    init() {}

    /// The earliest deadline, exact once ``settle(_:)`` has run since the last change.
    var earliest: Instant? { heap.min?.deadline }

    /// Entries held, superseded ones included (for tests of the bound).
    var entryCount: Int { heap.count }

    /// Notes that `owner`'s deadline is now `deadline`, which may be earlier than before.
    mutating func schedule(_ owner: Owner, at deadline: Instant?) {
        guard let deadline else { return }
        if let current = live[owner], current.deadline <= deadline { return }
        push(owner, at: deadline)
    }

    /// Corrects the top of the heap until it is an owner's real deadline.
    ///
    /// - Parameter deadlineOf: the real deadline of an owner, `nil` when it has none.
    mutating func settle(_ deadlineOf: (Owner) -> Instant?) {
        while let top = liveTop() {
            let actual = deadlineOf(top.owner)
            if actual == top.deadline { return }
            correctTop(to: actual)
        }
    }

    /// Settles, then removes and returns an owner whose deadline is at or before `now`.
    ///
    /// The caller handles the owner and then calls ``schedule(_:at:)`` with its new deadline.
    mutating func popDue(now: Instant, _ deadlineOf: (Owner) -> Instant?) -> Owner? {
        settle(deadlineOf)
        return removeTop(dueBy: now)
    }

    // MARK: Settling step by step
    // ``settle(_:)`` is these steps; a caller whose owners' deadlines live in the same
    // value as the schedule runs them itself, so as not to capture that value in a closure.

    /// Drops superseded entries from the top, then returns the top entry's owner and
    /// deadline, which the caller compares with the owner's real deadline; `nil` when
    /// the schedule is empty.
    mutating func liveTop() -> (owner: Owner, deadline: Instant)? {
        while let top = heap.min {
            guard let current = live[top.owner], current.sequence == top.sequence else {
                heap.removeMin()
                continue
            }
            return (top.owner, top.deadline)
        }
        return nil
    }

    /// Replaces the entry ``liveTop()`` returned, whose deadline was not its owner's real
    /// one, with `actual` (none when `nil`).
    mutating func correctTop(to actual: Instant?) {
        guard let top = heap.popMin() else { return }
        live[top.owner] = nil
        if let actual { push(top.owner, at: actual) }
    }

    /// Removes and returns the top entry's owner when its deadline is at or before
    /// `now`; call it on a settled schedule.
    mutating func removeTop(dueBy now: Instant) -> Owner? {
        guard let top = heap.min, top.deadline <= now else { return nil }
        heap.removeMin()
        live[top.owner] = nil
        return top.owner
    }

    private mutating func push(_ owner: Owner, at deadline: Instant) {
        let sequence = nextSequence
        nextSequence += 1
        live[owner] = (deadline, sequence)
        heap.insert(Entry(deadline: deadline, sequence: sequence, owner: owner))
    }
}
