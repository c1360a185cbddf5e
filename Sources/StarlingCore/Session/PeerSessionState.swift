/// Everything one endpoint knows about one peer it has (or is making) a session with.
struct PeerSessionState: Sendable {
    /// Where the peer was last heard from on a packet that proves it is the peer: a
    /// transport packet, or a handshake message bound to this side's fresh ephemeral
    /// key. A replayable IK initiation does not move it.
    var address: PeerAddress
    /// The keys in use for sending; confirmed by the peer or made by this side's
    /// completed IK initiation.
    var current: TransportKeys?
    /// Keys made by a handshake that the peer has not yet proven it completed; promoted
    /// to ``current`` by the first authenticated packet on them, unless they lost a
    /// simultaneous initiation (`SessionEndpoint.mayPromote(_:over:of:)`).
    var next: TransportKeys?
    /// The keys ``current`` replaced; they keep receiving until
    /// ``SessionTimer/discardPreviousSession``.
    var previous: TransportKeys?
    /// Payloads waiting for the session to be established (bounded).
    var queued: [[UInt8]] = []
    /// This peer's keepalive, new-handshake, key-erasure and previous-session timers.
    var timers = SessionTimers()
    /// XX responder only: the message 3 that made the current (or waiting ``next``)
    /// keys. A byte-identical copy means the initiator missed our confirmation, so it is
    /// answered again; anything else naming the session's index is dropped.
    var completionReceived: [UInt8]?
    /// IK responder only: the Noise message of the last initiation answered. A
    /// byte-identical copy (the network duplicated it, or someone replays it) makes no
    /// new keys: new keys for it would replace the ones the initiator holds.
    var initiationAnswered: [UInt8]?
    /// IK responder only: the response datagram sent for ``initiationAnswered``, where it
    /// went and the local index of the keys it made. While those keys wait for
    /// confirmation, a byte-identical copy of the initiation from the same address is
    /// answered with these same bytes (no new work, no new state).
    var responseSent: (address: PeerAddress, localIndex: UInt32, bytes: [UInt8])?
    /// IK responder only: the newest initiation timestamp accepted from this peer; an
    /// initiation not newer is a replay.
    var latestTimestamp: HandshakeTimestamp?
    /// When an authenticated packet (or a handshake message proving the peer is there)
    /// last arrived, or the state was made: the session heard from least recently is
    /// the one evicted when the table is full.
    var lastActive: Instant
    /// Whether `established` has been reported for this peer.
    var reported = false

    /// Payloads queued per peer while a handshake runs; the oldest are dropped beyond it.
    static let maximumQueued = 64

    /// Creates the state of a peer at `address` with no keys and no timers armed.
    init(address: PeerAddress, now: Instant) {
        self.address = address
        self.lastActive = now
    }

    /// One of the three key sets a peer may hold.
    enum KeySlot: Sendable {
        /// ``PeerSessionState/current``.
        case current
        /// ``PeerSessionState/next``.
        case next
        /// ``PeerSessionState/previous``.
        case previous
    }

    /// The slot of the keys that hold `localIndex`.
    func slot(for localIndex: UInt32) -> KeySlot? {
        if current?.localIndex == localIndex { return .current }
        if next?.localIndex == localIndex { return .next }
        if previous?.localIndex == localIndex { return .previous }
        return nil
    }

    /// The keys in `slot`, read and changed in place (no copy of the keys, so that
    /// their replay window is not copied when a packet is recorded).
    subscript(slot: KeySlot) -> TransportKeys? {
        _read {
            switch slot {
            case .current: yield current
            case .next: yield next
            case .previous: yield previous
            }
        }
        _modify {
            switch slot {
            case .current: yield &current
            case .next: yield &next
            case .previous: yield &previous
            }
        }
    }

    /// The local indices of every key set held.
    var localIndices: [UInt32] {
        [current, next, previous].compactMap { $0?.localIndex }
    }

    /// Queues an inner message for when the session can send, dropping the oldest
    /// beyond ``maximumQueued``.
    mutating func enqueue(_ inner: [UInt8]) {
        if queued.count >= Self.maximumQueued { queued.removeFirst() }
        queued.append(inner)
    }
}

/// A handshake this endpoint started, from its first initiation until the responder
/// proves it holds the keys (or the handshake gives up).
///
/// Its ``deadline`` drives every retransmission of the handshake: the initiation
/// before a response, then what ``confirming`` says until the proof.
struct PendingInitiation: Sendable {
    /// What the initiator resends after the response, until the responder proves it
    /// holds the keys.
    enum Confirmation: Sendable {
        /// XX: message 3, byte for byte.
        case completion([UInt8])
        /// IK: an empty transport packet on the new keys, sealed afresh each time.
        case keepalive
    }

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
    /// When to retransmit or give up.
    var deadline: Instant
    /// Whether some response arrived but failed authentication.
    var sawAuthenticationFailure = false
    /// Once the response arrived: the peer it authenticated and what is resent.
    var confirming: (peer: PeerID, resend: Confirmation)?
    /// The initiation datagram last sent, MACs included: a cookie reply is checked
    /// against its `mac1`, and it is resent once with `mac2` when one arrives.
    var sent: [UInt8] = []
    /// Whether it was already resent with a cookie.
    var resentWithCookie = false

    /// The peer this handshake is with, once known.
    var peer: PeerID? { confirming?.peer ?? expected }
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
    /// Noise message 1 of the initiation: a byte-identical copy from the same address
    /// is answered with ``response`` again, without new work.
    let initiation: [UInt8]
    /// The response datagram sent.
    let response: [UInt8]
}
