/// The deadlines one peer's sessions keep; each case is one slot of a ``TimerTable``.
///
/// The case says when the deadline is due; ``SessionTimers`` says which protocol
/// events set and cancel it (WireGuard paper 6.2–6.5; wireguard-go `device/timers.go`).
enum SessionTimer: Int, CaseIterable, Sendable {
    /// When to resend an unanswered handshake initiation, or give up on it.
    case retransmitHandshake
    /// When to send an empty keepalive because data arrived and nothing has gone back.
    case sendKeepalive
    /// When to start a new handshake because data went out and nothing authenticated came back.
    case newHandshake
    /// When to erase every session key because no session has been derived for a long time.
    case zeroKeyMaterial
    /// When to send the configured periodic keepalive that holds NAT mappings open.
    case persistentKeepalive
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
    /// Deadlines indexed by ``SessionTimer/rawValue``; `nil` when not armed.
    private var deadlines = [Instant?](repeating: nil, count: SessionTimer.allCases.count)

    /// Creates a table with nothing armed.
    init() {}

    /// The deadline of `timer`, or `nil` when it is not armed.
    subscript(timer: SessionTimer) -> Instant? {
        deadlines[timer.rawValue]
    }

    /// Whether `timer` is armed.
    func isPending(_ timer: SessionTimer) -> Bool {
        deadlines[timer.rawValue] != nil
    }

    /// Arms `timer` for `deadline`, replacing any earlier setting.
    mutating func set(_ timer: SessionTimer, at deadline: Instant) {
        deadlines[timer.rawValue] = deadline
    }

    /// Disarms `timer`; does nothing when it is not armed.
    mutating func cancel(_ timer: SessionTimer) {
        deadlines[timer.rawValue] = nil
    }

    /// Disarms every timer.
    mutating func cancelAll() {
        for index in deadlines.indices { deadlines[index] = nil }
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
