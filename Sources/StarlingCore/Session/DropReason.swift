/// Why the core dropped a received datagram without acting on it.
///
/// The raw values are the names the I/O layer exports as metric labels, so renaming a
/// case breaks dashboards: add cases, do not rename them.
public enum DropReason: String, CaseIterable, Sendable {
    /// Too short, or a field out of range for its type.
    case malformed
    /// Longer than any message of its type may be.
    case tooLarge
    /// The message type byte is not one this version knows.
    case unknownType
    /// The version byte is not one this peer speaks.
    case unsupportedVersion
    /// A handshake for another swarm (the prologue or swarm secret does not match).
    case wrongSwarm
    /// A handshake message whose `mac1` is wrong (another swarm, another swarm secret,
    /// or an IK initiation meant for another peer); checked before any other work.
    case invalidMAC
    /// A handshake message failed Noise decryption or authentication.
    case handshakeFailed
    /// A handshake message already handled: a copy of the last IK initiation answered
    /// for its peer, or a second response to one initiation.
    case handshakeReplayed
    /// The source has spent its handshake allowance (``SourceRateLimiter``).
    case rateLimited
    /// No room for another half-done handshake.
    case handshakeTableFull
    /// A response or transport packet for a session index this peer does not hold.
    case unknownReceiverIndex
    /// A transport counter already accepted, too old for the window, or past the limit.
    case replayed
    /// A transport packet whose AEAD tag does not verify.
    case decryptionFailed
    /// A transport packet for a session past its reject-after time or message limit.
    case expiredSession
    /// An initiation without a valid cookie (`mac2`) while the responder was under
    /// load or the source had spent its allowance: answered with a cookie reply, not
    /// processed.
    case cookieRequired
    /// An initiation or message 3 from a new peer while the session table was full
    /// and no session was idle long enough to evict.
    case sessionTableFull
    /// A cookie reply that does not open, or for no initiation waiting for a response.
    case invalidCookie
}

/// A count of dropped datagrams per ``DropReason``.
///
/// The core counts here; the I/O layer reads the counts and exports them (for example
/// through swift-metrics). Counts saturate at `UInt64.max`.
public struct DropCounters: Equatable, Sendable {
    private var counts: [DropReason: UInt64] = [:]

    /// Creates counters that are all zero.
    public init() {}

    /// Counts `count` drops for `reason`.
    /// - Parameters:
    ///   - reason: why the datagrams were dropped.
    ///   - count: how many (1 by default).
    public mutating func record(_ reason: DropReason, count: UInt64 = 1) {
        let (sum, overflow) = self[reason].addingReportingOverflow(count)
        counts[reason] = overflow ? .max : sum
    }

    /// The drops counted for `reason`.
    public subscript(reason: DropReason) -> UInt64 {
        counts[reason, default: 0]
    }

    /// The drops counted for all reasons (saturating).
    public var total: UInt64 {
        counts.values.reduce(0) { total, count in
            let (sum, overflow) = total.addingReportingOverflow(count)
            return overflow ? .max : sum
        }
    }

    /// Adds every count of `other` to these, as when summing the counters of many peers.
    public mutating func merge(_ other: DropCounters) {
        for (reason, count) in other.counts { record(reason, count: count) }
    }
}
