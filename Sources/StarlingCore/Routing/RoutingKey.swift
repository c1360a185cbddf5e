internal import CSodium

/// A 256-bit Kademlia key: a peer's place in the keyspace, or a service's.
///
/// ### Purpose
/// Kademlia places peers and values on one 256-bit ring and measures closeness by XOR
/// (``distance(to:)``). A peer's key is ``init(peer:)``, BLAKE2b-256 of its peer ID
/// under a routing-only domain, so that nobody chooses where they land by choosing
/// bytes, and so the key is unlinkable to other hashes of the same ID. A service's key
/// is ``init(service:)``.
///
/// Keys compare as unsigned big-endian integers, so a distance compares as a number.
public struct RoutingKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The key's four 64-bit words, most significant first.
    public var words: (UInt64, UInt64, UInt64, UInt64)

    /// The all-zero key (the distance from a key to itself).
    public static let zero = RoutingKey(words: (0, 0, 0, 0))

    /// Wraps four words, most significant first.
    public init(words: (UInt64, UInt64, UInt64, UInt64)) {
        self.words = words
    }

    /// Reads a key from exactly ``RoutingConstants/keySize`` big-endian bytes.
    /// - Returns: `nil` when `bytes` has another length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == RoutingConstants.keySize else { return nil }
        var values: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in bytes.enumerated() {
            values[index / 8] = values[index / 8] << 8 | UInt64(byte)
        }
        words = (values[0], values[1], values[2], values[3])
    }

    /// The routing key of `peer`: BLAKE2b-256(``RoutingConstants/peerKeyDomain`` ‖ peer ID).
    public init(peer: PeerID) {
        self = Self.hash(RoutingConstants.peerKeyDomain + peer.bytes)
    }

    /// The routing key of a service name: BLAKE2b-256(``RoutingConstants/serviceKeyDomain`` ‖ UTF-8 name).
    public init(service: String) {
        self = Self.hash(RoutingConstants.serviceKeyDomain + Array(service.utf8))
    }

    /// The routing key of a name chain: BLAKE2b-256(``NameConstants/keyDomain`` ‖ the
    /// root zone's key ‖ the UTF-8 path below it) (``NameChain/key``).
    public init(nameZone zone: PeerID, path: String) {
        self = Self.hash(NameConstants.keyDomain + zone.bytes + Array(path.utf8))
    }

    /// The key's 32 bytes, big-endian.
    public var bytes: [UInt8] {
        var writer = ByteWriter(capacity: RoutingConstants.keySize)
        write(into: &writer)
        return writer.bytes
    }

    /// Appends the 32 bytes to `writer`, allocating nothing of its own.
    public func write(into writer: inout ByteWriter) {
        writer.write(words.0)
        writer.write(words.1)
        writer.write(words.2)
        writer.write(words.3)
    }

    /// The XOR distance between this key and `other`.
    public func distance(to other: RoutingKey) -> RoutingKey {
        RoutingKey(
            words: (words.0 ^ other.words.0, words.1 ^ other.words.1, words.2 ^ other.words.2, words.3 ^ other.words.3))
    }

    /// The number of leading zero bits, from 0 to 256 (256 only for ``zero``).
    public var leadingZeroBitCount: Int {
        if words.0 != 0 { return words.0.leadingZeroBitCount }
        if words.1 != 0 { return 64 + words.1.leadingZeroBitCount }
        if words.2 != 0 { return 128 + words.2.leadingZeroBitCount }
        return 192 + words.3.leadingZeroBitCount
    }

    /// The number of leading bits this key shares with `other`, from 0 to 256.
    public func commonPrefixLength(with other: RoutingKey) -> Int {
        distance(to: other).leadingZeroBitCount
    }

    /// This key with bit `index` (0 = most significant) flipped.
    public func flippingBit(_ index: Int) -> RoutingKey {
        precondition((0..<RoutingConstants.keyBits).contains(index), "bit index out of range")
        var copy = self
        let mask = UInt64(1) << UInt64(63 - index % 64)
        switch index / 64 {
        case 0: copy.words.0 ^= mask
        case 1: copy.words.1 ^= mask
        case 2: copy.words.2 ^= mask
        default: copy.words.3 ^= mask
        }
        return copy
    }

    /// A uniformly random key that shares exactly `prefixLength` leading bits with this
    /// one: the target of a refresh of bucket `prefixLength`.
    /// - Precondition: `prefixLength` is in `0..<256`.
    public func randomKey(sharingPrefix prefixLength: Int, using generator: inout some RandomNumberGenerator)
        -> RoutingKey
    {
        let random = RoutingKey(words: (generator.next(), generator.next(), generator.next(), generator.next()))
        // Keep this key's first `prefixLength` bits, flip the next, randomise the rest.
        var keepMask = RoutingKey.zero
        var remaining = prefixLength
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : ~(UInt64.max >> UInt64(bits)) }
        keepMask.words.0 = mask(remaining)
        remaining -= 64
        keepMask.words.1 = mask(remaining)
        remaining -= 64
        keepMask.words.2 = mask(remaining)
        remaining -= 64
        keepMask.words.3 = mask(remaining)
        let mixed = RoutingKey(
            words: (
                (words.0 & keepMask.words.0) | (random.words.0 & ~keepMask.words.0),
                (words.1 & keepMask.words.1) | (random.words.1 & ~keepMask.words.1),
                (words.2 & keepMask.words.2) | (random.words.2 & ~keepMask.words.2),
                (words.3 & keepMask.words.3) | (random.words.3 & ~keepMask.words.3)
            ))
        // Bit `prefixLength` is the first that differs: set it to the flip of ours.
        let bit = RoutingKey.zero.flippingBit(prefixLength)
        return mixed.and(bit.complement).or(flippingBit(prefixLength).and(bit))
    }

    /// Compares two keys as unsigned big-endian integers.
    public static func < (lhs: RoutingKey, rhs: RoutingKey) -> Bool {
        if lhs.words.0 != rhs.words.0 { return lhs.words.0 < rhs.words.0 }
        if lhs.words.1 != rhs.words.1 { return lhs.words.1 < rhs.words.1 }
        if lhs.words.2 != rhs.words.2 { return lhs.words.2 < rhs.words.2 }
        return lhs.words.3 < rhs.words.3
    }

    /// Whether two keys are equal.
    public static func == (lhs: RoutingKey, rhs: RoutingKey) -> Bool {
        lhs.words == rhs.words
    }

    /// Hashes the four words.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// The key in hexadecimal, first 8 bytes only.
    public var description: String {
        let hex = String(words.0, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + "…"
    }

    private func and(_ other: RoutingKey) -> RoutingKey {
        RoutingKey(
            words: (words.0 & other.words.0, words.1 & other.words.1, words.2 & other.words.2, words.3 & other.words.3))
    }

    private func or(_ other: RoutingKey) -> RoutingKey {
        RoutingKey(
            words: (words.0 | other.words.0, words.1 | other.words.1, words.2 | other.words.2, words.3 | other.words.3))
    }

    private var complement: RoutingKey {
        RoutingKey(words: (~words.0, ~words.1, ~words.2, ~words.3))
    }

    /// BLAKE2b with a 32-byte digest, unkeyed.
    private static func hash(_ input: [UInt8]) -> RoutingKey {
        Sodium.ensureReady()
        var digest = [UInt8](repeating: 0, count: RoutingConstants.keySize)
        input.withUnsafeBufferPointer { source in
            _ = crypto_generichash(&digest, digest.count, source.baseAddress, UInt64(source.count), nil, 0)
        }
        // The digest has exactly keySize bytes.
        return RoutingKey(bytes: digest) ?? .zero
    }
}
