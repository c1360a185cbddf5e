internal import Glibc

/// Lifeguard's dynamic suspicion timeout, as pure functions.
///
/// A suspicion starts at ``maximum(probeInterval:members:suspicionMultiplier:maxTimeoutMultiplier:)``
/// and shrinks toward the minimum as independent members confirm it
/// (Lifeguard §4.3; memberlist `suspicion.go` `remainingSuspicionTime`).
public enum SuspicionTimeout {
    /// `suspicionMultiplier × max(1, log10(N)) × probeInterval`, with `N` the live
    /// members counting oneself.
    public static func minimum(probeInterval: Duration, members: Int, suspicionMultiplier: Int) -> Duration {
        let scale = max(1, log10(Double(max(members, 1))))
        return probeInterval * (Double(suspicionMultiplier) * scale)
    }

    /// `maxTimeoutMultiplier × minimum`.
    public static func maximum(
        probeInterval: Duration, members: Int, suspicionMultiplier: Int, maxTimeoutMultiplier: Int
    ) -> Duration {
        minimum(probeInterval: probeInterval, members: members, suspicionMultiplier: suspicionMultiplier)
            * maxTimeoutMultiplier
    }

    /// The number of independent confirmations to wait for: `suspicionMultiplier − 2`,
    /// or 0 when fewer than that many other members could confirm (memberlist).
    public static func expectedConfirmations(suspicionMultiplier: Int, members: Int) -> Int {
        let wanted = max(0, suspicionMultiplier - 2)
        return members - 2 < wanted ? 0 : wanted
    }

    /// `max(min, max − (max − min) · log(C + 1) / log(K + 1))`: the total timeout after
    /// `confirmations` (C) of `expected` (K) confirmations.
    public static func timeout(
        confirmations: Int, expected: Int, minimum: Duration, maximum: Duration
    ) -> Duration {
        guard expected > 0, maximum > minimum else { return minimum }
        let fraction = log(Double(max(0, confirmations)) + 1) / log(Double(expected) + 1)
        let value = maximum - (maximum - minimum) * fraction
        return value > minimum ? value : minimum
    }
}

/// One member's running suspicion: when it started and who confirmed it.
struct Suspicion: Sendable {
    /// When the suspicion began.
    let start: Instant
    /// Confirmations that shorten the timeout (K).
    let expected: Int
    /// The shortest total timeout.
    let minimum: Duration
    /// The total timeout with no confirmations.
    let maximum: Duration
    /// Who raised the suspicion first.
    let firstAccuser: PeerID
    /// Everyone who has accused the member, the first accuser included.
    private(set) var accusers: Set<PeerID>
    /// Independent confirmations after the first accusation (C).
    private(set) var confirmations = 0
    /// When the suspect last sent this peer a message itself, if since the start.
    private(set) var lastSignOfLife: Instant?
    /// When this peer last told the suspect of the suspicion because it heard from it.
    private(set) var toldSuspectAt: Instant?
    /// Whether this peer's own probe of the suspect went unanswered since the suspicion
    /// began. Without that, the suspicion is hearsay and its timeout only leads to a
    /// probe of this peer's own (``MembershipCore``), never to a verdict.
    var ownProbeFailed = false
    /// Whether the timeout has passed with hearsay alone: the suspicion waits, off the
    /// schedule, for this peer's own probe of the suspect.
    var awaitsOwnProbe = false
    /// Whether another peer has declared the suspect failed: its own suspicion timed
    /// out, so the suspect has had its time to refute. With this peer's own failed probe
    /// beside it, the member fails at once.
    var verdictHeard = false

    /// Starts a suspicion raised by `accuser`.
    init(accuser: PeerID, start: Instant, expected: Int, minimum: Duration, maximum: Duration) {
        self.start = start
        self.expected = expected
        self.minimum = minimum
        self.maximum = maximum
        self.firstAccuser = accuser
        self.accusers = [accuser]
    }

    /// When the member is declared failed: the Lifeguard timeout from the start, and
    /// never sooner than the minimum timeout after the suspect's last sign of life. This
    /// peer's own failed probe beside another peer's accusation is two independent
    /// observations, and counts as every confirmation Lifeguard expects: the suspect
    /// still has the minimum timeout to refute.
    var deadline: Instant {
        let counted = ownProbeFailed && accusers.count >= 2 ? max(confirmations, expected) : confirmations
        let timeout =
            start
            + SuspicionTimeout.timeout(
                confirmations: counted, expected: expected, minimum: minimum, maximum: maximum)
        guard let lastSignOfLife else { return timeout }
        return max(timeout, lastSignOfLife + minimum)
    }

    /// Records a message the suspect itself sent at `now`: a member that still talks is
    /// not dead, only perhaps too busy to have heard of the suspicion yet.
    ///
    /// - Parameter interval: how often to tell the suspect of the suspicion at most.
    /// - Returns: whether to tell the suspect of the suspicion now, so that it refutes.
    mutating func noteSignOfLife(at now: Instant, tellingAtMostEvery interval: Duration) -> Bool {
        lastSignOfLife = now
        if let told = toldSuspectAt, now - told < interval { return false }
        toldSuspectAt = now
        return true
    }

    /// Records an accusation by `accuser`.
    /// - Returns: whether it was a new, counted confirmation (then re-gossip it).
    mutating func confirm(by accuser: PeerID) -> Bool {
        guard confirmations < expected, !accusers.contains(accuser) else { return false }
        accusers.insert(accuser)
        confirmations += 1
        return true
    }
}
