/// mDNS and DNS-SD fixed values.
///
/// "Specification" values come from RFC 6762 (mDNS), RFC 6763 (DNS-SD) and RFC 1035;
/// changing one breaks interoperability. "Implementation" values are Starling's policy.
public enum MDNSConstants {
    // MARK: Specification

    /// The mDNS UDP port (RFC 6762 §3).
    public static let port: UInt16 = 5353
    /// The IPv4 group 224.0.0.251:5353 (RFC 6762 §3).
    public static let ipv4Group = PeerAddress.ipv4(224, 0, 0, 251, port: port)
    /// The IPv6 group [ff02::fb]:5353 (RFC 6762 §3).
    public static let ipv6Group = PeerAddress(host: .ipv6(high: 0xFF02_0000_0000_0000, low: 0xFB), port: port)
    /// Bytes of the DNS header (RFC 1035 §4.1.1).
    public static let headerSize = 12
    /// Longest label in bytes (RFC 1035 §2.3.4).
    public static let maximumLabelLength = 63
    /// Longest name in wire form, root byte included (RFC 1035 §2.3.4).
    public static let maximumNameLength = 255
    /// Largest mDNS message a receiver reads (RFC 6762 §17: 9000 bytes including headers).
    public static let maximumMessageSize = 9000
    /// The class IN.
    public static let classIN: UInt16 = 1
    /// The top bit of a question's class (QU, RFC 6762 §5.4) or a record's class
    /// (cache-flush, RFC 6762 §10.2).
    public static let classTopBit: UInt16 = 0x8000
    /// Header flag: response (QR).
    public static let flagResponse: UInt16 = 0x8000
    /// Header flag: authoritative answer (AA), set in every mDNS response (RFC 6762 §18.4).
    public static let flagAuthoritative: UInt16 = 0x0400
    /// Header flag: truncated (TC); in a query, more known answers follow (RFC 6762 §7.2).
    public static let flagTruncated: UInt16 = 0x0200
    /// TTL of records naming a host (A, AAAA, SRV) (RFC 6762 §10).
    public static let hostRecordTTL: UInt32 = 120
    /// TTL of other records (PTR, TXT) (RFC 6762 §10).
    public static let otherRecordTTL: UInt32 = 4500
    /// Largest TTL in a legacy unicast reply (RFC 6762 §6.7).
    public static let legacyUnicastTTL: UInt32 = 10
    /// Longest random wait before the first probe (RFC 6762 §8.1).
    public static let probeInitialDelayMaximum: Duration = .milliseconds(250)
    /// Time between probes, and after the last one before the name is won (RFC 6762 §8.1).
    public static let probeInterval: Duration = .milliseconds(250)
    /// Probes sent per attempt (RFC 6762 §8.1).
    public static let probeCount = 3
    /// Wait of a host that lost a simultaneous-probe tie-break (RFC 6762 §8.2).
    public static let probeTieBreakDelay: Duration = .seconds(1)
    /// Conflicts within ``conflictWindow`` after which probing slows down (RFC 6762 §8.1).
    public static let conflictLimit = 15
    /// The window of ``conflictLimit`` (RFC 6762 §8.1).
    public static let conflictWindow: Duration = .seconds(10)
    /// The wait before each probe attempt once the conflict limit is hit (RFC 6762 §8.1).
    public static let conflictBackoff: Duration = .seconds(5)
    /// Time between announcements (RFC 6762 §8.3).
    public static let announceInterval: Duration = .seconds(1)
    /// Shortest and longest random delay of a shared answer (RFC 6762 §6).
    public static let sharedAnswerDelay: ClosedRange<Duration> = .milliseconds(20)...(.milliseconds(120))
    /// Least time between two multicasts of one record on one interface (RFC 6762 §6).
    public static let multicastRateLimit: Duration = .seconds(1)
    /// Least time between two multicasts of one record defending against a probe (RFC 6762 §6).
    public static let probeDefenseRateLimit: Duration = .milliseconds(250)
    /// Shortest and longest random delay of a continuous querier's first query (RFC 6762 §5.2).
    public static let firstQueryDelay: ClosedRange<Duration> = .milliseconds(20)...(.milliseconds(120))
    /// The interval between a continuous querier's first two queries (RFC 6762 §5.2).
    public static let firstQueryInterval: Duration = .seconds(1)
    /// Longest interval between a continuous querier's queries (RFC 6762 §5.2).
    public static let maximumQueryInterval: Duration = .seconds(3600)
    /// How long a record lives after a goodbye or a cache flush (RFC 6762 §10.1, §10.2).
    public static let flushDelay: Duration = .seconds(1)
    /// Fractions of a TTL at which a querier refreshes a record it still wants (RFC 6762 §5.2).
    public static let refreshFractions: [Double] = [0.80, 0.85, 0.90, 0.95]
    /// Largest random addition to a refresh fraction (RFC 6762 §5.2: 2 % of the TTL).
    public static let refreshJitter = 0.02
    /// The DNS-SD service-type enumeration name (RFC 6763 §9).
    public static let servicesName = try! DNSName("_services._dns-sd._udp.local")
    /// The `local` domain.
    public static let localDomain = try! DNSName("local")

    // MARK: Implementation

    /// Most compression pointers one name may follow (Starling's cap against slow inputs).
    public static let maximumPointerJumps = 128
    /// Most questions and records one message may carry (a question takes at least 5
    /// bytes and a record 11, so 9000 bytes could hold 1800).
    public static let maximumRecordsPerMessage = 512
    /// Largest mDNS payload Starling sends: an Ethernet MTU less IPv6 and UDP headers.
    public static let defaultMaximumPayload = 1500 - 40 - 8
    /// The TTL a cache clamps every received record to (75 minutes).
    public static let maximumCachedTTL: UInt32 = 4500
}
