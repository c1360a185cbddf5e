/// A DNS resource-record type (RFC 1035 §3.2.2 and later RFCs).
///
/// ONLY APPEND — values are protocol.
public struct DNSRecordType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 16-bit type code.
    public var rawValue: UInt16

    /// Wraps a type code.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// An IPv4 address (1).
    public static let a = DNSRecordType(rawValue: 1)
    /// A domain-name pointer (12).
    public static let ptr = DNSRecordType(rawValue: 12)
    /// Text strings (16).
    public static let txt = DNSRecordType(rawValue: 16)
    /// An IPv6 address (28).
    public static let aaaa = DNSRecordType(rawValue: 28)
    /// A service location (33, RFC 2782).
    public static let srv = DNSRecordType(rawValue: 33)
    /// The EDNS(0) pseudo-record (41, RFC 6891); decoded as unknown.
    public static let opt = DNSRecordType(rawValue: 41)
    /// Next secure, mDNS's negative answer (47, RFC 4034 §4, RFC 6762 §6.1).
    public static let nsec = DNSRecordType(rawValue: 47)
    /// Any type, in questions (255).
    public static let any = DNSRecordType(rawValue: 255)

    public static func < (lhs: DNSRecordType, rhs: DNSRecordType) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .a: "A"
        case .ptr: "PTR"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .srv: "SRV"
        case .opt: "OPT"
        case .nsec: "NSEC"
        case .any: "ANY"
        default: "TYPE\(rawValue)"
        }
    }
}
