/// The settings of a ``RoutingCore``.
///
/// Build one from a profile (``lan``, ``wan``, ``local``, ``simulation``) and change
/// single fields as needed.
public struct RoutingConfiguration: Sendable, Equatable {
    /// `k`: entries per bucket, contacts per reply, and peers a provider record is
    /// stored at. Raising it makes lookups and stores more robust to churn at the cost
    /// of bigger tables, replies and store fan-out; 20 is the paper's value.
    public var bucketSize: Int
    /// `α`: requests a lookup keeps in flight. Raising it cuts lookup latency under
    /// timeouts at the cost of more traffic per lookup.
    public var parallelism: Int
    /// How long a request may wait for its reply before the peer counts as failed.
    /// Lower finds dead peers sooner but misjudges slow ones; set it above the path's
    /// round-trip time with margin.
    public var requestTimeout: Duration
    /// The longest a whole lookup may run; it then finishes with what it has. Bounds a
    /// lookup that keeps learning of unresponsive peers.
    public var lookupTimeout: Duration
    /// Consecutive request timeouts after which a table entry is removed. Higher keeps
    /// peers through brief loss; lower forgets dead peers sooner.
    public var failureThreshold: Int
    /// Replacement-cache entries per bucket. Larger refills buckets faster after
    /// failures, at some memory per bucket.
    public var replacementCacheSize: Int
    /// A bucket not looked up for this long is refreshed by a lookup of a random key in
    /// its range (the paper uses an hour). Lower keeps tables fresher under churn at the
    /// cost of `log2(n)` lookups per interval per peer.
    public var refreshInterval: Duration
    /// Whether ``RoutingCore/bootstrap(seeds:now:)`` ends by refreshing the buckets
    /// farther than the closest neighbour that are not full (paper, section 2.3,
    /// joining; bounded to ``RoutingConstants/maximumRefreshesPerTick`` buckets, deepest
    /// first). It costs up to that many extra lookups per join (about 4 times the join
    /// traffic in a 10,000-peer simulation) and fills the sparse middle buckets; without
    /// it, a few lookups in a freshly joined swarm can stall (2 in 500 at 10,000 peers).
    public var refreshAfterBootstrap: Bool
    /// How often the core checks for buckets to refresh, records to republish and
    /// stored records that expired. Lower is more timely and wakes the core more often.
    public var maintenanceInterval: Duration
    /// How long a peer keeps a provider record it was given (never beyond the record's
    /// own expiry). Must exceed ``republishInterval`` so records never lapse.
    public var providerLifetime: Duration
    /// How often a provider stores its records again at the then-closest peers.
    /// Lower survives churn better at the cost of `k` stores per service per interval.
    public var republishInterval: Duration
    /// The most provider records a peer stores for others. Bounds memory; when full,
    /// new records are refused until old ones expire.
    public var maximumProviderRecords: Int
    /// The most provider records stored per service; the rest are refused.
    public var maximumProvidersPerService: Int
    /// The most name chains a peer stores for others (``NameStore``). Bounds memory;
    /// when full, chains for new keys are refused until old ones expire.
    public var maximumNameChains = 4_096
    /// The most name chains stored per root zone, so that one key cannot fill the store.
    public var maximumNameChainsPerZone = 64
    /// The largest reply this peer sends, in encoded bytes; longer replies lose their
    /// farthest contacts, then provider records, until they fit. The default fits one
    /// overlay datagram (``OverlayConstants/maximumMessageSize``).
    public var maximumReplySize = OverlayConstants.maximumMessageSize
    /// The subnet limit of each bucket (entries and replacements together): by default
    /// 2 per IPv4 `/24` and per IPv6 `/64`, so that one network's addresses hold at most
    /// 2 of a bucket's 20 slots however many peer IDs they prove. Loopback addresses are
    /// always exempt (see ``AddressDiversity``); `local` and `simulation` set no limit.
    /// A contact refused for it is counted as ``RoutingDropReason/subnetFull``.
    public var diversity = AddressDiversity(maximumPerSubnet: 2)
    /// The subnet limit of each service's provider records, by the address their
    /// provider proved it receives at: by default 2 per `/24` or `/64`, so that one
    /// network cannot take the 20 slots of a service. Loopback is exempt.
    public var providerDiversity = AddressDiversity(maximumPerSubnet: 2)

    /// Defaults for a LAN or a well-connected data centre; the paper's values where it
    /// gives one.
    public static let lan = RoutingConfiguration(
        bucketSize: RoutingConstants.bucketSize, parallelism: RoutingConstants.parallelism,
        requestTimeout: .seconds(1), lookupTimeout: .seconds(30), failureThreshold: 2,
        replacementCacheSize: RoutingConstants.bucketSize, refreshInterval: .seconds(3_600),
        refreshAfterBootstrap: true,
        maintenanceInterval: .seconds(60), providerLifetime: .seconds(48 * 3_600),
        republishInterval: .seconds(22 * 3_600), maximumProviderRecords: 4_096, maximumProvidersPerService: 20)

    /// The internet: longer round trips and more loss.
    public static let wan: RoutingConfiguration = {
        var configuration = lan
        configuration.requestTimeout = .seconds(3)  // intercontinental RTTs plus queueing
        configuration.lookupTimeout = .seconds(60)  // a few slow hops must still fit
        configuration.failureThreshold = 3  // tolerate more loss before dropping entries
        return configuration
    }()

    /// Peers on one host (loopback): answers arrive at once.
    public static let local: RoutingConfiguration = {
        var configuration = lan
        // Loopback RTTs are microseconds, but hundreds of peers share a few threads.
        configuration.requestTimeout = .milliseconds(500)
        configuration.lookupTimeout = .seconds(5)  // no lookup should ever need more
        configuration.diversity = .unlimited  // every peer of one host shares its addresses
        configuration.providerDiversity = .unlimited
        return configuration
    }()

    /// The simulator: short intervals so that tests cover refresh, expiry and republish
    /// in little virtual time.
    public static let simulation: RoutingConfiguration = {
        var configuration = lan
        configuration.requestTimeout = .milliseconds(500)  // simulated links are fast
        configuration.lookupTimeout = .seconds(10)  // bounds each lookup's virtual time
        configuration.refreshInterval = .seconds(600)  // refresh happens within a test
        configuration.maintenanceInterval = .seconds(30)  // few wake-ups for 10,000 peers
        configuration.providerLifetime = .seconds(300)  // expiry observable within a test
        configuration.republishInterval = .seconds(120)  // well inside the lifetime
        configuration.diversity = .unlimited  // simulated nodes share 127.0.0.0/8
        configuration.providerDiversity = .unlimited
        return configuration
    }()
}
