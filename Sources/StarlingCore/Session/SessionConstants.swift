/// Timing and counting constants of Starling sessions.
///
/// The "Specification" values are WireGuard's (Donenfeld, *WireGuard: Next Generation
/// Kernel Network Tunnel*, section 6.1 "Preliminaries", table of constants; also
/// wireguard-go `device/constants.go`). Starling keeps them unchanged so that its
/// session timers behave as a WireGuard user expects. The "Implementation" values are
/// Starling's own local policy; per-swarm tunables (the pending-handshake table size and
/// the per-source handshake rate) live in ``SessionConfiguration`` instead.
public enum SessionConstants {
    // MARK: Specification (changing any of these changes the protocol's behaviour)

    /// Messages sent on one session after which the initiator starts a new handshake.
    /// WireGuard paper 6.1: `Rekey-After-Messages` = 2^60.
    public static let rekeyAfterMessages: UInt64 = 1 << 60

    /// Messages after which a session may neither send nor receive: 2^64 - 2^13 - 1.
    ///
    /// The counter space (2^64), less one replay bitmap's worth of counters (2^13, the
    /// Linux WireGuard bitmap size) so that no window arithmetic runs up to the wrap,
    /// less one so that the all-ones nonce is never used. Written `UInt64.max - 2^13`,
    /// as `UInt64.max` is already 2^64 - 1. WireGuard paper 6.1: `Reject-After-Messages`.
    public static let rejectAfterMessages: UInt64 = UInt64.max - (1 << 13)

    /// Age of a session after which the initiator starts a new handshake on next send.
    /// WireGuard paper 6.1: `Rekey-After-Time`.
    public static let rekeyAfterTime: Duration = .seconds(120)

    /// Age of a session after which it may neither send nor receive.
    /// WireGuard paper 6.1: `Reject-After-Time`.
    public static let rejectAfterTime: Duration = .seconds(180)

    /// How long an initiator keeps retrying one handshake before giving up.
    /// WireGuard paper 6.1: `Rekey-Attempt-Time`.
    public static let rekeyAttemptTime: Duration = .seconds(90)

    /// Time before the first retransmission of an unanswered handshake initiation.
    /// WireGuard paper 6.1: `Rekey-Timeout`.
    public static let rekeyTimeout: Duration = .seconds(5)

    /// Time after receiving data with nothing sent back before sending a keepalive.
    /// WireGuard paper 6.1: `Keepalive-Timeout`.
    public static let keepaliveTimeout: Duration = .seconds(10)

    /// Lifetime of the secret behind handshake cookies before it is replaced.
    /// WireGuard paper 6.1: `Cookie-Refresh-Time`.
    public static let cookieRefreshTime: Duration = .seconds(120)

    /// Shortest interval between two initiations from one peer that a responder
    /// processes; faster ones are dropped. wireguard-go `HandshakeInitationRate` (1/50 s).
    public static let handshakeInitiationRate: Duration = .milliseconds(20)

    /// Age of a session at which an initiator that is *receiving* on it starts a new
    /// handshake: `rejectAfterTime - keepaliveTimeout - rekeyTimeout` (165 s), so the
    /// new session is ready before the old one is rejected. WireGuard paper 6.2.
    public static let rekeyAfterTimeReceiving: Duration = rejectAfterTime - keepaliveTimeout - rekeyTimeout

    /// Time after the last session was derived at which all key material is erased:
    /// `3 × rejectAfterTime` (9 minutes). WireGuard paper 6.3.
    public static let zeroKeyMaterialAfter: Duration = rejectAfterTime * 3

    /// Depth of the replay window: a counter more than this far below the highest one
    /// accepted is refused as too old. Starling's design requires at least 2048 (RFC 6479
    /// discusses why high-rate receivers need large windows); WireGuard uses 8128.
    public static let replayWindowSize: UInt64 = 2048

    // MARK: Implementation (local policy)

    /// First delay of the exponential handshake backoff. Shorter than the
    /// specification's ``rekeyTimeout`` (5 s): on a LAN or loopback a lost handshake
    /// datagram should cost a second, not five.
    public static let retransmitBaseDelay: Duration = .seconds(1)

    /// Longest delay between two retransmissions of one handshake. WireGuard retries at
    /// a fixed ``rekeyTimeout``; Starling doubles from 1 s up to this cap, sending 14
    /// attempts in ``rekeyAttemptTime`` (at 0, 1, 3, 7, 15, 23 … 87 s) against about 18,
    /// so a handshake survives heavy loss while idle retries stay sparse.
    public static let maximumRetransmitDelay: Duration = .seconds(8)

    /// Largest random jitter added to a timer, in thousandths of its delay. 67 ‰ of
    /// ``rekeyTimeout`` is WireGuard's 333 ms (`RekeyTimeoutJitterMaxMs`); jitter keeps
    /// peers that lost contact together from retrying in lockstep.
    public static let maximumJitterPerMille: Int64 = 67

    /// How long the previous session keeps receiving after a rekey replaced it:
    /// `keepaliveTimeout + rekeyTimeout` (15 s). By then the peer has confirmed the new
    /// session (by data, a keepalive or a retried handshake), and anything still sealed
    /// with the old keys is a straggler worth losing; WireGuard keeps it until the next
    /// rotation or ``rejectAfterTime``.
    public static let previousSessionGrace: Duration = keepaliveTimeout + rekeyTimeout

    /// Most source addresses the handshake rate limiter tracks. Each entry costs about
    /// 64 bytes; when full, refilled entries and then the least recently seen are
    /// forgotten, which can only forgive a source, never block one.
    public static let maximumRateLimitedSources = 4096

    /// Most peers whose X25519 static key (converted from their Ed25519 ID, which costs
    /// about as much as one X25519 operation) an endpoint keeps for its next handshakes.
    /// Each entry costs about 80 bytes; when full, the cache is emptied and refilled, so
    /// raising it only saves conversions for endpoints that shake hands with more peers.
    public static let maximumCachedStaticKeys = 4096

    /// How long keys an IK initiation made for a peer with no session wait for the
    /// initiator's first packet on them before the peer is forgotten. The initiator
    /// resends that packet at 1, 3, 7 and 15 s (``HandshakeBackoff``), so 20 s covers
    /// five tries; anyone who saw an initiation could replay it, so such keys must not
    /// hold memory for the ``zeroKeyMaterialAfter`` an established session gets.
    public static let unconfirmedPeerLifetime: Duration = .seconds(20)

    /// Least time without an authenticated packet from a peer before its session may
    /// be evicted to make room for a new peer when the table
    /// (``SessionConfiguration/maximumSessions``) is full: `rekeyAfterTime`. A peer that
    /// talks at least every two minutes is never evicted; when no session is idle this
    /// long, a new peer is refused instead.
    public static let minimumIdleBeforeEviction: Duration = rekeyAfterTime

    /// Most cookies an initiator keeps (one per responder address, each valid for
    /// ``cookieRefreshTime``); when full the stale ones go, then all of them.
    public static let maximumStoredCookies = 1024

    /// Interval at which the rate limiter forgets sources whose bucket has refilled.
    /// wireguard-go `ratelimiter.go` collects every second.
    public static let rateLimiterCollectionInterval: Duration = .seconds(1)
}
