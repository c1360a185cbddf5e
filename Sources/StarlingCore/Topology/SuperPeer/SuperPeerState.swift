/// A super-peer this peer knows of: its newest advert and when it last rose.
struct KnownSuperPeer: Sendable {
    /// The newest advert.
    var advert: SuperPeerAdvert
    /// When its subject made the advert held: when it arrived, less its age.
    var refreshedAt: Instant
    /// The union of its leaves' filters, once it has sent one.
    var filter: QueryRoutingFilter?
    /// Whether the advert came from the super-peer itself (from its member address)
    /// rather than passed on by another peer or named as an alternative.
    var isFirstHand: Bool
}

/// A leaf's link to one super-peer.
struct SuperPeerLink: Sendable {
    /// Where the super-peer receives.
    var address: PeerAddress
    /// Whether the super-peer has accepted (else an attach waits for its answer).
    var isAttached: Bool
    /// When the attach was sent or the last answer came.
    var lastHeard: Instant
    /// When to send the next keepalive.
    var nextKeepaliveAt: Instant
    /// The link this one replaces once accepted (a move to a less loaded super-peer).
    var replacing: PeerID?
    /// The record sequence of the attach awaiting the super-peer's answer, if any.
    var sentSequence: UInt64?
    /// The newest record sequence the super-peer accepted.
    var heldSequence: UInt64 = 0
    /// When the request now awaiting an answer (attach or keepalive) went out.
    var awaitingSince: Instant?
    /// Keepalives in a row that got no answer within ``replyTimeout(_:)``.
    var missedKeepalives = 0
    /// The round trip of the super-peer's answers (RFC 6298), once one came back.
    var rtt: RTTEstimate?

    /// How long to wait for an answer before counting a keepalive missed: the RTO of
    /// the answers' round trips, at least a quarter and at most all of the attach
    /// timeout (all of it before any answer came back).
    func replyTimeout(_ configuration: SuperPeerConfiguration) -> Duration {
        guard let rtt else { return configuration.attachTimeout }
        return min(
            configuration.attachTimeout, rtt.retransmissionTimeout(minimum: configuration.attachTimeout / 4))
    }
}

/// A leaf a super-peer holds.
struct HeldLeaf: Sendable {
    /// The leaf's newest verified record.
    var record: SignedPeerRecord
    /// Its query routing filter.
    var filter: QueryRoutingFilter
    /// Where its attaches and keepalives come from: where relays go.
    var address: PeerAddress
    /// When its lease was last renewed.
    var lastHeard: Instant
    /// What it offers as this super-peer's successor, as its last keepalive said.
    var candidacy: UInt32 = 0
}

/// The core's timers. ``SuperPeerCore/pollTimeout()`` reports the earliest armed one.
enum SuperPeerTimer: CaseIterable, Sendable {
    /// When to run the next election round (every jittered election interval).
    case election
    /// When a super-peer sends its next adverts (every advert interval).
    case advert
    /// When to check attach timeouts, keepalives, leases and load (every attach timeout).
    case maintenance
    /// When a lookup request or a provide stops waiting for its answer.
    case lookup
}
