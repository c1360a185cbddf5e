/// Settings of one ``MDNSBrowser`` (one interface).
public struct MDNSBrowserConfiguration: Sendable {
    /// Why a configuration cannot be used.
    public enum ValidationError: Error, Equatable, Sendable {
        /// No multicast destination is configured.
        case noDestinations
        /// The payload limit is below 512 or above 8952 bytes (RFC 6762 §17).
        case invalidPayloadLimit(Int)
        /// A cache cap is below 1, or the per-source cap is above the total.
        case invalidCacheLimits(total: Int, perSource: Int)
    }

    /// Where queries go: by default both mDNS groups.
    public var destinations: [PeerAddress]
    /// Largest query payload; more known answers than fit go in continuation packets
    /// (TC set). Default: 1452.
    public var maximumPayload: Int
    /// Most cached records. Raising it holds bigger LANs in memory; lowering it evicts
    /// (soonest expiry first) and refetches more often. Default 1024.
    public var maximumCacheEntries: Int
    /// Most cached records from one source address, so that one host cannot fill the
    /// cache. Default 128.
    public var maximumCacheEntriesPerSource: Int
    /// Longest interval of continuous querying (RFC 6762 §5.2 allows a 60-minute cap).
    /// Shorter finds silent newcomers sooner at the cost of traffic.
    public var maximumQueryInterval: Duration
    /// Most datagrams waiting to be polled; beyond it the oldest are dropped.
    public var maximumOutbox: Int

    /// A configuration with the defaults above.
    public init() {
        destinations = [MDNSConstants.ipv4Group, MDNSConstants.ipv6Group]
        maximumPayload = MDNSConstants.defaultMaximumPayload
        maximumCacheEntries = 1024
        maximumCacheEntriesPerSource = 128
        maximumQueryInterval = MDNSConstants.maximumQueryInterval
        maximumOutbox = 256
    }

    /// Checks every field.
    /// - Throws: ``ValidationError``.
    public func validate() throws(ValidationError) {
        guard !destinations.isEmpty else { throw .noDestinations }
        guard (512...8952).contains(maximumPayload) else { throw .invalidPayloadLimit(maximumPayload) }
        guard maximumCacheEntries >= 1, (1...maximumCacheEntries).contains(maximumCacheEntriesPerSource) else {
            throw .invalidCacheLimits(total: maximumCacheEntries, perSource: maximumCacheEntriesPerSource)
        }
    }
}

/// A resolved DNS-SD service instance, as an ``MDNSBrowser`` reports it.
public struct MDNSResolvedService: Hashable, Sendable {
    /// The full instance name, `<instance>.<type>.<domain>`.
    public var name: DNSName
    /// The service type name, `<type>.<domain>`.
    public var type: DNSName
    /// The host the SRV record names.
    public var host: DNSName
    /// The port from the SRV record.
    public var port: UInt16
    /// The host's addresses (A and AAAA), sorted.
    public var addresses: [PeerAddress.Host]
    /// The TXT strings.
    public var txt: [[UInt8]]

    /// The instance label as text.
    public var instance: String { name.firstLabel }

    /// The TXT strings as key/value pairs (RFC 6763 §6.4): keys lowered, the first
    /// occurrence of a key wins, a key without `=` has a `nil` value, empty keys are skipped.
    public var txtValues: [String: [UInt8]?] {
        var result: [String: [UInt8]?] = [:]
        for string in txt {
            let keyBytes = string.prefix { $0 != UInt8(ascii: "=") }
            guard !keyBytes.isEmpty else { continue }
            let key = String(decoding: keyBytes.map(DNSName.lowered), as: UTF8.self)
            guard result[key] == nil else { continue }
            result[key] = keyBytes.count == string.count ? .some(nil) : Array(string[(keyBytes.count + 1)...])
        }
        return result
    }
}

/// What an ``MDNSBrowser`` reports.
public enum MDNSBrowserEvent: Hashable, Sendable {
    /// A browsed instance is now resolved (SRV, TXT and at least one address known).
    case added(MDNSResolvedService)
    /// A resolved instance changed (port, host, addresses or TXT).
    case updated(MDNSResolvedService)
    /// A resolved instance went away (its PTR expired or was withdrawn with a goodbye).
    case removed(DNSName)
    /// Service-type enumeration found a type (RFC 6763 §9).
    case serviceTypeAdded(DNSName)
    /// A type found by enumeration expired.
    case serviceTypeRemoved(DNSName)
}
