import Starling
import StarlingCore

/// Records every event of a peer, so that a test can wait for one with a deadline
/// instead of sleeping.
actor EventRecorder {
    private(set) var events: [Peer.Event] = []
    private var finished = false
    private var waiters:
        [(predicate: @Sendable (Peer.Event) -> Bool, continuation: CheckedContinuation<Peer.Event?, Never>)] = []
    private var reader: Task<Void, Never>?

    /// Starts reading `peer.events`.
    init(_ peer: Peer) {
        let events = peer.events
        reader = nil
        Task { await self.start(events) }
    }

    private func start(_ events: Peer.Events) {
        reader = Task {
            for await event in events { self.record(event) }
            self.finish()
        }
    }

    private func record(_ event: Peer.Event) {
        events.append(event)
        var remaining:
            [(predicate: @Sendable (Peer.Event) -> Bool, continuation: CheckedContinuation<Peer.Event?, Never>)] = []
        for waiter in waiters {
            if waiter.predicate(event) {
                waiter.continuation.resume(returning: event)
            } else {
                remaining.append(waiter)
            }
        }
        waiters = remaining
    }

    private func finish() {
        finished = true
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
        waiters.removeAll()
    }

    /// The first event so far, or later, that matches `predicate`; `nil` if the events
    /// finish first or `deadline` passes (a bound against hanging, not a timing check).
    func first(
        within deadline: Duration = .seconds(30), where predicate: @escaping @Sendable (Peer.Event) -> Bool
    ) async -> Peer.Event? {
        if let event = events.first(where: predicate) { return event }
        if finished { return nil }
        return await withTaskGroup(of: Peer.Event?.self) { group in
            group.addTask { await self.wait(for: predicate) }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            self.releaseWaiters()
            return first
        }
    }

    /// Whether the events have finished (the peer shut down).
    var isFinished: Bool { finished }

    /// Waits until the peer's events finish, up to `deadline`.
    func waitUntilFinished(within deadline: Duration = .seconds(30)) async -> Bool {
        if finished { return true }
        _ = await first(within: deadline) { _ in false }
        return finished
    }

    private func wait(for predicate: @escaping @Sendable (Peer.Event) -> Bool) async -> Peer.Event? {
        if let event = events.first(where: predicate) { return event }
        if finished { return nil }
        return await withCheckedContinuation { waiters.append((predicate, $0)) }
    }

    /// Resumes waiters of a wait that ended by its deadline.
    private func releaseWaiters() {
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
        waiters.removeAll()
    }
}
