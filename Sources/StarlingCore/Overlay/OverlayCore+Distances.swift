extension OverlayCore {
    /// Feeds the round trips membership's probes measured to ``distances``.
    mutating func takeRoundTrips(now: Instant) {
        for sample in membership.takeRoundTrips() {
            observeRoundTrip(sample.rtt, of: sample.member, coordinate: sample.coordinate, now: now)
        }
    }

    /// Feeds one round trip (a probe's, with the coordinate its ack carried, or an
    /// echo's) to ``distances``, and gives membership the moved coordinate for its next
    /// acks.
    mutating func observeRoundTrip(_ rtt: Duration, of peer: PeerID, coordinate: NetworkCoordinate?, now: Instant) {
        distances.observe(rtt: rtt, of: peer, coordinate: coordinate, now: now)
        membership.localCoordinate = distances.localCoordinate
    }

    /// `peers` nearest first (``PeerDistances/ranked(_:now:)``), without those membership
    /// holds failed, dead or gone: the measured round trip where there is a recent one,
    /// the coordinates' estimate otherwise, and those of which neither is known last.
    ///
    /// A peer that stops answering leaves the ranking when failure detection declares
    /// it failed (a suspect stays, ranked as before). This peer itself is never ranked:
    /// anycast asks others.
    /// - Parameters:
    ///   - peers: the candidates, for example the providers of a service.
    ///   - now: the current time.
    public func nearest(_ peers: some Sequence<PeerID>, now: Instant) -> [RankedPeer] {
        let live = peers.filter { peer in
            guard peer != localID, let member = membership.member(peer) else { return peer != localID }
            return member.state.isLive
        }
        return distances.ranked(live, now: now)
    }
}
