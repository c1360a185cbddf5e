import StarlingTestSupport
import Testing

@testable import StarlingCore

@Suite struct SourceRateLimiterTests {
    static func ms(_ milliseconds: Int64) -> Instant { Instant.zero + .milliseconds(milliseconds) }

    /// wireguard-go's numbers: 20 per second (one token per 50 ms), burst 5.
    static func wireGuardLike(maximumSources: Int = 64) -> SourceRateLimiter<Int> {
        SourceRateLimiter(refillInterval: .milliseconds(50), burst: 5, maximumSources: maximumSources)
    }

    @Test func sourceRateLimiter_allow_burstThenRefill() {
        var limiter = Self.wireGuardLike()
        let steps: [(ms: Int64, allowed: Bool)] = [
            (0, true), (0, true), (0, true), (0, true), (0, true), (0, false), (0, false),
            (49, false), (50, true), (50, false), (99, false), (100, true),
            (350, true), (350, true), (350, true), (350, true), (350, true), (350, false),
            // A long silence refills only a full bucket, not more.
            (60_000, true), (60_000, true), (60_000, true), (60_000, true), (60_000, true), (60_000, false),
        ]
        for (index, step) in steps.enumerated() {
            let allowed = limiter.allow(1, now: Self.ms(step.ms))
            #expect(allowed == step.allowed, "step \(index) at \(step.ms) ms")
        }
    }

    @Test func sourceRateLimiter_allow_timeGoingBackwardsRefillsNothing() {
        var limiter = Self.wireGuardLike()
        for _ in 0..<5 {
            let allowed = limiter.allow(1, now: Self.ms(1_000))
            #expect(allowed)
        }
        let earlier = limiter.allow(1, now: Self.ms(10))
        #expect(!earlier)
        let notYetRefilled = limiter.allow(1, now: Self.ms(1_049))
        #expect(!notYetRefilled)
        let refilled = limiter.allow(1, now: Self.ms(1_050))
        #expect(refilled)
    }

    @Test func sourceRateLimiter_init_perSecondMatchesInterval() {
        let limiter = SourceRateLimiter<Int>(perSecond: 20, burst: 5)
        #expect(limiter.tokenCost == 50_000_000)
        #expect(limiter.bucketSize == 250_000_000)
        #expect(limiter.maximumSources == SessionConstants.maximumRateLimitedSources)
    }

    @Test func sourceRateLimiter_allow_manySourcesStayBounded() {
        var limiter = Self.wireGuardLike(maximumSources: 64)
        for source in 0..<10_000 {
            let allowed = limiter.allow(source, now: Self.ms(Int64(source / 100)))
            #expect(allowed, "first packet of \(source)")
            #expect(limiter.trackedSources <= 64)
        }
        #expect(limiter.trackedSources > 32, "eviction frees an eighth, not everything")
    }

    @Test func sourceRateLimiter_allow_floodFromOneSourceDoesNotBlockAnother() {
        var limiter = Self.wireGuardLike()
        var attackerAllowed = 0
        for step in Int64(0)..<20_000 {
            let now = Instant.zero + .microseconds(step * 50)  // 20,000 packets per second
            if limiter.allow(666, now: now) { attackerAllowed += 1 }
            if step % 2_000 == 0 {
                let allowed = limiter.allow(7, now: now)
                #expect(allowed, "the victim at \(now)")
            }
        }
        // 999.95 ms of flooding: the burst plus one token per whole 50 ms.
        #expect(attackerAllowed == 5 + 19)
    }

    @Test func sourceRateLimiter_allow_spoofedSourcesDoNotBlockAQuietOne() {
        var limiter = Self.wireGuardLike(maximumSources: 16)
        for step in 0..<5_000 {
            let now = Self.ms(Int64(step))
            _ = limiter.allow(1_000 + step, now: now)
            if step % 1_000 == 0 {
                let allowed = limiter.allow(7, now: now)
                #expect(allowed, "the quiet source at step \(step)")
            }
            #expect(limiter.trackedSources <= 16)
        }
    }

    @Test func sourceRateLimiter_collectGarbage_forgetsOnlyRefilled() {
        var limiter = Self.wireGuardLike()
        let one = limiter.allow(1, now: Self.ms(0))
        #expect(one)
        for _ in 0..<5 {
            let allowed = limiter.allow(2, now: Self.ms(0))
            #expect(allowed)
        }
        limiter.collectGarbage(now: Self.ms(49))
        #expect(limiter.trackedSources == 2)
        limiter.collectGarbage(now: Self.ms(60))
        #expect(limiter.trackedSources == 1, "source 1 has refilled; source 2 has not")
        let refilled = limiter.allow(2, now: Self.ms(60))
        #expect(refilled)
        let drained = limiter.allow(2, now: Self.ms(60))
        #expect(!drained)
    }

    @Test func sourceRateLimiter_collectGarbage_neverChangesAnswers() {
        var generator = TestRandom(seed: 20)
        var collected = Self.wireGuardLike(maximumSources: 10_000)
        var reference = Self.wireGuardLike(maximumSources: 10_000)
        var now = Instant.zero
        for step in 0..<20_000 {
            now = now + .microseconds(Int64.random(in: 0...20_000, using: &generator))
            let source = Int.random(in: 0..<20, using: &generator)
            if step % 7 == 0 { collected.collectGarbage(now: now) }
            let allowedByCollected = collected.allow(source, now: now)
            let allowedByReference = reference.allow(source, now: now)
            #expect(allowedByCollected == allowedByReference, "step \(step)")
        }
    }

    @Test func sourceRateLimiter_key_ipv6SharesA64AndIgnoresPorts() {
        typealias Limiter = SourceRateLimiter<PeerAddress.Host>
        let cases: [(String, String, Bool)] = [
            ("10.0.0.1:4000", "10.0.0.1:5000", true),
            ("10.0.0.1:4000", "10.0.0.2:4000", false),
            ("[2001:db8::1]:4000", "[2001:db8::ffff:2]:4001", true),
            ("[2001:db8:0:1::1]:4000", "[2001:db8:0:2::1]:4000", false),
        ]
        for (first, second, shared) in cases {
            let a = try! PeerAddress(first)
            let b = try! PeerAddress(second)
            #expect((Limiter.key(for: a) == Limiter.key(for: b)) == shared, "\(first) / \(second)")
            var limiter = Limiter(refillInterval: .seconds(1), burst: 1)
            let firstAllowed = limiter.allow(a, now: .zero)
            #expect(firstAllowed)
            let secondAllowed = limiter.allow(b, now: .zero)
            #expect(secondAllowed == !shared)
        }
    }
}

@Suite struct DropCountersTests {
    @Test func dropCounters_record_countsPerReasonAndTotal() {
        var counters = DropCounters()
        #expect(DropReason.allCases.allSatisfy { counters[$0] == 0 })
        #expect(counters.total == 0)
        counters.record(.replayed)
        counters.record(.replayed)
        counters.record(.rateLimited, count: 5)
        #expect(counters[.replayed] == 2)
        #expect(counters[.rateLimited] == 5)
        #expect(counters[.malformed] == 0)
        #expect(counters.total == 7)
    }

    @Test func dropCounters_merge_addsEveryReason() {
        var a = DropCounters()
        a.record(.tooLarge, count: 3)
        var b = DropCounters()
        b.record(.tooLarge)
        b.record(.wrongSwarm, count: 4)
        a.merge(b)
        #expect(a[.tooLarge] == 4)
        #expect(a[.wrongSwarm] == 4)
        #expect(a.total == 8)
    }

    @Test func dropCounters_record_saturates() {
        var counters = DropCounters()
        counters.record(.malformed, count: .max - 1)
        counters.record(.malformed, count: 5)
        counters.record(.replayed, count: 10)
        #expect(counters[.malformed] == .max)
        #expect(counters.total == .max)
    }

    @Test func dropReason_rawValues_areTheMetricLabels() {
        let expected = [
            "malformed", "tooLarge", "unknownType", "unsupportedVersion", "wrongSwarm", "invalidMAC",
            "handshakeFailed", "handshakeReplayed", "rateLimited", "handshakeTableFull", "unknownReceiverIndex",
            "replayed", "decryptionFailed", "expiredSession", "cookieRequired", "sessionTableFull", "invalidCookie",
        ]
        #expect(DropReason.allCases.map(\.rawValue) == expected)
    }
}
