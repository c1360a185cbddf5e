import StarlingTestSupport
import Testing

@testable import StarlingCore

@Suite struct HandshakeBackoffTests {
    typealias Policy = HandshakeBackoff.Policy

    /// WireGuard's schedule: a fixed 5 s for 90 s, no jitter.
    static let fixed = Policy(
        baseDelay: .seconds(5), maximumDelay: .seconds(5), attemptTime: .seconds(90), jitterPerMille: 0)
    /// Starling's standard numbers without jitter, so send times are exact.
    static let standardNoJitter = Policy(
        baseDelay: .seconds(1), maximumDelay: .seconds(8), attemptTime: .seconds(90), jitterPerMille: 0)
    /// Short numbers where the clip at the attempt time cuts a delay.
    static let short = Policy(
        baseDelay: .seconds(1), maximumDelay: .seconds(100), attemptTime: .seconds(10), jitterPerMille: 0)

    /// Runs one handshake that never gets an answer: the first initiation at `start`,
    /// then every timer expiry until the give-up.
    /// - Returns: the send times (relative to `start`) and the give-up.
    private func simulate(
        _ policy: Policy, start: Instant = Instant(nanoseconds: 7_000),
        using generator: inout some RandomNumberGenerator
    ) -> (sends: [Duration], giveUpAt: Duration, timeout: HandshakeBackoff.Timeout?) {
        var sends: [Duration] = [.zero]
        var sentAt = start
        while true {
            let attempt = sends.count - 1
            let now = HandshakeBackoff.retransmitDeadline(
                afterAttempt: attempt, sentAt: sentAt, firstSentAt: start, policy: policy, using: &generator)
            switch HandshakeBackoff.decide(attemptsSent: sends.count, firstSentAt: start, now: now, policy: policy) {
            case .retransmit(let next):
                #expect(next == sends.count)
                sends.append(now - start)
                sentAt = now
            case .giveUp(let timeout):
                return (sends, now - start, timeout)
            }
            if sends.count > 1000 { return (sends, now - start, nil) }
        }
    }

    @Test func handshakeBackoff_nominalDelay_doublesUpToTheCap() {
        let cases: [(Int, Duration)] = [
            (0, .seconds(1)), (1, .seconds(2)), (2, .seconds(4)), (3, .seconds(8)), (4, .seconds(8)),
            (62, .seconds(8)), (63, .seconds(8)), (Int.max, .seconds(8)),
        ]
        for (attempt, expected) in cases {
            #expect(HandshakeBackoff.nominalDelay(afterAttempt: attempt) == expected, "attempt \(attempt)")
        }
    }

    @Test func handshakeBackoff_nominalDelay_saturatesWithoutOverflow() {
        let huge = Policy(
            baseDelay: .seconds(1), maximumDelay: .seconds(1_000_000_000), attemptTime: .seconds(90), jitterPerMille: 0)
        let cases: [(Int, Duration)] = [
            (0, .seconds(1)), (10, .seconds(1024)), (29, .seconds(1 << 29)), (30, .seconds(1_000_000_000)),
            (40, .seconds(1_000_000_000)), (70, .seconds(1_000_000_000)),
        ]
        for (attempt, expected) in cases {
            #expect(
                HandshakeBackoff.nominalDelay(afterAttempt: attempt, policy: huge) == expected, "attempt \(attempt)")
        }
    }

    @Test func handshakeBackoff_maximumJitter_isTheDocumentedFraction() {
        let cases: [(Duration, Int64, Duration)] = [
            (.seconds(5), 67, .milliseconds(335)),
            (.seconds(20), 67, .milliseconds(1340)),
            (.seconds(15), 67, .milliseconds(1005)),
            (.seconds(5), 0, .zero),
            (.seconds(5), 1000, .seconds(5)),
        ]
        for (delay, perMille, expected) in cases {
            let policy = Policy(
                baseDelay: .seconds(5), maximumDelay: .seconds(20), attemptTime: .seconds(90), jitterPerMille: perMille)
            #expect(HandshakeBackoff.maximumJitter(for: delay, policy: policy) == expected, "\(delay) at \(perMille) ‰")
        }
    }

    @Test func handshakeBackoff_jitter_staysInRangeAndVaries() {
        var generator = TestRandom(seed: 5)
        let bound = HandshakeBackoff.maximumJitter(for: .seconds(5))
        var seen: Set<Int64> = []
        for _ in 0..<1000 {
            let jitter = HandshakeBackoff.jitter(for: .seconds(5), using: &generator)
            #expect(jitter >= .zero && jitter <= bound)
            seen.insert(jitter.nanosecondsClamped)
        }
        #expect(seen.count > 900, "jitter should spread, got \(seen.count) distinct values")
        var none = TestRandom(seed: 5)
        #expect(HandshakeBackoff.jitter(for: .seconds(5), policy: Self.fixed, using: &none) == .zero)
    }

    @Test func handshakeBackoff_jitter_isReproducibleFromTheSeed() {
        var first = TestRandom(seed: 42)
        var second = TestRandom(seed: 42)
        let a = (0..<20).map { _ in HandshakeBackoff.jitter(for: .seconds(20), using: &first) }
        let b = (0..<20).map { _ in HandshakeBackoff.jitter(for: .seconds(20), using: &second) }
        #expect(a == b)
    }

    @Test func handshakeBackoff_maximumAttempts_table() {
        let cases: [(Policy, Int)] = [
            (.standard, 14),
            (Self.standardNoJitter, 14),
            (Self.fixed, 18),
            (Self.short, 4),
            (
                Policy(baseDelay: .seconds(7), maximumDelay: .seconds(7), attemptTime: .seconds(90), jitterPerMille: 0),
                13
            ),
            (Policy(baseDelay: .seconds(5), maximumDelay: .seconds(20), attemptTime: .zero, jitterPerMille: 0), 0),
            (
                Policy(
                    baseDelay: .nanoseconds(1), maximumDelay: .nanoseconds(1), attemptTime: .seconds(90),
                    jitterPerMille: 0),
                90_000_000_000
            ),
        ]
        for (policy, expected) in cases {
            #expect(HandshakeBackoff.maximumAttempts(policy: policy) == expected, "\(policy)")
        }
    }

    @Test func handshakeBackoff_schedule_table() {
        let cases: [(Policy, [Int64], Int64)] = [
            (Self.standardNoJitter, [0, 1, 3, 7, 15, 23, 31, 39, 47, 55, 63, 71, 79, 87], 90),
            (Self.fixed, Array(stride(from: 0, through: 85, by: 5)), 90),
            (Self.short, [0, 1, 3, 7], 10),
        ]
        for (policy, sends, giveUp) in cases {
            var generator = TestRandom(seed: 1)
            let run = simulate(policy, using: &generator)
            #expect(run.sends == sends.map { .seconds($0) }, "\(policy)")
            #expect(run.giveUpAt == .seconds(giveUp))
            #expect(run.timeout == HandshakeBackoff.Timeout(attempts: sends.count, elapsed: .seconds(giveUp)))
        }
    }

    @Test func handshakeBackoff_schedule_jitterNeverShortensOrOverruns() {
        for seed: UInt64 in 0..<200 {
            var generator = TestRandom(seed: seed)
            let run = simulate(.standard, using: &generator)
            let nominal: [Duration] = [0, 1, 3, 7, 15, 23, 31, 39, 47, 55, 63, 71, 79, 87].map { .seconds($0) }
            #expect(run.sends.count <= HandshakeBackoff.maximumAttempts())
            for (index, sent) in run.sends.enumerated() {
                #expect(sent >= nominal[index], "seed \(seed): send \(index) early at \(sent)")
            }
            #expect(run.giveUpAt == SessionConstants.rekeyAttemptTime, "seed \(seed)")
        }
    }

    @Test func handshakeBackoff_decide_table() {
        let start = Instant(nanoseconds: 1_000_000)
        let cases: [(sent: Int, elapsed: Duration, expected: HandshakeBackoff.Decision)] = [
            (1, .zero, .retransmit(attempt: 1)),
            (1, .seconds(1), .retransmit(attempt: 1)),
            (5, .seconds(75), .retransmit(attempt: 5)),
            (13, .seconds(89), .retransmit(attempt: 13)),
            (14, .seconds(80), .giveUp(.init(attempts: 14, elapsed: .seconds(80)))),
            (2, .seconds(90), .giveUp(.init(attempts: 2, elapsed: .seconds(90)))),
            (3, .seconds(500), .giveUp(.init(attempts: 3, elapsed: .seconds(500)))),
        ]
        for (sent, elapsed, expected) in cases {
            let decision = HandshakeBackoff.decide(attemptsSent: sent, firstSentAt: start, now: start + elapsed)
            #expect(decision == expected, "\(sent) sent, \(elapsed) elapsed")
        }
    }
}
