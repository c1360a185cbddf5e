/// How long a peer waits for acks and between probes right now, and whether it is too
/// late itself to accuse anyone.
///
/// ### Purpose
/// Fixed probe timeouts make failure detection depend on machine speed: on a busy host
/// an ack that left in time is read late, the prober suspects a live member, the
/// suspicion and its refutation cost more traffic, and the host gets busier still. This
/// value keeps what the membership core measures about its own timeliness:
/// - the round trip of direct probe acks (RFC 6298 smoothing, ``RTTEstimate``); the
///   probe timeout is the configured one or the measured retransmission timeout,
///   whichever is longer (at most ``MembershipConstants/maximumTimeoutStretch`` times
///   the configured one), and the probe interval stretches with it;
/// - when it last found itself late (a timer fired well after its deadline, or the
///   driver reported receive-queue drops): until a grace period has passed, probe
///   failures and suspicion timeouts are deferred, since the ack or refutation may be
///   waiting unread in its own socket.
struct ProbeTiming: Sendable {
    /// The smoothed round trip of direct acks, once one was measured.
    private(set) var estimate: RTTEstimate?
    /// Until when this peer accuses nobody (it found itself late, or input waited
    /// unread), if it did.
    private(set) var accusationsDeferredUntil: Instant?
    /// Until when this peer counts as late (timers served late, receive drops).
    private var lateUntil: Instant?
    /// The earliest time lateness may raise local health again: at most once per probe
    /// interval, so one long stall counts once.
    private var nextPenaltyAt = Instant.zero
    /// Probes that ended unanswered, newest last: an ack that comes after its probe gave
    /// up still measures the round trip (the one the timeout should have allowed).
    private var endedProbes: [(sequence: UInt32, sentAt: Instant)] = []

    /// How many ended probes are remembered for their late acks.
    static var endedProbeMemory: Int { 8 }

    /// Remembers an unanswered probe whose time is up.
    mutating func rememberEndedProbe(sequence: UInt32, sentAt: Instant) {
        if endedProbes.count >= Self.endedProbeMemory { endedProbes.removeFirst() }
        endedProbes.append((sequence, sentAt))
    }

    /// Takes the late ack of an ended probe into the estimate.
    /// - Returns: whether `sequence` was such a probe.
    mutating func addLateAck(sequence: UInt32, now: Instant) -> Bool {
        guard let index = endedProbes.firstIndex(where: { $0.sequence == sequence }) else { return false }
        addSample(now - endedProbes.remove(at: index).sentAt)
        return true
    }

    /// Adds the round trip of a direct ack.
    mutating func addSample(_ sample: Duration) {
        estimate = estimate.map { $0.updated(with: sample) } ?? RTTEstimate(firstSample: sample)
    }

    /// The probe timeout before local health scaling: the configured timeout or the
    /// measured retransmission timeout, whichever is longer, within the stretch limit.
    func timeout(configured: Duration) -> Duration {
        guard let estimate else { return configured }
        let measured = estimate.retransmissionTimeout(granularity: .microseconds(100), minimum: configured)
        return min(measured, configured * MembershipConstants.maximumTimeoutStretch)
    }

    /// The probe interval before local health scaling: the configured interval,
    /// stretched by as much as the timeout was (so the indirect probe keeps its share).
    func interval(configured: Duration, configuredTimeout: Duration) -> Duration {
        let timeout = timeout(configured: configuredTimeout)
        guard timeout > configuredTimeout else { return configured }
        return configured * (timeout / configuredTimeout)
    }

    /// Whether this peer found itself late within the last grace period.
    func isLate(at now: Instant) -> Bool {
        lateUntil.map { now < $0 } ?? false
    }

    /// Whether accusations are deferred at `now`.
    func defersAccusations(at now: Instant) -> Bool {
        accusationsDeferredUntil.map { now < $0 } ?? false
    }

    /// Puts accusations off until `until` at least.
    mutating func deferAccusations(until: Instant) {
        if accusationsDeferredUntil.map({ $0 < until }) ?? true { accusationsDeferredUntil = until }
    }

    /// Notes that this peer is late at `now`: accusations wait `grace`.
    /// - Returns: whether local health should be raised (once per `penaltySpacing`).
    mutating func noteLate(now: Instant, grace: Duration, penaltySpacing: Duration) -> Bool {
        deferAccusations(until: now + grace)
        lateUntil = now + grace
        guard now >= nextPenaltyAt else { return false }
        nextPenaltyAt = now + penaltySpacing
        return true
    }
}
