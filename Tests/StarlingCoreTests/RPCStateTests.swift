import StarlingTestSupport
import Testing

@testable import StarlingCore

/// The RPC state pieces on their own: retransmit backoff, the request tracker, and the
/// response cache.
@Suite struct RPCStateTests {
    static let peerA = try! IdentityKeyPair(seed: [UInt8](repeating: 1, count: 32)).peerID
    static let peerB = try! IdentityKeyPair(seed: [UInt8](repeating: 2, count: 32)).peerID

    /// A generator for calls that must not draw: schedules here use no jitter.
    struct NoRandom: RandomNumberGenerator {
        mutating func next() -> UInt64 { fatalError("no jitter was asked for") }
    }

    static func at(_ milliseconds: Int) -> Instant { Instant(nanoseconds: UInt64(milliseconds) * 1_000_000) }

    static func outgoing(to peer: PeerID = peerA, deadline: Instant) -> RequestTracker.Outgoing {
        .init(peer: peer, method: "echo", message: [1, 2, 3], address: nil, deadline: deadline)
    }

    // MARK: Backoff

    @Test func rpcBackoff_nominalDelay_doublesUpToTheCap() {
        let cases: [(Int, Duration)] = [
            (0, .milliseconds(250)), (1, .milliseconds(500)), (2, .seconds(1)), (3, .seconds(2)), (4, .seconds(2)),
            (62, .seconds(2)), (63, .seconds(2)), (Int.max, .seconds(2)),
        ]
        for (attempt, expected) in cases {
            #expect(RPCBackoff.nominalDelay(afterAttempt: attempt) == expected, "attempt \(attempt)")
        }
    }

    @Test func rpcBackoff_jitter_staysWithinItsFraction() {
        var random = TestRandom(seed: 5)
        var largest: Duration = .zero
        for _ in 0..<2000 {
            let jitter = RPCBackoff.jitter(for: .seconds(2), using: &random)
            #expect(jitter >= .zero && jitter <= .milliseconds(200))
            largest = max(largest, jitter)
        }
        #expect(largest > .milliseconds(150))
        #expect(RPCBackoff.jitter(for: .seconds(2), perMille: 0, using: &random) == .zero)
    }

    @Test func rpcBackoff_schedule_sendsTheMaximumAttemptsWithinTheWindow() {
        var zero = NoRandom()
        var sends: [Instant] = [Self.at(0)]
        while let next = RPCBackoff.nextRetransmit(
            afterAttempt: sends.count - 1, sentAt: sends.last!, firstSentAt: sends[0], jitterPerMille: 0, using: &zero)
        {
            sends.append(next)
        }
        let expected = [0, 250, 750, 1750, 3750, 5750, 7750, 9750, 11750, 13750, 15750, 17750].map(Self.at)
        #expect(sends == expected)
        #expect(sends.count == RPCConstants.maximumAttempts)
    }

    @Test func rpcBackoff_nextRetransmit_stopsAtTheResendWindow() {
        var zero = NoRandom()
        // After copy 1 the delay is 500 ms: from 29.5 s the next copy would fall exactly
        // at the end of the 30 s window, so none follows; a window starting 1 ms later
        // still has room for it.
        #expect(
            RPCBackoff.nextRetransmit(
                afterAttempt: 1, sentAt: Self.at(29_500), firstSentAt: Self.at(0), jitterPerMille: 0, using: &zero)
                == nil)
        #expect(
            RPCBackoff.nextRetransmit(
                afterAttempt: 1, sentAt: Self.at(29_500), firstSentAt: Self.at(1), jitterPerMille: 0, using: &zero)
                == Self.at(30_000))
    }

    @Test func rpcConstants_cacheLifetime_outlastsEveryResendWithRoomForLingering() {
        // A copy is never sent later than the resend window after the first, so a cache
        // that remembers requests for longer never sees a copy of a forgotten request,
        // unless the network holds a datagram for the difference (30 s).
        #expect(RPCConstants.responseCacheLifetime - RPCConstants.maximumResendWindow >= .seconds(30))
        // The full schedule, with the largest jitter, fits well inside the window.
        let worst = (0..<(RPCConstants.maximumAttempts - 1)).reduce(Duration.zero) { total, attempt in
            total + RPCBackoff.nominalDelay(afterAttempt: attempt) * 1.1
        }
        #expect(worst < RPCConstants.maximumResendWindow)
        #expect(RPCConstants.defaultTimeout < RPCConstants.maximumResendWindow)
    }

    // MARK: Request tracker

    @Test func requestTracker_lifecycle_movesTheEarliestDeadline() {
        var tracker = RequestTracker(jitterPerMille: 0)
        var zero = NoRandom()
        let one = RequestID(rawValue: 1)
        let two = RequestID(rawValue: 2)
        #expect(tracker.earliestDeadline == nil)
        tracker.add(one, Self.outgoing(deadline: Self.at(10_000)))
        tracker.add(two, Self.outgoing(to: Self.peerB, deadline: Self.at(5_000)))
        #expect(tracker.earliestDeadline == Self.at(5_000))
        #expect(tracker.awaitingSession(to: Self.peerA) == [one])
        tracker.markSent(one, now: Self.at(100), using: &zero)
        #expect(tracker[one]?.phase == .sent(nextRetransmit: Self.at(350)))
        #expect(tracker.earliestDeadline == Self.at(350))
        #expect(tracker.awaitingSession(to: Self.peerA) == [])
        // A response from the wrong peer completes nothing; the right one completes once.
        let wrongPeer = tracker.complete(one, from: Self.peerB)
        let first = tracker.complete(one, from: Self.peerA)
        let second = tracker.complete(one, from: Self.peerA)
        #expect(wrongPeer == nil)
        #expect(first?.method == "echo")
        #expect(second == nil)
        #expect(tracker.earliestDeadline == Self.at(5_000))
        let removed = tracker.removeAll(to: Self.peerB)
        #expect(removed.map(\.0) == [two])
        #expect(tracker.earliestDeadline == nil)
        #expect(tracker.count == 0)
    }

    @Test func requestTracker_removeDue_splitsRetransmissionsFromExpiries() {
        var tracker = RequestTracker(jitterPerMille: 0)
        var zero = NoRandom()
        for raw in UInt64(1)...4 {
            tracker.add(RequestID(rawValue: raw), Self.outgoing(deadline: Self.at(raw <= 2 ? 1_000 : 9_000)))
        }
        tracker.markSent(RequestID(rawValue: 3), now: .zero, using: &zero)
        let early = tracker.removeDue(now: Self.at(249))
        #expect(early.retransmit.isEmpty && early.expired.isEmpty)
        let due = tracker.removeDue(now: Self.at(1_000))
        #expect(due.retransmit == [RequestID(rawValue: 3)])
        #expect(due.expired.map(\.0) == [RequestID(rawValue: 1), RequestID(rawValue: 2)])
        // The retransmission stays due until it is marked.
        #expect(tracker.earliestDeadline == Self.at(250))
        tracker.markSent(RequestID(rawValue: 3), now: Self.at(1_000), using: &zero)
        #expect(tracker.earliestDeadline == Self.at(1_500))
        tracker.markExhausted(RequestID(rawValue: 3))
        #expect(tracker.earliestDeadline == Self.at(9_000))
    }

    @Test func requestTracker_maySend_stopsAfterTheAttemptsOrTheWindow() {
        var tracker = RequestTracker(jitterPerMille: 0)
        var zero = NoRandom()
        let id = RequestID(rawValue: 7)
        tracker.add(id, Self.outgoing(deadline: Self.at(600_000)))
        #expect(tracker.maySend(id, now: .zero))
        tracker.markSent(id, now: .zero, using: &zero)
        #expect(tracker.maySend(id, now: Self.at(29_999)))
        #expect(!tracker.maySend(id, now: Self.at(30_000)))
        for _ in 1..<RPCConstants.maximumAttempts { tracker.markSent(id, now: Self.at(1), using: &zero) }
        #expect(!tracker.maySend(id, now: Self.at(2)))
        #expect(tracker[id]?.phase == .sent(nextRetransmit: nil))
    }

    @Test func requestTracker_floor_isTheLowestIDInFlightPerPeer() {
        var tracker = RequestTracker(jitterPerMille: 0)
        #expect(tracker.floor(to: Self.peerA) == nil)
        for raw in UInt64(10)...14 {
            tracker.add(
                RequestID(rawValue: raw),
                Self.outgoing(to: raw == 11 ? Self.peerB : Self.peerA, deadline: Self.at(1_000)))
        }
        #expect(tracker.floor(to: Self.peerA) == RequestID(rawValue: 10))
        #expect(tracker.floor(to: Self.peerB) == RequestID(rawValue: 11))
        // Completing a later request leaves the floor; completing the lowest raises it.
        _ = tracker.complete(RequestID(rawValue: 12), from: Self.peerA)
        #expect(tracker.floor(to: Self.peerA) == RequestID(rawValue: 10))
        _ = tracker.complete(RequestID(rawValue: 10), from: Self.peerA)
        #expect(tracker.floor(to: Self.peerA) == RequestID(rawValue: 13))
        _ = tracker.complete(RequestID(rawValue: 11), from: Self.peerB)
        #expect(tracker.floor(to: Self.peerB) == nil)
        // Expiry raises it too.
        let due = tracker.removeDue(now: Self.at(1_000))
        #expect(due.expired.map(\.0) == [RequestID(rawValue: 13), RequestID(rawValue: 14)])
        #expect(tracker.floor(to: Self.peerA) == nil)
    }

    @Test func requestTracker_floor_staysCheapBehindALongRunningRequest() {
        var tracker = RequestTracker(jitterPerMille: 0)
        tracker.add(RequestID(rawValue: 1), Self.outgoing(deadline: Self.at(1_000_000)))
        for raw in UInt64(2)..<100_002 {
            let id = RequestID(rawValue: raw)
            tracker.add(id, Self.outgoing(deadline: Self.at(1_000_000)))
            #expect(tracker.floor(to: Self.peerA) == RequestID(rawValue: 1))
            _ = tracker.complete(id, from: Self.peerA)
        }
        #expect(tracker.count == 1)
        _ = tracker.complete(RequestID(rawValue: 1), from: Self.peerA)
        #expect(tracker.floor(to: Self.peerA) == nil)
    }

    // MARK: Response cache

    static func key(_ raw: UInt64, _ peer: PeerID = peerA) -> IncomingRequestID {
        IncomingRequestID(peer: peer, requestID: RequestID(rawValue: raw))
    }

    @Test func responseCache_admit_reportsEachRequestOnceThenItsAnswer() {
        var cache = ResponseCache(capacity: 4, lifetime: .seconds(60))
        func admit(_ key: IncomingRequestID, _ milliseconds: Int) -> ResponseCache.Admission {
            cache.admit(key, floor: 1, incarnation: 7, now: Self.at(milliseconds))
        }
        func answer(_ key: IncomingRequestID, _ bytes: [UInt8]) -> Bool { cache.answer(key, with: bytes) }
        let key = Self.key(1)
        let sameIDOtherPeer = Self.key(1, Self.peerB)
        #expect(admit(key, 0) == .new)
        #expect(admit(key, 10) == .running)
        #expect(admit(sameIDOtherPeer, 10) == .new)
        #expect(answer(key, [9]))
        #expect(!answer(key, [8]))
        #expect(admit(key, 20) == .answered([9]))
        #expect(cache.state(of: key, now: Self.at(59_999)) == .answered([9]))
        // Forgotten a lifetime after the first copy: a later copy is new again.
        #expect(cache.state(of: key, now: Self.at(60_000)) == nil)
        #expect(admit(key, 60_000) == .new)
        #expect(!answer(Self.key(2, Self.peerB), []))
    }

    @Test func responseCache_floor_forgetsEntriesBelowItAndDropsStaleCopies() {
        var cache = ResponseCache(capacity: 100, lifetime: .seconds(60))
        for raw in UInt64(100)..<110 {
            #expect(cache.admit(Self.key(raw), floor: 100, incarnation: 1, now: .zero) == .new)
        }
        #expect(cache.count == 10)
        // Request 110 acknowledges everything below 105.
        #expect(cache.admit(Self.key(110), floor: 105, incarnation: 1, now: .zero) == .new)
        #expect(cache.count == 6)
        #expect(cache.floor(of: Self.peerA, incarnation: 1, now: .zero) == 105)
        for raw in UInt64(100)..<105 {
            #expect(cache.admit(Self.key(raw), floor: 100, incarnation: 1, now: .zero) == .stale)
            #expect(cache.state(of: Self.key(raw), now: .zero) == nil)
        }
        #expect(cache.admit(Self.key(105), floor: 100, incarnation: 1, now: .zero) == .running)
        // A lower floor in a late copy does not lower it; another peer is unaffected.
        #expect(cache.floor(of: Self.peerA, incarnation: 1, now: .zero) == 105)
        #expect(cache.admit(Self.key(3, Self.peerB), floor: 3, incarnation: 1, now: .zero) == .new)
        #expect(cache.count == 7)
    }

    @Test func responseCache_newIncarnation_isJudgedAgainstItsOwnFloor() {
        var cache = ResponseCache(capacity: 100, lifetime: .seconds(60))
        #expect(cache.admit(Self.key(1_000), floor: 1_000, incarnation: 1, now: .zero) == .new)
        let answered = cache.answer(Self.key(1_000), with: [1])
        #expect(answered)
        // The restarted peer counts from lower IDs: served, not stale.
        #expect(cache.admit(Self.key(5), floor: 5, incarnation: 2, now: Self.at(1)) == .new)
        // The old run's lingering copies still meet its floor and answers.
        #expect(cache.admit(Self.key(999), floor: 999, incarnation: 1, now: Self.at(2)) == .stale)
        #expect(cache.admit(Self.key(1_000), floor: 1_000, incarnation: 1, now: Self.at(2)) == .answered([1]))
        #expect(cache.requesterCount == 2)
        // The old run is forgotten a lifetime after its last new request.
        #expect(cache.admit(Self.key(6), floor: 6, incarnation: 2, now: Self.at(60_000)) == .new)
        #expect(cache.requesterCount == 1)
        #expect(cache.floor(of: Self.peerA, incarnation: 1, now: Self.at(60_000)) == nil)
    }

    @Test func responseCache_whenFull_turnsNewRequestsAwayUntilEntriesExpire() {
        var cache = ResponseCache(capacity: 3, lifetime: .seconds(10))
        func admit(_ raw: UInt64, _ milliseconds: Int) -> ResponseCache.Admission {
            cache.admit(Self.key(raw), floor: 0, incarnation: 0, now: Self.at(milliseconds))
        }
        for raw in UInt64(0)..<3 {
            #expect(admit(raw, Int(raw) * 1000) == .new)
        }
        #expect(admit(3, 5_000) == .full)
        // Remembered ones are still recognised while full.
        #expect(admit(0, 5_000) == .running)
        #expect(cache.count == 3)
        #expect(admit(3, 10_000) == .new)
        #expect(cache.count == 3)
    }

    @Test func responseCache_perPeerAndRequesterBounds_turnAwayOnlyTheOverflow() {
        var cache = ResponseCache(capacity: 100, peerCapacity: 2, requesterLimit: 2, lifetime: .seconds(10))
        let peerC = try! IdentityKeyPair(seed: [UInt8](repeating: 3, count: 32)).peerID
        #expect(cache.admit(Self.key(1), floor: 1, incarnation: 0, now: .zero) == .new)
        #expect(cache.admit(Self.key(2), floor: 1, incarnation: 0, now: .zero) == .new)
        #expect(cache.admit(Self.key(3), floor: 1, incarnation: 0, now: .zero) == .full)
        // A floor that acknowledges request 1 makes room.
        #expect(cache.admit(Self.key(3), floor: 2, incarnation: 0, now: .zero) == .new)
        #expect(cache.admit(Self.key(1, Self.peerB), floor: 1, incarnation: 0, now: .zero) == .new)
        #expect(cache.admit(Self.key(1, peerC), floor: 1, incarnation: 0, now: .zero) == .full)
        #expect(cache.requesterCount == 2)
        #expect(cache.admit(Self.key(1, peerC), floor: 1, incarnation: 0, now: Self.at(10_000)) == .new)
        #expect(cache.requesterCount == 1)
    }

    @Test func responseCache_sequentialRequests_stayAtOneEntry() {
        var cache = ResponseCache()
        var now = Instant.zero
        for raw in UInt64(1)...100_000 {
            #expect(cache.admit(Self.key(raw), floor: raw, incarnation: 9, now: now) == .new)
            cache.answer(Self.key(raw), with: [1])
            now = now + .microseconds(50)
        }
        #expect(cache.count == 1)
    }
}
