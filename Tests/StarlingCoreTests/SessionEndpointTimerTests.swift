import StarlingTestSupport
import Testing

@testable import StarlingCore

/// The last nanosecond before `instant`.
func justBefore(_ instant: Instant) -> Instant { instant + .nanoseconds(-1) }

/// The session timer rules of ``SessionEndpoint``, end to end: two endpoints and a
/// virtual clock that only the test moves.
@Suite struct SessionEndpointTimerTests {
    /// Bytes of a transport packet with an empty plaintext.
    static let keepaliveSize = TransportHeader.size + TransportHeader.tagSize
    /// Data sent and nothing back for this long (before jitter) starts a new handshake.
    static let newHandshakeDelay = SessionConstants.keepaliveTimeout + SessionConstants.rekeyTimeout

    // MARK: Keepalive

    @Test func keepalive_dataReceivedNothingSentBack_sendsExactlyOneEmptyPacket() throws {
        var pair = try EndpointPair(seed: 101)
        try pair.establish()
        let start = pair.now
        let erasure = start + SessionConstants.zeroKeyMaterialAfter
        // Idle both ways: nothing is sent, and only key erasure is scheduled.
        var mark = pair.wire.count
        pair.run(until: start + .seconds(60))
        #expect(pair.wire.count == mark)
        #expect(pair.a.pollTimeout() == erasure && pair.b.pollTimeout() == erasure)

        try pair.a.send([1], to: pair.idB, now: pair.now)
        let sentAt = pair.now
        pair.pump()
        #expect(pair.datagrams(in: pair.eventsB) == [[1]])
        #expect(pair.b.pollTimeout() == sentAt + SessionConstants.keepaliveTimeout)
        mark = pair.wire.count
        pair.run(until: justBefore(sentAt + SessionConstants.keepaliveTimeout))
        #expect(pair.wire.count == mark)
        pair.run(until: sentAt + SessionConstants.keepaliveTimeout)
        let keepalives = pair.wire[mark...]
        #expect(keepalives.count == 1)
        #expect(keepalives.allSatisfy { !$0.fromA && $0.bytes.count == Self.keepaliveSize })
        #expect(keepalives.allSatisfy { $0.bytes[1] == MessageType.transportData.rawValue })
        // The keepalive is authenticated: A's new-handshake timer is cancelled, and
        // the keepalive is never answered.
        #expect(pair.a.pollTimeout() == erasure && pair.b.pollTimeout() == erasure)
        pair.run(until: start + .seconds(115))
        #expect(pair.wire.count == mark + 1)
        #expect(pair.datagrams(in: pair.eventsA).isEmpty)
        #expect(pair.nonDatagramEvents().count == 2)  // the two `established`
        #expect(pair.a.drops.total == 0 && pair.b.drops.total == 0)
    }

    @Test func keepalive_dataAnsweredInTime_onlyTheLastReceiverSendsOne() throws {
        var pair = try EndpointPair(seed: 102)
        try pair.establish()
        // Past the window in which B, the IK responder, answers keepalives (below).
        pair.run(until: pair.now + SessionConstants.rekeyAttemptTime)
        let mark = pair.wire.count
        try pair.a.send([1], to: pair.idB, now: pair.now)
        pair.pump()
        pair.run(until: pair.now + .seconds(4))
        try pair.b.send([2], to: pair.idA, now: pair.now)
        let answeredAt = pair.now
        pair.pump()
        // B answered with data, so B owes nothing; A received data and owes a keepalive.
        pair.run(until: justBefore(answeredAt + SessionConstants.keepaliveTimeout))
        #expect(pair.wire.count == mark + 2)
        pair.run(until: answeredAt + .seconds(100))
        #expect(pair.wire.count == mark + 3)
        let last = try #require(pair.wire.last)
        #expect(last.fromA && last.bytes.count == Self.keepaliveSize)
        #expect(pair.datagrams(in: pair.eventsB) == [[1]] && pair.datagrams(in: pair.eventsA) == [[2]])
    }

    @Test func keepalive_ikResponderAnswerLost_initiatorsResentEmptyPacketIsAnswered() throws {
        var pair = try EndpointPair(seed: 131)
        pair.a.connect(to: pair.addressB, expecting: pair.idB, now: pair.now)
        var answersLost = 0
        pair.pump { fromA, bytes in
            // B's answer to A's first packet on the new keys.
            guard !fromA, bytes[1] == MessageType.transportData.rawValue, answersLost == 0 else { return true }
            answersLost += 1
            return false
        }
        #expect(answersLost == 1 && pair.b.isEstablished(with: pair.idA) && pair.a.pendingHandshakeCount == 1)
        // A resends an empty packet; B answers it although it is a keepalive.
        let mark = pair.wire.count
        pair.run(until: pair.now + .seconds(2))
        #expect(pair.wire[mark...].map(\.fromA) == [true, false])
        #expect(pair.wire[mark...].allSatisfy { $0.bytes.count == Self.keepaliveSize })
        #expect(pair.a.pendingHandshakeCount == 0)
        // A's later keepalives are not answered: B answers only while A may be resending.
        pair.run(until: pair.now + SessionConstants.rekeyAttemptTime)
        try pair.b.send([1], to: pair.idA, now: pair.now)
        pair.pump()
        let quiet = pair.wire.count
        pair.run(until: pair.now + .seconds(20))
        #expect(pair.wire[quiet...].map(\.fromA) == [true])
    }

    // MARK: New handshake

    @Test func newHandshake_dataSentNothingAuthenticatedBack_rehandshakesAfterFifteenSeconds() throws {
        var pair = try EndpointPair(seed: 103)
        try pair.establish()
        let oldIndex = try #require(pair.keysA?.localIndex)
        let fromBLost: (Bool, [UInt8]) -> Bool = { fromA, _ in fromA }
        try pair.a.send([1], to: pair.idB, now: pair.now)
        let sentAt = pair.now
        let deadline = try #require(pair.a.pollTimeout())
        let jitter = HandshakeBackoff.maximumJitter(for: Self.newHandshakeDelay)
        #expect(deadline >= sentAt + Self.newHandshakeDelay && deadline <= sentAt + Self.newHandshakeDelay + jitter)
        pair.pump(filter: fromBLost)
        // More data does not push the deadline.
        pair.run(until: sentAt + .seconds(5), filter: fromBLost)
        try pair.a.send([2], to: pair.idB, now: pair.now)
        #expect(pair.a.pollTimeout() == deadline)
        pair.pump(filter: fromBLost)
        let mark = pair.wire.count
        pair.run(until: justBefore(deadline), filter: fromBLost)
        #expect(pair.count(.handshakeInitiation, fromA: true, since: mark) == 0)
        #expect(pair.count(.transportData, fromA: false, since: mark) == 1, "B's keepalive, lost")
        pair.run(until: deadline, filter: fromBLost)
        #expect(pair.count(.handshakeInitiation, fromA: true, since: mark) == 1)
        // The path heals: the handshake's retransmission completes it.
        pair.run(until: deadline + .seconds(3))
        let keysA = try #require(pair.keysA)
        let keysB = try #require(pair.keysB)
        #expect(keysA.localIndex != oldIndex && keysA.isInitiator)
        #expect(keysA.localIndex == keysB.remoteIndex && keysB.localIndex == keysA.remoteIndex)
        #expect(pair.datagrams(in: pair.eventsB) == [[1], [2]])
        try pair.b.send([3], to: pair.idA, now: pair.now)
        pair.pump()
        #expect(pair.datagrams(in: pair.eventsA) == [[3]])
        #expect(pair.nonDatagramEvents().count == 2)
    }

    // MARK: Rekey

    @Test func rekey_initiatorSendingOnKeysPast120s_rekeysAndLosesNothingInFlight() throws {
        var pair = try EndpointPair(seed: 104)
        try pair.establish()
        let start = pair.now
        let old = try #require(pair.keysA)
        // Up to 120 s, sending rekeys nothing, on either side.
        pair.run(until: start + .seconds(119))
        try pair.a.send([1], to: pair.idB, now: pair.now)
        try pair.b.send([2], to: pair.idA, now: pair.now)
        pair.pump()
        // Past 120 s the responder's sending still rekeys nothing.
        pair.run(until: start + .seconds(121))
        let mark = pair.wire.count
        try pair.b.send([3], to: pair.idA, now: pair.now)
        pair.pump()
        #expect(pair.count(.handshakeInitiation, fromA: false, since: mark) == 0)
        #expect(pair.count(.handshakeInitiation, fromA: true, since: mark) == 0)

        // The initiator's next send goes out on the old keys and starts a handshake.
        pair.run(until: start + .seconds(122))
        try pair.a.send([4], to: pair.idB, now: pair.now)
        try pair.a.send([5], to: pair.idB, now: pair.now)
        var flight = pair.takeOutbound()
        #expect(flight.map(\.type) == [.transportData, .handshakeInitiation, .transportData])
        let (oldFromA4, initiation, oldFromA5) = (flight[0], flight[1], flight[2])
        try pair.b.send([6], to: pair.idA, now: pair.now)
        pair.deliver(initiation)
        try pair.b.send([7], to: pair.idA, now: pair.now)
        flight = pair.takeOutbound()
        #expect(flight.map(\.type) == [.transportData, .handshakeResponse, .transportData])
        let (oldFromB6, response, oldFromB7) = (flight[0], flight[1], flight[2])
        #expect(oldFromB7.bytes[2..<6] == oldFromB6.bytes[2..<6], "B sends on the old keys until confirmed")
        pair.deliver(response)
        let rotatedAt = pair.now
        #expect(
            pair.keysA?.localIndex != old.localIndex && pair.a.peers[pair.idB]?.previous?.localIndex == old.localIndex)
        try pair.a.send([8], to: pair.idB, now: pair.now)
        for held in pair.takeOutbound() { pair.deliver(held) }  // A's confirmation and [8], on the new keys
        pair.pump()
        try pair.b.send([9], to: pair.idA, now: pair.now)
        pair.pump()
        #expect(pair.keysA?.localIndex == pair.keysB?.remoteIndex && pair.keysB?.localIndex == pair.keysA?.remoteIndex)

        // Stragglers on the old keys: accepted during the grace, refused after it.
        pair.run(until: justBefore(rotatedAt + SessionConstants.previousSessionGrace))
        pair.deliver(oldFromA4)
        pair.deliver(oldFromB6)
        pair.run(until: rotatedAt + SessionConstants.previousSessionGrace)
        #expect(pair.a.peers[pair.idB]?.previous == nil && pair.b.peers[pair.idA]?.previous == nil)
        pair.deliver(oldFromA5)
        pair.deliver(oldFromB7)
        #expect(pair.datagrams(in: pair.eventsB) == [[1], [8], [4]])
        #expect(pair.datagrams(in: pair.eventsA) == [[2], [3], [9], [6]])
        #expect(pair.a.drops.total == 1 && pair.a.drops[.unknownReceiverIndex] == 1)
        #expect(pair.b.drops.total == 1 && pair.b.drops[.unknownReceiverIndex] == 1)
        #expect(pair.count(.handshakeInitiation, fromA: true, since: mark) == 1)
        #expect(pair.count(.handshakeInitiation, fromA: false, since: mark) == 0)
        #expect(pair.nonDatagramEvents().count == 2)
    }

    @Test func rekey_initiatorKeepaliveOnKeysPast120s_rekeys() throws {
        var pair = try EndpointPair(seed: 105)
        try pair.establish()
        let start = pair.now
        let old = try #require(pair.keysA?.localIndex)
        pair.run(until: start + .seconds(130))
        // Only the responder sends data; the initiator's keepalive is what rekeys.
        try pair.b.send([1], to: pair.idA, now: pair.now)
        let mark = pair.wire.count
        pair.pump()
        #expect(pair.count(.handshakeInitiation, fromA: false, since: mark) == 0)
        pair.run(until: pair.now + SessionConstants.keepaliveTimeout)
        #expect(pair.count(.handshakeInitiation, fromA: true, since: mark) == 1)
        #expect(pair.keysA?.localIndex != old && pair.keysA?.localIndex == pair.keysB?.remoteIndex)
    }

    @Test(arguments: [UInt64(106), 107, 108])
    func rekey_afterMessageLimit_eitherSideRekeysAndNothingIsLost(seed: UInt64) throws {
        var pair = try EndpointPair(seed: seed)
        let limit: UInt64 = 8
        pair.a.rekeyAfterMessages = limit
        pair.b.rekeyAfterMessages = limit
        try pair.establish()
        let mark = pair.wire.count
        var sentA: [[UInt8]] = []
        var sentB: [[UInt8]] = []
        for round in 0..<40 {
            pair.run(until: pair.now + .milliseconds(300))
            for index in 0..<(round % 4) {
                sentA.append([UInt8(round), UInt8(index)])
                try pair.a.send(sentA.last!, to: pair.idB, now: pair.now)
            }
            for index in 0..<2 {
                sentB.append([UInt8(round), UInt8(index), 0xB])
                try pair.b.send(sentB.last!, to: pair.idA, now: pair.now)
            }
            pair.pump()
            let keysA = try #require(pair.keysA)
            #expect(keysA.sendCounter <= limit + 3 && pair.keysB.map { $0.sendCounter <= limit + 3 } == true)
            #expect(keysA.localIndex == pair.keysB?.remoteIndex)
        }
        #expect(pair.datagrams(in: pair.eventsB) == sentA)
        #expect(pair.datagrams(in: pair.eventsA) == sentB)
        let rekeys =
            pair.count(.handshakeInitiation, fromA: true, since: mark)
            + pair.count(.handshakeInitiation, fromA: false, since: mark)
        #expect(rekeys >= (sentA.count + sentB.count) / Int(limit) / 2)
        #expect(pair.count(.handshakeInitiation, fromA: false, since: mark) > 0, "the responder rekeys by count too")
        #expect(pair.nonDatagramEvents().count == 2)
    }

    // MARK: Reject

    @Test func reject_keysPast180s_neitherSendNorReceive_andPayloadWaitsForNewHandshake() throws {
        var pair = try EndpointPair(seed: 109)
        try pair.establish()
        let start = pair.now
        let old = try #require(pair.keysA?.localIndex)
        pair.run(until: start + SessionConstants.rejectAfterTime + .seconds(-1))
        try pair.b.send([0xB1], to: pair.idA, now: pair.now)
        let late = try #require(pair.takeOutbound().first)
        pair.run(until: start + SessionConstants.rejectAfterTime)
        pair.deliver(late)
        #expect(pair.a.drops[.expiredSession] == 1 && pair.datagrams(in: pair.eventsA).isEmpty)

        try pair.a.send([0xA1], to: pair.idB, now: pair.now)
        let flight = pair.takeOutbound()
        #expect(flight.map(\.type) == [.handshakeInitiation], "nothing goes out on rejected keys")
        for held in flight { pair.deliver(held) }
        pair.pump()
        #expect(pair.datagrams(in: pair.eventsB) == [[0xA1]])
        let keysA = try #require(pair.keysA)
        #expect(keysA.localIndex != old && keysA.created == pair.now && keysA.localIndex == pair.keysB?.remoteIndex)
        try pair.b.send([0xB2], to: pair.idA, now: pair.now)
        pair.pump()
        #expect(pair.datagrams(in: pair.eventsA) == [[0xB2]])
        #expect(pair.nonDatagramEvents().count == 2)
    }

    @Test func retryHandshakes_aNewWayToTheAddress_resendsTheUnansweredInitiationAtOnce() throws {
        var pair = try EndpointPair(seed: 140)
        pair.a.connect(to: pair.addressB, expecting: pair.idB, now: pair.now)
        // The first initiation is lost (B cannot be reached directly, say).
        #expect(pair.takeOutbound().map(\.type) == [.handshakeInitiation])
        pair.now = pair.now + .milliseconds(500)
        #expect(try #require(pair.a.pollTimeout()) > pair.now, "the backoff's retransmission is not due")
        pair.a.retryHandshakes(to: pair.addressA, now: pair.now)
        #expect(pair.takeOutbound().isEmpty, "no handshake goes to that address")
        // A way to B was found (a relay): the initiation goes again at once, and completes.
        pair.a.retryHandshakes(to: pair.addressB, now: pair.now)
        let again = pair.takeOutbound()
        #expect(again.map(\.type) == [.handshakeInitiation])
        for held in again { pair.deliver(held) }
        pair.pump()
        #expect(pair.a.isEstablished(with: pair.idB) && pair.b.isEstablished(with: pair.idA))
        // Nothing is left unanswered: asked again, it sends nothing.
        pair.a.retryHandshakes(to: pair.addressB, now: pair.now)
        #expect(pair.takeOutbound().isEmpty)
    }

    @Test(arguments: [UInt64(110), 111, 112], [true, false])
    func reject_bothSidesSendOnRejectedKeys_crossedHandshakesCarryBothQueues(seed: UInt64, aFirst: Bool) throws {
        var pair = try EndpointPair(seed: seed)
        try pair.establish()
        pair.run(until: pair.now + SessionConstants.rejectAfterTime + .seconds(1))
        try pair.a.send([0xA1], to: pair.idB, now: pair.now)
        try pair.b.send([0xB1], to: pair.idA, now: pair.now)
        let initiations = pair.takeOutbound()
        #expect(initiations.map(\.type) == [.handshakeInitiation, .handshakeInitiation])
        for held in aFirst ? initiations : initiations.reversed() { pair.deliver(held) }
        pair.pump()
        pair.run(until: pair.now + .seconds(20))
        #expect(pair.datagrams(in: pair.eventsB) == [[0xA1]] && pair.datagrams(in: pair.eventsA) == [[0xB1]])
        let keysA = try #require(pair.keysA)
        #expect(keysA.isInitiator == pair.aIsLower && keysA.localIndex == pair.keysB?.remoteIndex)
        #expect(pair.a.pendingHandshakeCount == 0 && pair.b.pendingHandshakeCount == 0)
        #expect(pair.nonDatagramEvents().count == 2)
    }

    // MARK: Expiry

    @Test func expiry_silentPeer_closesErasesAndLeavesNoDeadline() throws {
        var pair = try EndpointPair(seed: 114)
        try pair.establish()
        let erasure = pair.now + SessionConstants.zeroKeyMaterialAfter
        pair.run(until: justBefore(erasure))
        #expect(pair.a.isEstablished(with: pair.idB) && pair.nonDatagramEvents().count == 2)
        pair.run(until: erasure)
        #expect(pair.eventsA.last == .closed(peer: pair.idB, reason: .expired))
        #expect(pair.eventsB.last == .closed(peer: pair.idA, reason: .expired))
        #expect(!pair.a.isEstablished(with: pair.idB) && !pair.b.isEstablished(with: pair.idA))
        #expect(pair.a.peers.isEmpty && pair.a.keyOwners.isEmpty && pair.b.peers.isEmpty && pair.b.keyOwners.isEmpty)
        #expect(pair.a.pollTimeout() == nil && pair.b.pollTimeout() == nil)
        #expect(throws: SessionError.noSession(pair.idB)) { try pair.a.send([1], to: pair.idB, now: pair.now) }
    }

    @Test func expiry_peerGoneWhileSending_failsHandshakeThenExpires() throws {
        var pair = try EndpointPair(seed: 115)
        try pair.establish()
        let erasure = pair.now + SessionConstants.zeroKeyMaterialAfter
        let lost: (Bool, [UInt8]) -> Bool = { _, _ in false }
        pair.run(until: pair.now + .seconds(100))
        try pair.a.send([1], to: pair.idB, now: pair.now)
        pair.pump(filter: lost)
        pair.run(until: erasure, filter: lost)
        let events = pair.eventsA.filter { if case .established = $0 { false } else { true } }
        #expect(events.count == 2)
        guard case .handshakeFailed(pair.addressB, pair.idB, .handshakeTimedOut)? = events.first else {
            Issue.record("expected the rekey to time out first, got \(events)")
            return
        }
        #expect(events.last == .closed(peer: pair.idB, reason: .expired))
        #expect(pair.a.pollTimeout() == nil && pair.a.peers.isEmpty && pair.a.pendingHandshakeCount == 0)
    }

    @Test(arguments: [true, false])
    func expiry_peersThatKeepSending_neverExpire(bothSend: Bool) throws {
        var pair = try EndpointPair(seed: 116)
        try pair.establish()
        var sentB: [[UInt8]] = []
        for step in 0..<40 {
            pair.run(until: pair.now + .seconds(30))
            sentB.append([UInt8(step)])
            try pair.b.send(sentB.last!, to: pair.idA, now: pair.now)
            if bothSend { try pair.a.send([UInt8(step)], to: pair.idB, now: pair.now) }
            pair.pump()
        }
        #expect(pair.datagrams(in: pair.eventsA) == sentB)
        #expect(pair.nonDatagramEvents().count == 2)
        #expect(pair.a.isEstablished(with: pair.idB) && pair.b.isEstablished(with: pair.idA))
        #expect(pair.count(.handshakeInitiation, fromA: true, since: 0) >= 1200 / 180)
    }

    @Test func expiry_replayedInitiation_doesNotKeepSilentPeerAlive() throws {
        var pair = try EndpointPair(seed: 117)
        try pair.establish()
        let erasure = pair.now + SessionConstants.zeroKeyMaterialAfter
        let initiation = try pair.supersedeFirstInitiation()
        for minute in 1...8 {
            pair.run(until: pair.now + .seconds(60))
            initiation.withUnsafeBytes { pair.b.handleDatagram($0, from: pair.addressA, now: pair.now) }
            // Its timestamp is older than the newest accepted: every copy is dropped as
            // a replay, unanswered, and none postpones the erasure.
            #expect(pair.takeOutbound().isEmpty)
            #expect(pair.b.drops[.handshakeReplayed] == UInt64(minute))
            #expect(pair.b.pollTimeout() == erasure, "minute \(minute)")
        }
        pair.run(until: erasure)
        #expect(pair.eventsB.last == .closed(peer: pair.idA, reason: .expired))
        #expect(pair.b.pollTimeout() == nil && pair.b.keyOwners.isEmpty)
    }

    @Test func newHandshake_replayedInitiation_isNoAnswer() throws {
        var pair = try EndpointPair(seed: 124)
        try pair.establish()
        let initiation = try pair.supersedeFirstInitiation()
        let lost: (Bool, [UInt8]) -> Bool = { _, _ in false }
        try pair.b.send([1], to: pair.idA, now: pair.now)
        let deadline = try #require(pair.b.peers[pair.idA]?.timers.table[.newHandshake])
        pair.pump(filter: lost)
        pair.run(until: deadline + .seconds(-1), filter: lost)
        initiation.withUnsafeBytes { pair.b.handleDatagram($0, from: pair.addressA, now: pair.now) }
        #expect(pair.b.peers[pair.idA]?.timers.table[.newHandshake] == deadline)
        let mark = pair.wire.count
        pair.run(until: deadline, filter: lost)
        #expect(pair.count(.handshakeInitiation, fromA: false, since: mark) == 1)
    }

    // MARK: Roaming

    @Test func roaming_authenticatedPacketMovesAddress_replayedInitiationDoesNot() throws {
        var pair = try EndpointPair(seed: 118)
        try pair.establish()
        let last = try #require(pair.wire.first { $0.fromA && $0.bytes[1] == MessageType.handshakeInitiation.rawValue })
        let moved = PeerAddress.ipv4(10, 0, 0, 7, port: 5000)
        let attacker = PeerAddress.ipv4(10, 6, 6, 6, port: 666)
        // A forged packet from elsewhere moves nothing.
        try pair.a.send([1], to: pair.idB, now: pair.now)
        var held = try #require(pair.takeOutbound().first)
        var forged = held
        forged.bytes[forged.bytes.count - 1] ^= 1
        pair.deliver(forged, from: attacker)
        #expect(pair.b.peers[pair.idA]?.address == pair.addressA && pair.b.drops[.decryptionFailed] == 1)
        // The authentic one does.
        pair.deliver(held, from: moved)
        #expect(pair.b.peers[pair.idA]?.address == moved)
        try pair.b.send([2], to: pair.idA, now: pair.now)
        held = try #require(pair.takeOutbound().first)
        #expect(held.destination == moved)
        pair.deliver(held)
        // A copy of the last initiation answered is dropped, and so is an older one
        // (its timestamp is not newer): neither moves anything nor is answered.
        pair.deliver(HeldDatagram(fromA: true, destination: pair.addressB, bytes: last.bytes), from: attacker)
        #expect(pair.b.drops[.handshakeReplayed] == 1 && pair.takeOutbound().isEmpty)
        let older = try pair.supersedeFirstInitiation()
        let session = try #require(pair.keysB?.localIndex)
        pair.deliver(HeldDatagram(fromA: true, destination: pair.addressB, bytes: older), from: attacker)
        #expect(pair.takeOutbound().isEmpty && pair.b.drops[.handshakeReplayed] == 2)
        #expect(pair.b.peers[pair.idA]?.address == pair.addressA && pair.keysB?.localIndex == session)
        try pair.b.send([3], to: pair.idA, now: pair.now)
        pair.pump()
        #expect(pair.b.isEstablished(with: pair.idA) && pair.datagrams(in: pair.eventsB) == [[1]])
        #expect(pair.datagrams(in: pair.eventsA) == [[2], [3]])
    }

    @Test func handshake_everyDatagramDuplicated_establishesOneSession() throws {
        for ik in [true, false] {
            var pair = try EndpointPair(seed: 127)
            pair.connectA(ik: ik)
            for _ in 0..<20 {
                let flight = pair.takeOutbound()
                if flight.isEmpty { break }
                for held in flight {
                    pair.deliver(held)
                    pair.deliver(held)
                }
            }
            let keysA = try #require(pair.keysA)
            #expect(keysA.localIndex == pair.keysB?.remoteIndex && pair.keysB?.localIndex == keysA.remoteIndex)
            #expect(pair.a.pendingHandshakeCount == 0 && pair.nonDatagramEvents().count == 2)
            #expect(!ik || pair.datagrams(in: pair.eventsB) == [[0xA]])
            try pair.b.send([0xB], to: pair.idA, now: pair.now)
            pair.pump()
            #expect(pair.datagrams(in: pair.eventsA) == [[0xB]])
        }
    }

    @Test func roaming_handshakeResponseFromNewAddress_movesAddress() throws {
        var pair = try EndpointPair(seed: 119)
        try pair.establish()
        let moved = PeerAddress.ipv4(10, 0, 0, 8, port: 5001)
        pair.run(until: pair.now + SessionConstants.rejectAfterTime)
        try pair.a.send([1], to: pair.idB, now: pair.now)
        for held in pair.takeOutbound() { pair.deliver(held) }
        let response = try #require(pair.takeOutbound().first)
        #expect(response.type == .handshakeResponse)
        pair.deliver(response, from: moved)
        #expect(pair.a.peers[pair.idB]?.address == moved)
        #expect(pair.takeOutbound().allSatisfy { !$0.fromA || $0.destination == moved })
    }

    // MARK: Simultaneous initiation

    /// One state of the exploration of delivery orders.
    struct Crossing {
        /// The endpoints.
        var pair: EndpointPair
        /// Datagrams sent and not yet delivered.
        var inFlight: [HeldDatagram]
        /// Whether B has yet to connect (and send its payload).
        var bConnects = false
        /// How many more datagrams may be lost or duplicated on the way.
        var faults = 0
        /// Whether one was.
        var faulty = false
        /// The deliveries that led here, for the failure message.
        var trace: [String] = []
    }

    /// Explores depth first every order in which the datagrams in flight can arrive
    /// (while `bConnects`, every moment at which B connects; while `faults` remain,
    /// every datagram lost or duplicated), and checks each end.
    /// - Returns: how many ends were checked.
    static func exploreCrossings(from start: Crossing, ik: Bool, lowerWins: Bool) -> Int {
        var stack = [start]
        var leaves = 0
        while let node = stack.popLast(), leaves < 50_000 {
            guard !node.inFlight.isEmpty || node.bConnects else {
                leaves += 1
                let problems = crossingProblems(node, ik: ik, lowerWins: lowerWins)
                if !problems.isEmpty {
                    Issue.record("\(problems) after \(node.trace)")
                    return leaves
                }
                continue
            }
            guard node.trace.count < 40 else {
                Issue.record("datagrams keep flowing: \(node.trace)")
                return leaves
            }
            if node.bConnects {
                var next = node
                next.bConnects = false
                next.trace.append("B connects")
                next.pair.connectB(ik: ik)
                next.inFlight += next.pair.takeOutbound()
                stack.append(next)
            }
            for index in node.inFlight.indices {
                let held = node.inFlight[index]
                let name = "\(held.fromA ? "A→B" : "B→A") \(held.isKeepalive ? "keepalive" : "\(held.type!)")"
                for fault in ["", "lost ", "twice "] where fault.isEmpty || node.faults > 0 {
                    var next = node
                    next.trace.append(fault + name)
                    if !fault.isEmpty {
                        next.faults -= 1
                        next.faulty = true
                    }
                    if fault != "twice " { next.inFlight.remove(at: index) }
                    if fault != "lost " { next.pair.deliver(held) }
                    next.inFlight += next.pair.takeOutbound()
                    stack.append(next)
                }
            }
        }
        #expect(stack.isEmpty, "every order explored")
        return leaves
    }

    // Seeds 120, 122 and 125 make B the lower peer; 121, 123 and 128 make A.
    @Test(arguments: [true, false], [UInt64(120), 121, 122, 123])
    func simultaneousInitiation_everyDeliveryOrder_bothEndOnTheLowerPeersSession(ik: Bool, seed: UInt64) throws {
        var start = try EndpointPair(seed: seed)
        start.connectA(ik: ik)
        start.connectB(ik: ik)
        let initiations = start.takeOutbound()
        #expect(initiations.map(\.type) == [.handshakeInitiation, .handshakeInitiation])
        let leaves = Self.exploreCrossings(from: Crossing(pair: start, inFlight: initiations), ik: ik, lowerWins: true)
        #expect(leaves >= (ik ? 15 : 80))
    }

    @Test(arguments: [true, false], [UInt64(125), 126])
    func simultaneousInitiation_secondConnectAtAnyMoment_endsInOneSharedSession(ik: Bool, seed: UInt64) throws {
        var start = try EndpointPair(seed: seed)
        start.connectA(ik: ik)
        let initiation = start.takeOutbound()
        let crossing = Crossing(pair: start, inFlight: initiation, bConnects: true)
        let leaves = Self.exploreCrossings(from: crossing, ik: ik, lowerWins: false)
        #expect(leaves >= (ik ? 30 : 150))
    }

    @Test(arguments: [true, false], [UInt64(125), 128])
    func simultaneousInitiation_oneDatagramLostOrDuplicated_recoversToOneSharedSession(ik: Bool, seed: UInt64) throws {
        var start = try EndpointPair(seed: seed)
        start.connectA(ik: ik)
        start.connectB(ik: ik)
        let initiations = start.takeOutbound()
        let crossing = Crossing(pair: start, inFlight: initiations, faults: 1)
        let leaves = Self.exploreCrossings(from: crossing, ik: ik, lowerWins: true)
        #expect(leaves >= (ik ? 100 : 500))
    }

    /// What is wrong with the end of one crossing, once nothing is in flight.
    static func crossingProblems(_ node: Crossing, ik: Bool, lowerWins: Bool) -> [String] {
        var pair = node.pair
        var problems: [String] = []
        let payloads = { (pair: EndpointPair) in (pair.datagrams(in: pair.eventsB), pair.datagrams(in: pair.eventsA)) }
        if !node.faulty {
            // Nothing lost: one session at once, the lower peer's, with the payloads.
            guard let keysA = pair.keysA, let keysB = pair.keysB, pair.a.isEstablished(with: pair.idB),
                pair.b.isEstablished(with: pair.idA), keysA.localIndex == keysB.remoteIndex,
                keysB.localIndex == keysA.remoteIndex
            else { return ["not one session"] }
            if lowerWins && (keysA.isInitiator != pair.aIsLower || keysB.isInitiator == pair.aIsLower) {
                problems.append("the higher peer's handshake won")
            }
            if ik && payloads(pair) != ([[0xA]], [[0xB]]) { problems.append("queued payloads \(payloads(pair))") }
        }
        let before = (pair.keysA?.localIndex, pair.keysB?.localIndex)
        // Then the timers retransmit what was lost and run out what is pending; the
        // session stands and carries data both ways.
        pair.run(until: pair.now + .seconds(30))
        guard let keysA = pair.keysA, let keysB = pair.keysB, pair.a.isEstablished(with: pair.idB),
            pair.b.isEstablished(with: pair.idA), keysA.localIndex == keysB.remoteIndex,
            keysB.localIndex == keysA.remoteIndex
        else { return problems + ["not one session after the timers"] }
        if !node.faulty && (keysA.localIndex, keysB.localIndex) != before { problems.append("the session changed") }
        if ik && (payloads(pair).0.count > 1 || payloads(pair).1.count > 1) { problems.append("payload twice") }
        if pair.nonDatagramEvents().count != 2 { problems.append("events \(pair.nonDatagramEvents())") }
        if pair.a.pendingHandshakeCount + pair.b.pendingHandshakeCount != 0 { problems.append("handshakes pending") }
        let drops = (pair.a.drops.total, pair.b.drops.total)
        let received = (pair.eventsA.count, pair.eventsB.count)
        try? pair.a.send([0xA2], to: pair.idB, now: pair.now)
        try? pair.b.send([0xB2], to: pair.idA, now: pair.now)
        pair.pump()
        if pair.eventsA[received.0...].elementsEqual([.datagram(peer: pair.idB, payload: [0xB2])]) == false
            || pair.eventsB[received.1...].elementsEqual([.datagram(peer: pair.idA, payload: [0xA2])]) == false
            || (pair.a.drops.total, pair.b.drops.total) != drops
        {
            problems.append("datagrams do not flow both ways")
        }
        return problems
    }

    // MARK: The deadline schedule

    @Test(arguments: [UInt64(130), 131, 132, 133])
    func pollTimeout_afterEveryStepOfASeededRandomRun_equalsTheScan(seed: UInt64) throws {
        var pair = try EndpointPair(seed: seed)
        pair.a.rekeyAfterMessages = 16
        pair.b.rekeyAfterMessages = 16
        var random = TestRandom(seed: seed &* 0x9E37)
        var inFlight: [HeldDatagram] = []
        let roamed = PeerAddress.ipv4(10, 1, 1, 1, port: 7000)
        let steps: [Duration] = [
            .milliseconds(1), .milliseconds(300), .seconds(1), .seconds(4), .seconds(10), .seconds(16),
            .seconds(45), .seconds(130), .seconds(200), .seconds(600),
        ]
        var timeouts = 0
        for step in 0..<3000 {
            let fromA = random.next() % 2 == 0
            switch random.next() % 24 {
            case 0:
                let ik = random.next() % 2 == 0
                if fromA {
                    pair.a.connect(to: pair.addressB, expecting: ik ? pair.idB : nil, now: pair.now)
                } else {
                    pair.b.connect(to: pair.addressA, expecting: ik ? pair.idA : nil, now: pair.now)
                }
            case 1, 2, 3:
                if fromA { try? pair.a.send([UInt8(step % 256)], to: pair.idB, now: pair.now) }
                if !fromA { try? pair.b.send([UInt8(step % 256)], to: pair.idA, now: pair.now) }
            case 4...15:
                // Mostly in order, sometimes reordered.
                guard !inFlight.isEmpty else { continue }
                let index = random.next() % 4 == 0 ? Int(random.next() % UInt64(inFlight.count)) : 0
                pair.deliver(inFlight.remove(at: index))
            case 16:
                // Lost, duplicated, or from a new address.
                guard !inFlight.isEmpty else { continue }
                let index = Int(random.next() % UInt64(inFlight.count))
                switch random.next() % 3 {
                case 0: inFlight.remove(at: index)
                case 1: pair.deliver(inFlight[index])
                default: pair.deliver(inFlight.remove(at: index), from: roamed)
                }
            case 17, 18:
                // Deadline by deadline, as a driver's timer fires.
                for _ in 0..<(1 + random.next() % 4) {
                    guard let next = [pair.a.pollTimeout(), pair.b.pollTimeout()].compactMap({ $0 }).min() else {
                        break
                    }
                    pair.now = max(pair.now, next)
                    pair.a.handleTimeout(now: pair.now)
                    pair.b.handleTimeout(now: pair.now)
                    timeouts += 1
                    Self.expectExactDeadlines(pair, step: step)
                }
            case 19 where random.next() % 4 == 0:
                // A jump over many deadlines at once.
                pair.now = pair.now + steps[Int(random.next() % UInt64(steps.count))]
                pair.a.handleTimeout(now: pair.now)
                pair.b.handleTimeout(now: pair.now)
                timeouts += 1
            case 20 where random.next() % 4 == 0:
                if fromA { pair.a.close(pair.idB) } else { pair.b.close(pair.idA) }
            default:
                pair.now = pair.now + .milliseconds(Int64(random.next() % 50))
                if let deadline = pair.a.pollTimeout(), deadline <= pair.now { pair.a.handleTimeout(now: pair.now) }
                if let deadline = pair.b.pollTimeout(), deadline <= pair.now { pair.b.handleTimeout(now: pair.now) }
            }
            pair.collectEvents()
            inFlight += pair.takeOutbound()
            if inFlight.count > 64 { inFlight.removeFirst(inFlight.count - 64) }
            Self.expectExactDeadlines(pair, step: step)
            for endpoint in [pair.a, pair.b] {
                #expect(endpoint.pollTimeout().map { $0 > pair.now } ?? true, "a deadline left due, step \(step)")
            }
        }
        // The run reached the states the timers are about.
        let events = pair.eventsA + pair.eventsB
        let established = events.filter { if case .established = $0 { true } else { false } }.count
        let expired = events.filter {
            $0 == .closed(peer: pair.idA, reason: .expired) || $0 == .closed(peer: pair.idB, reason: .expired)
        }
        #expect(established >= 10 && !expired.isEmpty)
        #expect(pair.wire.filter { $0.bytes[1] == MessageType.handshakeInitiation.rawValue }.count > 20)
        #expect(timeouts > 100)
    }

    /// Checks that both sides report exactly the earliest deadline, and that nothing due is left.
    static func expectExactDeadlines(_ pair: EndpointPair, step: Int) {
        #expect(pair.a.pollTimeout() == pair.a.earliestDeadlineByScanning(), "A, step \(step)")
        #expect(pair.b.pollTimeout() == pair.b.earliestDeadlineByScanning(), "B, step \(step)")
    }
}
