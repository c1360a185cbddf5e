extension SuperPeerCore {
    /// A leaf's attach: verified, then held (or refreshed) within
    /// ``SuperPeerConfiguration/maximumLeaves``, and answered.
    /// A reply never exceeds the attach it answers (no amplification toward a forged
    /// source): alternatives are cut to fit `requestSize`.
    mutating func handleAttach(
        record: SignedPeerRecord, filter: QueryRoutingFilter, from source: PeerAddress, requestSize: Int, now: Instant
    ) {
        let leaf = record.record.peerID
        guard leaf != localID else { return }
        guard role == .superPeer else {
            send(
                .attachReply(sender: localID, refusal: .notSuperPeer, alternatives: alternatives(fitting: requestSize)),
                to: source)
            return
        }
        do {
            try record.verify(now: wallClockAtZero + (now - .zero))
        } catch {
            statistics.invalidRecords += 1
            send(.attachReply(sender: localID, refusal: .invalidRecord, alternatives: []), to: source)
            return
        }
        if var entry = held[leaf] {
            if entry.filter != filter || entry.address != source { neighbourVersion &+= 1 }
            if record.record.sequence >= entry.record.record.sequence { entry.record = record }
            entry.filter = filter
            entry.address = source
            entry.lastHeard = now
            held[leaf] = entry
        } else {
            guard held.count < configuration.maximumLeaves else {
                statistics.leavesRefused += 1
                send(
                    .attachReply(sender: localID, refusal: .full, alternatives: alternatives(fitting: requestSize)),
                    to: source)
                return
            }
            held[leaf] = HeldLeaf(record: record, filter: filter, address: source, lastHeard: now)
            neighbourVersion &+= 1
            events.append(.leafAttached(leaf))
        }
        unionChanged = true
        send(.attachReply(sender: localID, refusal: nil, alternatives: []), to: source)
    }

    /// A leaf's keepalive: renews its lease and notes its candidacy, or tells it to attach
    /// again (with no alternatives: the answer stays smaller than the keepalive).
    /// A keepalive naming a newer record than the one held is answered the same way: the
    /// leaf's attach with that record was lost, and the leaf sends it again in full.
    mutating func handleKeepalive(
        from leaf: PeerID, recordSequence: UInt64, candidacy: UInt32, source: PeerAddress, now: Instant
    ) {
        guard role == .superPeer else {
            send(.attachReply(sender: localID, refusal: .notSuperPeer, alternatives: []), to: source)
            return
        }
        guard var entry = held[leaf], entry.address == source, entry.record.record.sequence >= recordSequence else {
            send(.attachReply(sender: localID, refusal: .notAttached, alternatives: []), to: source)
            return
        }
        entry.lastHeard = now
        entry.candidacy = candidacy
        held[leaf] = entry
        send(.attachReply(sender: localID, refusal: nil, alternatives: []), to: source)
    }

    /// A relay: delivered here, or passed on by a super-peer, or dropped.
    ///
    /// A super-peer passes a relay on to a leaf it holds, at the address the leaf's
    /// keepalives come from (which they hold open through a NAT), from anyone; and to
    /// any other alive member, at its member address, only when the origin sent the relay
    /// itself (from its member or leaf address). So a relay makes one hop through one
    /// super-peer, and nobody can have a super-peer send in another member's name.
    mutating func handleRelay(
        origin: PeerID, target: PeerID, payload: [UInt8], bytes: ArraySlice<UInt8>, from source: PeerAddress,
        now: Instant
    ) {
        if target == localID {
            events.append(.relayed(origin: origin, payload: payload, via: source))
            return
        }
        let destination: PeerAddress?
        if role != .superPeer {
            destination = nil
        } else if let leaf = held[target] {
            destination = leaf.address
        } else if source == memberAddresses[origin] || source == held[origin]?.address {
            destination = memberAddresses[target]
        } else {
            destination = nil
        }
        guard let destination else {
            statistics.relaysDropped += 1
            return
        }
        statistics.relaysForwarded += 1
        statistics.messagesSent += 1
        outbox.append(Array(bytes), to: destination)
    }

    /// Forgets leaves whose lease ran out.
    mutating func expireLeases(now: Instant) {
        guard role == .superPeer else { return }
        for (id, leaf) in held.sorted(by: { $0.key < $1.key }) where now - leaf.lastHeard >= configuration.leaseDuration
        {
            held[id] = nil
            neighbourVersion &+= 1
            unionChanged = true
            statistics.leasesExpired += 1
            events.append(.leafDetached(id, cause: .unresponsive))
        }
    }

    /// Up to ``SuperPeerConstants/maximumAlternatives`` other super-peers with the most
    /// free slots, for a refused leaf to try, as many as keep the reply within
    /// `requestSize` bytes.
    func alternatives(fitting requestSize: Int) -> [SuperPeerAlternative] {
        var budget = requestSize - (1 + SuperPeerConstants.peerIDSize + 2)
        return known.values.filter { $0.advert.isSuperPeer && $0.advert.freeSlots > 0 && isFresh($0) }
            .sorted { ($0.advert.freeSlots, $1.advert.id) > ($1.advert.freeSlots, $0.advert.id) }
            .prefix(SuperPeerConstants.maximumAlternatives)
            .compactMap { entry in
                memberAddresses[entry.advert.id].map { SuperPeerAlternative(id: entry.advert.id, address: $0) }
            }
            .filter { alternative in
                let size = SuperPeerConstants.peerIDSize + (alternative.address.hostBytes.count + 3)
                guard size <= budget else { return false }
                budget -= size
                return true
            }
    }
}
