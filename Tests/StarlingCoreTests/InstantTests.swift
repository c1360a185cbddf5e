import Testing

@testable import StarlingCore

@Suite struct InstantTests {
    @Test func addition_andDifference() {
        let start = Instant(nanoseconds: 1_000)
        #expect(start + .microseconds(1) == Instant(nanoseconds: 2_000))
        #expect(start + .nanoseconds(-500) == Instant(nanoseconds: 500))
        #expect(Instant(nanoseconds: 5_000) - start == .nanoseconds(4_000))
        #expect(start - Instant(nanoseconds: 5_000) == .nanoseconds(-4_000))
    }

    @Test func addition_saturates() {
        #expect(Instant(nanoseconds: .max - 1) + .seconds(1) == Instant(nanoseconds: .max))
        #expect(Instant(nanoseconds: 10) + .seconds(-1) == .zero)
        // Durations count at most Int64.max nanoseconds (about 292 years).
        #expect(Instant.zero + .seconds(Int64.max) == Instant(nanoseconds: UInt64(Int64.max)))
    }

    @Test func unixTime_addition() {
        #expect(UnixTime(seconds: 10) + .seconds(5) == UnixTime(seconds: 15))
        #expect(UnixTime(seconds: 10) + .seconds(-20) == UnixTime(seconds: 0))
        #expect(UnixTime(seconds: .max) + .seconds(1) == UnixTime(seconds: .max))
    }
}
