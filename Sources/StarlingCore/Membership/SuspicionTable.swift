/// The running suspicions of one membership core, with their earliest deadline at hand.
///
/// ### Purpose
/// The core asks for its next deadline after every batch of input; with many members
/// suspected at once (a busy machine, a partition) walking every suspicion for it cost
/// more than the input itself. The table keeps a ``DeadlineSchedule`` beside the
/// suspicions, so that ``earliestDeadline`` costs O(1) and expiring costs O(log n) per
/// suspicion. A suspicion whose deadline moved later, or that ended, leaves an entry that
/// is corrected when it reaches the top: ``earliestDeadline`` may be early (one spurious
/// wake-up), never late.
struct SuspicionTable: Sendable {
    private var suspicions: [PeerID: Suspicion] = [:]
    private var schedule = DeadlineSchedule<PeerID>()

    /// Whether no member is suspected.
    var isEmpty: Bool { suspicions.isEmpty }

    /// The suspicion of `member`, if any.
    subscript(member: PeerID) -> Suspicion? { suspicions[member] }

    /// A lower bound of the earliest deadline (exact after ``popExpired(now:)``).
    var earliestDeadline: Instant? { schedule.earliest }

    /// Starts (or replaces) the suspicion of `member`.
    mutating func start(_ suspicion: Suspicion, of member: PeerID) {
        suspicions[member] = suspicion
        schedule.schedule(member, at: suspicion.deadline)
    }

    /// Records an accusation of `member` by `accuser` (``Suspicion/confirm(by:)``).
    /// - Returns: whether it was a new, counted confirmation.
    mutating func confirm(_ member: PeerID, by accuser: PeerID) -> Bool {
        guard var suspicion = suspicions[member], suspicion.confirm(by: accuser) else { return false }
        suspicions[member] = suspicion
        schedule.schedule(member, at: suspicion.deadline)
        return true
    }

    /// Records a message `member` sent at `now` (``Suspicion/noteSignOfLife(at:tellingAtMostEvery:)``);
    /// the deadline only moves later, so the schedule needs no change.
    /// - Returns: the suspicion when the suspect should be told of it now.
    mutating func noteSignOfLife(of member: PeerID, at now: Instant, tellingAtMostEvery interval: Duration)
        -> Suspicion?
    {
        guard var suspicion = suspicions[member] else { return nil }
        let tell = suspicion.noteSignOfLife(at: now, tellingAtMostEvery: interval)
        suspicions[member] = suspicion
        return tell ? suspicion : nil
    }

    /// Keeps `suspicion` of `member` off the schedule: its timeout has passed and it
    /// waits for this peer's own probe (``Suspicion/awaitsOwnProbe``).
    mutating func park(_ suspicion: Suspicion, of member: PeerID) {
        var suspicion = suspicion
        suspicion.awaitsOwnProbe = true
        suspicions[member] = suspicion
    }

    /// Notes that this peer's own probe of `member` went unanswered (which may bring the
    /// deadline forward, ``Suspicion/deadline``).
    /// - Returns: the suspicion, when one is running.
    mutating func noteOwnProbeFailed(of member: PeerID) -> Suspicion? {
        guard var suspicion = suspicions[member] else { return nil }
        suspicion.ownProbeFailed = true
        suspicions[member] = suspicion
        if !suspicion.awaitsOwnProbe { schedule.schedule(member, at: suspicion.deadline) }
        return suspicion
    }

    /// Notes that another peer declared `member` failed (``Suspicion/verdictHeard``).
    /// - Returns: the suspicion, when one is running.
    mutating func noteVerdict(of member: PeerID) -> Suspicion? {
        guard var suspicion = suspicions[member] else { return nil }
        suspicion.verdictHeard = true
        suspicions[member] = suspicion
        return suspicion
    }

    /// Ends the suspicion of `member`, if any.
    mutating func remove(_ member: PeerID) {
        suspicions[member] = nil
        // The last one gone: no entry may stay behind to report a deadline.
        if suspicions.isEmpty, schedule.entryCount > 0 { schedule = DeadlineSchedule() }
    }

    /// Ends every suspicion.
    mutating func removeAll() {
        suspicions = [:]
        schedule = DeadlineSchedule()
    }

    /// Ends and returns the suspicions whose deadline is at or before `now`, earliest first.
    mutating func popExpired(now: Instant) -> [(member: PeerID, suspicion: Suspicion)] {
        var expired: [(member: PeerID, suspicion: Suspicion)] = []
        while true {
            guard let (member, deadline) = schedule.liveTop() else { break }
            let actual = suspicions[member]?.deadline
            guard actual == deadline, suspicions[member]?.awaitsOwnProbe == false else {
                schedule.correctTop(to: suspicions[member]?.awaitsOwnProbe == true ? nil : actual)
                continue
            }
            guard schedule.removeTop(dueBy: now) != nil, let suspicion = suspicions.removeValue(forKey: member) else {
                break
            }
            expired.append((member, suspicion))
        }
        return expired
    }
}
