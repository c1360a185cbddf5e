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

    /// Full state answers a peer sends per probe interval at most (the bucket refills at
    /// this rate); beyond it, push-pulls get a partial answer of
    /// ``partialStateMembers`` members, so a thousand peers joining through one seed at
    /// once do not make it send a thousand full member lists in one burst.
    public static let fullStateRepliesPerInterval = 64

    /// Push-pulls a peer makes early after joining (about half a probe interval after the
    /// join, then 2, 4 and 8 probe intervals apart) before the regular interval: they fill in what a partial answer or
    /// gossip lost in a join storm left out, at one full exchange each.
    public static let earlyPushPulls = 4

    /// Members (besides the answering peer) in a partial push-pull answer.
    public static let partialStateMembers = 16
}
