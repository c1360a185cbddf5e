internal import HeapModule

/// Updates waiting to be piggybacked, each sent a bounded number of times.
///
/// ### Purpose
/// SWIM disseminates membership changes by infection: every update rides on the next
/// pings and acks until it has been sent ``retransmitLimit(multiplier:members:)`` times.
/// Least-sent updates go first and, among equals, the newest. A newer update about a
/// member replaces any queued one about it (memberlist `TransmitLimitedQueue`). News of
/// a join may have a lower limit of its own (see
/// ``MembershipConstants/joinRetransmitMultiplier``).
struct BroadcastQueue: Sendable {
    private struct Entry: Comparable, Sendable {
        var update: MemberUpdate
        var serial: UInt64
        /// Whether the update announces a member nobody knew before (its own limit).
        var isJoin: Bool

        /// Newer is greater: a bucket's maximum is its newest entry.
        static func < (lhs: Entry, rhs: Entry) -> Bool { lhs.serial < rhs.serial }
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.serial == rhs.serial }
    }

    /// `buckets[t]` holds the updates sent `t` times, newest on top. A heap, so that
    /// taking and re-filing an update costs O(log n) however long the queue: after a
    /// join storm of 1,000 every peer queues 1,000 updates, and keeping each bucket a
    /// sorted array (an insert shifting half of it) made taking them 11 % of a
    /// 1,000-peer swarm's CPU.
    private var buckets: [Heap<Entry>] = [Heap()]
    /// The serial of the one live entry per member; other entries are stale.
    private var latest: [PeerID: UInt64] = [:]
    private var nextSerial: UInt64 = 0

    /// Updates still to be sent.
    var count: Int { latest.count }

    /// `multiplier × ceil(log10(members + 1))`, at least 1.
    static func retransmitLimit(multiplier: Int, members: Int) -> Int {
        var digits = 0
        var value = max(0, members) + 1
        // ceil(log10(v)) for integers: the number of times to divide by 10, rounding up.
        var power = 1
        while power < value, digits < 20 {
            power *= 10
            digits += 1
        }
        value = multiplier * digits
        return max(1, value)
    }

    /// Queues `update`, replacing any queued update about the same member.
    /// - Parameter isJoin: whether it announces a member this peer did not know (sent
    ///   at most `joinLimit` times, see ``take(budget:limit:joinLimit:)``).
    mutating func enqueue(_ update: MemberUpdate, isJoin: Bool = false) {
        let serial = nextSerial
        nextSerial += 1
        latest[update.member] = serial
        buckets[0].insert(Entry(update: update, serial: serial, isJoin: isJoin))
    }

    /// Forgets everything queued.
    mutating func removeAll() {
        buckets = [Heap()]
        latest = [:]
    }

    /// Takes the updates to piggyback on one message and counts them as sent.
    ///
    /// - Parameters:
    ///   - budget: bytes available for updates.
    ///   - limit: sends after which an update is dropped.
    ///   - joinLimit: sends after which news of a join is dropped.
    /// - Returns: at most 255 updates whose encodings fit in `budget`.
    mutating func take(budget: Int, limit: Int, joinLimit: Int) -> [MemberUpdate] {
        var remaining = budget
        var chosen: [(entry: Entry, sends: Int)] = []
        let smallest = MembershipConstants.minimumUpdateSize
        let most = MembershipConstants.maximumPiggybackedUpdates
        var bucketIndex = 0
        while bucketIndex < buckets.count, remaining >= smallest, chosen.count < most {
            // Newest first; what does not fit goes back once this bucket is done.
            var kept: [Entry] = []
            while remaining >= smallest, chosen.count < most, let entry = buckets[bucketIndex].popMax() {
                if latest[entry.update.member] != entry.serial {
                    // Stale: a newer update about the member replaced it.
                } else if entry.update.encodedSize <= remaining {
                    remaining -= entry.update.encodedSize
                    chosen.append((entry, bucketIndex + 1))
                } else {
                    kept.append(entry)
                }
            }
            for entry in kept { buckets[bucketIndex].insert(entry) }
            // An emptied bucket gives its storage back: after a burst of joins, each of
            // hundreds of peers would otherwise keep a dozen buckets' worth of capacity.
            if buckets[bucketIndex].isEmpty { buckets[bucketIndex] = Heap() }
            bucketIndex += 1
        }
        for (entry, sends) in chosen {
            if sends >= (entry.isJoin ? joinLimit : limit) {
                latest[entry.update.member] = nil
            } else {
                while buckets.count <= sends { buckets.append(Heap()) }
                buckets[sends].insert(entry)
            }
        }
        while buckets.count > 1, buckets[buckets.count - 1].isEmpty { buckets.removeLast() }
        return chosen.map(\.entry.update)
    }
}
