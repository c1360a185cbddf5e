/// A 64-byte Ed25519 signature held inline (no heap allocation), as membership claims
/// carry it.
public struct ClaimSignature: Hashable, Sendable {
    /// The size in bytes.
    public static let size = IdentityKeyPair.signatureSize

    private let head: Key32
    private let tail: Key32

    /// Takes the signature's two halves.
    init(head: Key32, tail: Key32) {
        self.head = head
        self.tail = tail
    }

    /// Takes exactly 64 bytes, or returns nil for any other count.
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == Self.size else { return nil }
        let array = Array(bytes)
        guard let head = Key32(array[0..<Key32.size]), let tail = Key32(array[Key32.size...]) else { return nil }
        self.head = head
        self.tail = tail
    }

    /// The 64 bytes, in order.
    public var bytes: [UInt8] {
        var writer = ByteWriter(capacity: Self.size)
        write(into: &writer)
        return writer.bytes
    }

    /// Appends the 64 bytes to `writer`.
    public func write(into writer: inout ByteWriter) {
        head.write(into: &writer)
        tail.write(into: &writer)
    }
}
