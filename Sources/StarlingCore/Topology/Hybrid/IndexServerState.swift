/// What a hybrid peer knows of one index server: where it is, how fast it answers,
/// and whether it counts as up.
///
/// An index server is up unless membership reports it suspect, failed or gone
/// (``isDownByMembership``), or it left ``HybridConstants/timeoutsBeforeDown`` requests
/// in a row unanswered (``isDownByTimeouts``). A down server is asked for its index list
/// again after a doubling back-off, and any answer brings it back, whatever membership
/// said: an index server that restarted without rejoining the overlay is found again.
public struct IndexServerState: Equatable, Sendable {
    /// Where it receives overlay datagrams.
    public internal(set) var address: PeerAddress
    /// The round trip of its answers, once one came back.
    public internal(set) var rtt: RTTEstimate?
    /// Requests in a row it left unanswered.
    public internal(set) var consecutiveTimeouts = 0
    /// Whether membership reports it suspect, failed or gone.
    public internal(set) var isDownByMembership = false
    /// Whether it left too many requests unanswered.
    public internal(set) var isDownByTimeouts = false
    /// When to ask it again while it is down by timeouts.
    var retryAt: Instant?
    /// The back-off before the next retry.
    var retryBackoff = HybridConstants.firstIndexRetry
    /// The members it last said it holds (in an `indexes` answer; 0 before one came).
    var reportedMembers: UInt32 = 0

    init(address: PeerAddress) {
        self.address = address
    }

    /// Whether requests go to it.
    public var isUp: Bool { !isDownByMembership && !isDownByTimeouts }

    /// How long to wait for its answer: RFC 6298's RTO of its answers' round trips,
    /// within the configured bounds (the maximum before any answer came back).
    func requestTimeout(_ configuration: HybridConfiguration) -> Duration {
        guard let rtt else { return configuration.maximumRequestTimeout }
        let timeout = rtt.retransmissionTimeout(minimum: configuration.minimumRequestTimeout)
        return min(timeout, configuration.maximumRequestTimeout)
    }

    /// Notes an answer that took `roundTrip`.
    mutating func noteAnswer(roundTrip: Duration?) {
        if let roundTrip { rtt = rtt.map { $0.updated(with: roundTrip) } ?? RTTEstimate(firstSample: roundTrip) }
        consecutiveTimeouts = 0
        isDownByTimeouts = false
        isDownByMembership = false
        retryAt = nil
        retryBackoff = HybridConstants.firstIndexRetry
    }

    /// Notes membership's report that the server is suspect, failed or gone.
    mutating func noteDownByMembership(now: Instant) {
        isDownByMembership = true
        if retryAt == nil { retryAt = now + retryBackoff }
    }

    /// Notes membership's report that the server is alive.
    mutating func noteAliveByMembership() {
        isDownByMembership = false
        if !isDownByTimeouts {
            retryAt = nil
            retryBackoff = HybridConstants.firstIndexRetry
        }
    }

    /// Notes a request left unanswered at `now`.
    mutating func noteTimeout(now: Instant) {
        consecutiveTimeouts += 1
        guard consecutiveTimeouts >= HybridConstants.timeoutsBeforeDown else { return }
        if !isDownByTimeouts {
            isDownByTimeouts = true
            if retryAt == nil { retryAt = now + retryBackoff }
        }
    }

    /// Schedules the next retry of a down server after one went unanswered.
    mutating func backOff(now: Instant) {
        retryBackoff = min(retryBackoff * 2, HybridConstants.maximumIndexRetry)
        retryAt = now + retryBackoff
    }
}
