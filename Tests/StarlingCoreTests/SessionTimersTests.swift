import Testing

@testable import StarlingCore

@Suite struct TimerTableTests {
    static func at(_ seconds: Int64) -> Instant { Instant.zero + .seconds(seconds) }

    @Test func timerTable_earliest_emptyIsNil() {
        let table = TimerTable()
        #expect(table.earliest() == nil)
        #expect(table.expired(now: Self.at(1_000_000)).isEmpty)
    }

    @Test func timerTable_set_replacesAndEarliestFollows() {
        var table = TimerTable()
        table.set(.newHandshake, at: Self.at(30))
        table.set(.sendKeepalive, at: Self.at(10))
        #expect(table.earliest()?.timer == .sendKeepalive)
        #expect(table.earliest()?.deadline == Self.at(10))
        table.set(.sendKeepalive, at: Self.at(40))
        #expect(table.earliest()?.timer == .newHandshake)
        table.cancel(.newHandshake)
        #expect(table.earliest()?.timer == .sendKeepalive)
        #expect(table.earliest()?.deadline == Self.at(40))
        #expect(!table.isPending(.newHandshake))
        table.cancel(.newHandshake)
        #expect(table[.sendKeepalive] == Self.at(40))
    }

    @Test func timerTable_earliest_tieGoesToEarlierCase() {
        var table = TimerTable()
        table.set(.zeroKeyMaterial, at: Self.at(10))
        table.set(.retransmitHandshake, at: Self.at(10))
        #expect(table.earliest()?.timer == .retransmitHandshake)
    }

    @Test func timerTable_expired_ordersByDeadlineThenCase() {
        var table = TimerTable()
        table.set(.newHandshake, at: Self.at(20))
        table.set(.sendKeepalive, at: Self.at(7))
        table.set(.retransmitHandshake, at: Self.at(7))
        table.set(.persistentKeepalive, at: Self.at(5))
        let cases: [(Int64, [SessionTimer])] = [
            (4, []),
            (5, [.persistentKeepalive]),
            (7, [.persistentKeepalive, .retransmitHandshake, .sendKeepalive]),
            (100, [.persistentKeepalive, .retransmitHandshake, .sendKeepalive, .newHandshake]),
        ]
        for (now, expected) in cases {
            #expect(table.expired(now: Self.at(now)) == expected, "now \(now)")
        }
        #expect(table.removeExpired(now: Self.at(7)) == [.persistentKeepalive, .retransmitHandshake, .sendKeepalive])
        #expect(table.expired(now: Self.at(100)) == [.newHandshake])
        #expect(table.earliest()?.timer == .newHandshake)
    }

    @Test func timerTable_cancelAll_leavesNothingArmed() {
        var table = TimerTable()
        for (index, timer) in SessionTimer.allCases.enumerated() { table.set(timer, at: Self.at(Int64(index))) }
        #expect(table.expired(now: Self.at(100)).count == SessionTimer.allCases.count)
        table.cancelAll()
        #expect(table == TimerTable())
    }
}

@Suite struct SessionTimersTests {
    static func at(_ seconds: Int64) -> Instant { Instant.zero + .seconds(seconds) }
    static let noJitter = HandshakeBackoff.Policy(
        baseDelay: .seconds(5), maximumDelay: .seconds(20), attemptTime: .seconds(90), jitterPerMille: 0)

    @Test func sessionTimers_dataSent_armsNewHandshakeOnce() {
        var generator = TestRandom(seed: 3)
        var timers = SessionTimers()
        timers.timersDataSent(now: Self.at(100), using: &generator)
        let deadline = timers.table[.newHandshake]
        let earliest = Self.at(115)
        #expect(deadline.map { $0 >= earliest && $0 <= earliest + .milliseconds(1005) } == true)
        timers.timersDataSent(now: Self.at(105), using: &generator)
        #expect(timers.table[.newHandshake] == deadline, "a second send must not push the deadline")
        timers.timersAnyAuthenticatedPacketReceived(now: Self.at(106))
        #expect(!timers.table.isPending(.newHandshake))
        var exact = SessionTimers(backoff: Self.noJitter)
        exact.timersDataSent(now: Self.at(107), using: &generator)
        #expect(exact.table[.newHandshake] == Self.at(122))
    }

    @Test func sessionTimers_dataReceived_armsKeepaliveUntilAnythingIsSent() {
        var timers = SessionTimers()
        timers.timersDataReceived(now: Self.at(50))
        #expect(timers.table[.sendKeepalive] == Self.at(60))
        timers.timersDataReceived(now: Self.at(55))
        #expect(timers.table[.sendKeepalive] == Self.at(60), "a second receive must not push the deadline")
        timers.timersAnyAuthenticatedPacketSent(now: Self.at(56))
        #expect(!timers.table.isPending(.sendKeepalive))
        timers.timersDataReceived(now: Self.at(57))
        #expect(timers.table[.sendKeepalive] == Self.at(67))
    }

    @Test func sessionTimers_retransmit_followsBackoffThenGivesUp() {
        var generator = TestRandom(seed: 9)
        var timers = SessionTimers(backoff: Self.noJitter)
        var now = Self.at(1_000)
        timers.timersHandshakeInitiated(now: now, using: &generator)
        var sends: [Int64] = [0]
        var outcome: HandshakeBackoff.Decision?
        while outcome == nil, let deadline = timers.pollTimeout() {
            now = deadline
            #expect(timers.removeExpired(now: now) == [.retransmitHandshake])
            switch timers.expiredRetransmitHandshake(now: now) {
            case .retransmit:
                sends.append((now - Self.at(1_000)).components.seconds)
                timers.timersHandshakeInitiated(now: now, using: &generator)
            case .giveUp(let timeout):
                outcome = .giveUp(timeout)
            }
        }
        #expect(sends == [0, 5, 15, 35, 55, 75])
        #expect(outcome == .giveUp(.init(attempts: 6, elapsed: .seconds(90))))
        #expect(timers.handshakeAttempts == 0)
        #expect(timers.handshakeStartedAt == nil)
        #expect(!timers.table.isPending(.retransmitHandshake))
        #expect(timers.table[.zeroKeyMaterial] == Self.at(1_090) + .seconds(540))
    }

    @Test func sessionTimers_giveUp_keepsAnArmedZeroKeyMaterial() {
        var generator = TestRandom(seed: 9)
        var timers = SessionTimers(backoff: Self.noJitter)
        timers.timersSessionDerived(now: Self.at(0))
        #expect(timers.table[.zeroKeyMaterial] == Self.at(540))
        timers.timersHandshakeInitiated(now: Self.at(10), using: &generator)
        #expect(
            timers.expiredRetransmitHandshake(now: Self.at(100)) == .giveUp(.init(attempts: 1, elapsed: .seconds(90))))
        #expect(timers.table[.zeroKeyMaterial] == Self.at(540))
    }

    @Test func sessionTimers_handshakeComplete_cancelsRetransmitAndResets() {
        var generator = TestRandom(seed: 1)
        var timers = SessionTimers(backoff: Self.noJitter)
        timers.timersHandshakeInitiated(now: Self.at(0), using: &generator)
        timers.timersHandshakeInitiated(now: Self.at(2), using: &generator)
        #expect(timers.handshakeAttempts == 2)
        #expect(timers.handshakeStartedAt == Self.at(0))
        #expect(timers.table[.retransmitHandshake] == Self.at(12), "attempt 1 waits 10 s")
        timers.timersHandshakeComplete(now: Self.at(3))
        #expect(!timers.table.isPending(.retransmitHandshake))
        #expect(timers.handshakeAttempts == 0)
        timers.timersHandshakeInitiated(now: Self.at(200), using: &generator)
        #expect(timers.table[.retransmitHandshake] == Self.at(205), "a new handshake starts from attempt 0")
    }

    @Test func sessionTimers_expiredRetransmit_withoutHandshakeGivesUpEmpty() {
        var timers = SessionTimers()
        #expect(timers.expiredRetransmitHandshake(now: Self.at(5)) == .giveUp(.init(attempts: 0, elapsed: .zero)))
    }

    @Test func sessionTimers_sessionDerivedAndRotated_armTheirDeadlines() {
        var timers = SessionTimers()
        timers.timersSessionDerived(now: Self.at(10))
        #expect(timers.table[.zeroKeyMaterial] == Self.at(550))
        timers.timersSessionDerived(now: Self.at(130))
        #expect(timers.table[.zeroKeyMaterial] == Self.at(670))
        timers.timersSessionRotated(now: Self.at(130))
        #expect(timers.table[.discardPreviousSession] == Self.at(145))
        #expect(timers.pollTimeout() == Self.at(145))
    }

    @Test func sessionTimers_persistentKeepalive_onlyWhenConfigured() {
        var off = SessionTimers()
        off.timersAnyAuthenticatedPacketTraversal(now: Self.at(1))
        #expect(!off.table.isPending(.persistentKeepalive))
        var on = SessionTimers(persistentKeepaliveInterval: .seconds(25))
        on.timersAnyAuthenticatedPacketTraversal(now: Self.at(1))
        #expect(on.table[.persistentKeepalive] == Self.at(26))
        on.timersAnyAuthenticatedPacketTraversal(now: Self.at(20))
        #expect(on.table[.persistentKeepalive] == Self.at(45), "each packet restarts the interval")
    }

    @Test func sessionTimers_stop_disarmsEverything() {
        var generator = TestRandom(seed: 2)
        var timers = SessionTimers(persistentKeepaliveInterval: .seconds(25))
        timers.timersHandshakeInitiated(now: Self.at(0), using: &generator)
        timers.timersDataSent(now: Self.at(0), using: &generator)
        timers.timersDataReceived(now: Self.at(0))
        timers.timersSessionDerived(now: Self.at(0))
        timers.timersSessionRotated(now: Self.at(0))
        timers.timersAnyAuthenticatedPacketTraversal(now: Self.at(0))
        #expect(timers.table.expired(now: Self.at(10_000)).count == SessionTimer.allCases.count)
        timers.timersStop()
        #expect(timers.pollTimeout() == nil)
        #expect(timers.handshakeAttempts == 0)
        #expect(timers.handshakeStartedAt == nil)
    }
}
