import Foundation

/// Runs a synchronous, CPU-heavy `body` on a thread of its own, outside Swift's
/// cooperative thread pool, and waits for it without blocking a pool thread.
///
/// ### Why
/// Every test of a `swift test` process shares one cooperative pool, which has as
/// many threads as the machine has cores: two on a small CI machine. A synchronous
/// test that computes for seconds (a simulator run, an exhaustive check) holds one
/// of those threads for that long; two of them starve every asynchronous test of
/// the process, whose handlers and continuations then miss their protocol timeouts.
/// Such a test awaits its heavy part through this function instead:
///
/// ```swift
/// @Test func aThousandPeersConverge() async throws {
///     let report = try await offThePool { try runTheBigSimulation() }
///     #expect(report.converged)
/// }
/// ```
///
/// ### Expectations inside `body`
/// `body` runs in a child task of the caller, on a thread of its own (the child
/// prefers an executor that runs each job on a new thread). A child task inherits
/// the caller's task-local values, among them Swift Testing's current test, so
/// `#expect` and `#require` inside `body` are recorded against the calling test.
/// (A bare `Thread` plus a continuation loses them: Swift Testing then reports
/// the issue against an unknown test and the calling test passes.)
///
/// - Parameter body: the work; it may throw.
/// - Returns: what `body` returns.
/// - Throws: what `body` throws.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    // A child task, not `withTaskExecutorPreference`: that only moves a task at its
    // next suspension, and a synchronous body never suspends. A child task starts
    // on the executor it prefers and inherits the caller's task-local values.
    let result = await withTaskGroup(of: Result<T, any Error>.self) { group in
        group.addTask(executorPreference: ThreadPerJobExecutor.shared) {
            Result { try body() }
        }
        return await group.next()!
    }
    return try result.get()
}

/// A task executor that runs every job it is given on a new thread.
///
/// Its jobs are the child tasks of ``offThePool(_:)``: one job each, running a
/// synchronous body long enough that starting a thread costs nothing by
/// comparison. The thread ends with its job.
final class ThreadPerJobExecutor: TaskExecutor {
    static let shared = ThreadPerJobExecutor()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        let thread = Thread {
            // Named from inside: on Linux a name set before `start()` is not applied.
            Thread.current.name = "offThePool"
            job.runSynchronously(on: executor)
        }
        // As large as a main thread's usual stack, so that a deep recursion that works
        // elsewhere does not overflow here.
        thread.stackSize = 8 << 20
        thread.start()
    }
}
