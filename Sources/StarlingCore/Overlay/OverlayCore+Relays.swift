internal import DequeModule

/// Relays for peers this peer cannot reach directly, in the super-peer topology.
///
/// Membership shows who they are: a member whose direct ping goes unanswered but whose
/// ping request to a super-peer is answered is alive and reachable through that
/// super-peer (``MembershipCore/reachedThrough(_:)``; ping requests go to super-peers
/// first, ``MembershipCore/setPreferredHelpers(_:)``). The session layer's datagrams to
/// that member's address then go to the super-peer in a relay message, which forwards
/// them (``SuperPeerCore/relay(_:to:via:now:)``); the member answers the way the relay
/// came. A direct answer to a later ping ends the route, and traffic goes direct again.
extension OverlayCore {
    /// Whether any peer is reached through a relay now; while not, session datagrams
    /// need no look-up in ``relaySessionDatagram(_:to:now:)``.
    public var hasRelayRoutes: Bool { !relayRoutes.isEmpty }

    /// The super-peer through which this peer reaches `peer`, if it needs one.
    public func relay(toPeer peer: PeerID) -> PeerID? { relayRoutes.route(toPeer: peer)?.superPeer }

    /// Sends a session datagram for `destination` through a super-peer when the peer
    /// there is reachable only through one.
    /// - Returns: `true` when the datagram was taken (sent in a relay, or dropped as too
    ///   long to relay); `false` when `destination` needs no relay and the datagram should
    ///   go out as it is.
    public mutating func relaySessionDatagram(_ datagram: [UInt8], to destination: PeerAddress, now: Instant) -> Bool {
        guard let route = relayRoutes.route(to: destination), hasSuperPeer else { return false }
        let now = advance(now)
        do {
            try superPeer!.relay(datagram, to: route.peer, via: route.via, now: now)
            superPeerDeadline = superPeer!.pollTimeout()
            statistics.relayedSent += 1
        } catch {
            statistics.relaysRefused += 1
        }
        return true
    }

    /// Notes a handshake initiation the session layer sends to `destination` directly: in
    /// the super-peer topology, the member there is probed next, so that a relay is
    /// found within a probe or two if it turns out to need one (the handshake's own
    /// retransmissions then go through it).
    public mutating func noteHandshake(to destination: PeerAddress, now: Instant) {
        guard hasSuperPeer else { return }
        _ = advance(now)
        membership.probeNext(at: destination)
    }

    /// Writes the next relayed session datagram into `buffer` and returns the address
    /// of the peer it came from (its member address, where the session layer knows it),
    /// or `nil` when none is waiting.
    public mutating func pollRelayedDatagram(into buffer: inout [UInt8]) -> PeerAddress? {
        guard let next = relayedWaiting.popFirst() else { return nil }
        buffer = next.payload
        return next.origin
    }

    /// Takes a relay that reached this peer: accepted from an alive super-peer for an
    /// origin that is a live member, queued for the session layer as if from the origin's
    /// member address. Membership learns that the origin is reached through that
    /// super-peer (unless it knows another way already), so the origin is answered the
    /// way the relay came, until it answers a ping directly.
    mutating func acceptRelayed(origin: PeerID, payload: [UInt8], via: PeerAddress) {
        guard let superPeer, let sender = superPeer.superPeer(at: via),
            let member = membership.member(origin), member.state.isLive,
            relayedWaiting.count < OverlayConstants.maximumRelayedWaiting
        else {
            statistics.relaysRefused += 1
            return
        }
        statistics.relayedReceived += 1
        relayedWaiting.append((payload, member.address))
        membership.noteReachedThrough(origin, via: sender)
    }

    /// Brings the routes of the members whose reachability membership found changed up
    /// to date: through the super-peer that relayed the latest ack (or relay), or direct
    /// again.
    mutating func updateRelayRoutes() {
        let changed = membership.takeReachabilityChanges()
        guard !changed.isEmpty, let superPeer else { return }
        for id in changed {
            guard let member = membership.member(id), member.state.isLive,
                let helper = membership.reachedThrough(id), let via = superPeer.superPeerAddress(of: helper)
            else {
                relayRoutes.removeRoute(to: id)
                continue
            }
            let route = RelayRoutes.Route(peer: id, superPeer: helper, via: via)
            let isNew = relayRoutes.route(to: member.address) != route
            if !relayRoutes.set(route, at: member.address) {
                statistics.relayRoutesRefused += 1
            } else if isNew, newRelayRoutes.count < OverlayConstants.maximumRelayRoutes {
                newRelayRoutes.append(member.address)
            }
        }
    }

    /// The addresses of the members a relay route was set to since the last call: a
    /// handshake waiting for an answer from one of them should be sent again at once,
    /// through the relay (``PeerCore/retryHandshakes(to:now:)``; ``NodeCore`` does so).
    public mutating func takeNewRelayRoutes() -> [PeerAddress] {
        guard !newRelayRoutes.isEmpty else { return [] }
        defer { newRelayRoutes.removeAll() }
        return newRelayRoutes
    }

    /// Tells membership to ask the super-peers this peer knows first when a direct ping
    /// goes unanswered. Called before membership's timers run, where ping requests are
    /// sent, rather than after every input.
    ///
    /// This runs at every probe, so the list is worked out again only when the
    /// super-peers known changed (``SuperPeerCore/superPeersVersion``), and then at most
    /// once per ``SuperPeerConstants/leafAdvertRounds`` advert intervals (how often a leaf
    /// hears its super-peers): while a large swarm elects, they change at nearly every
    /// advert. A list shorter than the ping requests a probe sends
    /// (``MembershipConfiguration/indirectChecks``) is worked out again at once: with it, a
    /// probe asks other members too, and in a network where leaves cannot reach each other
    /// those leaves cannot help, so young leaves suspected live members across it (each
    /// suspicion raised the accused's local health, and its probes slowed down).
    mutating func preferSuperPeersAsHelpers(now: Instant) {
        let (appliedVersion, setAt) = (helpersVersion, helpersSetAt)
        let isShort = membership.preferredHelpers.count < membership.configuration.indirectChecks
        guard
            let (version, helpers) = withSuperPeerCore({ core -> (UInt64, [PeerID])? in
                let spacing = core.configuration.advertInterval * SuperPeerConstants.leafAdvertRounds
                guard core.superPeersVersion != appliedVersion, isShort || setAt.map({ now - $0 >= spacing }) ?? true
                else { return nil }
                return (core.superPeersVersion, core.knownSuperPeerIDs)
            }) ?? nil
        else { return }
        (helpersVersion, helpersSetAt) = (version, now)
        membership.setPreferredHelpers(helpers)
    }
}
