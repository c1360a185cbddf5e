import Foundation

/// Runs blocking work (a child process, a chain of `ip` commands) on a thread of its own
/// and waits for it without holding a thread of Swift's cooperative pool.
///
/// The pool has one thread per core, two here, and every test of the process shares it.
/// Blocking work on it stalls every other test's tasks, so that a recorder collecting
/// events may not run at all before its waiter gives up.
public func offPool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
