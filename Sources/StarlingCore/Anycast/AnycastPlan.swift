/// Which provider an anycast request asks next, and for how long.
///
/// The candidates are ranked nearest first (``OverlayCore/nearest(_:now:)``). Each
/// attempt picks among the untried candidates as near as the best one, within
/// ``AnycastConstants/nearMargin`` or ``AnycastConstants/nearSlack``: two of them at
/// random, and of those the one with fewer requests in flight from this peer (either,
/// at random, on a tie). So the best-placed provider is not the only one used, while a
/// provider that is clearly farther is never picked before a nearer one. Candidates of
/// which nothing is known come after every known one, at random.
///
/// Each step of an attempt (the handshake, when a session must be made first, then the
/// request) gets the provider's estimated round trip plus
/// ``AnycastConstants/answerSlack``, or ``AnycastConstants/unknownRoundTrip`` without
/// an estimate (``attemptTimeout(for:)``); then the next provider is tried.
public struct AnycastPlan: Sendable {
    /// The candidates not tried yet, nearest first.
    public private(set) var remaining: [RankedPeer]
    /// Attempts left: at most ``AnycastConstants/maximumAttempts`` providers are tried.
    public private(set) var attemptsLeft = AnycastConstants.maximumAttempts

    /// A plan over `ranked`, nearest first.
    public init(ranked: [RankedPeer]) {
        remaining = ranked
    }

    /// Takes the next provider to ask.
    /// - Parameters:
    ///   - inFlight: requests in flight from this peer, by provider.
    ///   - random: draws the two choices.
    /// - Returns: the provider, or nil when every candidate was tried or
    ///   ``attemptsLeft`` is 0.
    public mutating func next(
        inFlight: (PeerID) -> Int, using random: inout some RandomNumberGenerator
    ) -> RankedPeer? {
        guard attemptsLeft > 0, let best = remaining.first else { return nil }
        attemptsLeft -= 1
        let near: Int
        if let estimate = best.estimate {
            let bound = max(
                estimate.roundTrip * (1 + AnycastConstants.nearMargin), estimate.roundTrip + AnycastConstants.nearSlack)
            near = remaining.prefix { $0.estimate.map { $0.roundTrip <= bound } ?? false }.count
        } else {
            near = remaining.count
        }
        var index = Int.random(in: 0..<near, using: &random)
        if near > 1 {
            var other = Int.random(in: 0..<(near - 1), using: &random)
            if other >= index { other += 1 }
            let (load, otherLoad) = (inFlight(remaining[index].id), inFlight(remaining[other].id))
            if otherLoad < load || (otherLoad == load && Bool.random(using: &random)) { index = other }
        }
        return remaining.remove(at: index)
    }

    /// How long `provider` gets for one step (its handshake, or its answer once the
    /// session is up) before the next provider is tried.
    public static func attemptTimeout(for provider: RankedPeer) -> Duration {
        guard let estimate = provider.estimate else { return AnycastConstants.unknownRoundTrip }
        return estimate.roundTrip + AnycastConstants.answerSlack
    }
}
