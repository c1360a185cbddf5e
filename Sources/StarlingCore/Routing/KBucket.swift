/// One k-bucket: up to `k` live contacts ordered least recently seen first, plus a
/// replacement cache of contacts waiting for a slot.
///
/// ### Purpose
/// Kademlia prefers old contacts, which are likelier to stay up (paper, section 2.2).
/// A new contact for a full bucket goes to the replacement cache, and the bucket's
/// least recently seen entry is pinged: if it answers it moves to the tail; once it has
/// failed the failure threshold's number of times in a row (its own timeouts, never a
/// newcomer's arrival or a report from elsewhere), it is removed and the most recently
/// seen replacement takes its place. So a flood of new peer IDs costs a live contact
/// nothing but pings it answers. At most ``AddressDiversity/maximumPerSubnet`` entries
/// and replacements share one subnet. This type decides; ``RoutingCore`` sends the pings.
public struct KBucket: Sendable {
    /// A contact and what the bucket knows about its liveness.
    public struct Entry: Sendable, Equatable {
        /// The contact.
        public var contact: RoutingContact
        /// When it was last seen alive.
        public var lastSeen: Instant
        /// Failures since it was last seen alive.
        public var failures: Int
    }

    /// What ``KBucket/insert(_:now:capacity:replacementCapacity:)`` did.
    public enum InsertOutcome: Equatable, Sendable {
        /// The contact was new and took a free slot.
        case added
        /// The contact was already in the bucket; it moved to the tail (address updated).
        case refreshed
        /// The bucket is full; the contact waits in the replacement cache, and the
        /// oldest entry should be pinged (it is returned once until that ping resolves).
        case cached(pingOldest: RoutingContact?)
        /// The bucket already holds as many contacts of the contact's subnet as the
        /// ``AddressDiversity`` allows; nothing changed.
        case refusedSubnetFull
    }

    /// Live contacts, least recently seen first.
    public private(set) var entries: [Entry] = []
    /// Contacts waiting for a slot, most recently seen last.
    public private(set) var replacements: [RoutingContact] = []
    /// The entry being pinged before a replacement may evict it.
    public private(set) var pendingEviction: PeerID?
    /// When a lookup last targeted a key in this bucket's range.
    public var lastLookup: Instant

    /// Creates an empty bucket, counting as looked up at `now`.
    public init(now: Instant) {
        lastLookup = now
    }

    /// Whether the bucket holds `peer` as a live entry.
    public func contains(_ peer: PeerID) -> Bool {
        entries.contains { $0.contact.peerID == peer }
    }

    /// Records that `contact` was seen alive at `now`.
    ///
    /// A new contact, or a known one at a new address, whose subnet already has
    /// `diversity`'s maximum of entries and replacements here is refused.
    public mutating func insert(
        _ contact: RoutingContact, now: Instant, capacity: Int, replacementCapacity: Int,
        diversity: AddressDiversity = .unlimited
    ) -> InsertOutcome {
        if let index = entries.firstIndex(where: { $0.contact.peerID == contact.peerID }) {
            if entries[index].contact.address != contact.address, !admits(contact, diversity: diversity) {
                return .refusedSubnetFull
            }
            entries.remove(at: index)
            entries.append(Entry(contact: contact, lastSeen: now, failures: 0))
            if pendingEviction == contact.peerID { pendingEviction = nil }
            return .refreshed
        }
        guard admits(contact, diversity: diversity) else { return .refusedSubnetFull }
        if entries.count < capacity {
            replacements.removeAll { $0.peerID == contact.peerID }
            entries.append(Entry(contact: contact, lastSeen: now, failures: 0))
            return .added
        }
        replacements.removeAll { $0.peerID == contact.peerID }
        replacements.append(contact)
        if replacements.count > replacementCapacity {
            replacements.removeFirst(replacements.count - replacementCapacity)
        }
        guard pendingEviction == nil, let oldest = entries.first else { return .cached(pingOldest: nil) }
        pendingEviction = oldest.contact.peerID
        return .cached(pingOldest: oldest.contact)
    }

    /// Whether `contact` fits the subnet limit beside the other entries and replacements.
    private func admits(_ contact: RoutingContact, diversity: AddressDiversity) -> Bool {
        guard diversity.maximumPerSubnet != nil else { return true }
        let others =
            entries.lazy.filter { $0.contact.peerID != contact.peerID }.map(\.contact.address)
        let waiting = replacements.lazy.filter { $0.peerID != contact.peerID }.map(\.address)
        return diversity.admits(contact.address, among: Array(others) + Array(waiting))
    }

    /// Records a failure of `peer` (a timeout of a request to it).
    ///
    /// The entry is removed once it has failed `threshold` times in a row, whether or
    /// not it was awaiting eviction (a failed eviction ping clears the wait, so the next
    /// newcomer pings it again); the most recently seen replacement takes its slot.
    /// - Returns: whether the peer was removed.
    @discardableResult
    public mutating func recordFailure(of peer: PeerID, threshold: Int, now: Instant) -> Bool {
        guard let index = entries.firstIndex(where: { $0.contact.peerID == peer }) else {
            replacements.removeAll { $0.peerID == peer }
            return false
        }
        entries[index].failures += 1
        guard entries[index].failures >= threshold else {
            if pendingEviction == peer { pendingEviction = nil }
            return false
        }
        entries.remove(at: index)
        if pendingEviction == peer { pendingEviction = nil }
        if let replacement = replacements.popLast() {
            entries.append(Entry(contact: replacement, lastSeen: now, failures: 0))
        }
        return true
    }
}
