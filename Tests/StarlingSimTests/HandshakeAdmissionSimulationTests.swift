import Testing

@testable import StarlingCore
@testable import StarlingSim

/// Handshake admission under a flood of spoofed initiations (issue 10, finding 1): a
/// peer flooded from thousands of addresses still completes a newcomer's handshake and
/// its own rekey.
@Suite struct HandshakeAdmissionSimulationTests {
    /// The flood: genuine XX initiations (an open swarm needs no secret to make them),
    /// each from a fresh spoofed address, `perSecond` of them for `duration`, while
    /// `during` runs the scenario's steps at their times.
    struct Flood {
        var attacker: SessionEndpoint
        var sent = 0

        init(network: inout SimNetwork<SessionEndpoint>) throws {
            var configuration = SessionConfiguration.simulation
            // The attacker keeps every half-done handshake it makes; it never answers.
            configuration.maximumPendingHandshakes = 1_000_000
            var keys = network.makeGenerator()
            attacker = try SessionEndpoint(
                identity: .generate(using: &keys), configuration: configuration, random: network.makeGenerator())
        }

        /// The next initiation to `target` and the spoofed address it claims to be from.
        mutating func next(to target: PeerAddress, now: Instant) -> (bytes: [UInt8], source: PeerAddress) {
            attacker.connect(to: target, now: now)
            var buffer: [UInt8] = []
            _ = attacker.pollTransmit(now: now, into: &buffer)
            sent += 1
            let n = UInt8(truncatingIfNeeded: sent)
            let m = UInt8(truncatingIfNeeded: sent >> 8)
            let k = UInt8(truncatingIfNeeded: sent >> 16)
            return (buffer, .ipv4(10, k, m, n, port: 9999))
        }
    }

    @Test func spoofedInitiationFlood_legitimateConnectsAndOwnRekeySucceed() throws {
        var network = SimNetwork<SessionEndpoint>(seed: 21, defaultLink: LinkConditions(latency: .milliseconds(2)))
        func add(_ name: String) throws -> SimNodeID {
            var keys = network.makeGenerator()
            let endpoint = try SessionEndpoint(
                identity: .generate(using: &keys), configuration: .simulation, random: network.makeGenerator())
            return network.makeNode(name: name, core: endpoint)
        }
        let victim = try add("victim")
        let partner = try add("partner")
        let newcomerIK = try add("newcomer-ik")
        let newcomerXX = try add("newcomer-xx")
        let idVictim = network[core: victim].identity.peerID
        let idPartner = network[core: partner].identity.peerID
        let victimAddress = network.address(of: victim)
        let partnerAddress = network.address(of: partner)

        // The victim holds a session it initiated; two minutes later it must rekey it.
        network.command(victim) { core, now in core.connect(to: partnerAddress, expecting: idPartner, now: now) }
        network.run(for: .seconds(1))
        try #require(network[core: victim].isEstablished(with: idPartner))
        network.run(until: Instant.zero + .seconds(118))

        // 800 spoofed initiations a second for 8 s.
        var flood = try Flood(network: &network)
        let floodStart = network.now
        let rekeyAt = floodStart + .milliseconds(2500)
        var connected = false
        var rekeyed = false
        while network.now < floodStart + .seconds(8) {
            let (bytes, source) = flood.next(to: victimAddress, now: network.now)
            network.command(victim) { core, now in
                bytes.withUnsafeBytes { core.handleDatagram($0, from: source, now: now) }
            }
            if !connected && network.now >= floodStart + .seconds(1) {
                connected = true
                network.command(newcomerIK) { core, now in
                    core.connect(to: victimAddress, expecting: idVictim, now: now)
                }
                network.command(newcomerXX) { core, now in core.connect(to: victimAddress, now: now) }
            }
            if !rekeyed && network.now >= rekeyAt {
                rekeyed = true
                // Sending on keys older than two minutes starts the victim's rekey.
                try network.command(victim) { core, now in try core.send([42], to: idPartner, now: now) }
            }
            network.run(for: .microseconds(1250))
        }

        let core = network[core: victim]
        // The flood was absorbed by cookies: the victim kept at most the load threshold
        // of half-done answered handshakes, and answered the rest with cookie replies.
        #expect(flood.sent >= 6000)
        #expect(core.drops[.cookieRequired] > 5000)
        #expect(core.responders.count <= SessionConfiguration.simulation.handshakeLoadThreshold)
        // Both newcomers got in, well within the flood.
        for newcomer in [newcomerIK, newcomerXX] {
            let id = network[core: newcomer].identity.peerID
            #expect(network[core: newcomer].isEstablished(with: idVictim), "\(network.name(of: newcomer))")
            #expect(core.isEstablished(with: id))
            #expect(
                !network.events(of: newcomer).contains { if case .handshakeFailed = $0 { true } else { false } })
        }
        // The victim's own rekey was not refused and completed: its current keys for the
        // partner are the new ones, and the datagram that started it arrived.
        #expect(!network.events(of: victim).contains { if case .handshakeFailed = $0 { true } else { false } })
        let keys = try #require(core.peers[idPartner]?.current)
        #expect(keys.created >= rekeyAt && keys.isInitiator)
        #expect(network.events(of: partner).contains(.datagram(peer: idVictim, payload: [42])))
    }
}
