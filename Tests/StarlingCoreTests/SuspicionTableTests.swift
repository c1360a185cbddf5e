import Testing

@testable import StarlingCore

struct SuspicionTableTests {
    static func id(_ index: Int) -> PeerID {
        PeerID(publicKey: Key32([UInt8](repeating: UInt8(index + 1), count: 32))!)
    }

    static func at(seconds: Int) -> Instant { Instant(nanoseconds: UInt64(seconds) * 1_000_000_000) }

    static func suspicion(startingAt start: Instant, minimum: Duration = .seconds(4)) -> Suspicion {
        Suspicion(accuser: id(99), start: start, expected: 2, minimum: minimum, maximum: minimum * 6)
    }

    @Test func suspicionTable_popExpired_returnsDueSuspectsEarliestFirst() {
        var table = SuspicionTable()
        table.start(Self.suspicion(startingAt: Self.at(seconds: 2)), of: Self.id(0))
        table.start(Self.suspicion(startingAt: Self.at(seconds: 1)), of: Self.id(1))
        table.start(Self.suspicion(startingAt: Self.at(seconds: 0), minimum: .seconds(100)), of: Self.id(2))
        #expect(table.earliestDeadline == Self.at(seconds: 1 + 24))
        let early = table.popExpired(now: Self.at(seconds: 20)).map(\.member)
        let due = table.popExpired(now: Self.at(seconds: 30)).map(\.member)
        #expect(early.isEmpty)
        #expect(due == [Self.id(1), Self.id(0)])
        #expect(table[Self.id(2)] != nil)
        #expect(table.earliestDeadline == Self.at(seconds: 600))
    }

    @Test func suspicionTable_confirmation_bringsTheDeadlineForward() {
        var table = SuspicionTable()
        table.start(Self.suspicion(startingAt: .zero), of: Self.id(0))
        let first = table.confirm(Self.id(0), by: Self.id(5))
        let again = table.confirm(Self.id(0), by: Self.id(5))
        #expect(first && !again)
        let deadline = table[Self.id(0)]!.deadline
        #expect(deadline < Self.at(seconds: 24))
        #expect(table.earliestDeadline == deadline)
        let due = table.popExpired(now: deadline).map(\.member)
        #expect(due == [Self.id(0)])
        #expect(table.isEmpty)
    }

    @Test func suspicionTable_signOfLife_postponesTheVerdict() {
        var table = SuspicionTable()
        table.start(Self.suspicion(startingAt: .zero), of: Self.id(0))
        // Both expected confirmations: the minimum, 4 s.
        let confirmed = table.confirm(Self.id(0), by: Self.id(5)) && table.confirm(Self.id(0), by: Self.id(6))
        let tell = table.noteSignOfLife(of: Self.id(0), at: Self.at(seconds: 3), tellingAtMostEvery: .seconds(1))
        let tellAgain = table.noteSignOfLife(of: Self.id(0), at: Self.at(seconds: 3), tellingAtMostEvery: .seconds(1))
        #expect(confirmed && tell != nil && tellAgain == nil)
        let early = table.popExpired(now: Self.at(seconds: 5)).map(\.member)
        let late = table.popExpired(now: Self.at(seconds: 7)).map(\.member)
        #expect(early.isEmpty)
        #expect(late == [Self.id(0)])
    }

    @Test func suspicionTable_lastRemoved_leavesNoDeadline() {
        var table = SuspicionTable()
        table.start(Self.suspicion(startingAt: .zero), of: Self.id(0))
        table.start(Self.suspicion(startingAt: .zero), of: Self.id(1))
        table.remove(Self.id(0))
        #expect(table.earliestDeadline != nil)
        table.remove(Self.id(1))
        #expect(table.earliestDeadline == nil)
    }
}
