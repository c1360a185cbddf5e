/// The typed RDATA of a record.
public enum DNSRecordData: Hashable, Sendable {
    /// An IPv4 address, network order.
    case a(UInt32)
    /// An IPv6 address, as two big-endian halves.
    case aaaa(high: UInt64, low: UInt64)
    /// A pointer to another name (DNS-SD: service type → instance).
    case ptr(DNSName)
    /// A service location (RFC 2782).
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    /// Character strings, each at most 255 bytes (DNS-SD: `key=value` pairs, RFC 6763 §6).
    case txt([[UInt8]])
    /// mDNS's restricted NSEC (RFC 6762 §6.1): the next name (the owner itself) and the
    /// types that exist, all below 256 (one bitmap window, block 0).
    case nsec(next: DNSName, types: Set<DNSRecordType>)
    /// Any other type, its RDATA kept as bytes (names inside are not decompressed).
    case unknown(type: DNSRecordType, bytes: [UInt8])

    /// The record type this RDATA belongs to.
    public var type: DNSRecordType {
        switch self {
        case .a: .a
        case .aaaa: .aaaa
        case .ptr: .ptr
        case .srv: .srv
        case .txt: .txt
        case .nsec: .nsec
        case .unknown(let type, _): type
        }
    }

    /// Whether the RDATA was kept as raw bytes.
    public var isUnknown: Bool {
        if case .unknown = self { return true }
        return false
    }

    /// The RDATA in canonical uncompressed wire form (names lowered), as RFC 6762 §8.2
    /// compares proposed records.
    public var canonicalBytes: [UInt8] {
        var writer = DNSMessageEncoder(maximumSize: .max, compress: false)
        writer.writeRData(self, canonical: true)
        return Array(writer.bytes[MDNSConstants.headerSize...])
    }
}

/// One resource record: owner name, type, class, cache-flush bit, TTL and RDATA.
public struct DNSRecord: Hashable, Sendable, CustomStringConvertible {
    /// The owner name.
    public var name: DNSName
    /// The class without the cache-flush bit (1 = IN).
    public var recordClass: UInt16
    /// The cache-flush bit: the sender is the only owner of this name and type (RFC 6762 §10.2).
    public var cacheFlush: Bool
    /// Seconds the record may be cached; 0 is a goodbye (RFC 6762 §10.1).
    public var ttl: UInt32
    /// The typed RDATA.
    public var data: DNSRecordData

    /// Creates a record.
    public init(
        name: DNSName, data: DNSRecordData, ttl: UInt32, cacheFlush: Bool = false,
        recordClass: UInt16 = MDNSConstants.classIN
    ) {
        self.name = name
        self.recordClass = recordClass
        self.cacheFlush = cacheFlush
        self.ttl = ttl
        self.data = data
    }

    /// The record type.
    public var type: DNSRecordType { data.type }

    /// Whether `other` is the same record apart from TTL and cache-flush bit (same name,
    /// type, class and RDATA).
    public func sameData(as other: DNSRecord) -> Bool {
        name == other.name && recordClass == other.recordClass && data == other.data
    }

    public var description: String {
        "\(name) \(ttl) \(recordClass == 1 ? "IN" : "CLASS\(recordClass)")\(cacheFlush ? "*" : "") \(type) \(data)"
    }
}

/// One question: name, type, class and the QU (unicast-response) bit.
public struct DNSQuestion: Hashable, Sendable {
    /// The name asked about.
    public var name: DNSName
    /// The type asked for (``DNSRecordType/any`` for all).
    public var type: DNSRecordType
    /// The class without the QU bit.
    public var questionClass: UInt16
    /// The QU bit: the querier asks for a unicast reply (RFC 6762 §5.4).
    public var unicastResponse: Bool

    /// Creates a question.
    public init(
        name: DNSName, type: DNSRecordType, unicastResponse: Bool = false, questionClass: UInt16 = MDNSConstants.classIN
    ) {
        self.name = name
        self.type = type
        self.questionClass = questionClass
        self.unicastResponse = unicastResponse
    }

    /// Whether `record` answers this question (name, class and type or ANY).
    public func isAnswered(by record: DNSRecord) -> Bool {
        record.name == name && (questionClass == record.recordClass || questionClass == 255)
            && (type == .any || type == record.type)
    }
}
