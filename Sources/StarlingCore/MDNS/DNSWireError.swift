/// Why a DNS (mDNS) message could not be decoded or encoded.
///
/// The decoder reports hostile or malformed input with one of these cases and never
/// traps, whatever the bytes (see ``DNSMessage/decode(_:)-(UnsafeRawBufferPointer)``).
public enum DNSWireError: Error, Equatable, Sendable {
    /// The message is shorter than a 12-byte header.
    case tooShort(count: Int)
    /// The message is longer than ``MDNSConstants/maximumMessageSize``.
    case tooLong(count: Int)
    /// A field at `offset` runs past the end of the message (or of its RDATA).
    case truncated(offset: Int)
    /// A label at `offset` uses the reserved label types `0b01` or `0b10` (RFC 6891 §5).
    case badLabelType(offset: Int)
    /// A compression pointer at `offset` does not point strictly before the name it is
    /// part of (which would allow loops), or points into the header.
    case badPointer(offset: Int, target: Int)
    /// A name follows more compression pointers than ``MDNSConstants/maximumPointerJumps``.
    case tooManyPointers(offset: Int)
    /// A label is longer than 63 bytes.
    case labelTooLong(length: Int)
    /// A name is longer than 255 bytes in wire form.
    case nameTooLong
    /// A label is empty where it must not be (only the root ends a name).
    case emptyLabel
    /// The section counts add up to more than ``MDNSConstants/maximumRecordsPerMessage``.
    case tooManyRecords(count: Int)
    /// The RDATA of a record at `offset` does not have the length its type requires, or
    /// its typed parse did not consume exactly RDLENGTH bytes.
    case badRData(offset: Int, type: UInt16)
    /// An NSEC type bitmap window at `offset` is malformed (length 0 or above 32,
    /// overrunning its RDATA, or windows out of order).
    case badNSECWindow(offset: Int)
    /// Bytes follow the last record the counts announce.
    case trailingBytes(count: Int)
    /// A value cannot be encoded (a string longer than 255 bytes, a message above the size limit).
    case unencodable(String)
}

extension DNSWireError: CustomStringConvertible {
    /// A sentence for people.
    public var description: String {
        switch self {
        case .tooShort(let count): "message of \(count) byte(s) is shorter than the 12-byte header"
        case .tooLong(let count): "message of \(count) bytes exceeds \(MDNSConstants.maximumMessageSize)"
        case .truncated(let offset): "truncated at offset \(offset)"
        case .badLabelType(let offset): "reserved label type at offset \(offset)"
        case .badPointer(let offset, let target):
            "compression pointer at offset \(offset) to \(target) does not point strictly backwards"
        case .tooManyPointers(let offset): "too many compression pointers in the name at offset \(offset)"
        case .labelTooLong(let length): "label of \(length) bytes exceeds 63"
        case .nameTooLong: "name exceeds 255 bytes"
        case .emptyLabel: "empty label inside a name"
        case .tooManyRecords(let count):
            "\(count) records exceed the limit of \(MDNSConstants.maximumRecordsPerMessage)"
        case .badRData(let offset, let type): "malformed RDATA of type \(type) at offset \(offset)"
        case .badNSECWindow(let offset): "malformed NSEC type bitmap window at offset \(offset)"
        case .trailingBytes(let count): "\(count) unexpected trailing byte(s)"
        case .unencodable(let reason): "cannot encode: \(reason)"
        }
    }
}
