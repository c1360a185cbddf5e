extension SpreadingCore {
    /// Starts an epidemic broadcast of `payload` to the whole swarm.
    ///
    /// The message, signed by this peer, goes to ``SpreadingConfiguration/fanout`` random
    /// neighbours (and to every leaf neighbour; from a ``SpreadingPosition/leaf``, to
    /// every neighbour); this peer does not deliver its own message to itself.
    /// - Parameters:
    ///   - payload: the application's bytes.
    ///   - now: the current time.
    /// - Returns: the message's new random ID.
    /// - Throws: ``SpreadingError/payloadTooLarge(size:maximum:)``.
    @discardableResult
    public mutating func broadcast(_ payload: [UInt8], now: Instant) throws(SpreadingError) -> SpreadingID {
        let now = advance(now)
        try checkPayload(payload)
        let id = SpreadingID.random(using: &random)
        seenGossip.insert(id, true, now: now)
        let message = SpreadingMessage.signedGossip(id: id, hops: 0, payload: payload, swarmID: swarmID, by: identity)
        pushGossip(message, origin: localID, except: nil)
        return id
    }

    /// Delivers and forwards a gossip message seen for the first time whose origin signed
    /// it; drops duplicates and forgeries.
    mutating func handleGossip(
        id: SpreadingID, origin: PeerID, hops: UInt8, payload: [UInt8], signature: [UInt8],
        from source: PeerAddress, now: Instant
    ) {
        guard !seenGossip.contains(id, now: now) else {
            statistics.duplicatesDropped += 1
            return
        }
        let signed = SpreadingSignature.gossipBytes(swarmID: swarmID, id: id, origin: origin, payload: payload)
        guard case .genuine = authenticate(signed, signature: signature, by: origin, now: now) else { return }
        seenGossip.insert(id, true, now: now)
        let travelled = Int(hops) + 1
        events.append(.delivered(id: id, origin: origin, hops: travelled, payload: payload))
        guard travelled < configuration.maximumGossipHops else {
            statistics.hopLimitReached += 1
            return
        }
        let message = SpreadingMessage.gossip(
            id: id, origin: origin, hops: UInt8(travelled), payload: payload, signature: signature)
        pushGossip(message, origin: origin, except: source)
    }

    /// Sends `message` to `fanout` unfiltered neighbours chosen uniformly at random and to
    /// every leaf neighbour (one with a query filter), skipping the origin and the
    /// neighbour at `except`. A leaf sends only what it originates, to every neighbour.
    mutating func pushGossip(_ message: SpreadingMessage, origin: PeerID, except source: PeerAddress?) {
        let originates = origin == localID && source == nil
        guard position == .relay || originates else { return }
        var candidates = neighbourOrder.filter { $0 != origin && neighbours[$0] != source }
        guard !candidates.isEmpty, let bytes = try? message.encoded() else { return }
        if position == .leaf {
            for peer in candidates {
                guard let address = neighbours[peer] else { continue }
                statistics.messagesSent += 1
                outbox.append(bytes, to: address)
            }
            return
        }
        if !queryFilters.isEmpty {
            for peer in candidates where queryFilters[peer] != nil {
                guard let address = neighbours[peer] else { continue }
                statistics.messagesSent += 1
                outbox.append(bytes, to: address)
            }
            candidates.removeAll { queryFilters[$0] != nil }
        }
        let count = min(configuration.fanout, candidates.count)
        guard count > 0 else { return }
        // Partial Fisher–Yates: the first `count` candidates become a uniform sample.
        for index in 0..<count {
            let pick = Int.random(in: index..<candidates.count, using: &random)
            candidates.swapAt(index, pick)
            guard let address = neighbours[candidates[index]] else { continue }
            statistics.messagesSent += 1
            outbox.append(bytes, to: address)
        }
    }

}
