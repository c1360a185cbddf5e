extension HybridCore {
    // MARK: Index server

    /// Answers a registration or lookup. A peer that is no index server ignores them.
    mutating func serve(_ message: IndexMessage, from source: PeerAddress, now: Instant) {
        guard store != nil else {
            statistics.unexpectedAnswers += 1
            return
        }
        switch message {
        case .register(let request, let lifetime, let record):
            let granted = min(lifetime, UInt16(clamping: configuration.registrationLifetime.components.seconds))
            let status = store!.register(
                record, lifetime: .seconds(Int64(granted)), from: source.host, now: now, wallNow: wallClock(at: now))
            send(
                .registered(request: request, status: status, lifetime: status.isStored ? granted : 0), to: source,
                as: nil, now: now)
        case .findPeer(let request, let peer):
            let found = store!.record(of: peer, now: now)
            store!.statistics.peerLookups += 1
            if found != nil { store!.statistics.peerLookupsFound += 1 }
            send(.records(request: request, records: found.map { [$0] } ?? []), to: source, as: nil, now: now)
        case .findService(let request, let service):
            store!.statistics.serviceLookups += 1
            let records = store!.providers(
                of: service, count: HybridConstants.maximumRecordsPerAnswer, now: now, using: &random)
            send(.records(request: request, records: Self.fitting(records)), to: source, as: nil, now: now)
        default:
            break
        }
    }

    /// The longest prefix of `records` whose answer fits one overlay message.
    static func fitting(_ records: [SignedPeerRecord]) -> [SignedPeerRecord] {
        Array(records.prefix(IndexMessage.fittingCount(records.lazy.map { $0.body.count + $0.signature.count })))
    }

    /// Answers a request for the index servers known: this peer first when it is one,
    /// then the others that are up. An index server that asks is asked back, so index
    /// servers find each other.
    mutating func answerIndexList(request: UInt32, fromIndex: Bool, to source: PeerAddress, now: Instant) {
        guard source != localAddress else { return }
        var entries: [IndexEntry] = []
        if store != nil { entries.append(IndexEntry(id: localID, address: localAddress)) }
        for (id, state) in indexes where id != localID && state.isUp {
            guard entries.count < HybridConstants.maximumIndexes else { break }
            entries.append(IndexEntry(id: id, address: state.address))
        }
        store?.statistics.indexListsSent += 1
        let members = store != nil ? UInt32(clamping: heldMembers) : 0
        send(.indexes(request: request, members: members, entries: entries), to: source, as: nil, now: now)
        if fromIndex, store != nil, !indexes.values.contains(where: { $0.address == source }) {
            send(.listIndexes(request: 0, fromIndex: true), to: source, as: .list(index: nil), now: now)
        }
    }
}
