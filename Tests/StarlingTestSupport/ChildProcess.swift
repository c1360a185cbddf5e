import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A running child process whose output a test reads line by line while it runs.
///
/// ### Purpose
/// ``Subprocess`` runs a program to completion. Long-running helpers (a UDP
/// listener, a server) instead announce that they are set up by printing a line
/// such as `ready`; a test waits for that line rather than sleeping, then drives
/// the child and finally waits for it to exit.
///
/// ### Usage
/// ```swift
/// let child = try ChildProcess(path, ["udp", "listen", "--port", "47001"])
/// try await child.waitForLine(timeout: .seconds(10)) { $0 == "ready" }
/// // … send it something …
/// let result = try await child.waitForExit(timeout: .seconds(10))
/// ```
///
/// Every wait takes a deadline. When a deadline passes, the child is killed
/// (SIGKILL) and the wait throws ``ChildProcessError/timedOut(command:waitingFor:after:stdout:stderr:)``
/// carrying everything the child wrote, so a failing test explains itself.
///
/// - Warning: Call ``kill()`` (or wait for the exit) before dropping the last
///   reference: the reader threads keep the object alive while the child runs.
///   ``NetworkNamespace`` kills every child it spawned when it is torn down.
public final class ChildProcess: @unchecked Sendable {
    /// The command line, for messages.
    public let command: String

    private let process = Process()
    private let lock = NSLock()
    // All state below is guarded by `lock`.
    private var lines: [String] = []
    private var partialLine = Data()
    private var stderrData = Data()
    private var stdoutOpen = true
    private var stderrOpen = true
    private var termination: (status: Int32, uncaughtSignal: Bool)?
    private var waiters: [Int: Waiter] = [:]
    private var nextWaiterID = 0

    private enum Waiter {
        case line(@Sendable (String) -> Bool, CheckedContinuation<String, any Error>)
        case exit(CheckedContinuation<ProcessResult, any Error>)
    }

    /// Starts `executable` with `arguments`; its standard input is empty.
    ///
    /// - Parameters:
    ///   - executable: absolute path of the program.
    ///   - arguments: its arguments.
    /// - Throws: when the program cannot be started.
    public init(_ executable: String, _ arguments: [String]) throws {
        command = ([executable] + arguments).joined(separator: " ")
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [self] finished in
            record { $0.termination = (finished.terminationStatus, finished.terminationReason == .uncaughtSignal) }
        }
        try ProcessSpawning.run(process)
        startReader(outPipe.fileHandleForReading) { child, data in
            if let data { child.appendStdout(data) } else { child.closeStdout() }
        }
        startReader(errPipe.fileHandleForReading) { child, data in
            if let data { child.stderrData.append(data) } else { child.stderrOpen = false }
        }
    }

    /// The lines the child has written to standard output so far (without newlines).
    public var stdoutLines: [String] {
        lock.withLock { lines }
    }

    /// What the child has written to standard error so far.
    public var stderr: String {
        lock.withLock { String(decoding: stderrData, as: UTF8.self) }
    }

    /// Waits until the child writes a line that satisfies `predicate`.
    ///
    /// Lines written before the call count too, so the order of `spawn` and
    /// `waitForLine` never races.
    ///
    /// - Parameters:
    ///   - timeout: how long to wait before killing the child.
    ///   - predicate: which line to wait for.
    /// - Returns: the first matching line.
    /// - Throws: ``ChildProcessError`` when the deadline passes (the child is then
    ///   killed) or the child closes its output without such a line.
    @discardableResult
    public func waitForLine(
        timeout: Duration,
        where predicate: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        try await wait(timeout: timeout, waitingFor: "a matching output line") { .line(predicate, $0) }
    }

    /// Waits until the child exits and its output is fully read.
    ///
    /// - Parameter timeout: how long to wait before killing the child.
    /// - Returns: its exit status and complete output.
    /// - Throws: ``ChildProcessError/timedOut(command:waitingFor:after:stdout:stderr:)``
    ///   when the deadline passes; the child is then killed.
    @discardableResult
    public func waitForExit(timeout: Duration) async throws -> ProcessResult {
        try await wait(timeout: timeout, waitingFor: "the process to exit") { .exit($0) }
    }

    /// Whether the child has exited (a zombie counts), whether or not `Process` has noticed
    /// yet and its output is fully read: on Linux, `Process` learns of the exit through a
    /// descriptor that children started later inherit, and the output pipes leak the same
    /// way, so a child can be gone long before ``waitForExit(timeout:)`` returns.
    public var hasExited: Bool {
        if lock.withLock({ termination != nil }) { return true }
        let path = "/proc/\(process.processIdentifier)/stat"
        guard let stat = try? String(contentsOfFile: path, encoding: .utf8),
            let nameEnd = stat.lastIndex(of: ")")
        else { return true }
        // "pid (name) S …": the state letter follows the parenthesised name.
        let state = stat[stat.index(after: nameEnd)...].first { $0 != " " }
        return state == "Z" || state == "X"
    }

    /// Asks the child to stop with SIGTERM, if it is still running.
    public func terminate() {
        guard process.isRunning else { return }
        sendSignal(SIGTERM, to: process.processIdentifier)
    }

    /// Kills the child with SIGKILL if it is still running.
    public func kill() {
        guard process.isRunning else { return }
        sendSignal(SIGKILL, to: process.processIdentifier)
    }

    // MARK: - Internals

    private func wait<Value>(
        timeout: Duration,
        waitingFor what: String,
        _ makeWaiter: @escaping (CheckedContinuation<Value, any Error>) -> Waiter
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            let id = lock.withLock {
                nextWaiterID += 1
                waiters[nextWaiterID] = makeWaiter(continuation)
                return nextWaiterID
            }
            record { _ in }  // The condition may already hold.
            let nanoseconds =
                timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) { [self] in
                expire(id, waitingFor: what, after: timeout)
            }
        }
    }

    private func expire(_ id: Int, waitingFor what: String, after timeout: Duration) {
        guard let waiter = lock.withLock({ waiters.removeValue(forKey: id) }) else { return }
        kill()
        let error = ChildProcessError.timedOut(
            command: command,
            waitingFor: what,
            after: timeout,
            stdout: stdoutLines.joined(separator: "\n"),
            stderr: stderr
        )
        switch waiter {
        case .line(_, let continuation): continuation.resume(throwing: error)
        case .exit(let continuation): continuation.resume(throwing: error)
        }
    }

    private func startReader(_ handle: FileHandle, _ deliver: @escaping @Sendable (ChildProcess, Data?) -> Void) {
        let thread = Thread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty {
                    record { deliver($0, nil) }
                    return
                }
                record { deliver($0, data) }
            }
        }
        thread.start()
    }

    private func appendStdout(_ data: Data) {
        partialLine.append(data)
        while let newline = partialLine.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: partialLine[partialLine.startIndex..<newline], as: UTF8.self))
            partialLine.removeSubrange(partialLine.startIndex...newline)
        }
    }

    private func closeStdout() {
        if !partialLine.isEmpty {
            lines.append(String(decoding: partialLine, as: UTF8.self))
            partialLine.removeAll()
        }
        stdoutOpen = false
    }

    /// Applies `change` under the lock, then resumes every waiter whose condition now holds.
    private func record(_ change: (ChildProcess) -> Void) {
        var ready: [() -> Void] = []
        lock.withLock {
            change(self)
            for (id, waiter) in waiters {
                guard let resume = resolution(of: waiter) else { continue }
                waiters[id] = nil
                ready.append(resume)
            }
        }
        for resume in ready { resume() }
    }

    /// What to do for `waiter` now, or nil when it must keep waiting. Called under the lock.
    private func resolution(of waiter: Waiter) -> (() -> Void)? {
        switch waiter {
        case .line(let predicate, let continuation):
            if let line = lines.first(where: predicate) {
                return { continuation.resume(returning: line) }
            }
            // Wait for stderr too, so the error carries the complete reason.
            guard !stdoutOpen, !stderrOpen else { return nil }
            let error = ChildProcessError.outputEnded(
                command: command,
                waitingFor: "a matching output line",
                stdout: lines.joined(separator: "\n"),
                stderr: String(decoding: stderrData, as: UTF8.self)
            )
            return { continuation.resume(throwing: error) }
        case .exit(let continuation):
            guard let termination, !stdoutOpen, !stderrOpen else { return nil }
            let result = ProcessResult(
                status: termination.status,
                uncaughtSignal: termination.uncaughtSignal,
                stdout: lines.map { $0 + "\n" }.joined(),
                stderr: String(decoding: stderrData, as: UTF8.self)
            )
            return { continuation.resume(returning: result) }
        }
    }
}

/// Sends `signal` to `pid` and the processes it started: its process group, which
/// `Process` makes for each child (a shell's background children are in it too); to
/// `pid` alone when it has none. A free function because ``ChildProcess/kill()``
/// shadows the C call.
private func sendSignal(_ signal: Int32, to pid: Int32) {
    if getpgid(pid) == pid, kill(-pid, signal) == 0 { return }
    _ = kill(pid, signal)
}

/// Why a wait on a ``ChildProcess`` failed.
public enum ChildProcessError: Error, CustomStringConvertible {
    /// The deadline passed; the child was killed.
    case timedOut(command: String, waitingFor: String, after: Duration, stdout: String, stderr: String)
    /// The child closed its standard output (and error) before writing the awaited line.
    case outputEnded(command: String, waitingFor: String, stdout: String, stderr: String)

    public var description: String {
        switch self {
        case .timedOut(let command, let what, let timeout, let stdout, let stderr):
            "timed out after \(timeout) waiting for \(what) from `\(command)` (killed it)\n"
                + "stdout:\n\(stdout)\nstderr:\n\(stderr)"
        case .outputEnded(let command, let what, let stdout, let stderr):
            "`\(command)` closed its output before \(what)\nstdout:\n\(stdout)\nstderr:\n\(stderr)"
        }
    }
}
