/// The simultaneous-probe tie-break of RFC 6762 §8.2, as a pure function.
public enum MDNSProbeTieBreak {
    /// The outcome for the host that proposed `ours` on seeing a probe proposing `theirs`.
    public enum Outcome: Equatable, Sendable {
        /// Our records sort later: keep probing.
        case won
        /// Their records sort later: wait one second and probe again.
        case lost
        /// The same records: no conflict.
        case tie
    }

    /// Compares two hosts' proposed records for one name.
    ///
    /// Each list is sorted by class (without the cache-flush bit), then type, then
    /// canonical RDATA bytes; the lists are then compared pair by pair, and the first
    /// difference decides: the lexicographically later record wins; a list that runs out
    /// first loses (RFC 6762 §8.2).
    /// - Parameters:
    ///   - ours: the records this host proposes for the name.
    ///   - theirs: the records in the other probe's authority section for the name.
    /// - Returns: the outcome for this host.
    public static func compare(ours: [DNSRecord], theirs: [DNSRecord]) -> Outcome {
        let left = sorted(ours)
        let right = sorted(theirs)
        for (mine, other) in zip(left, right) {
            let order = compareKeys(mine, other)
            if order > 0 { return .won }
            if order < 0 { return .lost }
        }
        if left.count == right.count { return .tie }
        return left.count > right.count ? .won : .lost
    }

    typealias Key = (recordClass: UInt16, type: UInt16, rdata: [UInt8])

    static func sorted(_ records: [DNSRecord]) -> [Key] {
        records.map { ($0.recordClass, $0.type.rawValue, $0.data.canonicalBytes) }.sorted { compareKeys($0, $1) < 0 }
    }

    /// -1, 0 or 1 as `lhs` sorts before, equal to or after `rhs`.
    static func compareKeys(_ lhs: Key, _ rhs: Key) -> Int {
        if lhs.recordClass != rhs.recordClass { return lhs.recordClass < rhs.recordClass ? -1 : 1 }
        if lhs.type != rhs.type { return lhs.type < rhs.type ? -1 : 1 }
        for (left, right) in zip(lhs.rdata, rhs.rdata) where left != right { return left < right ? -1 : 1 }
        if lhs.rdata.count == rhs.rdata.count { return 0 }
        return lhs.rdata.count < rhs.rdata.count ? -1 : 1
    }
}
