/// Counters of a ``SuperPeerCore``'s traffic, decisions and refusals.
public struct SuperPeerStatistics: Equatable, Sendable {
    /// Messages decoded and handled.
    public internal(set) var messagesReceived = 0
    /// Messages queued for sending.
    public internal(set) var messagesSent = 0
    /// Messages that did not decode; each was dropped.
    public internal(set) var malformedDropped = 0
    /// The error of the last malformed message.
    public internal(set) var lastDecodeError: WireError?
    /// Times this peer became a super-peer.
    public internal(set) var promotions = 0
    /// Times this peer went back to being a leaf (handovers included).
    public internal(set) var demotions = 0
    /// Times this super-peer offered its role to a much stronger leaf.
    public internal(set) var handoversOffered = 0
    /// Times this super-peer demoted because a leaf took its offer.
    public internal(set) var handoversGiven = 0
    /// Times this leaf promoted on a super-peer's offer.
    public internal(set) var handoversTaken = 0
    /// Offers this leaf turned down: it could not be elected now, or the offer did not
    /// come from a super-peer it is attached to (at the link's address).
    public internal(set) var handoverOffersDeclined = 0
    /// Attaches this leaf sent.
    public internal(set) var attachesSent = 0
    /// Attaches that got no answer within the attach timeout.
    public internal(set) var attachTimeouts = 0
    /// Keepalives a leaf's super-peer left unanswered within the reply timeout.
    public internal(set) var keepalivesMissed = 0
    /// Refusals this leaf received.
    public internal(set) var refusalsReceived = 0
    /// Links this leaf moved from a loaded super-peer to a lighter one.
    public internal(set) var rebalances = 0
    /// Attaches this super-peer refused because it held its maximum of leaves.
    public internal(set) var leavesRefused = 0
    /// Attaches refused because the leaf's record did not verify, and records in lookup
    /// replies that did not verify (or were not the peer's, or did not list the service).
    public internal(set) var invalidRecords = 0
    /// Leaves this super-peer dropped because their lease ran out.
    public internal(set) var leasesExpired = 0
    /// Adverts of new super-peers ignored because ``SuperPeerConstants/maximumKnownSuperPeers``
    /// were known.
    public internal(set) var superPeersRefused = 0
    /// Adverts ignored because they named a peer that is not an alive member.
    public internal(set) var advertsOfNonMembers = 0
    /// Adverts passed on that were older than the advert lifetime when they arrived
    /// (``SuperPeerAdvert/age``), ignored.
    public internal(set) var advertsTooOld = 0
    /// New members ignored because ``SuperPeerConstants/maximumMembers`` were tracked.
    public internal(set) var membersRefused = 0
    /// Relays this super-peer passed on, to a leaf it holds or from a member to another.
    public internal(set) var relaysForwarded = 0
    /// Relays dropped: this peer is no super-peer, or the target was neither this peer,
    /// nor one of its leaves, nor an alive member the origin itself sent the relay to.
    public internal(set) var relaysDropped = 0
    /// Lookup requests this peer sent to super-peers.
    public internal(set) var lookupRequestsSent = 0
    /// Lookup requests that got no reply in time (or whose super-peer failed).
    public internal(set) var lookupTimeouts = 0
    /// Lookups this super-peer answered.
    public internal(set) var lookupsAnswered = 0
    /// Lookup requests ignored because the asker was a member held at another address.
    public internal(set) var lookupsIgnored = 0
    /// Lookup requests and replies this peer sent (every reply, an empty one included).
    public internal(set) var lookupMessagesSent = 0
    /// The bytes of those messages (without the overlay's envelope).
    public internal(set) var lookupBytesSent = 0
    /// Lookups this peer started that finished with an answer.
    public internal(set) var lookupsFinished = 0
    /// Lookups this peer started that no super-peer could answer (handed to Kademlia).
    public internal(set) var lookupsFallenBack = 0
    /// Lookups refused because ``SuperPeerConstants/maximumLookups`` were running.
    public internal(set) var lookupsRefused = 0
    /// Messages that came from a peer with no standing for them (a filter update from a
    /// leaf not held, a reply from a super-peer not asked); each was ignored.
    public internal(set) var unexpectedMessages = 0

    /// All zero.
    public init() {}
}
