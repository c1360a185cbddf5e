import StarlingTestSupport
import Testing

@testable import StarlingCore

/// A few endpoints fed by hand: each datagram is taken from its sender and handed to
/// whoever the test chooses, from whatever address it chooses.
private struct Bench {
    var endpoints: [SessionEndpoint] = []
    var addresses: [PeerAddress] = []
    var now = Instant(nanoseconds: 1_000_000_000)

    /// Adds an endpoint; returns its number.
    @discardableResult
    mutating func add(
        seed: UInt64, secret: [UInt8]? = nil, _ adjust: (inout SessionConfiguration) -> Void = { _ in }
    ) throws -> Int {
        var configuration = SessionConfiguration.local
        configuration.swarmSecret = secret
        adjust(&configuration)
        var keys = TestRandom(seed: seed)
        endpoints.append(
            try SessionEndpoint(
                identity: .generate(using: &keys), configuration: configuration, random: TestRandom(seed: seed &+ 1)))
        addresses.append(.ipv4(127, 0, 1, UInt8(endpoints.count), port: 5000))
        return endpoints.count - 1
    }

    func id(_ node: Int) -> PeerID { endpoints[node].identity.peerID }

    /// Everything `node` wants to send.
    mutating func outbound(_ node: Int) -> [(to: PeerAddress, bytes: [UInt8])] {
        var sent: [(PeerAddress, [UInt8])] = []
        var buffer: [UInt8] = []
        while let destination = endpoints[node].pollTransmit(now: now, into: &buffer) {
            sent.append((destination, buffer))
        }
        return sent
    }

    /// Hands `bytes` to `node` as if from `source`.
    mutating func deliver(_ bytes: [UInt8], to node: Int, from source: PeerAddress) {
        bytes.withUnsafeBytes { endpoints[node].handleDatagram($0, from: source, now: now) }
    }

    /// Carries datagrams between the endpoints until none is left (to unknown
    /// addresses they are lost).
    mutating func pump() {
        for _ in 0..<100 {
            var moved = false
            for node in endpoints.indices {
                for (destination, bytes) in outbound(node) {
                    moved = true
                    if let target = addresses.firstIndex(of: destination) {
                        deliver(bytes, to: target, from: addresses[node])
                    }
                }
            }
            if !moved { return }
        }
    }

    /// Moves time on to `end`, firing every deadline on the way and carrying datagrams.
    mutating func run(until end: Instant) {
        for _ in 0..<10_000 {
            guard let next = endpoints.compactMap({ $0.pollTimeout() }).min(), next <= end else { break }
            now = max(now, next)
            for node in endpoints.indices where endpoints[node].pollTimeout().map({ $0 <= now }) ?? false {
                endpoints[node].handleTimeout(now: now)
            }
            pump()
        }
        now = max(now, end)
    }

    mutating func events(_ node: Int) -> [SessionEvent] {
        var events: [SessionEvent] = []
        while let event = endpoints[node].pollEvent() { events.append(event) }
        return events
    }

    /// Starts a handshake from `from` to `to` and returns its first initiation datagram.
    mutating func initiation(from: Int, to: Int, ik: Bool) throws -> [UInt8] {
        // A handshake already running with the same peer would make connect do nothing.
        endpoints[from].close(id(to))
        endpoints[from].connect(to: addresses[to], expecting: ik ? id(to) : nil, now: now)
        let sent = outbound(from)
        try #require(sent.count == 1 && sent[0].bytes[1] == MessageType.handshakeInitiation.rawValue)
        return sent[0].bytes
    }
}

@Suite struct HandshakeAdmissionTests {
    // MARK: mac1

    @Test(arguments: [true, false])
    func mac1_wrong_isDroppedBeforeAnyWork(ik: Bool) throws {
        var bench = Bench()
        try bench.add(seed: 1)
        try bench.add(seed: 2)
        let initiation = try bench.initiation(from: 0, to: 1, ik: ik)
        for offset in [initiation.count - 32, initiation.count - 17] {
            var forged = initiation
            forged[offset] ^= 1
            bench.deliver(forged, to: 1, from: bench.addresses[0])
        }
        #expect(bench.endpoints[1].drops[.invalidMAC] == 2)
        #expect(bench.outbound(1).isEmpty && bench.endpoints[1].pendingHandshakeCount == 0)
        // The genuine one is answered.
        bench.deliver(initiation, to: 1, from: bench.addresses[0])
        #expect(bench.outbound(1).map { $0.bytes[1] } == [MessageType.handshakeResponse.rawValue])
    }

    @Test func mac1_ikInitiationForAnotherPeer_isDropped() throws {
        var bench = Bench()
        try bench.add(seed: 1)
        try bench.add(seed: 2)
        try bench.add(seed: 3)
        // An IK initiation meant for node 1, delivered to node 2.
        let initiation = try bench.initiation(from: 0, to: 1, ik: true)
        bench.deliver(initiation, to: 2, from: bench.addresses[0])
        #expect(bench.endpoints[2].drops[.invalidMAC] == 1 && bench.outbound(2).isEmpty)
    }

    // MARK: Private swarms are opaque (finding 4)

    @Test func privateSwarm_outsiderInitiationsOfEveryKind_getNoByteBack() throws {
        let secret = [UInt8](repeating: 7, count: 32)
        var bench = Bench()
        let member = try bench.add(seed: 1, secret: secret) { $0.handshakeLoadThreshold = 1 }
        let otherSecret = try bench.add(seed: 2, secret: [UInt8](repeating: 8, count: 32))
        let open = try bench.add(seed: 3)
        var delivered = 0
        for outsider in [otherSecret, open] {
            for ik in [true, false] {
                for attempt in 0..<3 {
                    let initiation = try bench.initiation(from: outsider, to: member, ik: ik)
                    bench.deliver(initiation, to: member, from: bench.addresses[outsider])
                    // With a mac2 of random bytes, too.
                    var withMAC2 = initiation
                    for index in (initiation.count - 16)..<initiation.count { withMAC2[index] = UInt8(attempt + index) }
                    bench.deliver(withMAC2, to: member, from: bench.addresses[outsider])
                    delivered += 2
                }
            }
        }
        // Completions, cookie replies, responses and transport packets naming nothing.
        for type in [MessageType.handshakeCompletion, .cookieReply, .handshakeResponse, .transportData] {
            for length in [6, 62, 64, 100] {
                bench.deliver(
                    [1, type.rawValue] + [UInt8](repeating: 0, count: length), to: member, from: bench.addresses[open])
                delivered += 1
            }
        }
        #expect(bench.outbound(member).isEmpty)
        #expect(bench.endpoints[member].drops.total == UInt64(delivered))
        #expect(bench.endpoints[member].drops[.cookieRequired] == 0)
        #expect(bench.endpoints[member].pendingHandshakeCount == 0 && bench.endpoints[member].peers.isEmpty)
        // A member is answered at once.
        let insider = try bench.add(seed: 4, secret: secret)
        bench.endpoints[insider].connect(to: bench.addresses[member], now: bench.now)
        bench.pump()
        #expect(bench.endpoints[insider].isEstablished(with: bench.id(member)))
    }

    // MARK: Cookies under load (finding 1)

    @Test(arguments: [true, false])
    func underLoad_cookieReplyInsteadOfWork_thenMAC2Admits(ik: Bool) throws {
        var bench = Bench()
        let responder = try bench.add(seed: 1) { $0.handshakeLoadThreshold = 1 }
        let loader = try bench.add(seed: 2)
        let newcomer = try bench.add(seed: 3)
        // One XX handshake half done puts the responder at its load threshold.
        let load = try bench.initiation(from: loader, to: responder, ik: false)
        bench.deliver(load, to: responder, from: bench.addresses[loader])
        _ = bench.outbound(responder)
        #expect(bench.endpoints[responder].answeredHandshakeCount == 1)

        let initiation = try bench.initiation(from: newcomer, to: responder, ik: ik)
        bench.deliver(initiation, to: responder, from: bench.addresses[newcomer])
        let reply = bench.outbound(responder)
        try #require(reply.count == 1)
        #expect(reply[0].bytes[1] == MessageType.cookieReply.rawValue && reply[0].to == bench.addresses[newcomer])
        // No work, no state, and never more bytes back than came in.
        #expect(reply[0].bytes.count == CookieReply.size && CookieReply.size < initiation.count)
        #expect(bench.endpoints[responder].answeredHandshakeCount == 1)
        #expect(bench.endpoints[responder].drops[.cookieRequired] == 1)

        // The cookie is bound to the source: the same reply delivered to the newcomer
        // makes it resend with mac2, which does not verify from another address.
        bench.deliver(reply[0].bytes, to: newcomer, from: bench.addresses[responder])
        let resent = bench.outbound(newcomer)
        try #require(resent.count == 1)
        #expect(
            resent[0].bytes.dropLast(16) == initiation.dropLast(16)
                && resent[0].bytes.suffix(16) != initiation.suffix(16))
        bench.deliver(resent[0].bytes, to: responder, from: .ipv4(10, 1, 2, 3, port: 5000))
        #expect(bench.endpoints[responder].drops[.cookieRequired] == 2)
        _ = bench.outbound(responder)
        // From the newcomer's address it is admitted although the responder is loaded.
        bench.deliver(resent[0].bytes, to: responder, from: bench.addresses[newcomer])
        bench.pump()
        #expect(bench.endpoints[newcomer].isEstablished(with: bench.id(responder)))
        #expect(bench.endpoints[responder].isEstablished(with: bench.id(newcomer)))
        // Its next initiations carry the cookie and are admitted at once.
        bench.endpoints[newcomer].close(bench.id(responder))
        bench.endpoints[responder].close(bench.id(newcomer))
        let again = try bench.initiation(from: newcomer, to: responder, ik: ik)
        bench.deliver(again, to: responder, from: bench.addresses[newcomer])
        #expect(bench.outbound(responder).map { $0.bytes[1] } == [MessageType.handshakeResponse.rawValue])
    }

    @Test func cookieSecrets_cookieLivesOneRefresh_thenFails() throws {
        var secrets = CookieSecrets()
        var random = TestRandom(seed: 5)
        let source = PeerAddress.ipv4(10, 0, 0, 1, port: 1)
        let start = Instant(nanoseconds: 1_000_000_000)
        let refresh = SessionConstants.cookieRefreshTime
        let cookie = secrets.cookie(for: source, now: start, random: &random)
        var message = [UInt8](repeating: 9, count: 40)
        HandshakeMAC.stamp(&message, macAt: 24, key: cookie)
        func verifies(_ secrets: CookieSecrets, at now: Instant, from address: PeerAddress = source) -> Bool {
            message.withUnsafeBytes { secrets.verifyMAC2($0, at: 24, source: address, now: now) }
        }
        #expect(verifies(secrets, at: start + .seconds(1)))
        // Bound to the address and port.
        #expect(!verifies(secrets, at: start, from: .ipv4(10, 0, 0, 1, port: 2)))
        // A new secret at the next refresh: the cookie still checks under the previous
        // one until the new one is a refresh time old.
        _ = secrets.cookie(for: source, now: start + refresh, random: &random)
        #expect(verifies(secrets, at: start + refresh + .seconds(100)))
        #expect(!verifies(secrets, at: start + refresh * 2))
        // Nobody asked for a cookie since: an old secret checks nothing either.
        var idle = CookieSecrets()
        _ = idle.cookie(for: source, now: start, random: &random)
        #expect(!verifies(idle, at: start + refresh * 2))
    }

    @Test func ownHandshakes_areNeverRefusedForIncomingOnes() throws {
        var bench = Bench()
        let victim = try bench.add(seed: 1) {
            $0.maximumPendingHandshakes = 4
            $0.handshakeLoadThreshold = 4
        }
        let flooder = try bench.add(seed: 2) { $0.maximumPendingHandshakes = 100 }
        let partner = try bench.add(seed: 3)
        for index in 0..<20 {
            let initiation = try bench.initiation(from: flooder, to: victim, ik: false)
            bench.deliver(initiation, to: victim, from: .ipv4(10, 0, 0, UInt8(index), port: 1))
        }
        _ = bench.outbound(victim)
        #expect(bench.endpoints[victim].answeredHandshakeCount == 4)
        #expect(bench.endpoints[victim].drops[.cookieRequired] == 16)
        bench.endpoints[victim].connect(to: bench.addresses[partner], expecting: bench.id(partner), now: bench.now)
        bench.pump()
        #expect(bench.endpoints[victim].isEstablished(with: bench.id(partner)))
        #expect(bench.events(victim).allSatisfy { if case .handshakeFailed = $0 { false } else { true } })
    }

    // MARK: Replay (finding 3)

    @Test func replayedOldInitiation_duringRekey_changesNothing() throws {
        var pair = try EndpointPair(seed: 31)
        try pair.establish()
        let old = try #require(pair.wire.first { $0.fromA && $0.bytes[1] == MessageType.handshakeInitiation.rawValue })
        // A rekey: B answers and holds new keys that wait for A's first packet.
        pair.run(until: pair.now + .seconds(30))
        pair.a.startRekey(with: pair.idB, now: pair.now)
        let initiation = try #require(pair.takeOutbound().first)
        pair.deliver(initiation)
        let response = try #require(pair.takeOutbound().first)
        let waiting = try #require(pair.b.peers[pair.idA]?.next)
        // The captured first initiation, replayed now, from anywhere.
        for source in [pair.addressA, PeerAddress.ipv4(10, 6, 6, 6, port: 666)] {
            pair.deliver(HeldDatagram(fromA: true, destination: pair.addressB, bytes: old.bytes), from: source)
        }
        #expect(pair.takeOutbound().isEmpty)
        #expect(pair.b.drops[.handshakeReplayed] == 2)
        #expect(pair.b.peers[pair.idA]?.next?.localIndex == waiting.localIndex)
        // The legitimate initiator's traffic on its new keys gets through.
        pair.deliver(response)
        try pair.a.send([9], to: pair.idB, now: pair.now)
        pair.pump()
        #expect(pair.datagrams(in: pair.eventsB).last == [9])
        #expect(pair.keysB?.localIndex == waiting.localIndex)
    }

    @Test func initiationTimestamps_strictlyIncrease_evenAtOneInstant() throws {
        var bench = Bench()
        let a = try bench.add(seed: 1)
        let first = bench.endpoints[a].nextTimestamp(now: bench.now)
        let second = bench.endpoints[a].nextTimestamp(now: bench.now)
        #expect(second > first && second == first.successor)
        let later = bench.endpoints[a].nextTimestamp(now: bench.now + .seconds(1))
        #expect(later == HandshakeTimestamp(seconds: 2, nanoseconds: 0))
        #expect(HandshakeTimestamp(later.encoded) == later)
        #expect(HandshakeTimestamp([UInt8](repeating: 0xFF, count: 12)) == nil)
    }

    // MARK: Duplicates (byte-identical copies)

    @Test(arguments: [true, false])
    func duplicateInitiation_getsTheSameResponse_fromTheSameAddressOnly(ik: Bool) throws {
        var bench = Bench()
        try bench.add(seed: 1)
        try bench.add(seed: 2)
        let initiation = try bench.initiation(from: 0, to: 1, ik: ik)
        bench.deliver(initiation, to: 1, from: bench.addresses[0])
        let first = bench.outbound(1)
        let peersBefore = bench.endpoints[1].sessionCount
        let pendingBefore = bench.endpoints[1].pendingHandshakeCount
        bench.deliver(initiation, to: 1, from: bench.addresses[0])
        let second = bench.outbound(1)
        #expect(second.map(\.bytes) == first.map(\.bytes) && second.map(\.to) == first.map(\.to))
        bench.deliver(initiation, to: 1, from: .ipv4(10, 9, 9, 9, port: 9))
        #expect(bench.outbound(1).isEmpty)
        #expect(bench.endpoints[1].drops[.handshakeReplayed] == 2)
        #expect(bench.endpoints[1].sessionCount == peersBefore)
        #expect(bench.endpoints[1].pendingHandshakeCount == pendingBefore)
        bench.deliver(first[0].bytes, to: 0, from: bench.addresses[1])
        bench.pump()
        #expect(bench.endpoints[1].isEstablished(with: bench.id(0)))
        // Once an IK handshake completed, a copy is only dropped. (An XX message 1 proves
        // nothing and anyone can make one: a copy after completion is a new handshake.)
        if ik {
            bench.deliver(initiation, to: 1, from: bench.addresses[0])
            #expect(bench.outbound(1).isEmpty && bench.endpoints[1].drops[.handshakeReplayed] == 3)
        }
    }

    // MARK: Bounded sessions (finding 2)

    @Test func unconfirmedPeers_areBounded_andForgottenInSeconds() throws {
        var bench = Bench()
        let responder = try bench.add(seed: 1) {
            $0.maximumSessions = 4
            $0.maximumPendingHandshakes = 64
            $0.handshakeLoadThreshold = 64
        }
        for seed in 0..<20 {
            let stranger = try bench.add(seed: 100 + UInt64(seed) * 3)
            let initiation = try bench.initiation(from: stranger, to: responder, ik: true)
            // Only the initiation arrives: nothing ever confirms the keys.
            bench.deliver(initiation, to: responder, from: bench.addresses[stranger])
        }
        #expect(bench.endpoints[responder].sessionCount == 4)
        #expect(bench.endpoints[responder].drops[.sessionTableFull] == 16)
        #expect(bench.endpoints[responder].answeredHandshakeCount == 4)
        let start = bench.now
        bench.endpoints[responder].handleTimeout(now: start + SessionConstants.unconfirmedPeerLifetime)
        #expect(bench.endpoints[responder].sessionCount == 0)
        #expect(bench.endpoints[responder].answeredHandshakeCount == 0)
        #expect(bench.endpoints[responder].keyOwners.isEmpty)
    }

    @Test func fullSessionTable_evictsTheLongestIdle_orRefuses() throws {
        var bench = Bench()
        let hub = try bench.add(seed: 1) { $0.maximumSessions = 2 }
        let first = try bench.add(seed: 2)
        let second = try bench.add(seed: 3)
        let third = try bench.add(seed: 4)
        for node in [first, second] {
            bench.endpoints[node].connect(to: bench.addresses[hub], expecting: bench.id(hub), now: bench.now)
            bench.pump()
            bench.now = bench.now + .seconds(10)
        }
        #expect(bench.endpoints[hub].establishedPeers.count == 2)
        _ = bench.events(hub)
        // Nobody idle long enough: the newcomer is refused, and so is the hub's own connect.
        bench.endpoints[third].connect(to: bench.addresses[hub], expecting: bench.id(hub), now: bench.now)
        bench.pump()
        #expect(bench.endpoints[hub].drops[.sessionTableFull] >= 1)
        #expect(!bench.endpoints[third].isEstablished(with: bench.id(hub)))
        bench.endpoints[hub].connect(to: bench.addresses[third], expecting: bench.id(third), now: bench.now)
        #expect(
            bench.events(hub).contains(
                .handshakeFailed(address: bench.addresses[third], expected: bench.id(third), error: .tooManySessions)))
        bench.endpoints[third].close(bench.id(hub))
        // Two minutes of silence later, the least recently heard from makes room.
        bench.run(until: bench.now + SessionConstants.minimumIdleBeforeEviction)
        _ = bench.events(hub)
        bench.endpoints[third].connect(to: bench.addresses[hub], expecting: bench.id(hub), now: bench.now)
        bench.pump()
        #expect(bench.endpoints[third].isEstablished(with: bench.id(hub)))
        #expect(bench.endpoints[hub].evictedSessions == 1)
        #expect(bench.events(hub).contains(.closed(peer: bench.id(first), reason: .evicted)))
        #expect(bench.endpoints[hub].isEstablished(with: bench.id(second)))
    }
}
