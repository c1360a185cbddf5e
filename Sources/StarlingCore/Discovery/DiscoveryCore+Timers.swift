extension DiscoveryCore {
    public mutating func handleTimeout(now: Instant) {
        guard isEnabled else { return }
        if let due = nextBeacon, due <= now { expiredBeacon(now: now) }
        if nextHousekeeping <= now { expiredHousekeeping(now: now) }
        if let due = nextRenewal, due <= now { expiredRecordRenewal(now: now) }
        for (peer, deadline) in pendingQueries where deadline <= now {
            pendingQueries[peer] = nil
            events.append(.queryTimedOut(peer))
        }
    }

    /// When the beacon timer fires: send this peer's record to every destination and
    /// schedule the next beacon one jittered interval later.
    mutating func expiredBeacon(now: Instant) {
        broadcast(.beacon(ownRecord), now: now)
        lastBeacon = now
        let unit = Double(random.next() >> 11) / Double(UInt64(1) << 53)
        nextBeacon =
            now
            + Self.beaconDelay(
                interval: configuration.beaconInterval, jitter: configuration.beaconJitter, unit: unit,
                minimum: configuration.minimumBeaconInterval)
    }

    /// When the housekeeping timer fires: drop expired records (reporting them) and
    /// forget refilled rate-limit buckets.
    mutating func expiredHousekeeping(now: Instant) {
        for peer in book.removeExpired(now: wallClock(at: now)) { events.append(.expired(peer)) }
        sourceLimiter.collectGarbage(now: now)
        nextHousekeeping = now + DiscoveryConstants.housekeepingInterval
    }

    /// The time to the next beacon: `interval × (1 − jitter + 2 × jitter × unit)`, and
    /// never less than `minimum`.
    ///
    /// - Parameters:
    ///   - interval: the mean interval.
    ///   - jitter: the share of `interval` to vary by, 0 to 1.
    ///   - unit: a uniform random number in `0..<1`.
    ///   - minimum: the floor.
    /// - Returns: the delay.
    public static func beaconDelay(interval: Duration, jitter: Double, unit: Double, minimum: Duration) -> Duration {
        let factor = 1 - jitter + 2 * jitter * unit
        let nanoseconds = Double(interval.nanosecondsClamped) * factor
        return max(minimum, .nanoseconds(Int64(max(0, min(nanoseconds, Double(Int64.max / 2))))))
    }
}
