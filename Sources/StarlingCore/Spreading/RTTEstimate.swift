/// A smoothed round-trip time and its variation, as RFC 6298 keeps them for TCP.
///
/// ### Purpose
/// Pure value maths, table-tested: the first sample `R` gives `SRTT = R` and
/// `RTTVAR = R/2` (§2.2); each later sample `R'` gives
/// `RTTVAR = (1 − β)·RTTVAR + β·|SRTT − R'|` then `SRTT = (1 − α)·SRTT + α·R'` with
/// α = 1/8 and β = 1/4 (§2.3). Arithmetic is in whole nanoseconds.
public struct RTTEstimate: Equatable, Sendable {
    /// SRTT, the smoothed round-trip time.
    public private(set) var smoothed: Duration
    /// RTTVAR, the round-trip time variation.
    public private(set) var variation: Duration
    /// The most recent sample.
    public private(set) var latest: Duration
    /// How many samples went in.
    public private(set) var samples: Int

    /// The estimate after a first sample (RFC 6298 §2.2).
    /// - Parameter sample: the measured round trip; negative values count as zero.
    public init(firstSample sample: Duration) {
        let nanoseconds = max(0, sample.nanosecondsClamped)
        smoothed = .nanoseconds(nanoseconds)
        variation = .nanoseconds(nanoseconds / 2)
        latest = .nanoseconds(nanoseconds)
        samples = 1
    }

    /// The estimate after one more sample (RFC 6298 §2.3).
    /// - Parameter sample: the measured round trip; negative values count as zero.
    /// - Returns: the updated estimate.
    public func updated(with sample: Duration) -> RTTEstimate {
        let measured = max(0, sample.nanosecondsClamped)
        let srtt = smoothed.nanosecondsClamped
        let rttvar = variation.nanosecondsClamped
        let deviation = srtt > measured ? srtt - measured : measured - srtt
        let beta = SpreadingConstants.rttBetaShift
        let alpha = SpreadingConstants.rttAlphaShift
        // (1 − β)·RTTVAR + β·dev = RTTVAR − RTTVAR/4 + dev/4, in the order RFC 6298 gives.
        let newVariation = rttvar - (rttvar >> beta) + (deviation >> beta)
        let newSmoothed = srtt - (srtt >> alpha) + (measured >> alpha)
        var next = self
        next.variation = .nanoseconds(newVariation)
        next.smoothed = .nanoseconds(newSmoothed)
        next.latest = .nanoseconds(measured)
        next.samples = samples + 1
        return next
    }

    /// RTO = SRTT + max(G, K·RTTVAR), floored at `minimum` (RFC 6298 §2.2–2.4).
    /// - Parameters:
    ///   - granularity: the clock granularity G.
    ///   - minimum: the floor; RFC 6298 says one second, a LAN may choose less.
    /// - Returns: the retransmission timeout.
    public func retransmissionTimeout(
        granularity: Duration = .milliseconds(1), minimum: Duration = SpreadingConstants.minimumRetransmissionTimeout
    ) -> Duration {
        let spread = max(granularity, variation * SpreadingConstants.rttVariationMultiplier)
        return max(minimum, smoothed + spread)
    }
}
