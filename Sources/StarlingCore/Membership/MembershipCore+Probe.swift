extension MembershipCore {
    /// Starts the next probe and arms the one after it. Call when ``MembershipTimer/probe`` fires.
    mutating func startProbe(now: Instant) {
        let interval = localHealth.scale(adaptedProbeInterval)
        nextProbeAt = now + interval
        guard probe == nil, let target = nextProbeTarget(now: now), let member = table[target] else { return }
        let sequence = makeSequence()
        var updates = buddyNotice(for: member)
        updates += piggyback(
            budget: configuration.maxMessageSize - MembershipMessage.pingHeaderSize
                - updates.reduce(0) { $0 + $1.encodedSize })
        send(
            .ping(sequence: sequence, target: target, sender: localID, digest: sentDigest, updates: updates),
            to: member.address)
        probe = ProbeInFlight(
            sequence: sequence, target: target, indirectAt: now + localHealth.scale(adaptedProbeTimeout),
            endAt: now + interval, sentAt: now)
    }

    /// Lifeguard's buddy system: a ping to a suspect carries the suspicion first, so that
    /// it can refute even if gossip has not reached it yet.
    func buddyNotice(for member: Member) -> [MemberUpdate] {
        guard member.state == .suspect else { return [] }
        return [
            MemberUpdate(
                state: .suspect, incarnation: member.incarnation, member: member.id, address: member.address,
                accuser: suspicions[member.id]?.firstAccuser ?? localID)
        ]
    }

    /// The next live member of the shuffled round-robin list, reshuffling (and
    /// forgetting long-failed members) at the end of each round.
    mutating func nextProbeTarget(now: Instant) -> PeerID? {
        var steps = 0
        while steps <= probeList.count + 1 {
            steps += 1
            if probeIndex >= probeList.count {
                reapDeadMembers(now: now)
                probeList = order.filter { table[$0]?.state.isLive ?? false }
                probeList.shuffle(using: &random)
                probeIndex = 0
                if probeList.isEmpty { return nil }
            }
            let candidate = probeList[probeIndex]
            probeIndex += 1
            if table[candidate]?.state.isLive ?? false { return candidate }
        }
        return nil
    }

    /// Sends ping requests to up to `k` alive members. Call when ``MembershipTimer/indirectProbe`` fires.
    mutating func sendIndirectProbes(now: Instant) {
        guard var current = probe, let target = table[current.target] else {
            probe = nil
            return
        }
        current.indirectAt = nil
        let relays = indirectHelpers(for: current.target)
        var chosen = 0
        for relay in relays {
            if let address = table[relay]?.address {
                send(
                    .pingRequest(
                        sequence: current.sequence, target: current.target, targetAddress: target.address,
                        sender: localID),
                    to: address)
                chosen += 1
            }
        }
        current.expectedNacks = chosen
        probe = current
    }

    /// Suspects the target of an unanswered probe and adjusts local health. Call when
    /// ``MembershipTimer/probeEnd`` fires.
    mutating func finishFailedProbe(now: Instant) {
        guard var current = probe else { return }
        if let until = timing.accusationsDeferredUntil, now < until {
            // This peer is behind: the ack may be unread in its own socket. Decide later.
            current.endAt = until
            probe = current
            statistics.deferredAccusations += 1
            return
        }
        probe = nil
        timing.rememberEndedProbe(sequence: current.sequence, sentAt: current.sentAt)
        localHealth.apply(
            LocalHealth.failedProbeDelta(expectedNacks: current.expectedNacks, receivedNacks: current.receivedNacks))
        noteOwnProbeFailed(of: current.target, now: now)
    }

    /// Up to ``MembershipConfiguration/indirectChecks`` alive members to ask to ping
    /// `target`: first the one that relayed its last ack, then the preferred helpers
    /// (super-peers, ``setPreferredHelpers(_:)``) at random, then others at random.
    mutating func indirectHelpers(for target: PeerID) -> [PeerID] {
        let wanted = configuration.indirectChecks
        let localID = localID
        func isHelper(_ member: Member) -> Bool {
            member.id != target && member.id != localID && member.state == .alive
        }
        var chosen: [PeerID] = []
        if let last = indirectRoutes[target], let member = table[last], isHelper(member) { chosen.append(last) }
        if chosen.count < wanted, !preferredHelpers.isEmpty {
            let preferred = preferredHelpers.filter { id in
                table[id].map(isHelper) ?? false && !chosen.contains(id)
            }
            chosen += preferred.shuffled(using: &random).prefix(wanted - chosen.count)
        }
        guard chosen.count < wanted else { return chosen }
        let taken = chosen
        return chosen + sampleLiveMembers(wanted - chosen.count) { isHelper($0) && !taken.contains($0.id) }
    }

    /// Matches an ack to a relay or to the current probe.
    ///
    /// An ack for the current probe from its target shows the target reachable
    /// directly; one from another member (relayed after ping requests) shows it
    /// reachable only through that member, which ``reachedThrough(_:)`` then names.
    ///
    /// A direct ack from the probe's target, from its member address, is a round trip
    /// sample (``takeRoundTrips()``), with the coordinate the target reported.
    mutating func handleAck(
        sequence: UInt32, from sender: PeerID, at source: PeerAddress, coordinate: NetworkCoordinate, now: Instant
    ) {
        if let index = checks.firstIndex(where: { $0.sequence == sequence }) {
            noteOwnProbeAnswered(by: checks.remove(at: index).target, now: now)
            return
        }
        if let relay = relays.removeValue(forKey: sequence) {
            send(
                .ack(
                    sequence: relay.requesterSequence, sender: localID, digest: sentDigest,
                    coordinate: localCoordinate, updates: []),
                to: relay.requester)
            return
        }
        guard let current = probe, current.sequence == sequence else {
            if timing.addLateAck(sequence: sequence, now: now) {
                statistics.lateAcks += 1
            } else {
                statistics.unexpectedAnswers += 1
            }
            return
        }
        probe = nil
        localHealth.apply(-1)
        noteReachability(of: current.target, through: sender == current.target ? nil : sender)
        noteOwnProbeAnswered(by: current.target, now: now)
        if sender == current.target, table[sender]?.address == source,
            roundTrips.count < MembershipConstants.roundTripsHeld
        {
            roundTrips.append(ProbeRoundTrip(member: sender, rtt: now - current.sentAt, coordinate: coordinate))
        }
        // Only a direct ack measures the round trip; one relayed after ping requests does not.
        if current.indirectAt != nil { timing.addSample(now - current.sentAt) }
    }

    /// Counts a nack for the current probe.
    mutating func handleNack(sequence: UInt32) {
        guard var current = probe, current.sequence == sequence else {
            statistics.unexpectedAnswers += 1
            return
        }
        current.receivedNacks += 1
        probe = current
    }

    /// Pings `target` for a requester; its ack is relayed, or a nack sent on time-out.
    mutating func relayProbe(
        sequence: UInt32, target: PeerID, address: PeerAddress, requester: PeerAddress, now: Instant
    ) {
        guard target != localID else {
            send(
                .ack(
                    sequence: sequence, sender: localID, digest: sentDigest, coordinate: localCoordinate, updates: []),
                to: requester)
            return
        }
        guard relays.count < MembershipConstants.relaysHeld else {
            statistics.relaysRefused += 1
            return
        }
        let relaySequence = makeSequence()
        let budget = configuration.maxMessageSize - MembershipMessage.pingHeaderSize
        send(
            .ping(
                sequence: relaySequence, target: target, sender: localID, digest: sentDigest,
                updates: piggyback(budget: budget)),
            to: address)
        relays[relaySequence] = Relay(
            requester: requester, requesterSequence: sequence,
            nackAt: now + adaptedProbeTimeout * MembershipConstants.nackTimeoutFraction)
    }

    /// Sends the nacks of relays whose target stayed silent. Call when
    /// ``MembershipTimer/relayNack`` fires.
    mutating func expireRelays(now: Instant) {
        let expired = relays.filter { $0.value.nackAt <= now }.keys.sorted()
        for sequence in expired {
            guard let relay = relays.removeValue(forKey: sequence) else { continue }
            send(.nack(sequence: relay.requesterSequence, sender: localID), to: relay.requester)
        }
    }

    /// Forgets failed and departed members older than the retention time.
    mutating func reapDeadMembers(now: Instant) {
        let retention = configuration.deadMemberRetention
        let stale = order.filter {
            guard let member = table[$0] else { return true }
            return !member.state.isLive && now - member.stateChangedAt >= retention
        }
        guard !stale.isEmpty else { return }
        for id in stale {
            if let member = table.removeValue(forKey: id) { stateCounts[Int(member.state.rawValue)] -= 1 }
            indirectRoutes[id] = nil
        }
        let staleSet = Set(stale)
        order.removeAll { staleSet.contains($0) }
    }
}

extension Array {
    /// Removes and returns a random element in O(1), not keeping order.
    /// - Precondition: the array is not empty.
    mutating func swapRemoveRandom(using generator: inout some RandomNumberGenerator) -> Element {
        let index = Int.random(in: 0..<count, using: &generator)
        swapAt(index, count - 1)
        return removeLast()
    }
}
