import StarlingTestSupport
import Testing

@testable import StarlingCore

@Suite struct SessionEndpointTests {
    @Test(arguments: [true, false])
    func handshake_ikOrXX_establishesBothSidesAndCarriesDatagrams(knowsKey: Bool) throws {
        var pair = try EndpointPair(seed: 1)
        let idA = pair.a.identity.peerID
        let idB = pair.b.identity.peerID
        pair.a.connect(to: pair.addressB, expecting: knowsKey ? idB : nil, now: pair.now)
        pair.pump()
        #expect(pair.eventsA.first == .established(peer: idB, address: pair.addressB))
        #expect(pair.eventsB.first == .established(peer: idA, address: pair.addressA))
        #expect(pair.a.isEstablished(with: idB) && pair.b.isEstablished(with: idA))
        let kinds = pair.wire.compactMap { $0.bytes[1] == MessageType.handshakeInitiation.rawValue ? $0.bytes[2] : nil }
        #expect(kinds == [knowsKey ? HandshakeKind.ik.rawValue : HandshakeKind.xx.rawValue])

        try pair.a.send([1, 2, 3], to: idB, now: pair.now)
        try pair.b.send([4, 5], to: idA, now: pair.now)
        pair.pump()
        #expect(pair.datagrams(in: pair.eventsB) == [[1, 2, 3]])
        #expect(pair.datagrams(in: pair.eventsA) == [[4, 5]])
        #expect(pair.a.drops.total == 0 && pair.b.drops.total == 0)
    }

    @Test func send_beforeEstablished_isQueuedThenDelivered() throws {
        var pair = try EndpointPair(seed: 2)
        let idB = pair.b.identity.peerID
        pair.a.connect(to: pair.addressB, expecting: idB, now: pair.now)
        try pair.a.send([9], to: idB, now: pair.now)
        pair.pump()
        #expect(pair.datagrams(in: pair.eventsB) == [[9]])
    }

    @Test func send_tooLargeOrUnknownPeer_isTypedError() throws {
        var pair = try EndpointPair(seed: 3)
        let idB = pair.b.identity.peerID
        #expect(throws: SessionError.noSession(idB)) { try pair.a.send([1], to: idB, now: pair.now) }
        let maximum = SessionLimits.maximumTransportPayload - 1
        #expect(throws: SessionError.payloadTooLarge(size: maximum + 1, maximum: maximum)) {
            try pair.a.send([UInt8](repeating: 0, count: maximum + 1), to: idB, now: pair.now)
        }
    }

    @Test func transport_replayedDatagram_isRejectedAndCounted() throws {
        var pair = try EndpointPair(seed: 4)
        let idA = pair.a.identity.peerID
        let idB = pair.b.identity.peerID
        pair.a.connect(to: pair.addressB, expecting: idB, now: pair.now)
        pair.pump()
        try pair.a.send([7, 7], to: idB, now: pair.now)
        pair.pump()
        let sent = try #require(pair.wire.last { $0.fromA && $0.bytes[1] == MessageType.transportData.rawValue })
        let before = pair.eventsB.count
        sent.bytes.withUnsafeBytes { pair.b.handleDatagram($0, from: pair.addressA, now: pair.now) }
        pair.pump()
        #expect(pair.eventsB.count == before)
        #expect(pair.b.drops[.replayed] == 1)
        #expect(pair.b.isEstablished(with: idA))
    }

    @Test func transport_everyBitFlip_isRejectedWithoutChangingTheSession() throws {
        var pair = try EndpointPair(seed: 5)
        let idA = pair.a.identity.peerID
        let idB = pair.b.identity.peerID
        pair.a.connect(to: pair.addressB, expecting: idB, now: pair.now)
        pair.pump()
        try pair.a.send([1, 2, 3, 4], to: idB, now: pair.now)
        var buffer: [UInt8] = []
        _ = pair.a.pollTransmit(now: pair.now, into: &buffer)
        for bit in 0..<(buffer.count * 8) {
            var flipped = buffer
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            flipped.withUnsafeBytes { pair.b.handleDatagram($0, from: pair.addressA, now: pair.now) }
        }
        pair.pump()
        #expect(pair.datagrams(in: pair.eventsB).isEmpty)
        #expect(pair.b.drops.total == buffer.count * 8)
        // The untouched original still opens: no flipped copy moved the replay window.
        buffer.withUnsafeBytes { pair.b.handleDatagram($0, from: pair.addressA, now: pair.now) }
        pair.pump()
        #expect(pair.datagrams(in: pair.eventsB) == [[1, 2, 3, 4]])
        #expect(pair.b.isEstablished(with: idA))
    }

    @Test func privateSwarm_sameSecret_establishes() throws {
        let secret = [UInt8](repeating: 0x5A, count: 32)
        for knowsKey in [true, false] {
            var pair = try EndpointPair(seed: 6, secretA: secret, secretB: secret)
            pair.a.connect(to: pair.addressB, expecting: knowsKey ? pair.b.identity.peerID : nil, now: pair.now)
            pair.pump()
            #expect(pair.a.isEstablished(with: pair.b.identity.peerID))
            #expect(pair.b.isEstablished(with: pair.a.identity.peerID))
        }
    }

    @Test(arguments: [true, false])
    func privateSwarm_wrongSecret_failsWithTypedErrorAndNoSession(knowsKey: Bool) throws {
        var pair = try EndpointPair(
            seed: 7, secretA: [UInt8](repeating: 1, count: 32), secretB: [UInt8](repeating: 2, count: 32))
        let idB = pair.b.identity.peerID
        pair.a.connect(to: pair.addressB, expecting: knowsKey ? idB : nil, now: pair.now)
        pair.pump()
        for _ in 0..<100 where pair.eventsA.isEmpty {
            pair.advanceToNextDeadline()
            pair.pump()
        }
        let failure = try #require(pair.eventsA.first)
        guard case .handshakeFailed(_, _, let error) = failure else {
            Issue.record("expected a handshake failure, got \(failure)")
            return
        }
        // The responder drops every initiation on its mac1 (keyed by the swarm secret)
        // and answers nothing: the initiator hears nothing back and times out.
        guard case .handshakeTimedOut(let attempts) = error else {
            Issue.record("expected a timeout, got \(error)")
            return
        }
        #expect(pair.b.drops[.invalidMAC] == UInt64(attempts))
        #expect(!pair.wire.contains { !$0.fromA })
        #expect(pair.b.establishedPeers.isEmpty)
        #expect(!pair.a.isEstablished(with: idB))
    }

    @Test func openSwarmPeer_andPrivateSwarmPeer_neverHandshake() throws {
        var pair = try EndpointPair(seed: 8, secretA: nil, secretB: [UInt8](repeating: 3, count: 32))
        pair.a.connect(to: pair.addressB, expecting: pair.b.identity.peerID, now: pair.now)
        pair.pump()
        #expect(pair.b.drops[.wrongSwarm] == 1)
        #expect(pair.b.pendingHandshakeCount == 0)
    }

    @Test func handshake_lostResponses_retransmitUntilEstablished() throws {
        var pair = try EndpointPair(seed: 9)
        let idB = pair.b.identity.peerID
        pair.a.connect(to: pair.addressB, expecting: idB, now: pair.now)
        var responsesLost = 0
        let loseTwoResponses = { (fromA: Bool, bytes: [UInt8]) -> Bool in
            if !fromA && bytes[1] == MessageType.handshakeResponse.rawValue && responsesLost < 2 {
                responsesLost += 1
                return false
            }
            return true
        }
        pair.pump(filter: loseTwoResponses)
        for _ in 0..<10 where !pair.a.isEstablished(with: idB) {
            pair.advanceToNextDeadline()
            pair.pump(filter: loseTwoResponses)
        }
        #expect(responsesLost == 2)
        #expect(pair.a.isEstablished(with: idB))
        #expect(pair.b.isEstablished(with: pair.a.identity.peerID))
    }

    @Test func randomDatagrams_neverCrashAndChangeNothing() throws {
        var pair = try EndpointPair(seed: 10)
        let idB = pair.b.identity.peerID
        pair.a.connect(to: pair.addressB, expecting: idB, now: pair.now)
        pair.pump()
        var random = TestRandom(seed: 77)
        for round in 0..<3000 {
            let length = Int(random.next() % 200)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            // Give most a valid version and a known type so they reach the deeper decoders.
            if bytes.count > 2 && round % 4 != 0 {
                bytes[0] = 1
                bytes[1] = UInt8(2 + round % 4)
            }
            bytes.withUnsafeBytes { pair.b.handleDatagram($0, from: pair.addressA, now: pair.now) }
        }
        pair.pump()
        #expect(pair.b.establishedPeers == [pair.a.identity.peerID])
        #expect(pair.b.drops.total >= 2900)
        #expect(pair.b.pendingHandshakeCount <= SessionConfiguration.local.maximumPendingHandshakes)
    }
}
