/// Remembers when this peer last sent a direct notice to each of a few members, so that
/// notices prompted by incoming messages (a failed member that still writes, a stale
/// accusation of this peer) go at most once per interval to each, and to a bounded number
/// of members per interval in all, however much input prompts them.
struct NoticeLimiter: Sendable {
    /// Most members remembered at once; beyond it, nobody more is told until the oldest
    /// entries are an interval old.
    let capacity: Int
    private var sentAt: [PeerID: Instant] = [:]

    /// Creates a limiter that remembers at most `capacity` members.
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Whether a notice may go to `member` now; if so, it is counted as sent.
    mutating func mayNotify(_ member: PeerID, now: Instant, interval: Duration) -> Bool {
        if let sent = sentAt[member], now - sent < interval { return false }
        if sentAt.count >= capacity {
            sentAt = sentAt.filter { now - $0.value < interval }
            guard sentAt.count < capacity else { return false }
        }
        sentAt[member] = now
        return true
    }
}
