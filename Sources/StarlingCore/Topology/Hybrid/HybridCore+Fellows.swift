extension HybridCore {
    // MARK: Fellow index servers

    /// Asks up to ``HybridConstants/maximumFellowsProbed`` fellow index servers that are
    /// up for their lists: a heartbeat whose answers keep their round trips measured and
    /// whose timeouts (``HybridConstants/timeoutsBeforeDown`` in a row) count a lost
    /// fellow down within about two ``HybridConfiguration/fellowProbeInterval``s, sooner
    /// than membership tells every peer.
    mutating func probeFellows(now: Instant) {
        nextFellowProbeAt = now + configuration.fellowProbeInterval
        let fellows = indexes.filter { $0.key != localID && $0.value.isUp }.map(\.key)
        let chosen =
            fellows.count <= HybridConstants.maximumFellowsProbed
            ? fellows : Array(fellows.shuffled(using: &random).prefix(HybridConstants.maximumFellowsProbed))
        for fellow in chosen {
            send(
                .listIndexes(request: 0, fromIndex: true), to: indexes[fellow]!.address, as: .list(index: fellow),
                now: now)
        }
    }

    /// Hands the records this index server holds to the fellows that hold one of their
    /// keys now and did not while `previouslyUp` were the servers up: a lost fellow's
    /// keys reach their next holders in one message each, without waiting for every
    /// client to learn of the loss and register again, and a fellow that came back
    /// (perhaps restarted empty) is refilled at once.
    ///
    /// Of a key's previous holders, the first still up hands over, so that one copy
    /// goes. At most ``HybridConstants/maximumHandoffsPerChange`` records go per change,
    /// by peer ID; the clients' own registrations refill the rest.
    mutating func handOff(previouslyUp: [PeerID], now: Instant) {
        guard let store else { return }
        let up = upIndexes
        let replication = configuration.replication
        var sent = 0
        for (peer, entry) in store.entries.sorted(by: { $0.key < $1.key }) where entry.expiresAt > now {
            var targets: [PeerID] = []
            for key in [RoutingKey(peer: peer)] + entry.record.record.services.map({ RoutingKey(service: $0) }) {
                let before = IndexPlacement.holders(of: key, among: previouslyUp, count: replication)
                guard before.first(where: up.contains) == localID else { continue }
                for holder in IndexPlacement.holders(of: key, among: up, count: replication)
                where holder != localID && !before.contains(holder) && !targets.contains(holder) {
                    targets.append(holder)
                }
            }
            for target in targets {
                guard sent < HybridConstants.maximumHandoffsPerChange else { return }
                guard let address = indexes[target]?.address else { continue }
                let left = UInt16(clamping: max(1, (entry.expiresAt - now).components.seconds))
                send(.handoff(request: 0, lifetime: left, record: entry.record), to: address, as: nil, now: now)
                statistics.handoffsSent += 1
                sent += 1
            }
        }
    }

    /// Takes a record a fellow index server handed over. Only a known fellow's
    /// handoffs count; anyone else's are dropped.
    mutating func takeHandoff(_ record: SignedPeerRecord, lifetime: UInt16, from source: PeerAddress, now: Instant) {
        guard store != nil, indexes.contains(where: { $0.key != localID && $0.value.address == source }) else {
            statistics.unexpectedAnswers += 1
            return
        }
        let granted = min(lifetime, UInt16(clamping: configuration.registrationLifetime.components.seconds))
        _ = store!.takeHandoff(
            record, lifetime: .seconds(Int64(granted)), from: source.host, now: now, wallNow: wallClock(at: now))
    }
}
