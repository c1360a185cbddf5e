/// The spreading protocol's numbers, split into what peers must agree on and what one
/// implementation chooses.
///
/// Gossip is infect-and-die push gossip (Demers et al., "Epidemic Algorithms for
/// Replicated Database Maintenance", 1987; Kermarrec, Massoulié and Ganesh, "Probabilistic
/// Reliable Dissemination in Large-Scale Systems", 2003). Search is the Gnutella 0.4
/// flood with reverse-path hits. Control notices follow ICMP (RFC 792) and the RTT
/// estimator is RFC 6298.
public enum SpreadingConstants {
    // MARK: Specification

    /// Bytes in a peer ID on the wire.
    public static let peerIDSize = 32
    /// Bytes in a ``SpreadingID`` on the wire.
    public static let idSize = 16
    /// The largest payload the two-byte length field can carry.
    public static let maximumWirePayload = Int(UInt16.max)
    /// The largest hop count or TTL the one-byte fields can carry.
    public static let maximumWireHops = Int(UInt8.max)
    /// Query flag: the originator wants ``SpreadingMessage/ttlExceeded(id:origin:reporter:hops:)``
    /// notices from where its flood dies.
    public static let queryWantsNotices: UInt8 = 0x01
    /// Bytes in the Ed25519 signature that ends a gossip message, a query and a query hit.
    public static let signatureSize = IdentityKeyPair.signatureSize
    /// Bytes in the swarm ID every signature covers.
    public static let swarmIDSize = 32
    /// The domain label that opens the bytes a gossip message's origin signs (see
    /// ``SpreadingSignature``); one label per kind, so a signature never serves another kind.
    public static let gossipDomain: [UInt8] = Array("starling/spreading/gossip/v1".utf8) + [0]
    /// The domain label that opens the bytes a query's origin signs.
    public static let queryDomain: [UInt8] = Array("starling/spreading/query/v1".utf8) + [0]
    /// The domain label that opens the bytes a query hit's responder signs.
    public static let queryHitDomain: [UInt8] = Array("starling/spreading/query-hit/v1".utf8) + [0]

    // MARK: Implementation

    /// RFC 6298 §2.3 gain of the smoothed RTT: α = 1/8.
    public static let rttAlphaShift = 3
    /// RFC 6298 §2.3 gain of the RTT variation: β = 1/4.
    public static let rttBetaShift = 2
    /// RFC 6298 §2.3 variation multiplier K = 4 in `RTO = SRTT + max(G, K·RTTVAR)`.
    public static let rttVariationMultiplier = 4
    /// RFC 6298 §2.4 floor of the retransmission timeout.
    public static let minimumRetransmissionTimeout = Duration.seconds(1)
    /// A route remembers at most this many peers that sent hits through it, so that an
    /// unreachable notice can go back toward each responder.
    public static let maximumHitSourcesPerRoute = 8
    /// Bytes of the digest that names a checked message in the caches of verdicts
    /// (BLAKE2b-128 of its signed bytes and its signature): equal digests are treated as
    /// the same message, so a forgery repeated is refused without a second verification.
    public static let verdictDigestSize = 16
}
