internal import HeapModule

/// The nonces of the sealed overlay datagrams accepted within the replay window, so
/// that a copy is accepted at most once.
///
/// ### Purpose
/// A sealed datagram carries its sender's time and is refused outside a window of
/// ``OverlayConstants/replayWindow`` either way (``OverlayDrop/stale``); within it, its
/// random 24-byte nonce is remembered and a datagram with a nonce already seen is
/// ``OverlayDrop/replayed``. A nonce is forgotten once its datagram would be stale
/// anyway (`sentAt + window < now`).
///
/// The cache holds at most `capacity` nonces. When full, the one with the oldest
/// `sentAt` goes and the *floor* rises to that time: every datagram sent at or before
/// the floor is refused (``OverlayDrop/belowReplayFloor``), so forgetting a nonce never
/// lets its copy through; the cost is that, under a flood, genuine datagrams as old as
/// the floor are refused too. The floor falls away once it is older than the window.
///
/// Only sealed datagrams pass here: an open datagram is unauthenticated, so anyone can
/// make a new one as easily as replay an old one, and a cache would protect nothing.
///
/// Check with ``contains(_:now:)`` before opening the datagram (a copy costs no AEAD
/// work), and ``insert(_:sentAt:now:)`` only after the AEAD tag verified, so that forged
/// datagrams cannot fill the cache. `now` must never go backwards.
struct OverlayReplayCache: Sendable {
    /// A sealed datagram's 24-byte nonce.
    struct Nonce: Hashable, Sendable {
        var first: UInt64
        var second: UInt64
        var third: UInt64

        /// The nonce of the sealed datagram `bytes`, or nil when it is too short or not sealed.
        init?(ofSealed bytes: UnsafeRawBufferPointer) {
            let start = OverlayConstants.prefixSize
            guard bytes.count >= start + SwarmSealKey.nonceSize, bytes[2] == OverlayConstants.modeSealed else {
                return nil
            }
            first = bytes.loadUnaligned(fromByteOffset: start, as: UInt64.self)
            second = bytes.loadUnaligned(fromByteOffset: start + 8, as: UInt64.self)
            third = bytes.loadUnaligned(fromByteOffset: start + 16, as: UInt64.self)
        }
    }

    /// What ``insert(_:sentAt:now:)`` decided.
    enum Verdict: Equatable, Sendable {
        /// First seen: accept it.
        case fresh
        /// Seen before within the window.
        case replayed
        /// Sent at or before the floor.
        case belowFloor
    }

    private struct Entry: Comparable, Sendable {
        var sentAt: UInt64
        var nonce: Nonce

        static func < (left: Entry, right: Entry) -> Bool { left.sentAt < right.sentAt }
        static func == (left: Entry, right: Entry) -> Bool { left.sentAt == right.sentAt && left.nonce == right.nonce }
    }

    /// Most nonces held.
    let capacity: Int
    /// The replay window, in seconds.
    let window: UInt64
    /// Datagrams sent at or before this time (Unix seconds) are refused; nil when none are.
    private(set) var floor: UInt64?
    private var seen: Set<Nonce> = []
    private var byAge = Heap<Entry>()

    /// Creates an empty cache.
    /// - Parameters:
    ///   - capacity: most nonces held (at least 1).
    ///   - window: the replay window.
    init(capacity: Int, window: Duration = OverlayConstants.replayWindow) {
        self.capacity = max(1, capacity)
        self.window = UInt64(max(0, window.components.seconds))
    }

    /// Nonces held.
    var count: Int { seen.count }

    /// Whether `nonce` was accepted within the window (a replay).
    mutating func contains(_ nonce: Nonce, now: UnixTime) -> Bool {
        forgetExpired(now: now)
        return seen.contains(nonce)
    }

    /// Accepts `nonce` of a datagram sent at `sentAt` unless it is a replay or below
    /// the floor; evicts the oldest nonce (raising the floor) when full.
    mutating func insert(_ nonce: Nonce, sentAt: UnixTime, now: UnixTime) -> Verdict {
        forgetExpired(now: now)
        if let floor, sentAt.seconds <= floor { return .belowFloor }
        guard !seen.contains(nonce) else { return .replayed }
        if seen.count >= capacity, let oldest = byAge.popMin() {
            seen.remove(oldest.nonce)
            floor = max(floor ?? 0, oldest.sentAt)
            if sentAt.seconds <= oldest.sentAt { return .belowFloor }
        }
        seen.insert(nonce)
        byAge.insert(Entry(sentAt: sentAt.seconds, nonce: nonce))
        return .fresh
    }

    /// Forgets the nonces whose datagrams would now be stale, and an outdated floor.
    private mutating func forgetExpired(now: UnixTime) {
        while let oldest = byAge.min, oldest.sentAt &+ window < now.seconds {
            byAge.removeMin()
            seen.remove(oldest.nonce)
        }
        if let floor, floor &+ window < now.seconds { self.floor = nil }
    }
}
