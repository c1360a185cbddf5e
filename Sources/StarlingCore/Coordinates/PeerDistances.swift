/// What one peer knows of how far the others are: its own network coordinate, the
/// coordinates they reported, and the round trips it measured to them.
///
/// Fed by the round trips that failure detection (membership probes, whose acks carry
/// the responder's coordinate) and echoes measure anyway, so it costs no datagram of
/// its own. A peer's estimate is its measured round trip (the median of its last three
/// samples) while that is younger than ``CoordinateConstants/measuredLifetime``, and the
/// distance between the two coordinates otherwise (``DistanceEstimate/Basis``).
///
/// Bounded: at most ``CoordinateConstants/maximumPeers`` peers are remembered, and a
/// peer is forgotten when membership declares it failed or gone.
public struct PeerDistances: Sendable {
    struct Entry: Sendable {
        var coordinate: NetworkCoordinate?
        var filter = LatencyFilter()
        var measuredAt: Instant?
    }

    /// This peer's own coordinate and its update rule.
    public private(set) var estimator = VivaldiEstimator()
    /// Round trips refused as impossible (not positive, or longer than
    /// ``CoordinateConstants/maximumRoundTrip``).
    public private(set) var refusedSamples = 0
    var entries: [PeerID: Entry] = [:]

    /// Distances to nobody, and a coordinate at the origin.
    public init() {}

    /// This peer's own network coordinate.
    public var localCoordinate: NetworkCoordinate { estimator.coordinate }

    /// How many peers are remembered.
    public var count: Int { entries.count }

    /// Takes a round trip measured to `peer`, with the coordinate it reported if the
    /// sample came with one, and moves this peer's coordinate (by the filtered round trip,
    /// against the newest coordinate known for `peer`).
    /// - Parameters:
    ///   - rtt: the measured round trip; one that is not positive or longer than
    ///     ``CoordinateConstants/maximumRoundTrip`` is refused.
    ///   - peer: whom it was measured to.
    ///   - coordinate: the coordinate `peer` reported with it, if any (decoded, so valid).
    ///   - now: the current time.
    public mutating func observe(rtt: Duration, of peer: PeerID, coordinate: NetworkCoordinate?, now: Instant) {
        let seconds = Double(rtt.nanosecondsClamped) / 1e9
        guard seconds > 0, seconds <= CoordinateConstants.maximumRoundTrip else {
            refusedSamples += 1
            return
        }
        guard entries[peer] != nil || entries.count < CoordinateConstants.maximumPeers else {
            if let coordinate { estimator.update(rtt: seconds, remote: coordinate, apart: Self.apart(from: peer)) }
            return
        }
        var entry = entries[peer] ?? Entry()
        if let coordinate { entry.coordinate = coordinate }
        let filtered = entry.filter.add(seconds)
        entry.measuredAt = now
        entries[peer] = entry
        if let remote = entry.coordinate {
            estimator.update(rtt: filtered, remote: remote, apart: Self.apart(from: peer))
        }
    }

    /// A direction that differs from peer to peer, for moving away from one whose
    /// coordinate coincides with this peer's: eight hashes of its ID, each mapped to
    /// [−1, 1).
    static func apart(from peer: PeerID) -> SIMD8<Double> {
        var direction = SIMD8<Double>.zero
        for index in 0..<CoordinateConstants.dimensions {
            let hash = peer.publicKey.mixed(with: UInt64(index))
            direction[index] = Double(hash >> 11) / Double(1 << 52) - 1
        }
        return direction
    }

    /// Forgets `peer` (it failed or left).
    public mutating func forget(_ peer: PeerID) {
        entries[peer] = nil
    }

    /// The coordinate `peer` last reported, if any.
    public func coordinate(of peer: PeerID) -> NetworkCoordinate? {
        entries[peer]?.coordinate
    }

    /// How far `peer` is estimated to be at `now`; nil when nothing is known of it.
    public func estimate(to peer: PeerID, now: Instant) -> DistanceEstimate? {
        guard let entry = entries[peer] else { return nil }
        if let measuredAt = entry.measuredAt, now - measuredAt < CoordinateConstants.measuredLifetime {
            return DistanceEstimate(roundTrip: .seconds(entry.filter.median), basis: .measured)
        }
        guard let coordinate = entry.coordinate else { return nil }
        return DistanceEstimate(roundTrip: .seconds(localCoordinate.distance(to: coordinate)), basis: .coordinates)
    }

    /// `peers` nearest first: by estimated round trip, those with no estimate last (in
    /// ID order), ties in ID order.
    public func ranked(_ peers: some Sequence<PeerID>, now: Instant) -> [RankedPeer] {
        let ranked = Set(peers).map { RankedPeer(id: $0, estimate: estimate(to: $0, now: now)) }
        return ranked.sorted { a, b in
            switch (a.estimate, b.estimate) {
            case (let x?, let y?): x.roundTrip == y.roundTrip ? a.id < b.id : x.roundTrip < y.roundTrip
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): a.id < b.id
            }
        }
    }
}
