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
    /// keys reach their next holders at once, as many to a message as fit, without
    /// waiting for every client to learn of the loss and register again, and a fellow
    /// that came back (perhaps restarted empty) is refilled at once.
    ///
    /// Of a key's previous holders, the first still up hands over, so that one copy
    /// goes. At most ``HybridConstants/maximumHandoffsPerChange`` records go per change,
    /// by peer ID; the clients' own registrations refill the rest.
    mutating func handOff(previouslyUp: [PeerID], now: Instant) {
        guard let store else { return }
        let up = upIndexes
        let replication = configuration.replication
        var handed: [PeerID: [HandedRecord]] = [:]
        var count = 0
        handing: for (peer, entry) in store.entries.sorted(by: { $0.key < $1.key }) where entry.expiresAt > now {
            var targets: [PeerID] = []
            for key in [RoutingKey(peer: peer)] + entry.record.record.services.map({ RoutingKey(service: $0) }) {
                let before = IndexPlacement.holders(of: key, among: previouslyUp, count: replication)
                guard before.first(where: up.contains) == localID else { continue }
                for holder in IndexPlacement.holders(of: key, among: up, count: replication)
                where holder != localID && !before.contains(holder) && !targets.contains(holder) {
                    targets.append(holder)
                }
            }
            let left = UInt16(clamping: max(1, (entry.expiresAt - now).components.seconds))
            for target in targets where indexes[target] != nil {
                guard count < HybridConstants.maximumHandoffsPerChange else { break handing }
                handed[target, default: []].append(HandedRecord(lifetime: left, record: entry.record))
                count += 1
            }
        }
        for (target, records) in handed {
            var rest = records[...]
            while !rest.isEmpty {
                let batch = rest.prefix(IndexMessage.fittingCount(rest.lazy.map(\.encodedSize)))
                send(.handoff(request: 0, records: Array(batch)), to: indexes[target]!.address, as: nil, now: now)
                rest = rest.dropFirst(batch.count)
            }
        }
        statistics.handoffsSent += count
    }

    /// Takes the records a fellow index server handed over. Only a known fellow's
    /// handoffs count; anyone else's are dropped.
    mutating func takeHandoff(_ records: [HandedRecord], from source: PeerAddress, now: Instant) {
        guard store != nil, indexes.contains(where: { $0.key != localID && $0.value.address == source }) else {
            statistics.unexpectedAnswers += 1
            return
        }
        let wallNow = wallClock(at: now)
        for handed in records {
            let granted = min(handed.lifetime, UInt16(clamping: configuration.registrationLifetime.components.seconds))
            _ = store!.takeHandoff(
                handed.record, lifetime: .seconds(Int64(granted)), from: source.host, now: now, wallNow: wallNow)
        }
    }
}
