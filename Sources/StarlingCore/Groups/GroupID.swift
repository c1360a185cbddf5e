internal import CSodium

/// A group's identity in the overlay: 32 bytes derived from the swarm, the group's name
/// and, for a private group, its secret.
///
/// `BLAKE2b-256(key: group secret (private group) or none, message:`
/// ``GroupConstants/idDomain`` `‖ swarm ID ‖ UTF-8 name)`. Rendezvous peers and
/// forwarders see only the ID, never the name; the ID of a private group cannot be
/// worked out without its secret. Two groups are the same group exactly when their
/// IDs are equal.
public struct GroupID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 32 bytes.
    public let key: Key32

    /// Wraps 32 bytes read from the wire.
    public init(key: Key32) {
        self.key = key
    }

    /// The ID of the group `name` in the swarm `swarmID`.
    /// - Parameters:
    ///   - name: the group's name (1 to ``GroupConstants/maximumNameSize`` UTF-8 bytes).
    ///   - swarmID: the 32-byte swarm ID.
    ///   - secret: a private group's secret (16 to 64 bytes), or nil.
    public init(name: String, swarmID: [UInt8], secret: [UInt8]? = nil) {
        Sodium.ensureReady()
        let message = GroupConstants.idDomain + swarmID + Array(name.utf8)
        var digest = [UInt8](repeating: 0, count: GroupConstants.idSize)
        if let secret {
            _ = secret.withUnsafeBufferPointer { bytes in
                crypto_generichash(
                    &digest, digest.count, message, UInt64(message.count), bytes.baseAddress, bytes.count)
            }
        } else {
            crypto_generichash(&digest, digest.count, message, UInt64(message.count), nil, 0)
        }
        // 32 bytes always make a key.
        key = Key32(digest)!
    }

    public static func < (lhs: GroupID, rhs: GroupID) -> Bool { lhs.key < rhs.key }

    /// Where the group sits in the keyspace, for choosing its rendezvous peers.
    public var routingKey: RoutingKey { RoutingKey(bytes: key.bytes) ?? .zero }

    /// The first 16 hex digits.
    public var description: String {
        key.bytes.prefix(8).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        .joined()
    }

    /// Whether `name` may name a group: 1 to 255 UTF-8 bytes, no control characters.
    public static func isValidName(_ name: String) -> Bool {
        let size = name.utf8.count
        return size >= 1 && size <= GroupConstants.maximumNameSize
            && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}

extension ByteReader {
    /// Reads a 32-byte group ID.
    mutating func readGroupID() throws(WireError) -> GroupID { GroupID(key: try readKey32()) }
}

/// The key that seals a group's messages (XChaCha20-Poly1305), and the group's ID.
///
/// The key is `BLAKE2b-256(key: K, message:` ``GroupConstants/keyDomain`` `‖ group ID)`
/// where K is the group's own secret for a private group, else the swarm secret of a
/// private swarm, else the swarm ID. So in a private swarm outsiders can neither read
/// nor inject a group's messages, and a private group keeps them from the swarm's other
/// members too; in an open swarm without a group secret, anyone who knows the swarm ID
/// and the group's name can (as anyone can join an open swarm).
///
/// - Warning: holds secret key material; it is immutable and safe to share.
public struct GroupKey: Sendable {
    /// The group this key belongs to.
    public let id: GroupID
    /// Whether the group has a secret of its own.
    public let isPrivate: Bool
    let seal: SwarmSealKey

    /// Derives the ID and key of the group `name`.
    /// - Parameters:
    ///   - name: the group's name.
    ///   - swarmID: the 32-byte swarm ID.
    ///   - swarmSecret: the swarm's secret, or nil in an open swarm.
    ///   - groupSecret: a private group's secret (16 to 64 bytes), or nil.
    public init(name: String, swarmID: [UInt8], swarmSecret: [UInt8]?, groupSecret: [UInt8]? = nil) {
        id = GroupID(name: name, swarmID: swarmID, secret: groupSecret)
        isPrivate = groupSecret != nil
        seal = SwarmSealKey(
            swarmID: id.key.bytes, swarmSecret: groupSecret ?? swarmSecret ?? swarmID,
            domain: GroupConstants.keyDomain)
    }

    /// The additional data of a group message: what sealing authenticates beside the
    /// payload.
    static func additionalData(group: GroupID, origin: PeerID, sequence: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: GroupConstants.idSize + GroupConstants.messageIDSize)
        group.key.write(into: &writer)
        origin.write(into: &writer)
        writer.write(sequence)
        return writer.bytes
    }
}
