/// Updates waiting to be piggybacked, each sent a bounded number of times.
///
/// ### Purpose
/// SWIM disseminates membership changes by infection: every update rides on the next
/// pings and acks until it has been sent ``retransmitLimit(multiplier:members:)`` times.
/// Least-sent updates go first and, among equals, the newest. A newer update about a
/// member replaces any queued one about it (memberlist `TransmitLimitedQueue`).
struct BroadcastQueue: Sendable {
    private struct Entry: Sendable {
        var update: MemberUpdate
        var serial: UInt64
    }

    /// `buckets[t]` holds the updates sent `t` times, oldest first.
    private var buckets: [[Entry]] = [[]]
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
    mutating func enqueue(_ update: MemberUpdate) {
        let serial = nextSerial
        nextSerial += 1
        latest[update.member] = serial
        buckets[0].append(Entry(update: update, serial: serial))
    }

    /// Forgets everything queued.
    mutating func removeAll() {
        buckets = [[]]
        latest = [:]
    }

    /// Takes the updates to piggyback on one message and counts them as sent.
    ///
    /// - Parameters:
    ///   - budget: bytes available for updates.
    ///   - limit: sends after which an update is dropped.
    /// - Returns: at most 255 updates whose encodings fit in `budget`.
    mutating func take(budget: Int, limit: Int) -> [MemberUpdate] {
        var remaining = budget
        var chosen: [(entry: Entry, sends: Int)] = []
        let smallest = 44
        let most = MembershipConstants.maximumPiggybackedUpdates
        var bucketIndex = 0
        while bucketIndex < buckets.count, remaining >= smallest, chosen.count < most {
            // Scans from the newest end; what it keeps of the scanned tail is put back in
            // one step, so a take costs the entries it looked at, not the bucket's length.
            var kept: [Entry] = []
            var index = buckets[bucketIndex].count - 1
            while index >= 0, remaining >= smallest, chosen.count < most {
                let entry = buckets[bucketIndex][index]
                if latest[entry.update.member] != entry.serial {
                    // Stale: a newer update about the member replaced it.
                } else if entry.update.encodedSize <= remaining {
                    remaining -= entry.update.encodedSize
                    chosen.append((entry, bucketIndex + 1))
                } else {
                    kept.append(entry)
                }
                index -= 1
            }
            let scanned = (index + 1)..<buckets[bucketIndex].count
            buckets[bucketIndex].replaceSubrange(scanned, with: kept.reversed())
            // An emptied bucket gives its storage back: after a burst of joins, each of
            // hundreds of peers would otherwise keep a dozen buckets' worth of capacity.
            if buckets[bucketIndex].isEmpty { buckets[bucketIndex] = [] }
            bucketIndex += 1
        }
        for (entry, sends) in chosen {
            if sends >= limit {
                latest[entry.update.member] = nil
            } else {
                while buckets.count <= sends { buckets.append([]) }
                insertInOrder(entry, into: sends)
            }
        }
        while buckets.count > 1, buckets[buckets.count - 1].isEmpty { buckets.removeLast() }
        return chosen.map(\.entry.update)
    }

    /// Inserts `entry` into bucket `index`, keeping it ordered by serial (oldest first).
    private mutating func insertInOrder(_ entry: Entry, into index: Int) {
        var low = 0
        var high = buckets[index].count
        while low < high {
            let middle = (low + high) / 2
            if buckets[index][middle].serial < entry.serial { low = middle + 1 } else { high = middle }
        }
        buckets[index].insert(entry, at: low)
    }
}
