import Foundation

/// The outcome of a finished child process.
public struct ProcessResult: Sendable {
    /// The exit status (or the signal number when `uncaughtSignal` is true).
    public var status: Int32
    /// Whether the process was killed by a signal.
    public var uncaughtSignal: Bool
    /// Everything it wrote to standard output, as UTF-8.
    public var stdout: String
    /// Everything it wrote to standard error, as UTF-8.
    public var stderr: String
}

/// Runs programs to completion and collects their output, for tests.
public enum Subprocess {
    /// Runs `executable` with `arguments` and waits for it to exit, without
    /// blocking a thread of Swift's cooperative pool.
    ///
    /// The child runs and is waited for on a thread of its own, so a child that runs
    /// for seconds, such as a `starling swarm`, does not hold one of the few pool
    /// threads every asynchronous test of the process shares, nor waits behind the
    /// heavy work of ``offThePool(_:)``. Use this from `async` tests.
    ///
    /// - Parameters:
    ///   - executable: absolute path of the program.
    ///   - arguments: its arguments.
    ///   - stdin: bytes written to its standard input, which is then closed.
    /// - Returns: its exit status and output.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], stdin: [UInt8] = []) async throws
        -> ProcessResult
    {
        try await onOwnThread { try runBlocking(executable, arguments, stdin: stdin) }
    }

    /// Runs `executable` with `arguments` and blocks the calling thread until it exits.
    ///
    /// For synchronous callers only, such as cleanup in a `defer`; an `async`
    /// caller uses ``run(_:_:stdin:)``, which keeps the cooperative pool free.
    ///
    /// - Parameters:
    ///   - executable: absolute path of the program.
    ///   - arguments: its arguments.
    ///   - stdin: bytes written to its standard input, which is then closed.
    /// - Returns: its exit status and output.
    @discardableResult
    public static func runBlocking(_ executable: String, _ arguments: [String], stdin: [UInt8] = []) throws
        -> ProcessResult
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let outPipe = Pipe()
        let errPipe = Pipe()
        let inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try ProcessSpawning.run(process)
        // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data()
        nonisolated(unsafe) var err = Data()
        group.enter()
        DispatchQueue.global().async {
            out = outPipe.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            err = errPipe.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        if !stdin.isEmpty { inPipe.fileHandleForWriting.write(Data(stdin)) }
        try inPipe.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        return ProcessResult(
            status: process.terminationStatus,
            uncaughtSignal: process.terminationReason == .uncaughtSignal,
            stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self)
        )
    }
}
