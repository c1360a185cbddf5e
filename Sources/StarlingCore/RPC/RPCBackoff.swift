/// When to send the next copy of an unanswered request.
///
/// ### Purpose
/// The retransmission arithmetic, kept out of ``RequestTracker`` so that it can be
/// table-tested: pure functions of the number of copies sent and an injected random
/// number generator. After copy `n` (0 for the first) the requester waits
/// `min(base × 2^n, maximum)` plus a random jitter of up to `jitterPerMille` thousandths
/// of that, and sends no copy after ``RPCConstants/maximumAttempts`` copies or
/// ``RPCConstants/maximumResendWindow`` after the first.
enum RPCBackoff {
    /// The delay after copy `attempt` (0 for the first copy), before jitter.
    ///
    /// - Returns: `min(base × 2^attempt, maximum)`, saturating for large attempts.
    static func nominalDelay(
        afterAttempt attempt: Int, base: Duration = RPCConstants.retransmitBaseDelay,
        maximum: Duration = RPCConstants.maximumRetransmitDelay
    ) -> Duration {
        precondition(attempt >= 0, "attempts count from 0")
        let cap = maximum.nanosecondsClamped
        guard attempt < Int64.bitWidth - 1 else { return maximum }
        let (scaled, overflow) = base.nanosecondsClamped.multipliedReportingOverflow(by: 1 << Int64(attempt))
        return .nanoseconds(overflow ? cap : min(scaled, cap))
    }

    /// A random jitter from zero to `perMille` thousandths of `delay`, inclusive.
    static func jitter(
        for delay: Duration, perMille: Int64 = RPCConstants.maximumJitterPerMille,
        using generator: inout some RandomNumberGenerator
    ) -> Duration {
        let bound = delay.nanosecondsClamped / 1000 * perMille
        guard bound > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...bound, using: &generator))
    }

    /// When to send the copy after copy `attempt`, or `nil` when no copy may follow.
    ///
    /// - Parameters:
    ///   - attempt: the number of the copy just sent (0 for the first).
    ///   - sentAt: when it was sent.
    ///   - firstSentAt: when copy 0 was sent.
    ///   - jitterPerMille: the largest jitter, in thousandths of the delay.
    ///   - generator: the source of jitter.
    /// - Returns: `nil` when `attempt + 1` copies reach ``RPCConstants/maximumAttempts``
    ///   or the next copy would fall at or past ``RPCConstants/maximumResendWindow``
    ///   after the first.
    static func nextRetransmit(
        afterAttempt attempt: Int, sentAt: Instant, firstSentAt: Instant,
        jitterPerMille: Int64 = RPCConstants.maximumJitterPerMille, using generator: inout some RandomNumberGenerator
    ) -> Instant? {
        guard attempt + 1 < RPCConstants.maximumAttempts else { return nil }
        let delay = nominalDelay(afterAttempt: attempt)
        let next = sentAt + delay + jitter(for: delay, perMille: jitterPerMille, using: &generator)
        guard next < firstSentAt + RPCConstants.maximumResendWindow else { return nil }
        return next
    }
}
