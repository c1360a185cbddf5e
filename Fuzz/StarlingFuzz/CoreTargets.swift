import StarlingCore

/// The stateful targets: a victim core and a partner of the same kind run a script
/// (see ``CorePair``). The first byte of the input picks the swarm (open or private) where
/// the core has one; the rest is the script.
enum CoreTargets {
    /// Sessions alone: handshakes, transport, rekeys, expiry.
    @discardableResult
    static func sessionEndpoint(_ bytes: UnsafeRawBufferPointer, capture: Bool = false) -> [[UInt8]] {
        var input = FuzzInput(bytes)
        let configuration = sessionConfiguration(input.byte() ?? 0)
        guard
            let victim = try? SessionEndpoint(
                identity: FuzzIdentities.victim, configuration: configuration, random: FuzzRandom(seed: 1)),
            let partner = try? SessionEndpoint(
                identity: FuzzIdentities.partner, configuration: configuration, random: FuzzRandom(seed: 2))
        else { return [] }
        var pair = CorePair(victim: victim, partner: partner) { core, operand, other, now in
            switch operand % 3 {
            case 0: core.connect(to: other.address, expecting: operand & 0x80 == 0 ? other.id : nil, now: now)
            case 1: try? core.send([UInt8](repeating: operand, count: Int(operand)), to: other.id, now: now)
            default: core.close(other.id)
            }
        }
        if capture { pair.sent = [] }
        pair.run(&input)
        return pair.sent ?? []
    }

    /// Sessions and request/response: the victim serves `echo` and answers every request.
    @discardableResult
    static func peerCore(_ bytes: UnsafeRawBufferPointer, capture: Bool = false) -> [[UInt8]] {
        var input = FuzzInput(bytes)
        let configuration = sessionConfiguration(input.byte() ?? 0)
        guard let victim = makePeerCore(FuzzIdentities.victim, configuration, seed: 1),
            let partner = makePeerCore(FuzzIdentities.partner, configuration, seed: 3)
        else { return [] }
        var pair = CorePair(victim: victim, partner: partner, command: peerCommand) { core, event, now in
            if case .request(let request) = event {
                try? core.respond(to: request.id, payload: request.payload, now: now)
            }
        }
        if capture { pair.sent = [] }
        pair.run(&input)
        return pair.sent ?? []
    }

    /// Membership alone (SWIM with Lifeguard): the partner joins through the victim.
    @discardableResult
    static func membershipCore(_ bytes: UnsafeRawBufferPointer, capture: Bool = false) -> [[UInt8]] {
        var input = FuzzInput(bytes)
        _ = input.byte()
        guard
            let victim = try? MembershipCore(
                identity: FuzzIdentities.victim, address: FuzzIdentities.victimAddress,
                configuration: .simulation, random: FuzzRandom(seed: 1)),
            let partner = try? MembershipCore(
                identity: FuzzIdentities.partner, address: FuzzIdentities.partnerAddress,
                configuration: .simulation, random: FuzzRandom(seed: 2))
        else { return [] }
        var pair = CorePair(victim: victim, partner: partner) { core, operand, other, now in
            if operand & 0x0F == 0x0F { core.leave(now: now) } else { core.join([other.address], now: now) }
        }
        if capture { pair.sent = [] }
        pair.run(&input)
        return pair.sent ?? []
    }

    /// A whole peer (sessions, RPC, and the overlay's membership, routing and spreading
    /// on one socket), as `Peer` runs it.
    @discardableResult
    static func nodeCore(_ bytes: UnsafeRawBufferPointer, capture: Bool = false) -> [[UInt8]] {
        var input = FuzzInput(bytes)
        let choice = input.byte() ?? 0
        let session = sessionConfiguration(choice)
        var overlay = OverlayConfiguration.simulation
        overlay.swarmID = session.swarmID
        overlay.swarmSecret = session.swarmSecret
        guard let victim = makeNodeCore(FuzzIdentities.victim, FuzzIdentities.victimAddress, session, overlay, seed: 1),
            let partner = makeNodeCore(FuzzIdentities.partner, FuzzIdentities.partnerAddress, session, overlay, seed: 4)
        else { return [] }
        var pair = CorePair(victim: victim, partner: partner) { core, operand, other, now in
            switch operand % 6 {
            case 0: _ = core.withOverlay { $0.join([other.address], now: now) }
            case 1: _ = core.withOverlay { $0.findPeer(other.id, now: now) }
            case 2: _ = core.withOverlay { try? $0.provide(service: "svc\(operand % 4)", now: now) }
            case 3: _ = core.withOverlay { $0.findProviders(service: "svc\(operand % 4)", now: now) }
            case 4: _ = core.withOverlay { try? $0.broadcast([operand], now: now) }
            default: peerCommand(&core.peer, operand, other, now)
            }
        } react: { core, event, now in
            if case .peer(.request(let request)) = event {
                try? core.peer.respond(to: request.id, payload: request.payload, now: now)
            }
        }
        if capture { pair.sent = [] }
        pair.run(&input)
        return pair.sent ?? []
    }

    /// Bit 0 of `choice`: a private swarm (psk handshakes, sealed overlay).
    private static func sessionConfiguration(_ choice: UInt8) -> SessionConfiguration {
        var configuration = SessionConfiguration.simulation
        configuration.swarmID = DecoderTargets.swarmID
        if choice & 0x01 != 0 { configuration.swarmSecret = DecoderTargets.swarmSecret }
        return configuration
    }

    private static func makePeerCore(
        _ identity: IdentityKeyPair, _ configuration: SessionConfiguration, seed: UInt64
    ) -> PeerCore? {
        guard
            let endpoint = try? SessionEndpoint(
                identity: identity, configuration: configuration, random: FuzzRandom(seed: seed))
        else { return nil }
        var core = PeerCore(endpoint: endpoint, random: FuzzRandom(seed: seed << 8))
        try? core.serve("echo")
        return core
    }

    private static func makeNodeCore(
        _ identity: IdentityKeyPair, _ address: PeerAddress, _ session: SessionConfiguration,
        _ overlay: OverlayConfiguration, seed: UInt64
    ) -> NodeCore? {
        guard let peer = makePeerCore(identity, session, seed: seed),
            let overlay = try? OverlayCore(
                identity: identity, address: address, configuration: overlay,
                wallClockAtZero: DecoderTargets.wallClock, random: FuzzRandom(seed: seed << 16))
        else { return nil }
        return NodeCore(peer: peer, overlay: overlay)
    }

    /// Connect, request, datagram or close on a ``PeerCore``.
    private static func peerCommand(
        _ core: inout PeerCore, _ operand: UInt8, _ other: (id: PeerID, address: PeerAddress), _ now: Instant
    ) {
        switch operand % 4 {
        case 0:
            _ = core.connect(
                to: other.address, expecting: operand & 0x80 == 0 ? other.id : nil, timeout: .seconds(6), now: now)
        case 1:
            _ = try? core.request(
                "echo", [UInt8](repeating: operand, count: Int(operand)), to: other.id, address: other.address,
                timeout: .seconds(Int64(operand % 16 + 1)), now: now)
        case 2: try? core.sendDatagram([operand], to: other.id, now: now)
        default: core.close(other.id)
        }
    }
}
