/// A DNS message as mDNS uses it (RFC 1035 §4.1, RFC 6762 §18): header, questions,
/// answers, authority records (proposed records in probes) and additional records.
///
/// ### Purpose
/// Encode with ``encoded(maximumSize:)`` (names compressed), decode with
/// ``decode(_:)-(UnsafeRawBufferPointer)``, which follows the hostile-input rules of
/// ``DNSWireError``. The decoder checks only the wire format; whether to ignore a
/// message with a non-zero opcode or rcode is the cores' decision (RFC 6762 §18.3, §18.11).
public struct DNSMessage: Hashable, Sendable {
    /// The message ID: 0 in multicast messages, echoed in legacy unicast replies.
    public var id: UInt16
    /// The header flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode).
    public var flags: UInt16
    /// The question section.
    public var questions: [DNSQuestion]
    /// The answer section (known answers in a query).
    public var answers: [DNSRecord]
    /// The authority section (proposed records in a probe).
    public var authorities: [DNSRecord]
    /// The additional section.
    public var additionals: [DNSRecord]

    /// Creates a message.
    public init(
        id: UInt16 = 0, flags: UInt16 = 0, questions: [DNSQuestion] = [], answers: [DNSRecord] = [],
        authorities: [DNSRecord] = [], additionals: [DNSRecord] = []
    ) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    /// An mDNS response header's flags: QR and AA.
    public static let responseFlags = MDNSConstants.flagResponse | MDNSConstants.flagAuthoritative

    /// Whether QR is set.
    public var isResponse: Bool { flags & MDNSConstants.flagResponse != 0 }
    /// Whether TC is set.
    public var isTruncated: Bool { flags & MDNSConstants.flagTruncated != 0 }
    /// The 4-bit opcode.
    public var opcode: UInt8 { UInt8((flags >> 11) & 0xF) }
    /// The 4-bit response code.
    public var rcode: UInt8 { UInt8(flags & 0xF) }
    /// Every record in answers, authorities and additionals.
    public var allRecords: [DNSRecord] { answers + authorities + additionals }

    /// Encodes the message, compressing names.
    /// - Parameter maximumSize: the largest result allowed.
    /// - Throws: ``DNSWireError/unencodable(_:)`` when it does not fit.
    public func encoded(maximumSize: Int = MDNSConstants.maximumMessageSize) throws(DNSWireError) -> [UInt8] {
        var encoder = DNSMessageEncoder(id: id, flags: flags, maximumSize: maximumSize)
        for question in questions {
            guard encoder.append(question) else { throw .unencodable("message exceeds \(maximumSize) bytes") }
        }
        for (section, records) in [(DNSSection.answer, answers), (.authority, authorities), (.additional, additionals)]
        {
            for record in records {
                guard encoder.append(record, to: section) else {
                    throw .unencodable("message exceeds \(maximumSize) bytes")
                }
            }
        }
        return encoder.finish()
    }
}

/// The three record sections of a message, in wire order.
public enum DNSSection: Int, Comparable, Sendable {
    /// Answers (or known answers in a query).
    case answer = 0
    /// Authority records.
    case authority = 1
    /// Additional records.
    case additional = 2

    public static func < (lhs: DNSSection, rhs: DNSSection) -> Bool { lhs.rawValue < rhs.rawValue }
}
