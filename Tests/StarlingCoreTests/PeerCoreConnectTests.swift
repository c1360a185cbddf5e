import StarlingTestSupport
import Testing

@testable import StarlingCore

/// The `connectFinished` events among `events`, in order.
func connectsFinished(in events: [PeerEvent]) -> [(id: ConnectID, outcome: ConnectOutcome)] {
    events.compactMap { if case .connectFinished(let id, let outcome) = $0 { (id, outcome) } else { nil } }
}

/// Connects a caller waits on: each ends once, by session, failure or timeout.
@Suite struct PeerCoreConnectTests {
    @Test(arguments: [true, false])
    func peerCore_connect_finishesOnceWhenTheSessionIsEstablished(expectingPeer: Bool) throws {
        var pair = try PeerPair(seed: 41)
        let id = pair.a.connect(
            to: pair.addressB, expecting: expectingPeer ? pair.idB : nil, timeout: .seconds(5), now: pair.now)
        #expect(pair.a.pendingConnectCount == 1)
        #expect(pair.a.pollTimeout().map { $0 <= pair.now + .seconds(5) } == true)
        pair.pump()
        #expect(connectsFinished(in: pair.eventsA).map(\.id) == [id])
        #expect(connectsFinished(in: pair.eventsA).map(\.outcome) == [.established(pair.idB)])
        #expect(pair.a.pendingConnectCount == 0)
        // The deadline is gone with it: running past it reports nothing more.
        pair.advance(by: .seconds(10))
        #expect(connectsFinished(in: pair.eventsA).count == 1)
    }

    @Test func peerCore_connect_twoCallersOfOneSession_bothFinish() throws {
        var pair = try PeerPair(seed: 42)
        let first = pair.a.connect(to: pair.addressB, expecting: pair.idB, timeout: .seconds(5), now: pair.now)
        let second = pair.a.connect(to: pair.addressB, expecting: pair.idB, timeout: .seconds(9), now: pair.now)
        #expect(first != second)
        pair.pump()
        #expect(connectsFinished(in: pair.eventsA).map(\.id) == [first, second])
        #expect(pair.a.pendingConnectCount == 0)
    }

    @Test func peerCore_connect_alreadyEstablished_finishesAtOnceWithoutAHandshake() throws {
        var pair = try PeerPair(seed: 43)
        pair.connect()
        let id = pair.a.connect(to: pair.addressB, expecting: pair.idB, timeout: .seconds(5), now: pair.now)
        #expect(pair.a.pollEvent() == .connectFinished(id, .established(pair.idB)))
        #expect(pair.a.pollEvent() == nil)
        var buffer: [UInt8] = []
        #expect(pair.a.pollTransmit(now: pair.now, into: &buffer) == nil)
        #expect(pair.a.pendingConnectCount == 0)
    }

    @Test func peerCore_connect_handshakeFailure_finishesWithTheError() throws {
        var pair = try PeerPair(seed: 44)
        let start = pair.now
        let id = pair.a.connect(to: pair.nowhere, expecting: pair.idB, timeout: .seconds(600), now: pair.now)
        pair.advance(until: start + .seconds(300))
        let finished = connectsFinished(in: pair.eventsA)
        #expect(finished.map(\.id) == [id])
        if case .handshakeFailed(.handshakeTimedOut)? = finished.first?.outcome {
        } else {
            Issue.record("unexpected outcome \(String(describing: finished.first?.outcome))")
        }
        #expect(pair.a.pendingConnectCount == 0)
        // The handshake event comes first, then the connect it ends.
        let kinds = pair.eventsA.map { if case .connectFinished = $0 { "connect" } else { "other" } }
        #expect(kinds == ["other", "connect"])
    }

    @Test func peerCore_connect_noAnswer_timesOutAtTheDeadlineOnce() throws {
        var pair = try PeerPair(seed: 45)
        let start = pair.now
        let id = pair.a.connect(to: pair.nowhere, expecting: pair.idB, timeout: .seconds(2), now: pair.now)
        pair.advance(until: start + .nanoseconds(1_999_999_999))
        #expect(connectsFinished(in: pair.eventsA).isEmpty)
        pair.advance(until: start + .seconds(2))
        #expect(pair.eventsA == [.connectFinished(id, .timedOut(address: pair.nowhere, after: .seconds(2)))])
        // The handshake failing later reports only itself.
        pair.advance(until: start + .seconds(300))
        #expect(connectsFinished(in: pair.eventsA).count == 1)
        #expect(pair.eventsA.count == 2)
    }

    @Test func peerCore_connect_cancelled_finishesNeverAndLeavesNoDeadline() throws {
        var pair = try PeerPair(seed: 46)
        let start = pair.now
        let id = pair.a.connect(to: pair.nowhere, expecting: pair.idB, timeout: .seconds(2), now: pair.now)
        let kept = pair.a.connect(to: pair.nowhere, expecting: pair.idB, timeout: .seconds(3), now: pair.now)
        pair.a.cancelConnect(id)
        pair.a.cancelConnect(id)
        #expect(pair.a.pendingConnectCount == 1)
        pair.advance(until: start + .seconds(4))
        #expect(connectsFinished(in: pair.eventsA).map(\.id) == [kept])
        #expect(
            connectsFinished(in: pair.eventsA).map(\.outcome) == [.timedOut(address: pair.nowhere, after: .seconds(3))])
        #expect(pair.a.pendingConnectCount == 0)
    }

    @Test func peerCore_connect_unexpectedPeerAtTheAddress_doesNotFinishAWaitForAnother() throws {
        var pair = try PeerPair(seed: 47)
        var random = TestRandom(seed: 470)
        let stranger = IdentityKeyPair.generate(using: &random).peerID
        let start = pair.now
        // B answers at its address, but this connect waits for a stranger there.
        let id = pair.a.connect(to: pair.addressB, expecting: stranger, timeout: .seconds(1), now: pair.now)
        pair.a.connect(to: pair.addressB, expecting: nil, now: pair.now)
        pair.advance(until: start + .seconds(1))
        #expect(pair.a.isEstablished(with: pair.idB))
        #expect(connectsFinished(in: pair.eventsA).map(\.id) == [id])
        #expect(connectsFinished(in: pair.eventsA).first?.outcome != .established(pair.idB))
    }

    // MARK: The table alone

    @Test func connectWaits_removeExpired_takesDueWaitsEarliestFirstAndKeepsTheDeadlineExact() {
        var waits = ConnectWaits()
        let now = Instant(nanoseconds: 1_000)
        let address = PeerAddress.ipv4(127, 0, 0, 1, port: 1)
        let late = waits.add(address: address, expected: nil, timeout: .seconds(3), now: now)
        let early = waits.add(address: address, expected: nil, timeout: .seconds(1), now: now)
        let middle = waits.add(address: address, expected: nil, timeout: .seconds(2), now: now)
        #expect(waits.earliestDeadline == now + .seconds(1))
        waits.remove(early)
        #expect(waits.earliestDeadline == now + .seconds(2))
        #expect(waits.removeExpired(now: now + .seconds(2)).map(\.0) == [middle])
        #expect(waits.earliestDeadline == now + .seconds(3))
        waits.remove(late)
        #expect(waits.earliestDeadline == nil)
        #expect(waits.count == 0)
    }
}
