/// The membership protocol's numbers, split into what peers must agree on and what one
/// implementation chooses.
///
/// The protocol is SWIM (Das, Gupta and Motivala, 2002) with the Lifeguard extensions
/// (Dadgar, Phillips and Currey, 2018, <https://arxiv.org/abs/1707.00788>), in the
/// shape of HashiCorp memberlist.
public enum MembershipConstants {
    // MARK: Specification

    /// Bytes in a peer ID on the wire.
    public static let peerIDSize = 32
    /// What stands in for the signature of an unsigned alive or left update: no valid
    /// Ed25519 signature is all zeros, so receivers refuse it.
    static let missingSignature = [UInt8](repeating: 0, count: ClaimSignature.size)
    /// The smallest member update on the wire: an IPv4 suspect or dead (44 bytes and an
    /// accuser); a claim is 108.
    public static let minimumUpdateSize = 1 + 4 + peerIDSize + 1 + 4 + 2 + peerIDSize
    /// The swarm ID of the public swarm (all zeros), the default claims are bound to.
    public static let publicSwarmID = [UInt8](repeating: 0, count: 32)
    /// Claims a ``ClaimVerifier`` remembers by default: a swarm of this many members
    /// verifies each claim once.
    public static let verifiedClaimsCached = 65_536
    /// Claim verifications (cache misses) one core makes per second at most, and at
    /// once: a flood of claims by fresh identities costs a bounded share of a core
    /// (about 4,000 × 50 µs at once, 2,000 per second after), while joining a swarm of
    /// 4,000 verifies every member at once. Claims over budget are dropped and arrive
    /// again by gossip or the next state exchange.
    public static let claimVerificationsPerSecond = 2_000.0
    /// See ``claimVerificationsPerSecond``.
    public static let claimVerificationBurst = 4_000.0
    /// Round trips held for the owner to take (``MembershipCore/takeRoundTrips()``);
    /// one probe a probe interval measures at most one, so an owner that takes them
    /// after every input never comes near.
    public static let roundTripsHeld = 64
    /// Members waiting for a check at most: those suspected by hearsay, which this peer
    /// probes itself before it believes anything (``MembershipCore``).
    public static let pendingChecksHeld = 64
    /// Indirect probes carried out for others at once; a further ping request is
    /// dropped (its requester counts a missing nack, as for a lost one). Each lasts 80 %
    /// of a probe timeout, so this is far above what any swarm asks of one member.
    public static let relaysHeld = 1_024
    /// Checks (probes of suspects besides the regular probe) running at once: a partition
    /// that cuts off half of a swarm is confirmed a few members at a time, each within
    /// one probe interval.
    public static let concurrentChecks = 4
    /// Address family byte for IPv4 (followed by 4 address bytes).
    public static let familyIPv4: UInt8 = 4
    /// Address family byte for IPv6 (followed by 16 address bytes).
    public static let familyIPv6: UInt8 = 6
    /// The most updates piggybacked on one message (the count is one byte).
    public static let maximumPiggybackedUpdates = 255
    /// The most member records in one push-pull message (the count is two bytes).
    public static let maximumPushPullRecords = Int(UInt16.max)
    /// Push-pull flag: the receiver must answer with its own state.
    public static let pushPullReplyRequested: UInt8 = 0x01
    /// Push-pull flag: the sender is joining.
    public static let pushPullJoin: UInt8 = 0x02
    /// Push-pull flag: the records are a sample of the sender's members, not all of them
    /// (a partial answer, or a request that only pulls).
    public static let pushPullPartial: UInt8 = 0x04
    /// Push-pull flag: the sender holds a partial view (``MembershipView/partial``); a
    /// request asks only for the featured members, a reply holds only those.
    public static let pushPullScoped: UInt8 = 0x08

    /// The finest split of a sync request: `2^8` buckets, one per value of an ID's first
    /// byte (``MembershipMessage/syncRequest(requester:level:buckets:)``).
    public static let maximumSyncLevel = 8

    // MARK: Implementation

    /// Size of the smallest message buffer a configuration may set: room for a ping
    /// header and one suspicion about an IPv6 member.
    public static let minimumMessageSize = 200
    /// A relay sends its nack after this fraction of the probe timeout (Lifeguard §4.2;
    /// memberlist waits 80 % so the nack arrives before the prober gives up).
    public static let nackTimeoutFraction = 0.8
    /// Clusters up to this size push-pull at the configured interval; larger ones scale
    /// it up (memberlist `pushPullScaleThreshold`).
    public static let pushPullScaleThreshold = 32

    /// The most the measured round trip may stretch the probe timeout (and with it the
    /// interval): times the configured timeout. Bounds how slowly a peer whose acks all
    /// arrive late detects failures.
    public static let maximumTimeoutStretch = 10

    /// The most the join retry interval grows while no seed answers (a power of two):
    /// with the ``MembershipConfiguration/lan`` interval of 2 s, a peer keeps asking
    /// every 16–24 s.
    public static let maximumJoinBackoff = 8

    /// A timer that fires this fraction of the configured probe timeout (or more) after
    /// its deadline means the peer itself is late: local health rises and accusations wait.
    public static let lateTimerFraction = 0.25

    /// Messages of full-state answers a peer sends per probe interval at most (a token
    /// bucket refilling at this rate; a full answer of N messages takes N tokens, or the
    /// whole bucket when it is larger). Beyond it, push-pulls get a partial answer of
    /// ``partialStateMembers`` members: a thousand peers joining through one seed at once
    /// must not make it, or the first members everyone learns of, send a thousand full
    /// member lists in one burst (at 1,000 members one list is some 32 messages, and the
    /// burst overflows their receive queues, acks and refutations included).
    public static let fullStateReplyMessagesPerInterval = 256

    /// Exchanges a peer makes early after joining (about half a probe interval after the
    /// join answer, then 2, 4 and 8 probe intervals apart) before the regular interval,
    /// with random members: they fill in what a partial answer, or gossip lost in a join
    /// storm, left out. While this peer's list is small (``smallStateMessages``) each is
    /// a full push-pull; a larger list is not pushed: the request is one message holding
    /// only this peer's own record (a pull), and once a full answer has come only the
    /// last pull is left.
    public static let earlyPushPulls = 4

    /// Members a peer remembers having sent a direct notice (a failed member told of its
    /// death, an accuser told of this peer's current incarnation), to notify each at most
    /// once per probe interval; beyond it, no more are notified until the oldest expire.
    public static let noticesHeld = 64

    /// Members per bucket a sync request aims at (the level grows with the view): the
    /// answer to a view that lacks one member carries about this many records.
    public static let syncMembersPerBucket = 4

    /// The retransmit multiplier of news that a member joined, in place of
    /// ``MembershipConfiguration/retransmitMultiplier`` when that is larger: each peer
    /// passes a join on `⌈log10(N + 1)⌉` times (at least to
    /// ``MembershipConfiguration/gossipNodes`` members) instead of 4 × as often. A join storm of N peers
    /// is N × N pieces of news, and at 1,000 peers the configured λ = 4 made it 16
    /// million piggybacked records (about 530,000 datagrams, 18 s of these two cores);
    /// a join is the one kind of news the digest sync mends cheaply and at once (the
    /// pairs gossip misses, about e^−4 ≈ 2 % of them, show as differing digests on the
    /// next probe). Suspicions, failures, departures and refutations keep the full
    /// multiplier: they race a timeout.
    public static let joinRetransmitMultiplier = 1

    /// Most messages in the answer to one sync request: a sync mends the small
    /// differences gossip leaves; a view that lacks much fills in over a few probes (and
    /// by push-pull), and a storm of syncs, when every view differs, cannot multiply the
    /// traffic by the length of the member list.
    public static let syncAnswerMessages = 4

    /// Configured probe intervals from one sync request of a peer to its next: a
    /// digest that differs on a probe starts one at most this often, so that a join
    /// storm, when every view differs from every other, costs each peer one small
    /// exchange per interval and no more.
    public static let syncProbeIntervals = 1

    /// Messages of state up to which a peer's early exchanges push its list too.
    public static let smallStateMessages = 4

    /// Members (besides the answering peer) in a partial push-pull answer.
    public static let partialStateMembers = 16
}
