/// Everything one endpoint knows about one peer it has (or is making) a session with.
struct PeerSessionState: Sendable {
    /// Where the peer was last heard from on an authenticated packet (it may roam).
    var address: PeerAddress
    /// The keys in use for sending; confirmed by the peer or made by this side's
    /// completed IK initiation.
    var current: TransportKeys?
    /// Keys made by a handshake that the peer has not yet proven it completed; promoted
    /// to ``current`` by the first authenticated packet on them.
    var next: TransportKeys?
    /// The keys ``current`` replaced; they keep receiving until ``previousExpires``.
    var previous: TransportKeys?
    /// When ``previous`` stops receiving.
    var previousExpires: Instant?
    /// Payloads waiting for the session to be established (bounded).
    var queued: [[UInt8]] = []
    /// When an authenticated packet last arrived from the peer.
    var lastReceived: Instant
    /// When this side last sent the peer anything on a session.
    var lastSent: Instant
    /// When to resend the confirmation (a keepalive on unconfirmed keys), if pending.
    var confirmationDeadline: Instant?
    /// How many confirmations have been sent for the current keys.
    var confirmationAttempts = 0
    /// XX responder only: the message 3 that made the current keys. A byte-identical
    /// copy means the initiator missed our confirmation, so it is answered again;
    /// anything else naming the session's index is dropped.
    var completionReceived: [UInt8]?
    /// Whether `established` has been reported for the current keys.
    var reported = false

    /// Payloads queued per peer while a handshake runs; the oldest are dropped beyond it.
    static let maximumQueued = 64

    /// The earliest deadline of this peer's timers.
    func earliestDeadline() -> Instant? {
        var deadlines: [Instant] = [lastReceived + SessionConstants.zeroKeyMaterialAfter]
        if let confirmationDeadline { deadlines.append(confirmationDeadline) }
        if let previousExpires { deadlines.append(previousExpires) }
        if current != nil, lastReceived > lastSent {
            deadlines.append(lastReceived + SessionConstants.keepaliveTimeout)
        }
        return deadlines.min()
    }

    /// The keys that hold `localIndex`, as a key path into this state.
    func slot(for localIndex: UInt32) -> WritableKeyPath<PeerSessionState, TransportKeys?>? {
        if current?.localIndex == localIndex { return \.current }
        if next?.localIndex == localIndex { return \.next }
        if previous?.localIndex == localIndex { return \.previous }
        return nil
    }
}

/// A handshake this endpoint started and that has not yet produced keys.
struct PendingInitiation: Sendable {
    /// The Noise handshake state.
    var handshake: NoiseHandshake
    /// Its kind.
    let kind: HandshakeKind
    /// Where the initiation goes.
    let address: PeerAddress
    /// The peer expected to answer, when known.
    let expected: PeerID?
    /// When the first attempt of this connection was sent.
    let started: Instant
    /// Attempts sent so far (1 for the first).
    var attempt: Int
    /// When to retransmit (with a new handshake) or give up.
    var deadline: Instant
    /// Whether some response arrived but failed authentication.
    var sawAuthenticationFailure = false
    /// XX only, once message 2 arrived: message 3, resent on this initiation's schedule
    /// until the responder proves it has the keys, and the peer it authenticated.
    var completion: (message: [UInt8], peer: PeerID)?
}

/// An XX handshake this endpoint answered and that waits for message 3.
struct PendingResponder: Sendable {
    /// The Noise handshake state.
    var handshake: NoiseHandshake
    /// Its kind.
    let kind: HandshakeKind
    /// The initiator's index.
    let remoteIndex: UInt32
    /// Where the initiation came from.
    let address: PeerAddress
    /// When it is forgotten if message 3 has not arrived.
    let expires: Instant
}
