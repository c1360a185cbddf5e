/// The timer rules of one peer's sessions: which protocol events arm and disarm which
/// ``SessionTimer``.
///
/// ### Purpose
/// The session calls one `timers…` hook after each protocol event; the hooks only move
/// deadlines in ``table`` and never send anything. When the driver's timer fires, the
/// session takes ``removeExpired(now:)`` and acts on each case as its doc says; for
/// ``SessionTimer/retransmitHandshake`` it asks ``expiredRetransmitHandshake(now:)``.
/// The rules follow WireGuard (paper 6.2–6.5; wireguard-go `device/timers.go`):
///
/// - data sent, nothing back within `keepaliveTimeout + rekeyTimeout` → new handshake;
/// - data received, nothing sent within `keepaliveTimeout` → keepalive;
/// - no session derived for `3 × rejectAfterTime` → erase the keys;
/// - any authenticated packet in or out → restart the persistent keepalive, if set.
///
/// ### Differences from WireGuard
/// - Retransmissions back off exponentially (``HandshakeBackoff``) and stop
///   `rekeyAttemptTime` after the handshake's *first* initiation; an initiation sent
///   while one is in progress continues that handshake instead of restarting its count.
/// - Jitter is a fraction of each delay, not a fixed 333 ms.
/// - There is no "need another keepalive" flag: here every authenticated packet sent,
///   the keepalive included, acknowledges all data received before it, so the flag
///   could never fire.
/// - ``SessionTimer/discardPreviousSession`` bounds how long a replaced session receives.
///
/// - Warning: `now` must never go backwards between calls.
struct SessionTimers: Sendable {
    /// The deadlines.
    private(set) var table = TimerTable()

    /// The interval of persistent keepalives, or `nil` for none (the default).
    var persistentKeepaliveInterval: Duration?

    /// The retransmission schedule.
    let backoff: HandshakeBackoff.Policy

    /// Initiations sent in the handshake in progress (0 when none is).
    private(set) var handshakeAttempts = 0

    /// When the handshake in progress sent its first initiation.
    private(set) var handshakeStartedAt: Instant?

    /// Creates timers with nothing armed.
    /// - Parameters:
    ///   - persistentKeepaliveInterval: the keepalive interval, or `nil` for none.
    ///   - backoff: the retransmission schedule.
    init(persistentKeepaliveInterval: Duration? = nil, backoff: HandshakeBackoff.Policy = .standard) {
        self.persistentKeepaliveInterval = persistentKeepaliveInterval
        self.backoff = backoff
    }

    /// The earliest deadline, for the driver's one timer; `nil` when none is armed.
    func pollTimeout() -> Instant? {
        table.earliest()?.deadline
    }

    /// Disarms and returns the timers due at `now`, earliest first.
    mutating func removeExpired(now: Instant) -> [SessionTimer] {
        table.removeExpired(now: now)
    }

    // MARK: Hooks

    /// Call after sending a handshake initiation, the first or a retransmission.
    ///
    /// Starts counting a new handshake when none is in progress, and arms
    /// ``SessionTimer/retransmitHandshake`` per ``HandshakeBackoff``.
    mutating func timersHandshakeInitiated(now: Instant, using generator: inout some RandomNumberGenerator) {
        let startedAt = handshakeStartedAt ?? now
        handshakeStartedAt = startedAt
        let deadline = HandshakeBackoff.retransmitDeadline(
            afterAttempt: handshakeAttempts, sentAt: now, firstSentAt: startedAt, policy: backoff,
            using: &generator)
        handshakeAttempts += 1
        table.set(.retransmitHandshake, at: deadline)
    }

    /// Call after a handshake completes: the initiator got a valid response, or the
    /// responder received the first packet on the new session.
    mutating func timersHandshakeComplete(now: Instant) {
        table.cancel(.retransmitHandshake)
        handshakeAttempts = 0
        handshakeStartedAt = nil
    }

    /// Call after deriving the keys of a new session (either role).
    mutating func timersSessionDerived(now: Instant) {
        table.set(.zeroKeyMaterial, at: now + SessionConstants.zeroKeyMaterialAfter)
    }

    /// Call after a new session replaces the current one, which becomes the previous
    /// session and may keep receiving for ``SessionConstants/previousSessionGrace``.
    mutating func timersSessionRotated(now: Instant) {
        table.set(.discardPreviousSession, at: now + SessionConstants.previousSessionGrace)
    }

    /// Call after sending a transport packet that carries data (not a keepalive).
    ///
    /// Arms ``SessionTimer/newHandshake`` unless it is already armed, so that a peer
    /// that stops answering is re-handshaken `keepaliveTimeout + rekeyTimeout` after
    /// the first unanswered packet.
    mutating func timersDataSent(now: Instant, using generator: inout some RandomNumberGenerator) {
        guard !table.isPending(.newHandshake) else { return }
        let delay = SessionConstants.keepaliveTimeout + SessionConstants.rekeyTimeout
        let jitter = HandshakeBackoff.jitter(for: delay, policy: backoff, using: &generator)
        table.set(.newHandshake, at: now + delay + jitter)
    }

    /// Call after receiving and authenticating a transport packet that carries data.
    ///
    /// Arms ``SessionTimer/sendKeepalive`` unless it is already armed.
    mutating func timersDataReceived(now: Instant) {
        guard !table.isPending(.sendKeepalive) else { return }
        table.set(.sendKeepalive, at: now + SessionConstants.keepaliveTimeout)
    }

    /// Call after sending any authenticated packet: data, keepalive or handshake message.
    ///
    /// Whatever was sent tells the peer this side is alive, so no keepalive is owed.
    mutating func timersAnyAuthenticatedPacketSent(now: Instant) {
        table.cancel(.sendKeepalive)
    }

    /// Call after receiving and authenticating any packet: data, keepalive or handshake message.
    ///
    /// The peer is alive, so the pending ``SessionTimer/newHandshake`` is not needed.
    mutating func timersAnyAuthenticatedPacketReceived(now: Instant) {
        table.cancel(.newHandshake)
    }

    /// Call after any authenticated packet is sent or received.
    ///
    /// Restarts ``SessionTimer/persistentKeepalive`` when an interval is configured.
    mutating func timersAnyAuthenticatedPacketTraversal(now: Instant) {
        guard let interval = persistentKeepaliveInterval, interval > .zero else { return }
        table.set(.persistentKeepalive, at: now + interval)
    }

    /// Call after closing the peer's sessions for good: disarms everything.
    mutating func timersStop() {
        table.cancelAll()
        handshakeAttempts = 0
        handshakeStartedAt = nil
    }

    // MARK: Expiry handlers

    /// Call when ``SessionTimer/retransmitHandshake`` expires.
    ///
    /// On ``HandshakeBackoff/Decision/retransmit(attempt:)`` the session sends the
    /// initiation again and calls ``timersHandshakeInitiated(now:using:)``. On
    /// ``HandshakeBackoff/Decision/giveUp(_:)`` the handshake is forgotten and
    /// ``SessionTimer/zeroKeyMaterial`` is armed (unless already armed) so that keys
    /// are not kept for a peer that is gone; the session drops queued packets and
    /// reports the timeout.
    mutating func expiredRetransmitHandshake(now: Instant) -> HandshakeBackoff.Decision {
        guard let startedAt = handshakeStartedAt else {
            return .giveUp(HandshakeBackoff.Timeout(attempts: 0, elapsed: .zero))
        }
        let decision = HandshakeBackoff.decide(
            attemptsSent: handshakeAttempts, firstSentAt: startedAt, now: now, policy: backoff)
        if case .giveUp = decision {
            table.cancel(.retransmitHandshake)
            handshakeAttempts = 0
            handshakeStartedAt = nil
            if !table.isPending(.zeroKeyMaterial) {
                table.set(.zeroKeyMaterial, at: now + SessionConstants.zeroKeyMaterialAfter)
            }
        }
        return decision
    }
}
