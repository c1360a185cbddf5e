/// Lifeguard's local health multiplier (LHM): how much a peer distrusts its own
/// timeliness.
///
/// The score runs from 0 (healthy) to a maximum; probe intervals and timeouts are
/// multiplied by `score + 1`. It grows when a probe fails with fewer nacks than
/// expected, when no one could be asked, and when the peer must refute a suspicion of
/// itself; it shrinks with each successful probe (Lifeguard §4.1; memberlist
/// `awareness.go`).
public struct LocalHealth: Equatable, Sendable {
    /// The current score, `0…maximum`.
    public private(set) var score: Int
    /// The largest score.
    public let maximum: Int

    /// A healthy peer.
    public init(maximum: Int) {
        self.maximum = max(0, maximum)
        self.score = 0
    }

    /// Adds `delta` (negative to improve), clamping to `0…maximum`.
    public mutating func apply(_ delta: Int) {
        score = min(maximum, max(0, score + delta))
    }

    /// `duration × (score + 1)`.
    public func scale(_ duration: Duration) -> Duration {
        duration * (score + 1)
    }

    /// The change after a failed probe: one per missing nack, or one when no relay
    /// could be asked.
    public static func failedProbeDelta(expectedNacks: Int, receivedNacks: Int) -> Int {
        expectedNacks > 0 ? max(0, expectedNacks - receivedNacks) : 1
    }
}
