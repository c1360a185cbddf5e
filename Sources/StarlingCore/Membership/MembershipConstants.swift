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

    /// Probe intervals the view must stay still after a change before a peer pulls a
    /// full list to mend what gossip missed (``MembershipCore/noteViewChange(now:)``).
    public static let settleProbeIntervals = 10

    /// Messages of state up to which a peer's early exchanges push its list too.
    public static let smallStateMessages = 4

    /// Members (besides the answering peer) in a partial push-pull answer.
    public static let partialStateMembers = 16
}
