import StarlingCore
import Testing

@testable import StarlingSim

@Suite struct SeededGeneratorTests {
    @Test func sameSeed_sameSequence_differentSeed_differentSequence() {
        var a = SeededGenerator(seed: 42)
        var b = SeededGenerator(seed: 42)
        var c = SeededGenerator(seed: 43)
        let first = (0..<100).map { _ in a.next() }
        #expect(first == (0..<100).map { _ in b.next() })
        #expect(first != (0..<100).map { _ in c.next() })
    }

    @Test func zeroSeed_isNotDegenerate() {
        var generator = SeededGenerator(seed: 0)
        let values = Set((0..<1000).map { _ in generator.next() })
        #expect(values.count == 1000)
    }

    @Test func split_isIndependentOfLaterDraws() {
        var parent = SeededGenerator(seed: 7)
        var child = parent.split()
        let childValues = (0..<10).map { _ in child.next() }
        var parentAgain = SeededGenerator(seed: 7)
        var childAgain = parentAgain.split()
        _ = (0..<50).map { _ in parentAgain.next() }
        #expect((0..<10).map { _ in childAgain.next() } == childValues)
    }

    @Test func randomInRange_isRoughlyUniform() {
        var generator = SeededGenerator(seed: 99)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 { counts[Int.random(in: 0..<10, using: &generator)] += 1 }
        // Each bucket expects 10,000; a fair generator stays within 5% here.
        #expect(counts.allSatisfy { (9_500...10_500).contains($0) })
    }
}

@Suite struct VirtualClockTests {
    @Test func advance_movesForward() throws {
        var clock = VirtualClock()
        try clock.advance(by: .milliseconds(5))
        try clock.advance(to: Instant(nanoseconds: 5_000_000))
        #expect(clock.now == Instant(nanoseconds: 5_000_000))
        try clock.advance(by: .zero)
        #expect(clock.now == Instant(nanoseconds: 5_000_000))
    }

    @Test func advance_backwards_isRefused() throws {
        var clock = VirtualClock(start: Instant(nanoseconds: 100))
        #expect(throws: VirtualClock.ClockError.wouldGoBackwards(now: Instant(nanoseconds: 100), requested: .zero)) {
            try clock.advance(to: .zero)
        }
        #expect(throws: VirtualClock.ClockError.self) { try clock.advance(by: .nanoseconds(-1)) }
        #expect(clock.now == Instant(nanoseconds: 100))
    }
}
