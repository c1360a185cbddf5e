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

    // MARK: Implementation

    /// The most contacts one reply carries: `k`.
    public static let maximumContactsPerMessage = bucketSize
    /// The most provider records one reply carries, so that a reply stays a few kilobytes.
    public static let maximumProvidersPerMessage = 8
    /// The largest routing message accepted: header, `k` IPv6 contacts, and
    /// ``maximumProvidersPerMessage`` maximal signed records with their length fields.
    public static let maximumMessageSize =
        headerSize + 2 + maximumContactsPerMessage * (32 + 1 + 16 + 2)
        + maximumProvidersPerMessage * (2 + RecordConstants.maximumSignedSize) + 64
    /// The most candidates a lookup remembers: `4k`. Farther ones are forgotten, which
    /// bounds each lookup's memory and number of requests.
    public static let maximumLookupCandidates = 4 * bucketSize
    /// The most lookups in progress at once; further commands finish at once, empty.
    public static let maximumActiveLookups = 256
    /// The most requests awaiting a reply at once.
    public static let maximumPendingRequests = 1_024

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
