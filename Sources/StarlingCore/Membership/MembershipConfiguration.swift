/// Tunables of the SWIM + Lifeguard membership protocol.
///
/// Start from a profile (``lan``, ``local``, ``simulation``) and change single fields;
/// ``MembershipCore`` checks the result with ``validate()``. Durations are the base
/// values: Lifeguard's local health multiplier (LHM) scales the probe interval and
/// timeout by `LHM + 1` while the peer itself looks unhealthy.
public struct MembershipConfiguration: Equatable, Sendable {
    /// Time between probes of successive members. Lower detects failures sooner but
    /// costs one ping and ack (plus piggybacked gossip) per interval.
    public var probeInterval: Duration
    /// How long to wait for a direct ack before asking others to probe indirectly. Too
    /// low turns slow links into indirect probes; must be below ``probeInterval``
    /// (the rest of the interval is the indirect probe's time).
    public var probeTimeout: Duration
    /// How many members to ask for an indirect probe (SWIM's k). Higher tolerates more
    /// lossy paths at the cost of 4·k messages per failed direct probe.
    public var indirectChecks: Int
    /// Each update is piggybacked `retransmitMultiplier × ceil(log10(N + 1))` times.
    /// Higher spreads news more reliably under loss; lower leaves room in each message.
    public var retransmitMultiplier: Int
    /// Minimum suspicion timeout = `suspicionMultiplier × max(1, log10(N)) ×
    /// probeInterval`; Lifeguard expects `suspicionMultiplier − 2` independent
    /// confirmations. Higher means fewer false failures and slower detection.
    public var suspicionMultiplier: Int
    /// Maximum suspicion timeout = this × the minimum. A lone suspicion waits for the
    /// maximum; each independent confirmation shrinks it toward the minimum.
    public var suspicionMaxTimeoutMultiplier: Int
    /// Upper bound of the local health multiplier (Lifeguard's S). Higher lets an
    /// overloaded peer slow down more before it declares others failed.
    public var maxLocalHealth: Int
    /// Time between full state exchanges with a random member, scaled up as
    /// `× (ceil(log2(N) − log2(32)) + 1)` above 32 members. Lower repairs missed gossip
    /// sooner; each exchange sends the whole member list both ways.
    public var pushPullInterval: Duration
    /// Time between attempts to reach a random failed member with a push-pull, so that
    /// a healed partition merges again. Lower heals sooner; each attempt to a member
    /// that is really gone is wasted.
    public var reconnectInterval: Duration
    /// How long failed and departed members are remembered (and retried) before they
    /// are forgotten. Longer heals longer partitions and keeps more state.
    public var deadMemberRetention: Duration
    /// The largest message this core builds, in bytes; piggybacked gossip fills pings
    /// and acks up to it and push-pull state is split into messages of at most this
    /// size. Keep it under the path MTU minus the session overhead.
    public var maxMessageSize: Int
    /// Time between gossip rounds: while updates are queued, each round sends them in
    /// gossip messages to ``gossipNodes`` random live members, besides piggybacking them
    /// on probes. Lower spreads joins and failures sooner at the cost of more messages
    /// while news is fresh; an idle peer (empty queue) sends nothing.
    public var gossipInterval: Duration
    /// How many random live members each gossip round sends to, each its own take of
    /// the queue. Higher spreads faster; each is one more message per round.
    public var gossipNodes: Int
    /// Time between the first join attempts while no seed has answered; it doubles after
    /// each unanswered attempt (up to 8 times), with random jitter.
    public var joinRetryInterval: Duration
    /// How many times to send a join to the seeds before giving up; 0 (the default)
    /// keeps asking until a seed answers, as Serf's `retry_join` does, so that a peer
    /// whose seed was down or too busy at its start still joins when the seed can answer.
    public var joinAttempts: Int
    /// Whether the failure detector adapts to measured delay (on by default): probe
    /// timeouts follow the round trip of acks, and a peer that finds itself late (its
    /// timers fire late, its receive queue overflows) accuses nobody until it has caught
    /// up. Off gives memberlist's fixed timeouts, under which a busy machine declares
    /// live peers failed; it is there to compare the two, not to tune.
    public var adaptsToLoad = true
    /// The most members this peer holds (itself excluded), failed and departed ones
    /// included until they are forgotten. A new member's claim that finds the table full
    /// is refused and counted (``MembershipStatistics/membersRefused``): anyone can make
    /// identities, so without a bound a flood of invented members would exhaust memory.
    /// Higher admits larger swarms; each member costs a few hundred bytes.
    public var maximumMembers = 16_384

    /// Creates a configuration; every argument defaults to the ``lan`` value.
    public init(
        probeInterval: Duration = .seconds(1), probeTimeout: Duration = .milliseconds(500), indirectChecks: Int = 3,
        retransmitMultiplier: Int = 4, suspicionMultiplier: Int = 4, suspicionMaxTimeoutMultiplier: Int = 6,
        maxLocalHealth: Int = 8, pushPullInterval: Duration = .seconds(30), reconnectInterval: Duration = .seconds(30),
        deadMemberRetention: Duration = .seconds(3_600), maxMessageSize: Int = 1_400,
        gossipInterval: Duration = .milliseconds(200), gossipNodes: Int = 3,
        joinRetryInterval: Duration = .seconds(2), joinAttempts: Int = 0
    ) {
        self.probeInterval = probeInterval
        self.probeTimeout = probeTimeout
        self.indirectChecks = indirectChecks
        self.retransmitMultiplier = retransmitMultiplier
        self.suspicionMultiplier = suspicionMultiplier
        self.suspicionMaxTimeoutMultiplier = suspicionMaxTimeoutMultiplier
        self.maxLocalHealth = maxLocalHealth
        self.pushPullInterval = pushPullInterval
        self.reconnectInterval = reconnectInterval
        self.deadMemberRetention = deadMemberRetention
        self.maxMessageSize = maxMessageSize
        self.gossipInterval = gossipInterval
        self.gossipNodes = gossipNodes
        self.joinRetryInterval = joinRetryInterval
        self.joinAttempts = joinAttempts
    }

    /// A local network: memberlist's `DefaultLANConfig` timings (1 s probes, 500 ms
    /// timeout, k = 3, retransmit ×4, suspicion ×4 up to ×6, LHM ≤ 8, push-pull 30 s,
    /// gossip every 200 ms to 3 members).
    public static let lan = MembershipConfiguration()

    /// Peers on one host (loopback): delta from ``lan``.
    public static let local: MembershipConfiguration = {
        var configuration = MembershipConfiguration.lan
        // Probes 5 times a second with a 100 ms timeout (loopback round trips are
        // microseconds, but hundreds of peers share a few threads); the suspicion
        // multipliers stay memberlist's, so a killed peer of 200 is declared failed by
        // all in about 2.5 s, not 10, and a suspect still has 1.8 s or more to refute.
        configuration.probeInterval = .milliseconds(200)
        configuration.probeTimeout = .milliseconds(100)
        configuration.pushPullInterval = .seconds(15)  // exchanges are cheap on one host
        configuration.reconnectInterval = .seconds(10)  // a restarted local peer returns quickly
        configuration.joinRetryInterval = .milliseconds(500)  // seeds start within moments
        // Gossip rounds of 4 every 50 ms: a burst of joins through one seed reaches
        // everyone in a few rounds (≈ log4 N) well within a second; messages cost
        // microseconds on one host, and idle peers send none.
        configuration.gossipInterval = .milliseconds(50)
        configuration.gossipNodes = 4
        return configuration
    }()

    /// The virtual network of StarlingSim: delta from ``lan``.
    public static let simulation: MembershipConfiguration = {
        var configuration = MembershipConfiguration.lan
        configuration.pushPullInterval = .seconds(10)  // repair faster so tests converge in short runs
        configuration.reconnectInterval = .seconds(5)  // heal partitions within a short run
        configuration.deadMemberRetention = .seconds(600)  // keep retrying for the length of a test
        configuration.joinRetryInterval = .seconds(1)  // virtual seeds are up from the start
        return configuration
    }()

    /// Checks every field.
    /// - Throws: ``MembershipConfigurationError`` naming the first bad field.
    public func validate() throws(MembershipConfigurationError) {
        for (name, value) in [
            ("probeInterval", probeInterval), ("probeTimeout", probeTimeout), ("pushPullInterval", pushPullInterval),
            ("reconnectInterval", reconnectInterval), ("deadMemberRetention", deadMemberRetention),
            ("joinRetryInterval", joinRetryInterval), ("gossipInterval", gossipInterval),
        ] where value <= .zero {
            throw .notPositive(field: name)
        }
        guard probeTimeout < probeInterval else { throw .probeTimeoutNotBelowInterval }
        for (name, value, low, high) in [
            ("indirectChecks", indirectChecks, 0, 16), ("retransmitMultiplier", retransmitMultiplier, 1, 32),
            ("suspicionMultiplier", suspicionMultiplier, 1, 64),
            ("suspicionMaxTimeoutMultiplier", suspicionMaxTimeoutMultiplier, 1, 64),
            ("maxLocalHealth", maxLocalHealth, 0, 64), ("joinAttempts", joinAttempts, 0, 1_000),
            ("gossipNodes", gossipNodes, 1, 64), ("maximumMembers", maximumMembers, 1, 1_000_000),
            ("maxMessageSize", maxMessageSize, MembershipConstants.minimumMessageSize, 65_000),
        ] where value < low || value > high {
            throw .outOfRange(field: name, value: value, minimum: low, maximum: high)
        }
    }
}

/// Why a ``MembershipConfiguration`` was rejected.
public enum MembershipConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A duration is zero or negative.
    case notPositive(field: String)
    /// ``MembershipConfiguration/probeTimeout`` is not below the probe interval, which
    /// leaves no time for indirect probes.
    case probeTimeoutNotBelowInterval
    /// A count or size is outside its allowed range.
    case outOfRange(field: String, value: Int, minimum: Int, maximum: Int)

    /// A sentence for people.
    public var description: String {
        switch self {
        case .notPositive(let field): "membership \(field) must be positive"
        case .probeTimeoutNotBelowInterval: "membership probeTimeout must be shorter than probeInterval"
        case .outOfRange(let field, let value, let minimum, let maximum):
            "membership \(field) is \(value); allowed \(minimum)…\(maximum)"
        }
    }
}
