import Testing

@testable import Starling

@Suite struct SwarmDashboardTests {
    static let converged = SwarmSnapshot(
        elapsed: .seconds(3),
        peersUp: 50,
        peersTotal: 50,
        convergencePercent: 100,
        messagesPerSecond: 1234,
        rttP50Microseconds: 85,
        rttP99Microseconds: 310,
        suspectedCount: 0,
        failedCount: 0
    )

    @Test(arguments: [
        (120, 200, 16, "[#########.......]  120/200 peers launched"),
        (5, 200, 10, "[..........]    5/200 peers launched"),
        (199, 200, 10, "[#########.]  199/200 peers launched"),
        (200, 200, 10, "[##########]  200/200 peers launched"),
        (250, 200, 4, "[####]  250/200 peers launched"),
        (-3, 200, 4, "[....]   -3/200 peers launched"),
        (0, 0, 3, "[###]  0/0 peers launched"),
        (1, 2, 0, "[.]  1/2 peers launched"),
    ])
    func progressBar(done: Int, total: Int, width: Int, expected: String) {
        #expect(SwarmDashboard.progressBar(done: done, total: total, width: width) == expected)
    }

    @Test func plainLine_convergedSwarm_matchesTheDocumentedForm() {
        #expect(
            SwarmDashboard.plainLine(Self.converged)
                == "t=3.0s up=50/50 converged=100.0% msgs/s=1234 rtt p50=85µs p99=310µs suspected=0 failed=0 drops=0"
        )
    }

    @Test func plainLine_hybridSwarm_endsWithRolesAndFallback() {
        var snapshot = Self.converged
        snapshot.roles = [.index: 3, .client: 47]
        snapshot.fallbackCount = 2
        #expect(
            SwarmDashboard.plainLine(snapshot)
                == "t=3.0s up=50/50 converged=100.0% msgs/s=1234 rtt p50=85µs p99=310µs suspected=0 failed=0 drops=0"
                + " roles=index:3,client:47 fallback=2")
    }

    @Test func liveLines_hybridSwarm_addsARolesLine_pureDoesNot() {
        var snapshot = Self.converged
        snapshot.roles = [.peer: 50]
        #expect(SwarmDashboard.liveLines(snapshot).count == 5)
        snapshot.roles = [.index: 3, .client: 47]
        let lines = SwarmDashboard.liveLines(snapshot)
        #expect(lines.count == 6)
        #expect(lines.last == "roles      3 index  47 client  0 in fallback")
    }

    @Test func plainLine_withoutSamples_showsDashes() {
        var snapshot = Self.converged
        snapshot.elapsed = .milliseconds(12_345)
        snapshot.peersUp = 7
        snapshot.convergencePercent = 42.25
        snapshot.messagesPerSecond = 0.4
        snapshot.rttP50Microseconds = nil
        snapshot.rttP99Microseconds = nil
        snapshot.suspectedCount = 2
        snapshot.failedCount = 1
        #expect(
            SwarmDashboard.plainLine(snapshot)
                == "t=12.3s up=7/50 converged=42.3% msgs/s=0 rtt p50=- p99=- suspected=2 failed=1 drops=0"
        )
    }

    @Test func plainLine_outOfRangeValues_areClamped() {
        var snapshot = Self.converged
        snapshot.convergencePercent = 140
        snapshot.messagesPerSecond = -.infinity
        #expect(SwarmDashboard.plainLine(snapshot).contains("converged=100.0% msgs/s=0 "))
        snapshot.convergencePercent = .nan
        #expect(SwarmDashboard.plainLine(snapshot).contains("converged=0.0% "))
    }

    @Test func liveLines_convergedSwarm_matchesTheDocumentedForm() {
        #expect(
            SwarmDashboard.liveLines(Self.converged) == [
                "starling swarm  t=3.0s",
                "peers      [##############################]  50/50 up",
                "converged  [##############################]  100.0%",
                "traffic    1,234 msgs/s   rtt p50 85µs  p99 310µs",
                "health     0 suspected  0 failed  0 receive drops",
            ]
        )
    }

    @Test func liveLines_partway_keepsColumnsAndLineCount() {
        var snapshot = Self.converged
        snapshot.peersUp = 5
        snapshot.convergencePercent = 50
        snapshot.rttP99Microseconds = nil
        let lines = SwarmDashboard.liveLines(snapshot)
        #expect(lines.count == SwarmDashboard.liveLines(Self.converged).count)
        #expect(lines[1] == "peers      [###...........................]   5/50 up")
        #expect(lines[2] == "converged  [###############...............]   50.0%")
        #expect(lines[3].hasSuffix("p99 -"))
        #expect(lines.allSatisfy { !$0.contains("\n") })
    }

    @Test(arguments: [
        (85.0, "85µs"), (0.3, "0µs"), (999.4, "999µs"), (999.6, "1.00ms"), (1234.0, "1.23ms"),
        (999_999.0, "1.00s"), (2_500_000.0, "2.50s"), (-1.0, "-"), (Double.nan, "-"),
    ])
    func rtt(microseconds: Double, expected: String) {
        #expect(SwarmDashboard.rtt(microseconds) == expected)
    }

    @Test func redraw_firstDraw_writesLinesWithoutMovingUp() {
        #expect(SwarmDashboard.redraw(previousLineCount: 0, lines: ["a", "b"]) == "\u{1B}[2Ka\n\u{1B}[2Kb\n")
    }

    @Test func redraw_sameHeight_movesUpAndRewrites() {
        #expect(
            SwarmDashboard.redraw(previousLineCount: 2, lines: ["c", "d"]) == "\r\u{1B}[2A\u{1B}[2Kc\n\u{1B}[2Kd\n"
        )
    }

    @Test func redraw_shorterBlock_clearsTheLeftoverLines() {
        #expect(SwarmDashboard.redraw(previousLineCount: 3, lines: ["e"]) == "\r\u{1B}[3A\u{1B}[2Ke\n\u{1B}[J")
        #expect(SwarmDashboard.redraw(previousLineCount: 2, lines: []) == "\r\u{1B}[2A\u{1B}[J")
    }

    @Test(arguments: [
        (0.0, 1, "0.0"), (-0.04, 1, "0.0"), (-1.26, 1, "-1.3"), (3.14159, 2, "3.14"), (100, 1, "100.0"),
        (7.4, 0, "7"), (0.004, 2, "0.00"), (12.06, 1, "12.1"),
    ])
    func fixed(value: Double, digits: Int, expected: String) {
        #expect(SwarmNumberText.fixed(value, fractionDigits: digits) == expected)
    }

    @Test(arguments: [(0, "0"), (999, "999"), (1000, "1,000"), (1_234_567, "1,234,567"), (-1234, "-1,234")])
    func grouped(value: Int, expected: String) {
        #expect(SwarmNumberText.grouped(value) == expected)
    }
}
