extension DiscoveryCore {
    /// Makes the core keep this peer's record fresh itself: from now on, every half of
    /// `lifetime` (``RecordRenewal/interval(lifetime:)``) it signs a new record with
    /// `identity` (the addresses and services of the current one, a higher sequence
    /// number, valid for `lifetime`) and beacons it as ``updateRecord(_:now:)`` does.
    ///
    /// - Parameters:
    ///   - identity: this peer's key pair.
    ///   - lifetime: how long each renewed record is valid; more than zero.
    ///   - now: the current time.
    /// - Throws: ``RecordError/wrongSigner(expected:actual:)`` when `identity` is not
    ///   this peer's, ``RecordError/expired(expiresAt:now:)`` for a lifetime that is not
    ///   positive, ``RecordError/expiryTooFar(expiresAt:limit:)`` for one longer than
    ///   ``RecordConstants/maximumLifetime``.
    public mutating func renewRecord(
        signingWith identity: IdentityKeyPair, lifetime: Duration, now: Instant
    ) throws(RecordError) {
        guard identity.peerID == localPeer else { throw .wrongSigner(expected: localPeer, actual: identity.peerID) }
        let wallNow = wallClock(at: now)
        guard lifetime > .zero else { throw .expired(expiresAt: wallNow, now: wallNow) }
        guard lifetime <= RecordConstants.maximumLifetime else {
            throw .expiryTooFar(expiresAt: wallNow + lifetime, limit: wallNow + RecordConstants.maximumLifetime)
        }
        renewal = RecordRenewal(identity: identity, lifetime: lifetime)
        nextRenewal = now + RecordRenewal.interval(lifetime: lifetime)
    }

    /// When the renewal timer fires: sign this peer's record again and beacon it, then
    /// schedule the next renewal half a lifetime later.
    mutating func expiredRecordRenewal(now: Instant) {
        guard let renewal else {
            nextRenewal = nil
            return
        }
        nextRenewal = now + RecordRenewal.interval(lifetime: renewal.lifetime)
        let current = ownRecord.record
        let record = PeerRecord(
            peerID: localPeer,
            sequence: RecordRenewal.sequence(after: current.sequence, wallMilliseconds: wallMilliseconds(at: now)),
            expiresAt: wallClock(at: now) + renewal.lifetime, addresses: current.addresses, services: current.services)
        // The addresses and services come from a record that was signed before, and the
        // key is this peer's (checked when renewal began): signing cannot fail here.
        guard let signed = try? record.sign(with: renewal.identity) else { return }
        try? updateRecord(signed, now: now)
    }

    /// Milliseconds since the Unix epoch at `now`, from the wall-clock mapping.
    func wallMilliseconds(at now: Instant) -> UInt64 {
        let elapsed = now - instantOrigin
        let (seconds, attoseconds) = elapsed.components
        let milliseconds = seconds &* 1_000 &+ attoseconds / 1_000_000_000_000_000
        return wallOrigin.seconds &* 1_000 &+ UInt64(clamping: max(0, milliseconds))
    }
}
