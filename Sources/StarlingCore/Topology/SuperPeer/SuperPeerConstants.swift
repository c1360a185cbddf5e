/// The super-peer protocol's constants.
///
/// "Specification" values are protocol: peers that disagree on them cannot interoperate.
/// "Implementation" values are limits this implementation enforces on what it accepts.
/// References: the Gnutella 0.6 ultrapeer proposal (Singla and Rohrs, 2002) and the
/// Query Routing Protocol (Rohrs, 2001), whose tables ``QueryRoutingFilter`` follows.
public enum SuperPeerConstants {
    // MARK: Specification

    /// Bytes of a peer ID on the wire.
    public static let peerIDSize = 32
    /// The smallest filter table: 2^8 = 256 bits.
    public static let minimumFilterLog2Bits = 8
    /// The largest filter table: 2^12 = 4,096 bits (512 bytes), so that an attach
    /// (largest signed record plus filter) still fits ``maximumMessageSize``.
    public static let maximumFilterLog2Bits = 12
    /// The most bit positions one keyword sets in a filter.
    public static let maximumFilterHashes = 8
    /// The seed of the filter's keyword hash (FNV-1a 64 offset basis, then mixed): fixed,
    /// so that every process computes the same bits for a keyword.
    public static let filterHashSeed: UInt64 = 0xCBF2_9CE4_8422_2325
    /// Advert flag: the peer is a super-peer (clear: it has withdrawn).
    public static let advertSuperPeerFlag: UInt8 = 0x01
    /// The most advert entries besides the sender's own in one advert.
    public static let maximumAdvertEntries = 16
    /// The most alternative super-peers one attach reply names.
    public static let maximumAlternatives = 4
    /// The largest super-peer message, in bytes: it must fit one overlay datagram.
    public static let maximumMessageSize = 1_400
    /// The largest payload a relay message carries: the message limit less kind (1),
    /// two peer IDs (64) and the length (2).
    public static let maximumRelayPayload = maximumMessageSize - 1 - 2 * peerIDSize - 2
    /// The most records one lookup reply carries (the message limit cuts sooner for
    /// large records).
    public static let maximumLookupRecords = 16
    /// The most other super-peers one lookup reply refers to.
    public static let maximumReferrals = 16

    // MARK: Implementation

    /// An advert entry that no newer version refreshed within this many advert
    /// intervals is forgotten (its super-peer is gone or unreachable).
    public static let advertLifetimeIntervals = 20
    /// The most super-peers this peer knows of at once; adverts naming more are
    /// refused and counted (``SuperPeerStatistics/superPeersRefused``).
    public static let maximumKnownSuperPeers = 1_024
    /// The most members this core tracks (as membership's own bound); beyond it new
    /// members are refused and counted.
    public static let maximumMembers = 16_384
    /// The most keywords a leaf declares (``SuperPeerCore/setKeywords(_:now:)``).
    public static let maximumKeywords = 256
    /// The most keywords taken from one query; the rest are ignored (a query with more
    /// words only becomes stricter, so ignoring the tail can only admit more leaves).
    public static let maximumQueryKeywords = 32
    /// The most consecutive short rounds that raise a leaf's promotion chance
    /// (``SuperPeerElection/promotionProbability(members:superPeers:target:weight:rounds:)``):
    /// a shortage that one round did not fill is filled faster in the next, and the cap
    /// keeps a long shortage from making every leaf promote at once.
    public static let maximumShortageRounds = 3
    /// The chance per election round that a super-peer holding a much stronger
    /// candidate offers it its role (``SuperPeerCore/successor``): a third, so that the
    /// three super-peers of a leaf rarely all hand over, and detach it, in the same round,
    /// while a swarm's handovers still finish within a few rounds.
    public static let handoverChance = 1.0 / 3
    /// A super-peer's periodic advert reaches each of its leaves every this many advert
    /// rounds (the other super-peers every round): leaves need its load and the
    /// super-peers it knows for rebalancing and failover, not every second.
    public static let leafAdvertRounds = 4
    /// A super-peer sends the other super-peers its leaves' union filter every this many
    /// advert rounds even when it did not change, so that a filter lost on the way (or
    /// refused) is mended: a super-peer whose filter another lacks is referred for
    /// every lookup there.
    public static let unionFilterRefreshRounds = 10
    /// The most union filters a super-peer holds for senders whose advert has not
    /// arrived yet (a filter goes out as soon as its sender learns of a super-peer, and
    /// may overtake the advert that tells the receiver of the sender).
    public static let maximumWaitingFilters = 256
    /// The most adverts of super-peers not yet members that a leaf on no super-peer keeps
    /// until membership brings their members (four adverts' worth of entries).
    public static let maximumAdvertsAwaitingMembers = 4 * maximumAdvertEntries
    /// Keepalives in a row left unanswered (each within the link's RTT-based reply
    /// timeout) after which a leaf counts its super-peer unresponsive and attaches
    /// elsewhere.
    public static let keepalivesMissedBeforeDown = 2
    /// The most members a promotion or withdrawal is announced to at once; above it a
    /// random sample of this many is told and periodic adverts reach the rest.
    public static let maximumAnnouncements = 1_024
    /// The most lookups (peer, service, provide) running at once; beyond it a lookup is
    /// refused, counted (``SuperPeerStatistics/lookupsRefused``) and left to the Kademlia
    /// overlay.
    public static let maximumLookups = 256
    /// The most requests one service lookup has in flight at once (its fan-out to the
    /// referred super-peers).
    public static let lookupParallelism = 32
    /// The most super-peers one lookup asks in all (its requests).
    public static let maximumLookupQueries = 32
    /// The shortest wait for a super-peer's lookup reply, whatever its measured round trip.
    public static let minimumLookupTimeout: Duration = .milliseconds(200)
    /// The longest wait for a super-peer's lookup reply (also the wait before any round
    /// trip to it was measured).
    public static let maximumLookupTimeout: Duration = .seconds(2)
    /// The most super-peers whose lookup round trips are remembered; beyond it new
    /// ones are timed with ``maximumLookupTimeout``.
    public static let maximumLookupRoundTrips = maximumKnownSuperPeers
}
