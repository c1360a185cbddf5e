import Foundation

/// Starts every child process of the test process one at a time.
///
/// Foundation's `Process` on Linux learns that a child exited when the child's end of a
/// socket pair, made in `run()` and inherited by the child alone, closes. The child
/// closes every other descriptor it inherits, but only those open when its own `run()`
/// began: a socket pair another thread makes meanwhile for its own child leaks into this
/// one. When this child lives long (avahi-daemon, dbus-daemon), the other child's exit
/// is then never noticed, and whoever waits for it hangs. Starting children one at a
/// time leaves no socket pair of another child open while one is started.
enum ProcessSpawning {
    private static let lock = NSLock()

    /// Runs `process` (`Process.run()`) while no other child is being started.
    static func run(_ process: Process) throws {
        try lock.withLock { try process.run() }
    }
}
