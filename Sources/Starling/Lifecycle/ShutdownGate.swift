import Synchronization

/// Runs a shutdown once and lets every caller (and anyone waiting) return only after it
/// has finished.
///
/// ``Peer/shutdown(leavingOverlay:)`` and ``Swarm/shutdown()`` go through one, so that a
/// second call, made while the first is still closing sessions, waits for it instead of
/// returning early; and a service's `run()` waits in ``wait()`` for a shutdown that
/// someone else may start.
final class ShutdownGate: Sendable {
    private struct State {
        var started = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Runs `body` if no shutdown has started yet, then returns once the shutdown (this
    /// one or an earlier caller's) has finished.
    func close(_ body: () async -> Void) async {
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return await wait() }
        await body()
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once a shutdown has finished (at once when one has); does not start one.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = state.withLock { state in
                if !state.finished { state.waiters.append(continuation) }
                return state.finished
            }
            if finished { continuation.resume() }
        }
    }
}
