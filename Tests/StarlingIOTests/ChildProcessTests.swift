import StarlingTestSupport
import Testing

/// The streaming child-process helper that namespace tests synchronise through.
struct ChildProcessTests {
    @Test func childProcess_waitForLine_returnsLinesWrittenBeforeAndAfterTheCall() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo first; echo ready; echo last"])
        let ready = try await child.waitForLine(timeout: .seconds(20)) { $0 == "ready" }
        #expect(ready == "ready")
        let result = try await child.waitForExit(timeout: .seconds(20))
        #expect(result.status == 0)
        #expect(result.stdout == "first\nready\nlast\n")
        // A line already seen satisfies a later wait at once.
        #expect(try await child.waitForLine(timeout: .seconds(20)) { $0 == "first" } == "first")
    }

    @Test func childProcess_waitForLine_deadlinePassed_killsTheChildAndSaysWhy() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo started; exec sleep 600"])
        let error = await #expect(throws: ChildProcessError.self) {
            try await child.waitForLine(timeout: .milliseconds(200)) { $0 == "ready" }
        }
        guard case .timedOut(_, _, _, let stdout, _)? = error else {
            Issue.record("expected timedOut, got \(String(describing: error))")
            return
        }
        #expect(stdout == "started")
        let result = try await child.waitForExit(timeout: .seconds(20))
        #expect(result.uncaughtSignal, "the child was killed")
    }

    @Test func childProcess_waitForLine_outputEndsFirst_failsAtOnceWithTheOutput() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo nope; echo oops >&2; exit 3"])
        let error = await #expect(throws: ChildProcessError.self) {
            try await child.waitForLine(timeout: .seconds(20)) { $0 == "ready" }
        }
        guard case .outputEnded(_, _, let stdout, _)? = error else {
            Issue.record("expected outputEnded, got \(String(describing: error))")
            return
        }
        #expect(stdout == "nope")
        let result = try await child.waitForExit(timeout: .seconds(20))
        #expect(result.status == 3)
        #expect(result.stderr == "oops\n")
    }
}
