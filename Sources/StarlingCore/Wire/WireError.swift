/// Why a datagram or encoded value could not be decoded or encoded.
///
/// Every decoder in StarlingCore reports bad input with one of these cases and never
/// traps, whatever the bytes.
public enum WireError: Error, Equatable, Sendable {
    /// A read needed `needed` more bytes at `offset` than the input holds.
    case truncated(offset: Int, needed: Int)
    /// A length or count field at `offset` is above its limit.
    case lengthTooLarge(offset: Int, length: Int, maximum: Int)
    /// Bytes remained after a value that must fill its input.
    case trailingBytes(count: Int)
    /// The protocol version byte is not one this build speaks.
    case unsupportedVersion(UInt8)
    /// The message type byte is not a known ``MessageType``.
    case unknownMessageType(UInt8)
    /// A string field is not valid UTF-8 (or is empty where that is not allowed).
    case invalidString(offset: Int)
    /// A field holds a value outside its domain (for example an unknown address family).
    case invalidValue(offset: Int, field: String)
    /// A value cannot be encoded because it breaks a wire limit.
    case unencodable(String)
}
