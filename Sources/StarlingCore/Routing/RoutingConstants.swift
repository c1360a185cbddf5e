/// The Kademlia routing layer's constants.
///
/// "Specification" values are protocol: peers that disagree on them cannot interoperate.
/// "Implementation" values are limits this implementation enforces on what it accepts.
/// Reference: Maymounkov and Mazières, "Kademlia: A Peer-to-peer Information System
/// Based on the XOR Metric" (IPTPS 2002), section 2.
public enum RoutingConstants {
    // MARK: Specification

    /// Bits in a routing key (BLAKE2b-256 output).
    public static let keyBits = 256
    /// Bytes in a routing key.
    public static let keySize = keyBits / 8
    /// The bucket size `k` and the replication factor (paper, section 2.2).
    public static let bucketSize = 20
    /// The lookup parallelism `α` (paper, section 2.3).
    public static let parallelism = 3
    /// The domain that separates a peer's routing key from every other BLAKE2b use.
    public static let peerKeyDomain: [UInt8] = Array("starling/routing/peer-key/v1".utf8) + [0]
    /// The domain that separates a service's routing key from every other BLAKE2b use.
    public static let serviceKeyDomain: [UInt8] = Array("starling/routing/service-key/v1".utf8) + [0]
    /// Bytes before every message body: kind (1), request ID (8), sender peer ID (32).
    public static let headerSize = 1 + 8 + 32
    /// Random bytes in a `PROVE` challenge.
    public static let proofNonceSize = 32
    /// The exact size of a `PROVE` message: padded with zero bytes so that it is never
    /// smaller than the `PROOF` it asks for (header and 64-byte signature, 105 bytes),
    /// and a spoofed challenge gains no amplification.
    public static let proveMessageSize = 112
    /// The domain that separates a routing proof from every other signature.
    public static let proofDomain: [UInt8] = Array("starling/routing/proof/v1".utf8) + [0]

    // MARK: Implementation

    /// The most contacts one reply carries: `k`.
    public static let maximumContactsPerMessage = bucketSize
    /// The most provider records one reply carries, so that a reply stays a few kilobytes.
    public static let maximumProvidersPerMessage = 8
    /// The largest routing message accepted, the largest valid message there is: a
    /// `PROVIDERS` reply with header (41), record count (1),
    /// ``maximumProvidersPerMessage`` maximal signed records with their length fields
    /// (8 × (2 + 795)), contact count (1) and `k` IPv6 contacts (20 × 51):
    /// 41 + 1 + 6,376 + 1 + 1,020 = 7,439 bytes.
    public static let maximumMessageSize =
        headerSize + 1 + maximumProvidersPerMessage * (2 + RecordConstants.maximumSignedSize)
        + 1 + maximumContactsPerMessage * (Key32.size + 1 + 16 + 2)
    /// The most candidates a lookup remembers: `4k`. Farther ones are forgotten, which
    /// bounds each lookup's memory and number of requests.
    public static let maximumLookupCandidates = 4 * bucketSize
    /// The most lookups in progress at once; further commands finish at once, empty.
    public static let maximumActiveLookups = 256
    /// The most requests awaiting a reply at once.
    public static let maximumPendingRequests = 1_024
    /// The most `PROVE` challenges awaiting their proof at once (a part of
    /// ``maximumPendingRequests``); contacts met while it is full are not challenged,
    /// and are counted as ``RoutingDropReason/overloaded``.
    public static let maximumPendingProofs = 256
    /// The most proven contacts remembered beyond those the table holds (oldest
    /// forgotten first), so that a contact proves itself once, not at every message.
    public static let maximumProvenContacts = 4_096

    /// The most the measured round trip of replies may stretch the request timeout:
    /// times the configured one.
    public static let maximumTimeoutStretch = 10

    /// Timed-out requests remembered so that their late replies still measure the
    /// round trip.
    public static let expiredRequestMemory = 32
    /// The most buckets one maintenance tick refreshes, bounding the burst of lookups.
    public static let maximumRefreshesPerTick = 4
    /// Times a peer lookup asks the wanted peer again after a request to it timed out.
    /// Only that peer hands out its own record: at 5 % loss each way a request is lost
    /// about one time in ten, and asking once more still lost 4 of 600 lookups in a
    /// 200-peer swarm; with 3 more asks, four losses in a row happen about once in
    /// 10,000 lookups. A target that is gone costs at most 4 request timeouts.
    public static let targetRetries = 3
}
