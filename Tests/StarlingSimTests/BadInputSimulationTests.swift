import StarlingCore
import Testing

@testable import StarlingSim

/// A core that records every datagram it sends, so that a test can replay, truncate or
/// corrupt real packets.
struct Tapped: ProtocolCore {
    var inner: SessionEndpoint
    var sent: [(to: PeerAddress, bytes: [UInt8])] = []

    mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        inner.handleDatagram(datagram, from: source, now: now)
    }

    mutating func handleTimeout(now: Instant) { inner.handleTimeout(now: now) }

    mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        guard let destination = inner.pollTransmit(now: now, into: &buffer) else { return nil }
        sent.append((destination, buffer))
        return destination
    }

    func pollTimeout() -> Instant? { inner.pollTimeout() }

    mutating func pollEvent() -> SessionEvent? { inner.pollEvent() }
}

/// Hostile input in the simulator: random, truncated, bit-flipped, replayed and
/// wrong-swarm packets reach a peer with a live session. Each is dropped and counted,
/// and the session carries on unchanged.
@Suite struct BadInputSimulationTests {
    struct Fixture {
        var network: SimNetwork<Tapped>
        let a: SimNodeID
        let b: SimNodeID
        let outsider: SimNodeID
        let idA: PeerID
        let idB: PeerID

        init(seed: UInt64) throws {
            network = SimNetwork<Tapped>(seed: seed, defaultLink: LinkConditions(latency: .milliseconds(1)))
            func add(_ name: String, secret: [UInt8]?, in network: inout SimNetwork<Tapped>) throws -> SimNodeID {
                var configuration = SessionConfiguration.simulation
                configuration.swarmSecret = secret
                var keys = network.makeGenerator()
                let endpoint = try SessionEndpoint(
                    identity: .generate(using: &keys), configuration: configuration, random: network.makeGenerator())
                return network.makeNode(name: name, core: Tapped(inner: endpoint))
            }
            let secret = [UInt8](repeating: 5, count: 32)
            a = try add("a", secret: secret, in: &network)
            b = try add("b", secret: secret, in: &network)
            outsider = try add("outsider", secret: [UInt8](repeating: 6, count: 32), in: &network)
            idA = network[core: a].inner.identity.peerID
            idB = network[core: b].inner.identity.peerID
            let addressB = network.address(of: b)
            let expected = idB
            network.command(a) { core, now in core.inner.connect(to: addressB, expecting: expected, now: now) }
            network.run(for: .seconds(5))
            try #require(network[core: a].inner.isEstablished(with: idB))
            try #require(network[core: b].inner.isEstablished(with: idA))
        }

        /// Sends a datagram from a to b on the session and returns its bytes on the wire.
        mutating func transportPacket(_ payload: [UInt8]) throws -> [UInt8] {
            let target = idB
            try network.command(a) { core, now in try core.inner.send(payload, to: target, now: now) }
            let packet = try #require(network[core: a].sent.last)
            #expect(packet.to == network.address(of: b))
            network.run(for: .milliseconds(10))
            return packet.bytes
        }

        /// Hands `bytes` to b as if they came from `source`.
        mutating func inject(_ bytes: [UInt8], from source: PeerAddress) {
            network.command(b) { core, now in
                bytes.withUnsafeBytes { core.handleDatagram($0, from: source, now: now) }
            }
        }

        /// What b has delivered so far, as payloads from a.
        mutating func deliveredToB() -> [[UInt8]] {
            network.drainEvents(of: b).compactMap { event in
                if case .datagram(let peer, let payload) = event, peer == idA { payload } else { nil }
            }
        }
    }

    @Test func hostilePackets_areDroppedCountedAndChangeNothing() throws {
        var fixture = try Fixture(seed: 1)
        let addressA = fixture.network.address(of: fixture.a)
        let packet = try fixture.transportPacket([1, 2, 3, 4])
        #expect(fixture.deliveredToB() == [[1, 2, 3, 4]])
        var injected = 0
        let before = fixture.network[core: fixture.b].inner.drops.total

        // The same packet again, from its true source and from elsewhere: a replay.
        fixture.inject(packet, from: addressA)
        fixture.inject(packet, from: .ipv4(10, 9, 9, 9, port: 9))
        injected += 2
        // Every truncation.
        for length in 0..<packet.count {
            fixture.inject(Array(packet[..<length]), from: addressA)
            injected += 1
        }
        // Every single-bit flip.
        for bit in 0..<(packet.count * 8) {
            var flipped = packet
            flipped[bit / 8] ^= 1 << (bit % 8)
            fixture.inject(flipped, from: addressA)
            injected += 1
        }
        // Random bytes of many lengths.
        var random = SeededGenerator(seed: 99)
        for length in [1, 2, 3, 7, 16, 32, 33, 48, 64, 100, 148, 500, 1200, 1800] {
            fixture.inject((0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }, from: addressA)
            injected += 1
        }
        let drops = fixture.network[core: fixture.b].inner.drops
        #expect(drops.total - before == UInt64(injected))
        #expect(drops[.replayed] >= 2)
        #expect(fixture.deliveredToB().isEmpty)

        // The session is intact: the next datagram gets through, and b still holds one session.
        let next = try fixture.transportPacket([5, 6])
        #expect(next != packet)
        #expect(fixture.deliveredToB() == [[5, 6]])
        #expect(fixture.network[core: fixture.b].inner.establishedPeers == [fixture.idA])
        #expect(fixture.network[core: fixture.b].inner.pendingHandshakeCount == 0)
    }

    @Test func wrongSwarmPeer_completesNoHandshakeAndIsCounted() throws {
        var fixture = try Fixture(seed: 2)
        let addressB = fixture.network.address(of: fixture.b)
        let idB = fixture.idB
        let before = fixture.network[core: fixture.b].inner.drops.total
        fixture.network.command(fixture.outsider) { core, now in
            core.inner.connect(to: addressB, expecting: idB, now: now)
        }
        fixture.network.run(for: .seconds(120))
        let outsider = fixture.network[core: fixture.outsider].inner
        #expect(!outsider.isEstablished(with: idB))
        #expect(fixture.network[core: fixture.b].inner.establishedPeers == [fixture.idA])
        // b answered nothing at all (every initiation failed its mac1, keyed by the swarm
        // secret), and the outsider's handshake timed out once its attempts ran out.
        let failures = fixture.network.drainEvents(of: fixture.outsider).filter {
            if case .handshakeFailed(_, idB, .handshakeTimedOut) = $0 { true } else { false }
        }
        #expect(failures.count == 1)
        #expect(
            fixture.network[core: fixture.outsider].sent.count
                == fixture.network[core: fixture.b].inner.drops[.invalidMAC])
        #expect(
            !fixture.network[core: fixture.b].sent.contains { $0.to == fixture.network.address(of: fixture.outsider) })
        #expect(fixture.network[core: fixture.b].inner.drops.total > before)
        // The real session still works.
        _ = try fixture.transportPacket([7])
        #expect(fixture.deliveredToB() == [[7]])
    }
}
