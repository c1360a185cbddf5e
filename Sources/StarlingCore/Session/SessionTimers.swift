/// The timer rules of one peer's sessions: which protocol events arm and disarm which
/// ``SessionTimer``, and when keys are due for a new handshake.
///
/// ### Purpose
/// The session calls one `timers…` hook after each protocol event; the hooks only move
/// deadlines in ``table`` and never send anything. When the driver's timer fires, the
/// session takes ``removeExpired(now:)`` and acts on each case as its doc says. The rules
/// follow WireGuard (paper 6.2–6.5; wireguard-go `device/timers.go`):
///
/// - data received, nothing sent within `keepaliveTimeout` → keepalive;
/// - data sent, nothing authenticated back within `keepaliveTimeout + rekeyTimeout`
///   → new handshake;
/// - no session derived for `zeroKeyMaterialAfter` (`3 × rejectAfterTime`) → erase the keys;
/// - a rekey replaced the current session → the old one receives for `previousSessionGrace`.
///
/// ``wantsRekey(isInitiator:age:sent:messageLimit:)`` and
/// ``wantsRekey(receivingOnKeysAged:)`` say when sending or receiving on keys should
/// start a new handshake.
///
/// ### Differences from WireGuard
/// - Handshake retransmission is not a per-peer timer: it belongs to the handshake,
///   which exists before its peer is known (`PendingInitiation`, ``HandshakeBackoff``).
/// - Jitter is a fraction of each delay, not a fixed 333 ms.
/// - There is no "need another keepalive" flag: here every authenticated packet sent,
///   the keepalive included, acknowledges all data received before it, so the flag
///   could never fire.
/// - No persistent keepalive: nothing configures one yet.
/// - ``SessionTimer/discardPreviousSession`` bounds how long a replaced session receives.
/// - Keys from an IK initiation neither count as an answer nor postpone
///   ``SessionTimer/zeroKeyMaterial`` until a packet on them arrives
///   (``timersReplayableSessionDerived(now:)``): the responder refuses initiations not
///   newer than the last it accepted, but it forgets that with the peer, so an old
///   initiation may still be replayed to a peer that has none.
/// - Either side, not only the initiator, starts a handshake when it receives on keys
///   older than ``SessionConstants/rekeyAfterTimeReceiving``: a responder that only
///   receives would otherwise see its keys rejected before anyone rekeyed.
///
/// - Warning: `now` must never go backwards between calls.
struct SessionTimers: Sendable {
    /// The deadlines.
    private(set) var table = TimerTable()

    /// Supplies the jitter of ``SessionTimer/newHandshake``.
    let backoff: HandshakeBackoff.Policy

    /// Creates timers with nothing armed.
    /// - Parameter backoff: the policy whose jitter fraction is applied.
    init(backoff: HandshakeBackoff.Policy = .standard) {
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

    /// Call after deriving the keys of a new session (either role).
    ///
    /// Arms ``SessionTimer/zeroKeyMaterial`` `zeroKeyMaterialAfter` from now.
    mutating func timersSessionDerived(now: Instant) {
        table.set(.zeroKeyMaterial, at: now + SessionConstants.zeroKeyMaterialAfter)
    }

    /// Call after deriving keys from a message that may be a replay (an IK initiation).
    ///
    /// Arms ``SessionTimer/zeroKeyMaterial`` only when it is not armed, so that such
    /// keys are erased in time but a replay never postpones the erasure of others; the
    /// keys count as derived (``timersSessionDerived(now:)``) once a packet on them arrives.
    mutating func timersReplayableSessionDerived(now: Instant) {
        guard !table.isPending(.zeroKeyMaterial) else { return }
        table.set(.zeroKeyMaterial, at: now + SessionConstants.zeroKeyMaterialAfter)
    }

    /// Call after an IK initiation made keys for a peer this side had no state for.
    ///
    /// Arms ``SessionTimer/zeroKeyMaterial`` ``SessionConstants/unconfirmedPeerLifetime``
    /// from now: unless a packet on the keys arrives by then (which re-arms it through
    /// ``timersSessionDerived(now:)``), the peer is forgotten.
    mutating func timersUnconfirmedPeerCreated(now: Instant) {
        table.set(.zeroKeyMaterial, at: now + SessionConstants.unconfirmedPeerLifetime)
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

    /// Call after sending any transport packet, data or keepalive.
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

    // MARK: Key freshness

    /// Whether sending on keys should start a new handshake (WireGuard 6.2,
    /// wireguard-go `keepKeyFreshSending`).
    ///
    /// - Parameters:
    ///   - isInitiator: whether this side initiated the handshake that made the keys.
    ///   - age: time since the keys were derived.
    ///   - sent: messages sent on them so far.
    ///   - messageLimit: ``SessionConstants/rekeyAfterMessages`` (lower only in tests).
    /// - Returns: true for the initiator once `age >= rekeyAfterTime`, and for either
    ///   side once `sent >= messageLimit`.
    static func wantsRekey(isInitiator: Bool, age: Duration, sent: UInt64, messageLimit: UInt64) -> Bool {
        sent >= messageLimit || (isInitiator && age >= SessionConstants.rekeyAfterTime)
    }

    /// Whether receiving on keys of this age should start a new handshake: at
    /// ``SessionConstants/rekeyAfterTimeReceiving`` (165 s), so that the new session is
    /// ready before the old one is rejected at 180 s.
    static func wantsRekey(receivingOnKeysAged age: Duration) -> Bool {
        age >= SessionConstants.rekeyAfterTimeReceiving
    }
}
