/// When to retransmit an unanswered handshake initiation, and when to give up.
///
/// ### Purpose
/// The arithmetic of handshake retries, kept out of the session so that it can be
/// table-tested: pure functions of the attempt number, a ``Policy`` and an injected
/// random number generator. Attempt 0 is the first initiation. After attempt `n` the
/// initiator waits `min(baseDelay × 2^n, maximumDelay)` plus a random jitter of up to
/// `jitterPerMille` thousandths of that delay, then retransmits; it never waits past
/// `attemptTime` after attempt 0, and at that point it gives up with a ``Timeout``.
///
/// With the ``Policy/standard`` values (1 s doubling to 8 s, 90 s in all) the nominal
/// schedule sends at 0, 1, 3, 7, 15, 23, 31 … 87 s (14 attempts) and gives up at 90 s.
///
/// WireGuard retries at a fixed 5 s (plus at most 333 ms) for 18 attempts; Starling
/// backs off exponentially because a peer that has not answered in 15 s is usually
/// gone, and thousands of peers in one process should not all keep sending every 5 s.
enum HandshakeBackoff {
    /// The numbers that shape the schedule.
    struct Policy: Equatable, Sendable {
        /// Delay after attempt 0; doubles with each attempt.
        var baseDelay: Duration
        /// Cap on the doubled delay (before jitter).
        var maximumDelay: Duration
        /// Time after attempt 0 at which the initiator gives up.
        var attemptTime: Duration
        /// Largest jitter, in thousandths of the delay it is added to (0 for none).
        var jitterPerMille: Int64

        /// Creates a policy.
        /// - Precondition: `baseDelay > 0`, `maximumDelay >= baseDelay`, and
        ///   `jitterPerMille` in `0...1000`.
        init(baseDelay: Duration, maximumDelay: Duration, attemptTime: Duration, jitterPerMille: Int64) {
            precondition(baseDelay > .zero && maximumDelay >= baseDelay, "backoff delays must be positive and ordered")
            precondition((0...1000).contains(jitterPerMille), "jitter is a fraction of the delay, 0...1000 per mille")
            self.baseDelay = baseDelay
            self.maximumDelay = maximumDelay
            self.attemptTime = attemptTime
            self.jitterPerMille = jitterPerMille
        }

        /// Starling's schedule, from ``SessionConstants``.
        static let standard = Policy(
            baseDelay: SessionConstants.retransmitBaseDelay,
            maximumDelay: SessionConstants.maximumRetransmitDelay,
            attemptTime: SessionConstants.rekeyAttemptTime,
            jitterPerMille: SessionConstants.maximumJitterPerMille
        )
    }

    /// What to do when the retransmit timer fires.
    enum Decision: Equatable, Sendable {
        /// Send the initiation again; `attempt` is the number of the send (1 for the
        /// first retransmission).
        case retransmit(attempt: Int)
        /// Stop: no response came in time.
        case giveUp(Timeout)
    }

    /// A handshake that got no response within the policy's attempt time.
    struct Timeout: Error, Equatable, Sendable {
        /// Initiations sent, the first included.
        var attempts: Int
        /// Time from the first initiation to giving up.
        var elapsed: Duration
    }

    /// The delay after attempt `attempt`, before jitter.
    ///
    /// - Parameters:
    ///   - attempt: 0 for the first initiation; any larger number saturates at the cap.
    ///   - policy: the schedule.
    /// - Returns: `min(baseDelay × 2^attempt, maximumDelay)`.
    static func nominalDelay(afterAttempt attempt: Int, policy: Policy = .standard) -> Duration {
        precondition(attempt >= 0, "attempts count from 0")
        let base = policy.baseDelay.nanosecondsClamped
        let cap = policy.maximumDelay.nanosecondsClamped
        guard attempt < Int64.bitWidth - 1 else { return policy.maximumDelay }
        let (scaled, overflow) = base.multipliedReportingOverflow(by: 1 << Int64(attempt))
        return .nanoseconds(overflow ? cap : min(scaled, cap))
    }

    /// The largest jitter that may be added to `delay`: `delay × jitterPerMille / 1000`.
    static func maximumJitter(for delay: Duration, policy: Policy = .standard) -> Duration {
        .nanoseconds(max(delay.nanosecondsClamped, 0) / 1000 * policy.jitterPerMille)
    }

    /// A random jitter for `delay`, uniform in `0...maximumJitter(for: delay)`.
    ///
    /// - Parameters:
    ///   - delay: the delay the jitter will be added to.
    ///   - policy: supplies the fraction.
    ///   - generator: the injected source of randomness.
    static func jitter(
        for delay: Duration, policy: Policy = .standard, using generator: inout some RandomNumberGenerator
    ) -> Duration {
        let bound = maximumJitter(for: delay, policy: policy).nanosecondsClamped
        guard bound > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...bound, using: &generator))
    }

    /// When to retransmit (or give up) after sending attempt `attempt` at `sentAt`.
    ///
    /// - Parameters:
    ///   - attempt: the number of the initiation just sent (0 for the first).
    ///   - sentAt: when it was sent.
    ///   - firstSentAt: when attempt 0 was sent.
    ///   - policy: the schedule.
    ///   - generator: the injected source of randomness for the jitter.
    /// - Returns: `sentAt + delay + jitter`, but never later than `firstSentAt + attemptTime`.
    static func retransmitDeadline(
        afterAttempt attempt: Int, sentAt: Instant, firstSentAt: Instant, policy: Policy = .standard,
        using generator: inout some RandomNumberGenerator
    ) -> Instant {
        let delay = nominalDelay(afterAttempt: attempt, policy: policy)
        let deadline = sentAt + delay + jitter(for: delay, policy: policy, using: &generator)
        return min(deadline, firstSentAt + policy.attemptTime)
    }

    /// The most initiations one handshake may send: those whose nominal send time lies
    /// before `attemptTime`. The standard policy gives 6; a fixed 5 s delay over 90 s
    /// (WireGuard's schedule) would give 18.
    static func maximumAttempts(policy: Policy = .standard) -> Int {
        var attempts = 0
        var elapsed = Duration.zero
        while elapsed < policy.attemptTime {
            let delay = nominalDelay(afterAttempt: attempts, policy: policy)
            if delay == policy.maximumDelay {
                // From here every delay is the cap: count the rest in one step.
                let remaining = (policy.attemptTime - elapsed).nanosecondsClamped
                let cap = delay.nanosecondsClamped
                return attempts + Int((remaining - 1) / cap + 1)
            }
            attempts += 1
            elapsed += delay
        }
        return attempts
    }

    /// Decides, when the retransmit timer fires, whether to send again or give up.
    ///
    /// - Parameters:
    ///   - attemptsSent: initiations sent so far in this handshake, the first included.
    ///   - firstSentAt: when the first was sent.
    ///   - now: the current time.
    ///   - policy: the schedule.
    /// - Returns: ``Decision/giveUp(_:)`` once `attemptTime` has passed since the first
    ///   initiation or ``maximumAttempts(policy:)`` have been sent; otherwise
    ///   ``Decision/retransmit(attempt:)``.
    static func decide(attemptsSent: Int, firstSentAt: Instant, now: Instant, policy: Policy = .standard) -> Decision {
        let elapsed = now - firstSentAt
        if elapsed >= policy.attemptTime || attemptsSent >= maximumAttempts(policy: policy) {
            return .giveUp(Timeout(attempts: attemptsSent, elapsed: elapsed))
        }
        return .retransmit(attempt: attemptsSent)
    }
}
