/// The membership core's timers. ``MembershipCore/pollTimeout()`` reports the earliest
/// armed one.
enum MembershipTimer: CaseIterable, Sendable {
    /// When to start the next probe (every LHM-scaled probe interval).
    case probe
    /// When to give up on a direct ack and send ping requests (LHM-scaled probe timeout).
    case indirectProbe
    /// When to declare the current probe failed and suspect its target.
    case probeEnd
    /// When a relay of an indirect probe sends its nack.
    case relayNack
    /// When a suspected member is declared failed.
    case suspicion
    /// When to send queued updates to random live members (every gossip interval).
    case gossip
    /// When to exchange full state with a random member.
    case pushPull
    /// When to try a push-pull with a random failed member.
    case reconnect
    /// When to resend a join that no seed has answered.
    case joinRetry
}

/// A probe waiting for its ack.
struct ProbeInFlight: Sendable {
    /// The ping's sequence number (ping requests reuse it).
    var sequence: UInt32
    /// The member probed.
    var target: PeerID
    /// When to send ping requests, or `nil` once they are sent.
    var indirectAt: Instant?
    /// When the probe fails.
    var endAt: Instant
    /// When the ping went out: a direct ack's round trip is measured from it.
    var sentAt: Instant
    /// Nacks expected from relays.
    var expectedNacks = 0
    /// Nacks received.
    var receivedNacks = 0
}

/// An indirect probe this peer carries out for another.
struct Relay: Sendable {
    /// Where to send the ack or nack.
    var requester: PeerAddress
    /// The requester's sequence number, echoed in the answer.
    var requesterSequence: UInt32
    /// When to send the nack.
    var nackAt: Instant
}

/// A join that no seed has answered yet.
struct PendingJoin: Sendable {
    /// The seeds.
    var addresses: [PeerAddress]
    /// Sends so far.
    var attempts: Int
    /// When to send again.
    var retryAt: Instant
}
