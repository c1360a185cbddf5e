/// The bytes sealed in front of a payload in one transport message, without copying
/// the payload to join them: none (keepalives and whole inner messages), the inner
/// type, or the inner type and one leading byte of the layer above (a ``PeerCore``
/// channel).
struct InnerPrefix: Sendable {
    private let first: UInt8?
    private let second: UInt8?

    /// No prefix.
    static let none = InnerPrefix(first: nil, second: nil)

    /// The inner type of a user datagram, then `leading` when given.
    static func datagram(leading: UInt8?) -> InnerPrefix {
        InnerPrefix(first: InnerType.datagram.rawValue, second: leading)
    }

    /// Number of bytes.
    var count: Int { (first == nil ? 0 : 1) + (second == nil ? 0 : 1) }

    /// Appends the bytes to `buffer`.
    func append(to buffer: inout [UInt8]) {
        if let first { buffer.append(first) }
        if let second { buffer.append(second) }
    }
}
