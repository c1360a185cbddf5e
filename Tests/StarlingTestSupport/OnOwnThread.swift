import Foundation

/// Runs blocking work that mostly waits (a child process, a chain of `ip` commands) on a
/// thread of its own, and waits for it without holding a thread of Swift's cooperative
/// pool.
///
/// The pool has one thread per core, two here, and every test of the process shares it:
/// blocking work on it stalls every other test's tasks, so that a recorder collecting
/// events may not run at all before its waiter gives up. Unlike ``offThePool(_:)``, which
/// runs CPU-heavy work one body at a time, each call here gets its own thread, so calls
/// from parallel tests wait side by side.
///
/// - Warning: `body` runs outside any task: `#expect` and `#require` inside it are not
///   recorded against the calling test. Return a value and check it in the caller.
public func onOwnThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
