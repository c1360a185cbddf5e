extension SpreadingCore {
    /// Sends an echo request to neighbour `peer`.
    ///
    /// The reply arrives as ``SpreadingEvent/echoReply(peer:identifier:rtt:)`` and updates
    /// ``rtt(of:)``; with no reply within ``SpreadingConfiguration/echoTimeout`` the core
    /// reports ``SpreadingEvent/echoTimedOut(peer:identifier:)``.
    /// - Parameters:
    ///   - peer: a current neighbour.
    ///   - now: the current time; sent as the timestamp the reply echoes.
    /// - Returns: the request's identifier.
    /// - Throws: ``SpreadingError/unknownPeer(_:)`` or
    ///   ``SpreadingError/tooManyPendingEchoes``.
    @discardableResult
    public mutating func sendEcho(to peer: PeerID, now: Instant) throws(SpreadingError) -> UInt32 {
        let now = advance(now)
        guard let address = neighbours[peer] else { throw .unknownPeer(peer) }
        guard pendingEchoes.count < configuration.maximumPendingEchoes else { throw .tooManyPendingEchoes }
        var identifier = nextEchoIdentifier
        var attempts = 0
        while pendingEchoes[identifier] != nil, attempts < configuration.maximumPendingEchoes + 1 {
            identifier &+= 1
            attempts += 1
        }
        nextEchoIdentifier = identifier &+ 1
        pendingEchoes[identifier] = PendingEcho(
            peer: peer, address: address, sentAt: now, deadline: now + configuration.echoTimeout)
        echoOrder.append(identifier)
        send(.echoRequest(identifier: identifier, timestamp: now.nanoseconds, sender: localID), to: address)
        return identifier
    }

    /// Takes an RTT sample from a reply that matches an outstanding request exactly.
    mutating func handleEchoReply(
        identifier: UInt32, timestamp: UInt64, sender: PeerID, from source: PeerAddress, now: Instant
    ) {
        guard let pending = pendingEchoes[identifier], pending.peer == sender, pending.address == source,
            pending.sentAt.nanoseconds == timestamp
        else {
            statistics.unexpectedEchoReplies += 1
            return
        }
        pendingEchoes[identifier] = nil
        trimEchoOrder()
        let sample = now - Instant(nanoseconds: timestamp)
        if neighbours[sender] != nil {
            estimates[sender] = estimates[sender].map { $0.updated(with: sample) } ?? RTTEstimate(firstSample: sample)
        }
        events.append(.echoReply(peer: sender, identifier: identifier, rtt: sample))
    }

    /// Reports every echo request whose deadline has passed.
    mutating func expireEchoes(now: Instant) {
        var bound = echoOrder.count
        while bound > 0, let first = echoOrder.first, let pending = pendingEchoes[first], pending.deadline <= now {
            bound -= 1
            pendingEchoes[first] = nil
            echoOrder.removeFirst()
            trimEchoOrder()
            events.append(.echoTimedOut(peer: pending.peer, identifier: first))
        }
    }

    /// Drops answered identifiers from the front of the order, so the first is pending.
    mutating func trimEchoOrder() {
        var bound = echoOrder.count
        while bound > 0, let first = echoOrder.first, pendingEchoes[first] == nil {
            bound -= 1
            echoOrder.removeFirst()
        }
    }

    /// Reports an unreachable notice meant for this peer, or passes it toward its target.
    mutating func handleUnreachable(
        id: SpreadingID, subject: SpreadingMessageKind, target: PeerID, reporter: PeerID, now: Instant
    ) {
        if target == localID {
            events.append(.notice(.unreachable(id: id, subject: subject, reporter: reporter)))
            return
        }
        guard let next = routes.value(id, now: now)?.hitSources.first(where: { $0.responder == target })?.from else {
            // Like ICMP, no notice is ever sent about a notice.
            statistics.noRouteDropped += 1
            return
        }
        send(.unreachable(id: id, subject: subject, target: target, reporter: reporter), to: next)
    }

    /// Reports the first TTL-exceeded notice for this peer's query, or passes the first
    /// one for another's query one hop back; later ones are suppressed.
    mutating func handleTTLExceeded(id: SpreadingID, origin: PeerID, reporter: PeerID, hops: UInt8, now: Instant) {
        guard let route = routes.value(id, now: now), route.origin == origin else {
            statistics.noRouteDropped += 1
            return
        }
        guard !route.noticeSent else {
            statistics.noticesSuppressed += 1
            return
        }
        routes.update(id, now: now) { $0.noticeSent = true }
        if let previousHop = route.previousHop {
            send(.ttlExceeded(id: id, origin: origin, reporter: reporter, hops: hops), to: previousHop)
        } else {
            events.append(.notice(.ttlExceeded(id: id, reporter: reporter, hops: Int(hops))))
        }
    }
}
