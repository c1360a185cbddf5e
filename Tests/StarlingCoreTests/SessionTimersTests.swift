import StarlingTestSupport
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
        table.set(.sendKeepalive, at: Self.at(10))
        #expect(table.earliest()?.timer == .sendKeepalive)
    }

    @Test func timerTable_expired_ordersByDeadlineThenCase() {
        var table = TimerTable()
        table.set(.zeroKeyMaterial, at: Self.at(20))
        table.set(.newHandshake, at: Self.at(7))
        table.set(.sendKeepalive, at: Self.at(7))
        table.set(.discardPreviousSession, at: Self.at(5))
        let cases: [(Int64, [SessionTimer])] = [
            (4, []),
            (5, [.discardPreviousSession]),
            (7, [.discardPreviousSession, .sendKeepalive, .newHandshake]),
            (100, [.discardPreviousSession, .sendKeepalive, .newHandshake, .zeroKeyMaterial]),
        ]
        for (now, expected) in cases {
            #expect(table.expired(now: Self.at(now)) == expected, "now \(now)")
        }
        #expect(table.removeExpired(now: Self.at(7)) == [.discardPreviousSession, .sendKeepalive, .newHandshake])
        #expect(table.expired(now: Self.at(100)) == [.zeroKeyMaterial])
        #expect(table.earliest()?.timer == .zeroKeyMaterial)
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

    @Test func sessionTimers_sessionDerivedAndRotated_armTheirDeadlines() {
        var timers = SessionTimers()
        timers.timersSessionDerived(now: Self.at(10))
        #expect(timers.table[.zeroKeyMaterial] == Self.at(550))
        timers.timersSessionDerived(now: Self.at(130))
        #expect(timers.table[.zeroKeyMaterial] == Self.at(670))
        timers.timersSessionRotated(now: Self.at(130))
        #expect(timers.table[.discardPreviousSession] == Self.at(145))
        #expect(timers.pollTimeout() == Self.at(145))
        #expect(timers.removeExpired(now: Self.at(145)) == [.discardPreviousSession])
        #expect(timers.pollTimeout() == Self.at(670))
    }

    @Test func sessionTimers_replayableSessionDerived_neverPostponesErasure() {
        var timers = SessionTimers()
        timers.timersReplayableSessionDerived(now: Self.at(10))
        #expect(timers.table[.zeroKeyMaterial] == Self.at(550), "keys with nothing armed are still erased")
        timers.timersReplayableSessionDerived(now: Self.at(300))
        #expect(timers.table[.zeroKeyMaterial] == Self.at(550))
        var generator = TestRandom(seed: 1)
        timers.timersDataSent(now: Self.at(301), using: &generator)
        timers.timersReplayableSessionDerived(now: Self.at(302))
        #expect(timers.table.isPending(.newHandshake), "a replayable message is no answer")
        timers.timersSessionDerived(now: Self.at(303))
        #expect(timers.table[.zeroKeyMaterial] == Self.at(843))
    }

    @Test func sessionTimers_wantsRekey_sending() {
        let limit: UInt64 = 100
        // (initiator, age in seconds, messages sent, expected)
        let cases: [(Bool, Int64, UInt64, Bool)] = [
            (true, 0, 0, false),
            (true, 119, 99, false),
            (true, 120, 0, true),
            (true, 0, 100, true),
            (false, 120, 0, false),
            (false, 179, 99, false),
            (false, 0, 100, true),
            (false, 0, 101, true),
        ]
        for (initiator, age, sent, expected) in cases {
            let wants = SessionTimers.wantsRekey(
                isInitiator: initiator, age: .seconds(age), sent: sent, messageLimit: limit)
            #expect(wants == expected, "initiator \(initiator), age \(age), sent \(sent)")
        }
        #expect(
            !SessionTimers.wantsRekey(
                isInitiator: false, age: .zero, sent: 1 << 59, messageLimit: SessionConstants.rekeyAfterMessages))
    }

    @Test func sessionTimers_wantsRekey_receiving() {
        let cases: [(Int64, Bool)] = [(0, false), (120, false), (164, false), (165, true), (179, true), (500, true)]
        for (age, expected) in cases {
            #expect(SessionTimers.wantsRekey(receivingOnKeysAged: .seconds(age)) == expected, "age \(age)")
        }
    }
}

@Suite struct DeadlineScheduleTests {
    static func at(_ seconds: Int64) -> Instant { Instant.zero + .seconds(seconds) }

    @Test func deadlineSchedule_settle_followsEarlierAndLaterMoves() {
        var real: [String: Instant] = ["a": Self.at(10), "b": Self.at(20)]
        var schedule = DeadlineSchedule<String>()
        for (owner, deadline) in real { schedule.schedule(owner, at: deadline) }
        schedule.settle { real[$0] }
        #expect(schedule.earliest == Self.at(10))
        // Later: no call needed, settle corrects the top.
        real["a"] = Self.at(30)
        schedule.settle { real[$0] }
        #expect(schedule.earliest == Self.at(20))
        // Earlier: must be scheduled.
        real["b"] = Self.at(5)
        schedule.schedule("b", at: Self.at(5))
        schedule.settle { real[$0] }
        #expect(schedule.earliest == Self.at(5))
        // Gone.
        real["b"] = nil
        schedule.settle { real[$0] }
        #expect(schedule.earliest == Self.at(30))
        real["a"] = nil
        schedule.settle { real[$0] }
        #expect(schedule.earliest == nil)
        #expect(schedule.entryCount == 0)
    }

    @Test func deadlineSchedule_popDue_returnsEachDueOwnerOnce() {
        let real: [Int: Instant] = [1: Self.at(3), 2: Self.at(1), 3: Self.at(9)]
        var schedule = DeadlineSchedule<Int>()
        for (owner, deadline) in real { schedule.schedule(owner, at: deadline) }
        var popped: [Int] = []
        var remaining = real
        while let owner = schedule.popDue(now: Self.at(5), { remaining[$0] }) {
            popped.append(owner)
            remaining[owner] = nil
        }
        #expect(popped == [2, 1])
        #expect(schedule.earliest == Self.at(9))
    }

    @Test func deadlineSchedule_busyOwnerMovingLater_keepsFewEntries() {
        // A deadline pushed later on every packet adds no entry; only earlier moves do.
        var deadline = Self.at(10)
        var schedule = DeadlineSchedule<Int>()
        schedule.schedule(0, at: deadline)
        for step in 1...10_000 {
            deadline = Self.at(10) + .milliseconds(Int64(step))
            schedule.schedule(0, at: deadline)
            schedule.settle { _ in deadline }
            #expect(schedule.earliest == deadline)
        }
        #expect(schedule.entryCount == 1)
    }
}
