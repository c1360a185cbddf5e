/// The overlay datagram's fixed values.
///
/// "Specification" values are protocol (`docs/PROTOCOL.md`, "Overlay datagrams"):
/// changing one breaks interoperability. "Implementation" values are Starling's policy.
public enum OverlayConstants {
    // MARK: Specification
    /// The mode byte of an open swarm's overlay datagram: swarm tag, then the message.
    public static let modeOpen: UInt8 = 0x00
    /// The mode byte of a private swarm's overlay datagram: nonce, then the sealed message.
    public static let modeSealed: UInt8 = 0x01
    /// Bytes before the body: version, type, mode.
    public static let prefixSize = DatagramHeader.size + 1
    /// Bytes of the swarm tag that opens an open datagram's body.
    public static let swarmTagSize = 8
    /// Bytes of the sender's Unix time that opens a sealed plaintext.
    public static let sentAtSize = 8
    /// Bytes of the protocol byte in front of every message.
    public static let protocolSize = 1
    /// The domain string of the overlay key derivation (see ``SwarmSealKey``), and of the
    /// swarm tag: `tag = BLAKE2b-256(message: domain ‖ swarm ID)[0..<8]`.
    public static let keyDomain: [UInt8] = Array("starling/overlay/v1".utf8) + [0]
    /// The largest message (membership, routing or spreading) one datagram carries, so
    /// that a sealed datagram of it fits a 1500-byte IPv6 link (1452 bytes of UDP payload).
    public static let maximumMessageSize = 1_400
    /// Bytes an open datagram adds to its message.
    public static let openOverhead = prefixSize + swarmTagSize + protocolSize
    /// Bytes a sealed datagram adds to its message.
    public static let sealedOverhead =
        prefixSize + SwarmSealKey.nonceSize + sentAtSize + protocolSize + SwarmSealKey.tagSize
    /// The largest overlay datagram: a sealed one of the largest message (1452 bytes).
    public static let maximumDatagramSize = maximumMessageSize + sealedOverhead
    /// A sealed datagram is accepted only when its sender's time is within this much of
    /// the receiver's, either way.
    public static let replayWindow: Duration = .seconds(60)
    /// Bytes of the random nonce an address check carries (see ``AddressCheckMessage``).
    public static let addressCheckNonceSize = 16
    /// Bytes of an address check message: kind byte, then the nonce.
    public static let addressCheckMessageSize = 1 + addressCheckNonceSize

    // MARK: Implementation
    /// How long before its expiry the local record is signed again with a new sequence.
    public static let recordRenewal: Duration = .seconds(600)
    /// The lifetime the local record is signed for.
    public static let recordLifetime: Duration = .seconds(3_600)

    /// How often a pure overlay's partial membership view forgets the members that left
    /// its Kademlia table (``OverlayConfiguration/pureViewThreshold``).
    public static let pureViewRetainInterval: Duration = .seconds(5)
    /// How long such a member stays held after it left the table: a contact that leaves
    /// a full bucket often comes back through the replacement cache, and one routing
    /// dropped for slow answers is put back while membership still finds it alive.
    public static let pureViewGrace: Duration = .seconds(10)

    /// How long an address that answered an address check counts as proven: nothing
    /// to it is capped. Then it starts over with ``unprovenAllowance`` and is checked
    /// again only if something to it has to wait.
    public static let addressProofLifetime: Duration = .seconds(600)
    /// How long an unanswered address check is waited for before another may be sent.
    public static let addressCheckRetry: Duration = .seconds(1)
    /// Bytes this peer may send to an address that has sent it nothing, before that
    /// address proves it receives: one largest overlay datagram, so that the first
    /// message to a seed or a member never waits (a join, a ping).
    public static let unprovenAllowance = maximumDatagramSize
    /// The most credit an unproven address can bank: what it sent minus what it got.
    public static let maximumAddressCredit = 64 * 1_024
    /// Addresses whose proof, credit and held datagrams are tracked; past it the least
    /// recently active go, unproven ones first.
    public static let maximumTrackedAddresses = 4_096
    /// Bytes of datagrams held for one unproven address until it answers a check.
    public static let maximumHeldBytesPerAddress = 64 * 1_024
    /// Bytes of datagrams held for all unproven addresses together.
    public static let maximumHeldBytes = 1_024 * 1_024
    /// How long held datagrams wait for their address to answer a check; then dropped.
    public static let heldLifetime: Duration = .seconds(5)
    /// Address check messages (challenges and responses) queued to send at once.
    public static let maximumQueuedChecks = 1_024
    /// Peers whose session datagrams go through a super-peer at once; routes to more are
    /// refused (``OverlayStatistics/relayRoutesRefused``).
    public static let maximumRelayRoutes = 4_096
    /// Relayed session datagrams received and not yet taken by the session layer.
    public static let maximumRelayedWaiting = 256
    /// Human top-level names a configuration may pin (``OverlayConfiguration/namePins``).
    public static let maximumNamePins = 1_024
}

/// Which overlay protocol a message belongs to: the byte in front of it.
///
/// ONLY APPEND — values are protocol.
public enum OverlayProtocol: UInt8, Sendable, CaseIterable {
    /// SWIM membership (``MembershipMessage``).
    case membership = 0x01
    /// Kademlia routing (``RoutingMessage``).
    case routing = 0x02
    /// Gossip, floods and control messages (``SpreadingMessage``).
    case spreading = 0x03
    /// Address checks: proof that a source address receives (``AddressCheckMessage``).
    case addressCheck = 0x04
    /// Registrations and lookups of the hybrid topology's index servers (``IndexMessage``).
    case index = 0x05
    /// Election, leaf links and filters of the super-peer topology (``SuperPeerMessage``).
    case superPeer = 0x06
    /// Overlay multicast groups: reports, links and messages (``GroupMessage``).
    case group = 0x07
}

/// Why an overlay datagram was dropped before any protocol saw it.
public enum OverlayDrop: Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Too short, too long, or with a bad mode byte.
    case malformed
    /// An unknown protocol byte.
    case unknownProtocol
    /// Open in a private swarm, or sealed in an open one.
    case wrongMode
    /// An open datagram of another swarm.
    case wrongSwarm
    /// A sealed datagram that does not open under this swarm's key.
    case unauthentic
    /// A sealed datagram whose sender's time is outside the replay window.
    case stale
    /// A sealed datagram already received within the replay window (its nonce is in
    /// the replay cache).
    case replayed
    /// A sealed datagram sent at or before the replay floor: the replay cache was full
    /// and forgot datagrams that old, so none of them is accepted any more.
    case belowReplayFloor
    /// Over the rate limit of its source address (IP and port).
    case sourceRateLimited
    /// Over the rate limit of all sources together.
    case totalRateLimited

    public var description: String {
        switch self {
        case .malformed: "malformed"
        case .unknownProtocol: "unknown protocol"
        case .wrongMode: "wrong mode"
        case .wrongSwarm: "wrong swarm"
        case .unauthentic: "unauthentic"
        case .stale: "stale"
        case .replayed: "replayed"
        case .belowReplayFloor: "below replay floor"
        case .sourceRateLimited: "source rate-limited"
        case .totalRateLimited: "total rate-limited"
        }
    }
}
