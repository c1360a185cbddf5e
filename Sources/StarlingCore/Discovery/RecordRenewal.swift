/// What a ``DiscoveryCore`` needs to re-sign this peer's record itself before it
/// expires: the key, and how long each record it signs stays valid.
///
/// The core renews at half the lifetime (``interval(lifetime:)``), so a record heard
/// from a beacon is replaced by a newer one long before it expires anywhere, even when
/// a few beacons are lost.
public struct RecordRenewal: Sendable {
    /// This peer's key pair; it signs every renewed record.
    public var identity: IdentityKeyPair
    /// How long each renewed record is valid, from the moment it is signed.
    public var lifetime: Duration

    /// Creates a renewal policy.
    public init(identity: IdentityKeyPair, lifetime: Duration) {
        self.identity = identity
        self.lifetime = lifetime
    }

    /// The time between two renewals: half of `lifetime`.
    public static func interval(lifetime: Duration) -> Duration { lifetime / 2 }

    /// The sequence number of a renewed record: the wall clock in milliseconds, so a
    /// restarted peer's records supersede the ones it signed before, and always above
    /// `previous`, so a renewal supersedes its predecessor even if the clock went back.
    ///
    /// - Parameters:
    ///   - previous: the sequence number of the record being replaced.
    ///   - wallMilliseconds: milliseconds since the Unix epoch now.
    /// - Returns: `max(previous + 1, wallMilliseconds)`; `UInt64.max` after `UInt64.max`
    ///   (no number is higher: such a record can no longer be superseded).
    public static func sequence(after previous: UInt64, wallMilliseconds: UInt64) -> UInt64 {
        guard previous < .max else { return .max }
        return max(previous + 1, wallMilliseconds)
    }
}
