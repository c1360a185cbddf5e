extension WireError: CustomStringConvertible {
    /// A sentence for people.
    public var description: String {
        switch self {
        case .truncated(let offset, let needed): "truncated: \(needed) more byte(s) needed at offset \(offset)"
        case .lengthTooLarge(let offset, let length, let maximum):
            "length \(length) at offset \(offset) exceeds the maximum of \(maximum)"
        case .trailingBytes(let count): "\(count) unexpected trailing byte(s)"
        case .unsupportedVersion(let version): "unsupported protocol version \(version)"
        case .unknownMessageType(let type): "unknown message type 0x\(String(type, radix: 16))"
        case .invalidString(let offset): "invalid string at offset \(offset)"
        case .invalidValue(let offset, let field): "invalid \(field) at offset \(offset)"
        case .unencodable(let reason): "cannot encode: \(reason)"
        }
    }
}
