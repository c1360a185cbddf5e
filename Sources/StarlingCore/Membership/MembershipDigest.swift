/// A summary of whom a peer holds live, carried on every ping and ack, so that two
/// peers whose views differ find out on their next probe and fill each other in
/// (``MembershipMessage/syncRequest(requester:level:buckets:)``).
///
/// ### What it covers
/// Every member held alive or suspect, at its incarnation, and the peer itself at its
/// own: two peers that hold the same members live at the same incarnations have the
/// same digest, whoever they are. A suspicion leaves the digest as it was (it is news
/// for gossip, not a difference in the view); a failure, a departure, a join or a
/// newer incarnation changes it.
///
/// ### How
/// Each member adds a 64-bit hash of its ID and incarnation to one of 256 buckets,
/// chosen by the ID's first byte; a bucket is the XOR of what its members add, so a
/// change costs two XORs and nothing is ever rescanned. A ping or ack carries the XOR
/// of all buckets. A sync request carries the buckets folded to `2^level` (by the top
/// `level` bits of the first byte) and shortened to 32 bits each, about
/// ``MembershipConstants/syncMembersPerBucket`` members per bucket, so that the answer
/// holds only the members of the buckets that differ: a handful of records when two
/// views differ by a member or two.
///
/// A collision (different views, equal digests) only means that this path misses the
/// difference; gossip and the periodic push-pull still mend it.
struct MembershipDigest: Equatable, Sendable {
    /// The finest split: one bucket per value of an ID's first byte.
    static let maximumLevel = 8

    private(set) var buckets = [UInt64](repeating: 0, count: 1 << maximumLevel)
    /// The XOR of all buckets: what pings and acks carry.
    private(set) var total: UInt64 = 0

    /// Adds `id` at `incarnation` to the digest, or removes it when it is there (XOR).
    mutating func toggle(_ id: PeerID, incarnation: UInt32) {
        let value = id.publicKey.mixed(with: UInt64(incarnation) | Self.salt)
        buckets[Int(id.publicKey.leadingByte)] ^= value
        total ^= value
    }

    /// The bucket of `id` when the digest is folded to `2^level` buckets.
    static func bucket(of id: PeerID, level: Int) -> Int {
        Int(id.publicKey.leadingByte) >> (maximumLevel - level)
    }

    /// The buckets folded to `2^level`, 32 bits each, as a sync request carries them.
    func folded(level: Int) -> [UInt32] {
        var wide = [UInt64](repeating: 0, count: 1 << level)
        for (index, hash) in buckets.enumerated() { wide[index >> (Self.maximumLevel - level)] ^= hash }
        return wide.map { UInt32(truncatingIfNeeded: $0 ^ ($0 >> 32)) }
    }

    /// The level at which buckets hold about ``MembershipConstants/syncMembersPerBucket``
    /// of `members`, at most `maximum`.
    static func level(forMembers members: Int, maximum: Int) -> Int {
        var level = 0
        while level < min(maximum, maximumLevel), members >> level > MembershipConstants.syncMembersPerBucket {
            level += 1
        }
        return level
    }

    /// Sets the hashes of a digest apart from other uses of the same mix.
    private static let salt: UInt64 = 0x5359_4E43 << 32
}
