/// Entries that each wait until a fixed deadline, with the earliest deadline at hand.
///
/// ### Purpose
/// Calls that a caller waits on (connects, stream requests) end by an answer, by their
/// caller giving up, or by their deadline, which never moves once set. The table keeps
/// them by ID with a ``DeadlineSchedule`` beside them: inserting costs O(log n), and an
/// entry that ends early leaves a superseded schedule entry that is dropped as soon as
/// it reaches the top (after every removal), so ``earliestDeadline`` is exact and O(1).
///
/// The table holds at most ``capacity`` entries; ``insert(_:for:deadline:)`` refuses more.
///
/// - Warning: `now` must never go backwards between calls.
struct WaitTable<ID: Hashable & Comparable & Sendable, Entry: Sendable>: Sendable {
    /// The most entries the table holds.
    let capacity: Int

    private var entries: [ID: (entry: Entry, deadline: Instant)] = [:]
    private var schedule = DeadlineSchedule<ID>()

    /// Creates an empty table of at most `capacity` entries.
    init(capacity: Int = .max) {
        self.capacity = capacity
    }

    /// Number of entries.
    var count: Int { entries.count }

    /// Whether the table holds ``capacity`` entries.
    var isFull: Bool { entries.count >= capacity }

    /// The entry with `id`, if it waits.
    subscript(id: ID) -> Entry? { entries[id]?.entry }

    /// Every waiting entry, in no order.
    var waitingEntries: some Collection<Entry> { entries.values.lazy.map(\.entry) }

    /// The earliest deadline of any entry; `nil` when none waits. Exact.
    var earliestDeadline: Instant? { schedule.earliest }

    /// Adds `entry`, waiting until `deadline` at the latest.
    /// - Returns: `false`, changing nothing, when the table is full.
    /// - Precondition: no entry with `id` waits.
    mutating func insert(_ entry: Entry, for id: ID, deadline: Instant) -> Bool {
        precondition(entries[id] == nil, "wait IDs are unique while waiting")
        guard !isFull else { return false }
        entries[id] = (entry, deadline)
        schedule.schedule(id, at: deadline)
        return true
    }

    /// Ends the wait of `id`.
    /// - Returns: its entry, or `nil` when it was not waiting.
    @discardableResult
    mutating func remove(_ id: ID) -> Entry? {
        guard let removed = entries.removeValue(forKey: id) else { return nil }
        settle()
        return removed.entry
    }

    /// Ends the waits whose entry `matches`; O(n).
    /// - Returns: them with their IDs, in ID order.
    mutating func removeAll(where matches: (Entry) -> Bool) -> [(ID, Entry)] {
        guard !entries.isEmpty else { return [] }
        let ids = entries.filter { matches($0.value.entry) }.map(\.key).sorted()
        guard !ids.isEmpty else { return [] }
        let removed = ids.map { id in (id, entries.removeValue(forKey: id)!.entry) }
        settle()
        return removed
    }

    /// Ends the waits whose deadline is at or before `now`.
    /// - Returns: them with their IDs, earliest deadline first.
    mutating func removeExpired(now: Instant) -> [(ID, Entry)] {
        var expired: [(ID, Entry)] = []
        while let id = schedule.removeTop(dueBy: now) {
            if let removed = entries.removeValue(forKey: id) { expired.append((id, removed.entry)) }
            settle()
        }
        return expired
    }

    /// Ends every wait.
    /// - Returns: them with their IDs, in ID order.
    mutating func removeAll() -> [(ID, Entry)] {
        removeAll { _ in true }
    }

    /// Drops superseded entries from the top of the schedule, so that its earliest
    /// deadline is a waiting entry's; with no entry left, forgets every schedule entry.
    private mutating func settle() {
        guard !entries.isEmpty else {
            schedule = DeadlineSchedule()
            return
        }
        while let top = schedule.liveTop() {
            let actual = entries[top.owner]?.deadline
            if actual == top.deadline { return }
            schedule.correctTop(to: actual)
        }
    }
}
