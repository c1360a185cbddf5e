/// The newest verified record of each peer, as discovery and index servers keep them.
///
/// ### Purpose
/// Every record goes through ``SignedPeerRecord/verify(now:expecting:)`` before it is
/// stored; of two valid records for one peer the higher sequence number wins, and an
/// equal or lower one is ignored (so a replayed older record changes nothing).
/// The book holds at most ``capacity`` peers and refuses new peers beyond it, so input
/// from the network can never grow it without bound.
public struct RecordBook: Sendable {
    /// What ``insert(_:now:)`` did.
    public enum Outcome: Equatable, Sendable {
        /// The peer had no record; this one is now held.
        case added
        /// This record replaced one with a lower sequence number.
        case replaced(previousSequence: UInt64)
        /// A record with this or a higher sequence number is already held.
        case stale(heldSequence: UInt64)
        /// The book is full and the peer is new.
        case full
    }

    /// Most peers held at once.
    public let capacity: Int
    private var records: [PeerID: SignedPeerRecord] = [:]

    /// Creates an empty book.
    /// - Parameter capacity: most peers held; choose from the swarm size you expect.
    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// Number of peers with a record.
    public var count: Int { records.count }

    /// The record held for `peer`, if any (it may have expired since; see ``removeExpired(now:)``).
    public subscript(peer: PeerID) -> SignedPeerRecord? { records[peer] }

    /// Verifies `signed` and keeps it if it is the newest for its peer.
    /// - Throws: ``RecordError`` when it does not verify; the book is then unchanged.
    @discardableResult
    public mutating func insert(_ signed: SignedPeerRecord, now: UnixTime) throws(RecordError) -> Outcome {
        let record = try signed.verify(now: now)
        if let held = records[record.peerID] {
            guard record.supersedes(held.record) else { return .stale(heldSequence: held.record.sequence) }
            records[record.peerID] = signed
            return .replaced(previousSequence: held.record.sequence)
        }
        guard records.count < capacity else { return .full }
        records[record.peerID] = signed
        return .added
    }

    /// Drops every record that has expired by `now`.
    /// - Returns: the peers whose records were dropped.
    @discardableResult
    public mutating func removeExpired(now: UnixTime) -> [PeerID] {
        let expired = records.filter { $0.value.record.expiresAt <= now }.map(\.key)
        for peer in expired { records[peer] = nil }
        return expired
    }
}
