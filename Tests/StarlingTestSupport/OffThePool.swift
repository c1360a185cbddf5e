import Foundation

/// Runs a synchronous, CPU-heavy `body` outside Swift's cooperative thread pool, one
/// such body at a time in the process, and waits for it without blocking a pool thread.
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
/// `body` runs in a child task of the caller, outside the pool (the child prefers an
/// executor that runs its jobs one at a time on a serial dispatch queue). A child task inherits
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
        group.addTask(executorPreference: SerialHeavyWorkExecutor.shared) {
            Result { try body() }
        }
        return await group.next()!
    }
    return try result.get()
}

/// A task executor that runs the jobs it is given one at a time, in order, on a
/// serial dispatch queue of its own (threads outside the cooperative pool).
///
/// Its jobs are the child tasks of ``offThePool(_:)``: one job each, running a
/// synchronous body for seconds. One at a time, so that the heavy tests of a
/// process take one core between them and leave the other to the tests that run
/// real sockets against real timeouts.
final class SerialHeavyWorkExecutor: TaskExecutor {
    static let shared = SerialHeavyWorkExecutor()

    private let queue = DispatchQueue(label: "offThePool")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
