/// A peer's identity: its 32-byte Ed25519 public key.
///
/// The text form is the key in lowercase, unpadded base32 (52 characters);
/// ``shortDescription`` is its first eight characters, for display only.
public struct PeerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Why a text or byte string is not a peer ID.
    public enum ParseError: Error, Equatable, Sendable {
        /// The text is not 52 characters long.
        case wrongLength(Int)
        /// A character outside the lowercase base32 alphabet.
        case invalidCharacter(Character, offset: Int)
        /// The last character has non-zero unused bits (a second spelling of an ID).
        case nonCanonical
        /// Not exactly 32 bytes.
        case wrongByteCount(Int)
    }

    /// Number of characters in the text form.
    public static let textLength = Base32.encodedLength(of: Key32.size)
    /// Number of characters in ``shortDescription``.
    public static let shortLength = 8

    /// The Ed25519 public key.
    public let publicKey: Key32

    /// Wraps a public key.
    public init(publicKey: Key32) {
        self.publicKey = publicKey
    }

    /// The byte-wise order of the public keys: the deterministic order of peers.
    public static func < (lhs: PeerID, rhs: PeerID) -> Bool { lhs.publicKey < rhs.publicKey }

    /// Creates a peer ID from its 32 raw bytes.
    /// - Throws: ``ParseError/wrongByteCount(_:)`` for any other count.
    public init(bytes: some Collection<UInt8>) throws(ParseError) {
        guard let key = Key32(bytes) else { throw .wrongByteCount(bytes.count) }
        self.publicKey = key
    }

    /// Parses the 52-character base32 text form, strictly.
    /// - Throws: ``ParseError``.
    public init(_ text: String) throws(ParseError) {
        let length = text.count
        guard length == Self.textLength, text.utf8.count == Self.textLength else { throw .wrongLength(length) }
        let bytes: [UInt8]
        do {
            bytes = try Base32.decode(text)
        } catch {
            switch error {
            case .invalidCharacter(let character, let offset): throw .invalidCharacter(character, offset: offset)
            case .invalidLength(let count): throw .wrongLength(count)
            case .nonCanonical: throw .nonCanonical
            }
        }
        try self.init(bytes: bytes)
    }

    /// The 32 raw bytes.
    public var bytes: [UInt8] { publicKey.bytes }

    /// Appends the 32 raw bytes to `writer`, allocating nothing of its own.
    public func write(into writer: inout ByteWriter) {
        publicKey.write(into: &writer)
    }

    /// The full base32 text form.
    public var description: String { Base32.encode(publicKey.bytes) }

    /// The first eight characters of the text form, for logs and tables.
    public var shortDescription: String { String(description.prefix(Self.shortLength)) }
}

extension PeerID.ParseError: CustomStringConvertible {
    /// A sentence for people.
    public var description: String {
        switch self {
        case .wrongLength(let count): "a peer ID has \(PeerID.textLength) characters, not \(count)"
        case .invalidCharacter(let character, let offset):
            "\"\(character)\" at position \(offset) is not in the peer ID alphabet (a-z, 2-7)"
        case .nonCanonical: "the last character is not the canonical spelling of the key"
        case .wrongByteCount(let count): "a peer ID is 32 bytes, not \(count)"
        }
    }
}
