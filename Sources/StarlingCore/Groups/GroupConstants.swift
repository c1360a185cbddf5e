/// Overlay multicast groups' fixed values.
///
/// "Specification" values are protocol (`docs/PROTOCOL.md`, "Overlay multicast
/// groups"): changing one breaks interoperability. "Implementation" values are
/// Starling's policy.
public enum GroupConstants {
    // MARK: Specification
    /// Bytes of a group ID (and of a rendezvous key).
    public static let idSize = 32
    /// The domain of a group's ID: `BLAKE2b-256(key: group secret or nothing, message:
    /// domain ‖ swarm ID ‖ UTF-8 name)`.
    public static let idDomain: [UInt8] = Array("starling/group-id/v1".utf8) + [0]
    /// The domain of a group's key: `BLAKE2b-256(key: swarm secret, group secret, or the
    /// swarm ID in an open swarm without either, message: domain ‖ group ID)`.
    public static let keyDomain: [UInt8] = Array("starling/group-key/v1".utf8) + [0]
    /// The longest group name, in UTF-8 bytes.
    public static let maximumNameSize = 255
    /// Bytes of a message ID: the origin's peer ID, then its sequence number.
    public static let messageIDSize = 32 + 8
    /// The largest application payload of one group message: a sealed group datagram
    /// then fits one overlay datagram.
    public static let maximumPayloadSize =
        OverlayConstants.maximumMessageSize - dataOverhead
    /// Bytes of a `data` message besides its payload: kind, sender, group, message ID,
    /// hops, nonce, tag.
    public static let dataOverhead = 1 + 32 + idSize + messageIDSize + 1 + SwarmSealKey.nonceSize + SwarmSealKey.tagSize
    /// Rendezvous peers per group: each member reports to all of them.
    public static let rendezvousCount = 3
    /// Entries in one `report` message: 40 × 33 bytes keeps it within
    /// ``OverlayConstants/maximumMessageSize``.
    public static let maximumReportEntries = 40
    /// Members in one group's sample.
    public static let maximumSampleSize = 16
    /// Groups' samples in one `members` message (it is also kept within
    /// ``OverlayConstants/maximumMessageSize``).
    public static let maximumAnswers = 64
    /// Message IDs in one `ihave` message.
    public static let maximumIHaveEntries = 24

    // MARK: Implementation
    /// Mesh links a member makes when it has fewer than ``lowLinks``.
    public static let targetLinks = 5
    /// Below this many links, a member links to more known members.
    public static let lowLinks = 3
    /// The most links a member accepts; a link asked beyond it is refused.
    public static let maximumLinks = 16
    /// Known members (from rendezvous answers) kept per group, to link to later.
    public static let maximumCandidates = 32
    /// How often a member reports its groups to their rendezvous peers (IGMP's
    /// membership report).
    public static let reportInterval: Duration = .seconds(20)
    /// How long a rendezvous peer keeps a member that stopped reporting:
    /// three reports lost in a row.
    public static let registrationLifetime: Duration = reportInterval * 3 + .seconds(5)
    /// How long a member waits for a rendezvous answer before asking again; the wait
    /// doubles while answers bring nobody new, up to ``maximumAskInterval``.
    public static let reportRetry: Duration = .seconds(1)
    /// The longest wait between two requests for members of a group that has too few.
    public static let maximumAskInterval: Duration = .seconds(60)
    /// Times a missing message is asked for (of its announcers in turn) before it is
    /// given up.
    public static let maximumGrafts = 6
    /// How long a link asked for waits for its confirmation before it is asked again
    /// (at least; longer when the measured delays are).
    public static let linkTimeout: Duration = .seconds(1)
    /// Times a link is asked for before it is given up (and `unlink` sent).
    public static let maximumLinkAsks = 3
    /// How long a message is announced again, once a second to ``reannounceLinks``
    /// random links.
    public static let reannounceWindow: Duration = .seconds(3)
    /// Links a member announces its recent messages to, once a second.
    public static let reannounceLinks = 2
    /// How often expired registrations, origins and LAN-mates are swept out.
    public static let tablePruneInterval: Duration = .seconds(10)
    /// How long report entries wait for others to share their datagram.
    public static let reportBatchDelay: Duration = .milliseconds(20)
    /// How often each group's mesh is checked (links below ``lowLinks``).
    public static let meshInterval: Duration = .seconds(1)
    /// The wait before a batch of `ihave` announcements goes out.
    public static let iHaveDelay: Duration = .milliseconds(50)
    /// The wait, after an `ihave`, for the message to arrive by the tree before
    /// asking for it (`graft`); the announcer's measured round trip is added.
    public static let graftDelay: Duration = .milliseconds(150)
    /// The longest wait before asking for an announced message.
    public static let maximumGraftDelay: Duration = .seconds(1)
    /// Announcers remembered per missing message: asked in turn.
    public static let maximumAnnouncers = 4
    /// How long received messages are kept to answer grafts.
    public static let messageRetention: Duration = .seconds(30)
    /// Received messages kept to answer grafts, all groups together.
    public static let maximumRetainedMessages = 8_192
    /// How long an origin's window of seen sequence numbers outlives its last message:
    /// well past ``messageRetention``, so that no retained copy can be delivered twice.
    public static let originLifetime: Duration = .seconds(120)
    /// Origins whose seen windows are kept, all groups together; a message from a new
    /// origin beyond it is dropped (counted).
    public static let maximumOrigins = 16_384
    /// Groups one peer may join.
    public static let maximumJoinedGroups = 65_536
    /// Groups a rendezvous peer keeps registrations for; reports of more are refused.
    public static let maximumRendezvousGroups = 65_536
    /// Members a rendezvous peer keeps per group.
    public static let maximumRegistrationsPerGroup = 4_096
    /// Registrations a rendezvous peer keeps, all groups together.
    public static let maximumRegistrations = 262_144
    /// Missing messages (announced, not yet received) tracked at once.
    public static let maximumMissing = 4_096
    /// How long a non-member keeps the members it sends to.
    public static let fanoutLifetime: Duration = .seconds(60)
    /// Messages a non-member may have waiting per group while members are found.
    public static let maximumWaitingPerGroup = 64
    /// Groups a non-member may send to at once (fanout state kept).
    public static let maximumFanoutGroups = 1_024
    /// Times a non-member asks the rendezvous peers for members before giving up.
    public static let maximumFanoutAsks = 3
    /// Members a non-member sends each message to.
    public static let fanoutCopies = 2
}
