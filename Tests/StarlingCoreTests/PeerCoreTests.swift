import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Two peer cores wired back to back and driven by hand with a virtual clock: every
/// datagram one sends to the other's address arrives at once, unless a filter loses it.
struct PeerPair {
    /// A filter: returns `false` to lose a datagram. It runs once per datagram, in order.
    typealias Filter = (_ fromA: Bool, _ bytes: [UInt8]) -> Bool

    var a: PeerCore
    var b: PeerCore
    let addressA = PeerAddress.ipv4(127, 0, 0, 1, port: 4001)
    let addressB = PeerAddress.ipv4(127, 0, 0, 2, port: 4002)
    /// An address nobody listens on: whatever is sent there is lost.
    let nowhere = PeerAddress.ipv4(127, 0, 0, 9, port: 4009)
    var now = Instant(nanoseconds: 1_000_000_000)
    var eventsA: [PeerEvent] = []
    var eventsB: [PeerEvent] = []
    /// Transport datagrams each side has sent so far, delivered or lost.
    var transportsFromA = 0
    var transportsFromB = 0

    init(seed: UInt64) throws {
        var keys = TestRandom(seed: seed)
        let endpointA = try SessionEndpoint(
            identity: .generate(using: &keys), configuration: .local, random: TestRandom(seed: seed &+ 1))
        let endpointB = try SessionEndpoint(
            identity: .generate(using: &keys), configuration: .local, random: TestRandom(seed: seed &+ 2))
        a = PeerCore(endpoint: endpointA, random: TestRandom(seed: seed &+ 3))
        b = PeerCore(endpoint: endpointB, random: TestRandom(seed: seed &+ 4))
    }

    var idA: PeerID { a.identity.peerID }
    var idB: PeerID { b.identity.peerID }

    /// Makes a session from A to B and forgets the events it caused.
    mutating func connect() {
        a.connect(to: addressB, expecting: idB, now: now)
        pump()
        eventsA.removeAll()
        eventsB.removeAll()
    }

    /// Delivers datagrams both ways until neither side has anything to send, then
    /// collects both sides' events.
    mutating func pump(filter: Filter = { _, _ in true }) {
        var buffer: [UInt8] = []
        for _ in 0..<1000 {
            var moved = false
            while let destination = a.pollTransmit(now: now, into: &buffer) {
                moved = true
                if buffer.count > 1 && buffer[1] == MessageType.transportData.rawValue { transportsFromA += 1 }
                if destination == addressB && filter(true, buffer) { deliver(buffer, fromA: true) }
            }
            while let destination = b.pollTransmit(now: now, into: &buffer) {
                moved = true
                if buffer.count > 1 && buffer[1] == MessageType.transportData.rawValue { transportsFromB += 1 }
                if destination == addressA && filter(false, buffer) { deliver(buffer, fromA: false) }
            }
            if !moved { break }
        }
        collect()
    }

    /// Hands one datagram to the other side now, without pumping.
    mutating func deliver(_ bytes: [UInt8], fromA: Bool) {
        if fromA {
            bytes.withUnsafeBytes { b.handleDatagram($0, from: addressA, now: now) }
        } else {
            bytes.withUnsafeBytes { a.handleDatagram($0, from: addressB, now: now) }
        }
    }

    /// Moves both sides' events into ``eventsA`` and ``eventsB``.
    mutating func collect() {
        while let event = a.pollEvent() { eventsA.append(event) }
        while let event = b.pollEvent() { eventsB.append(event) }
    }

    /// Fires the two cores' deadlines in time order up to and including `instant`,
    /// pumping after each, then sets the clock to `instant`.
    mutating func advance(until instant: Instant, filter: Filter = { _, _ in true }) {
        for _ in 0..<10_000 {
            guard let next = [a.pollTimeout(), b.pollTimeout()].compactMap({ $0 }).min(), next <= instant else {
                now = max(now, instant)
                return
            }
            now = max(now, next)
            if let deadline = a.pollTimeout(), deadline <= now { a.handleTimeout(now: now) }
            if let deadline = b.pollTimeout(), deadline <= now { b.handleTimeout(now: now) }
            pump(filter: filter)
        }
        Issue.record("the cores kept asking for timeouts before \(instant)")
    }

    /// Advances the clock by `duration`; see ``advance(until:filter:)``.
    mutating func advance(by duration: Duration, filter: Filter = { _, _ in true }) {
        advance(until: now + duration, filter: filter)
    }
}

/// The `response` events among `events`, in order.
func responses(in events: [PeerEvent]) -> [(id: RequestID, result: Result<[UInt8], RPCError>)] {
    events.compactMap { if case .response(let id, let result) = $0 { (id, result) } else { nil } }
}

/// The `request` events among `events`, in order.
func requests(in events: [PeerEvent]) -> [IncomingRequest] {
    events.compactMap { if case .request(let request) = $0 { request } else { nil } }
}

/// Whole `PeerCore`s exchanging requests, responses and datagrams over real sessions.
@Suite struct PeerCoreTests {
    func requireSendable<T: Sendable>(_: T.Type) {}

    @Test func peerCore_types_areSendable() {
        // The real driver holds a `Core: ProtocolCore & Sendable`; this fails to compile otherwise.
        requireSendable(PeerCore.self)
        requireSendable(PeerEvent.self)
        requireSendable(RPCError.self)
        requireSendable(IncomingRequest.self)
        requireSendable(RequestID.self)
    }

    // MARK: Round trips

    @Test func peerCore_request_roundTripsOverASession() throws {
        var pair = try PeerPair(seed: 1)
        pair.connect()
        try pair.b.serve("echo")
        let id = try pair.a.request("echo", [1, 2, 3], to: pair.idB, now: pair.now)
        #expect(pair.a.pendingRequestCount == 1)
        pair.pump()
        let incoming = IncomingRequest(
            id: IncomingRequestID(peer: pair.idA, requestID: id), method: "echo", payload: [1, 2, 3])
        #expect(pair.eventsB == [.request(incoming)])
        #expect(pair.eventsA.isEmpty)

        try pair.b.respond(to: incoming.id, payload: [3, 2, 1], now: pair.now)
        pair.pump()
        #expect(pair.eventsA == [.response(id, .success([3, 2, 1]))])
        #expect(pair.a.pendingRequestCount == 0)

        // A second answer sends nothing; a later request gets the next ID.
        try pair.b.respond(to: incoming.id, payload: [9], now: pair.now)
        var buffer: [UInt8] = []
        #expect(pair.b.pollTransmit(now: pair.now, into: &buffer) == nil)
        let next = try pair.a.request("echo", [], to: pair.idB, now: pair.now)
        #expect(next.rawValue == id.rawValue &+ 1)
        pair.pump()
        #expect(requests(in: pair.eventsB).map(\.id.requestID) == [id, next])

        // The answered request never times out or reports again.
        pair.eventsA.removeAll()
        pair.advance(by: .seconds(60))
        #expect(responses(in: pair.eventsA).map(\.id) == [next])
        #expect(responses(in: pair.eventsA).first?.result == .failure(.timedOut))
        #expect(pair.a.droppedMessages == 0 && pair.b.droppedMessages == 0)
    }

    @Test func peerCore_sendDatagram_arrivesOnTheDatagramChannel() throws {
        var pair = try PeerPair(seed: 2)
        #expect(throws: SessionError.noSession(pair.idB)) {
            try pair.a.sendDatagram([1], to: pair.idB, now: pair.now)
        }
        pair.connect()
        try pair.a.sendDatagram([7, 8, 9], to: pair.idB, now: pair.now)
        try pair.a.sendDatagram([], to: pair.idB, now: pair.now)
        let largest = [UInt8](repeating: 0x5A, count: RPCConstants.maximumMessageSize - 1)
        try pair.a.sendDatagram(largest, to: pair.idB, now: pair.now)
        #expect(throws: SessionError.payloadTooLarge(size: largest.count + 1, maximum: largest.count)) {
            try pair.a.sendDatagram(largest + [0], to: pair.idB, now: pair.now)
        }
        pair.pump()
        #expect(
            pair.eventsB == [
                .datagram(peer: pair.idA, payload: [7, 8, 9]), .datagram(peer: pair.idA, payload: []),
                .datagram(peer: pair.idA, payload: largest),
            ])
        // A datagram starting with a channel byte is still just a datagram.
        try pair.b.sendDatagram([RPCChannel.request.rawValue, 0xFF], to: pair.idA, now: pair.now)
        pair.pump()
        #expect(pair.eventsA == [.datagram(peer: pair.idB, payload: [RPCChannel.request.rawValue, 0xFF])])
        #expect(pair.a.droppedMessages == 0 && pair.b.droppedMessages == 0)
    }

    // MARK: Requests and sessions

    @Test func peerCore_request_beforeASession_waitsForTheHandshakeThenIsSent() throws {
        var pair = try PeerPair(seed: 3)
        try pair.b.serve("echo")
        let first = try pair.a.request("echo", [1], to: pair.idB, address: pair.addressB, now: pair.now)
        // A second request needs no address: it waits for the handshake the first started.
        let second = try pair.a.request("echo", [2], to: pair.idB, now: pair.now)
        #expect(!pair.a.isEstablished(with: pair.idB))
        #expect(pair.a.pendingRequestCount == 2)
        pair.pump()
        #expect(pair.eventsA.first == .established(peer: pair.idB, address: pair.addressB))
        #expect(pair.eventsB.first == .established(peer: pair.idA, address: pair.addressA))
        let incoming = requests(in: pair.eventsB)
        #expect(incoming.map(\.id.requestID) == [first, second])
        #expect(incoming.map(\.payload) == [[1], [2]])
        for request in incoming { try pair.b.respond(to: request.id, payload: request.payload, now: pair.now) }
        pair.pump()
        #expect(responses(in: pair.eventsA).map(\.id) == [first, second])
        #expect(responses(in: pair.eventsA).map(\.result) == [.success([1]), .success([2])])
    }

    @Test func peerCore_request_withoutSessionOrAddress_throwsUnreachable() throws {
        var pair = try PeerPair(seed: 4)
        #expect(throws: RPCError.unreachable) { try pair.a.request("echo", [], to: pair.idB, now: pair.now) }
        #expect(pair.a.pendingRequestCount == 0)
        #expect(pair.a.pollTimeout() == nil)
        var buffer: [UInt8] = []
        #expect(pair.a.pollTransmit(now: pair.now, into: &buffer) == nil)
        #expect(pair.a.pollEvent() == nil)
    }

    @Test func peerCore_handshakeFailure_failsWaitingRequestsAsUnreachable() throws {
        var pair = try PeerPair(seed: 5)
        let start = pair.now
        let first = try pair.a.request(
            "echo", [], to: pair.idB, address: pair.nowhere, timeout: .seconds(600), now: pair.now)
        let second = try pair.a.request("echo", [], to: pair.idB, timeout: .seconds(600), now: pair.now)
        pair.advance(until: start + .seconds(300))
        let failures = pair.eventsA.filter { if case .handshakeFailed = $0 { true } else { false } }
        #expect(failures.count == 1)
        if case .handshakeFailed(let address, let expected, let error)? = failures.first {
            #expect(address == pair.nowhere && expected == pair.idB)
            if case .handshakeTimedOut = error {} else { Issue.record("unexpected error \(error)") }
        }
        #expect(responses(in: pair.eventsA).map(\.id) == [first, second])
        #expect(responses(in: pair.eventsA).allSatisfy { $0.result == .failure(.unreachable) })
        #expect(pair.a.pendingRequestCount == 0)
        // Nothing is being connected any more: a request without an address is refused.
        #expect(throws: RPCError.unreachable) { try pair.a.request("echo", [], to: pair.idB, now: pair.now) }
        #expect(pair.eventsB.isEmpty)
    }

    @Test func peerCore_request_timeoutBeforeAnyCopyLeaves_failsUnreachableOnce() throws {
        var pair = try PeerPair(seed: 6)
        let start = pair.now
        let id = try pair.a.request(
            "echo", [], to: pair.idB, address: pair.nowhere, timeout: .seconds(2), now: pair.now)
        pair.advance(until: start + .milliseconds(1999))
        #expect(responses(in: pair.eventsA).isEmpty)
        pair.advance(until: start + .seconds(2))
        #expect(pair.eventsA == [.response(id, .failure(.unreachable))])
        // The handshake failing later reports only itself.
        pair.advance(until: start + .seconds(300))
        #expect(responses(in: pair.eventsA).count == 1)
        #expect(pair.eventsA.count == 2)
    }

    // MARK: Answers

    @Test func peerCore_request_forAMethodNotServed_getsNoHandler() throws {
        var pair = try PeerPair(seed: 7)
        pair.connect()
        try pair.b.serve("echo")
        pair.b.stopServing("echo")
        #expect(pair.b.servedMethods.isEmpty)
        let stopped = try pair.a.request("echo", [], to: pair.idB, now: pair.now)
        let unknown = try pair.a.request("kv/get", [1], to: pair.idB, now: pair.now)
        pair.pump()
        #expect(pair.eventsB.isEmpty)
        #expect(
            pair.eventsA == [
                .response(stopped, .failure(.noHandler(method: "echo"))),
                .response(unknown, .failure(.noHandler(method: "kv/get"))),
            ])
        #expect(pair.a.pendingRequestCount == 0)
    }

    @Test(arguments: [
        ("no thanks", "no thanks"),
        ("", ""),
        // 200 two-byte characters: cut to the 128 that fit 256 bytes.
        (String(repeating: "é", count: 200), String(repeating: "é", count: 128)),
        // A four-byte character across the limit is left out whole.
        (String(repeating: "a", count: 254) + "😀", String(repeating: "a", count: 254)),
        (String(repeating: "r", count: 256), String(repeating: "r", count: 256)),
    ])
    func peerCore_reject_reportsTheReasonCutToTheLimit(reason: String, received: String) throws {
        var pair = try PeerPair(seed: 8)
        pair.connect()
        try pair.b.serve("echo")
        let id = try pair.a.request("echo", [], to: pair.idB, now: pair.now)
        pair.pump()
        let incoming = try #require(requests(in: pair.eventsB).first)
        pair.b.reject(incoming.id, reason: reason, now: pair.now)
        pair.pump()
        #expect(pair.eventsA == [.response(id, .failure(.rejected(reason: received)))])
        #expect(received.utf8.count <= RPCConstants.maximumReasonLength)
    }

    @Test func peerCore_respond_tooLarge_failsTheRequesterAtOnce() throws {
        var pair = try PeerPair(seed: 9)
        pair.connect()
        try pair.b.serve("echo")
        let maximum = RPCConstants.maximumResponsePayload
        let fits = try pair.a.request("echo", [], to: pair.idB, now: pair.now)
        let tooLarge = try pair.a.request("echo", [], to: pair.idB, now: pair.now)
        pair.pump()
        let incoming = requests(in: pair.eventsB)
        try #require(incoming.count == 2)
        let largest = [UInt8](repeating: 0xC3, count: maximum)
        try pair.b.respond(to: incoming[0].id, payload: largest, now: pair.now)
        #expect(throws: RPCError.payloadTooLarge(size: maximum + 1, maximum: maximum)) {
            try pair.b.respond(to: incoming[1].id, payload: largest + [0], now: pair.now)
        }
        // The handler cannot answer again after the failed attempt.
        try pair.b.respond(to: incoming[1].id, payload: [1], now: pair.now)
        pair.pump()
        #expect(
            pair.eventsA == [
                .response(fits, .success(largest)),
                .response(tooLarge, .failure(.payloadTooLarge(size: maximum + 1, maximum: maximum))),
            ])
        pair.advance(by: .seconds(60))
        #expect(responses(in: pair.eventsA).count == 2)
    }

    @Test func peerCore_request_payloadTooLarge_throwsAndSendsNothing() throws {
        var pair = try PeerPair(seed: 10)
        pair.connect()
        try pair.b.serve("echo")
        let maximum = RPCConstants.maximumRequestPayload(methodLength: 4)
        #expect(maximum == 1143)
        let largest = [UInt8](repeating: 0x11, count: maximum)
        #expect(throws: RPCError.payloadTooLarge(size: maximum + 1, maximum: maximum)) {
            try pair.a.request("echo", largest + [0], to: pair.idB, now: pair.now)
        }
        #expect(pair.a.pendingRequestCount == 0)
        var buffer: [UInt8] = []
        #expect(pair.a.pollTransmit(now: pair.now, into: &buffer) == nil)
        _ = try pair.a.request("echo", largest, to: pair.idB, now: pair.now)
        pair.pump()
        #expect(requests(in: pair.eventsB).map(\.payload) == [largest])
    }

    @Test(arguments: [
        "", "Echo", "a b", "kv:get", "é", "echo\u{0}", "\u{0301}", String(repeating: "a", count: 65),
    ])
    func peerCore_invalidMethodNames_areRefused(method: String) throws {
        var pair = try PeerPair(seed: 11)
        pair.connect()
        #expect(throws: RPCError.invalidMethod(method)) { try pair.b.serve(method) }
        #expect(pair.b.servedMethods.isEmpty)
        #expect(throws: RPCError.invalidMethod(method)) {
            try pair.a.request(method, [], to: pair.idB, now: pair.now)
        }
        #expect(pair.a.pendingRequestCount == 0)
        let longest = String(repeating: "z", count: RPCConstants.maximumMethodLength)
        try pair.b.serve(longest)
        #expect(pair.b.servedMethods == [longest])
    }

    // MARK: Loss and duplication

    @Test func peerCore_request_unanswered_timesOutExactlyOnce() throws {
        var pair = try PeerPair(seed: 12)
        pair.connect()
        try pair.b.serve("slow")
        let start = pair.now
        let sentBefore = pair.transportsFromA
        let id = try pair.a.request("slow", [], to: pair.idB, timeout: .seconds(2), now: pair.now)
        pair.pump()
        pair.advance(until: start + .milliseconds(1999))
        #expect(responses(in: pair.eventsA).isEmpty)
        // Copies at 0, 0.25, 0.75 and 1.75 s (+ at most 10 % jitter); the next is 2 s after the fourth.
        #expect(pair.transportsFromA - sentBefore == 4)
        // The handler saw the request once, however many copies came.
        #expect(requests(in: pair.eventsB).count == 1)
        pair.advance(until: start + .seconds(2))
        #expect(pair.eventsA == [.response(id, .failure(.timedOut))])
        #expect(pair.a.pendingRequestCount == 0)
        // A late answer is ignored, and nothing else is reported.
        let incoming = try #require(requests(in: pair.eventsB).first)
        try pair.b.respond(to: incoming.id, payload: [1], now: pair.now)
        pair.pump()
        pair.advance(by: .seconds(60))
        #expect(pair.eventsA == [.response(id, .failure(.timedOut))])
        #expect(pair.a.droppedMessages == 0)
    }

    @Test func peerCore_duplicateRequestCopies_reachTheHandlerOnceAndGetTheCachedAnswer() throws {
        var pair = try PeerPair(seed: 13)
        pair.connect()
        try pair.b.serve("echo")
        let loseFromB: PeerPair.Filter = { fromA, _ in fromA }
        let id = try pair.a.request("echo", [5], to: pair.idB, now: pair.now)
        pair.pump(filter: loseFromB)
        let incoming = try #require(requests(in: pair.eventsB).first)
        // While the handler runs, a copy is ignored: no event, nothing sent.
        let answersBefore = pair.transportsFromB
        pair.advance(by: .milliseconds(300), filter: loseFromB)
        #expect(requests(in: pair.eventsB).count == 1)
        #expect(pair.transportsFromB == answersBefore)
        // The answer and its resending to the next copy are lost ...
        try pair.b.respond(to: incoming.id, payload: [6], now: pair.now)
        pair.pump(filter: loseFromB)
        #expect(pair.transportsFromB == answersBefore + 1)
        pair.advance(by: .milliseconds(600), filter: loseFromB)
        #expect(pair.transportsFromB == answersBefore + 2)
        #expect(responses(in: pair.eventsA).isEmpty)
        // ... and the third copy gets the cached answer through.
        pair.advance(by: .seconds(2))
        #expect(pair.eventsA == [.response(id, .success([6]))])
        #expect(requests(in: pair.eventsB).count == 1)
        #expect(pair.b.cache.state(of: incoming.id, now: pair.now) != .running)
    }

    @Test func peerCore_duplicatedResponses_areReportedOnce() throws {
        var pair = try PeerPair(seed: 14)
        pair.connect()
        try pair.b.serve("echo")
        var held: [[UInt8]] = []
        let holdFromB: PeerPair.Filter = { fromA, bytes in
            if !fromA { held.append(bytes) }
            return fromA
        }
        let id = try pair.a.request("echo", [1], to: pair.idB, now: pair.now)
        pair.pump(filter: holdFromB)
        let incoming = try #require(requests(in: pair.eventsB).first)
        try pair.b.respond(to: incoming.id, payload: [2], now: pair.now)
        pair.pump(filter: holdFromB)
        pair.advance(by: .milliseconds(300), filter: holdFromB)
        // Two answers held back: the first and the one resent to the second copy.
        try #require(held.count == 2)
        for bytes in held { pair.deliver(bytes, fromA: false) }
        pair.pump()
        #expect(pair.eventsA == [.response(id, .success([2]))])
        #expect(pair.a.droppedMessages == 0)
        pair.advance(by: .seconds(30))
        #expect(responses(in: pair.eventsA).count == 1)
    }

    @Test func peerCore_responseCacheFull_rejectsNewRequestsAsBusyUntilAFloorFreesRoom() throws {
        var pair = try PeerPair(seed: 15)
        pair.connect()
        try pair.b.serve("echo")
        pair.b.cache = ResponseCache(capacity: 2, lifetime: RPCConstants.responseCacheLifetime)
        let ids = try (0..<3).map { _ in try pair.a.request("echo", [], to: pair.idB, now: pair.now) }
        pair.pump()
        let incoming = requests(in: pair.eventsB)
        #expect(incoming.map(\.id.requestID) == Array(ids.prefix(2)))
        #expect(pair.eventsA == [.response(ids[2], .failure(.rejected(reason: "busy")))])
        // The first request still runs, so A's floor stays at it: both entries stay.
        try pair.b.respond(to: incoming[1].id, payload: [], now: pair.now)
        pair.pump()
        let refused = try pair.a.request("echo", [], to: pair.idB, now: pair.now)
        pair.pump()
        #expect(responses(in: pair.eventsA).last?.id == refused)
        #expect(responses(in: pair.eventsA).last?.result == .failure(.rejected(reason: "busy")))
        // Once it is answered, A's next request acknowledges both: they are forgotten.
        try pair.b.respond(to: incoming[0].id, payload: [], now: pair.now)
        pair.pump()
        let accepted = try pair.a.request("echo", [], to: pair.idB, now: pair.now)
        pair.pump()
        #expect(requests(in: pair.eventsB).last?.id.requestID == accepted)
        #expect(pair.b.cache.count == 1)
    }

    // MARK: Acknowledgement floor

    @Test func peerCore_staleCopyBelowTheFloor_neverRunsTheHandler() throws {
        var pair = try PeerPair(seed: 19)
        pair.connect()
        try pair.b.serve("echo")
        let first = try pair.a.request("echo", [1], to: pair.idB, now: pair.now)
        let firstMessage = try #require(pair.a.tracker[first]?.message)
        pair.pump()
        let incoming = try #require(requests(in: pair.eventsB).first)
        try pair.b.respond(to: incoming.id, payload: [2], now: pair.now)
        pair.pump()
        // The next request's floor acknowledges the first, which B forgets at once.
        let second = try pair.a.request("echo", [3], to: pair.idB, now: pair.now)
        pair.pump()
        #expect(try RPCRequest.decode(firstMessage[...]).floor == first.rawValue)
        #expect(pair.b.cache.state(of: incoming.id, now: pair.now) == nil)
        #expect(pair.b.cache.floor(of: pair.idA, incarnation: pair.a.incarnation, now: pair.now) == second.rawValue)
        // A late copy of the first request, exactly as sent, is dropped unanswered.
        let answersBefore = pair.transportsFromB
        try pair.a.endpoint.send(firstMessage, to: pair.idB, now: pair.now)
        pair.pump()
        #expect(requests(in: pair.eventsB).count == 2)
        #expect(pair.b.staleRequests == 1)
        #expect(pair.b.droppedMessages == 0)
        #expect(pair.transportsFromB == answersBefore)
        #expect(responses(in: pair.eventsA).map(\.id) == [first])
    }

    @Test func peerCore_sequentialRequests_keepTheResponseCacheSmall() throws {
        var pair = try PeerPair(seed: 20)
        pair.connect()
        try pair.b.serve("echo")
        var largest = 0
        for round in 0..<100_000 {
            let id = try pair.a.request("echo", [], to: pair.idB, now: pair.now)
            pair.pump()
            guard case .request(let request)? = pair.eventsB.popLast() else {
                Issue.record("round \(round): no request")
                return
            }
            try pair.b.respond(to: request.id, payload: [], now: pair.now)
            pair.pump()
            guard case .response(id, .success)? = pair.eventsA.popLast() else {
                Issue.record("round \(round): no response")
                return
            }
            largest = max(largest, pair.b.cache.count)
            // 10,000 requests a second of virtual time, far above the cache's
            // capacity per lifetime.
            pair.now = pair.now + .microseconds(100)
        }
        #expect(largest <= 2)
        #expect(pair.b.cache.count <= 2)
        #expect(pair.b.staleRequests == 0)
    }

    @Test func peerCore_restartedRequester_withLowerIDs_isServed() throws {
        var pair = try PeerPair(seed: 21)
        pair.connect()
        try pair.b.serve("echo")
        for _ in 0..<3 {
            let id = try pair.a.request("echo", [], to: pair.idB, now: pair.now)
            pair.pump()
            let incoming = try #require(requests(in: pair.eventsB).last)
            try pair.b.respond(to: incoming.id, payload: [], now: pair.now)
            pair.pump()
            #expect(responses(in: pair.eventsA).last?.id == id)
        }
        let oldIncarnation = pair.a.incarnation
        let oldFloor = try #require(pair.b.cache.floor(of: pair.idA, incarnation: oldIncarnation, now: pair.now))
        // A restarts with the same identity, a new incarnation, and IDs below its old floor
        // (a restart takes time: its initiation timestamps are later than its last ones).
        pair.advance(by: .milliseconds(1))
        let endpoint = try SessionEndpoint(
            identity: pair.a.identity, configuration: .local, random: TestRandom(seed: 2101))
        pair.a = PeerCore(endpoint: endpoint, random: TestRandom(seed: 2102))
        pair.a.nextRequestID = oldFloor - 1_000
        #expect(pair.a.incarnation != oldIncarnation)
        pair.eventsA.removeAll()
        pair.eventsB.removeAll()
        let id = try pair.a.request("echo", [7], to: pair.idB, address: pair.addressB, now: pair.now)
        pair.pump()
        let incoming = try #require(requests(in: pair.eventsB).first)
        #expect(incoming.id.requestID == id && id.rawValue < oldFloor)
        try pair.b.respond(to: incoming.id, payload: [8], now: pair.now)
        pair.pump()
        #expect(responses(in: pair.eventsA).map(\.id) == [id])
        #expect(responses(in: pair.eventsA).first?.result == .success([8]))
        #expect(pair.b.staleRequests == 0)
        // The old run's state stays until its lifetime ends, then goes.
        #expect(pair.b.cache.requesterCount == 2)
        pair.advance(by: RPCConstants.responseCacheLifetime)
        _ = try pair.a.request("echo", [], to: pair.idB, now: pair.now)
        pair.pump()
        #expect(pair.b.cache.requesterCount == 1)
    }

    @Test func peerCore_close_failsPendingRequestsAsUnreachable() throws {
        var pair = try PeerPair(seed: 16)
        pair.connect()
        try pair.b.serve("echo")
        let first = try pair.a.request("echo", [1], to: pair.idB, now: pair.now)
        let second = try pair.a.request("echo", [2], to: pair.idB, now: pair.now)
        pair.pump()
        pair.a.close(pair.idB)
        pair.collect()
        #expect(
            pair.eventsA == [
                .closed(peer: pair.idB, reason: .local),
                .response(first, .failure(.unreachable)), .response(second, .failure(.unreachable)),
            ])
        #expect(pair.a.pendingRequestCount == 0)
        // Answers after the close find no session and no request.
        for request in requests(in: pair.eventsB) {
            try pair.b.respond(to: request.id, payload: [], now: pair.now)
        }
        pair.pump()
        pair.advance(by: .seconds(30))
        #expect(responses(in: pair.eventsA).count == 2)
        #expect(pair.a.droppedMessages == 0)
    }

    @Test func peerCore_close_failsRequestsWaitingForTheHandshake() throws {
        var pair = try PeerPair(seed: 17)
        let id = try pair.a.request("echo", [], to: pair.idB, address: pair.nowhere, now: pair.now)
        pair.a.close(pair.idB)
        pair.collect()
        #expect(pair.eventsA == [.response(id, .failure(.unreachable))])
        #expect(throws: RPCError.unreachable) { try pair.a.request("echo", [], to: pair.idB, now: pair.now) }
    }

    // MARK: Hostile input

    @Test func peerCore_malformedAuthenticatedPayloads_areCountedAndChangeNothing() throws {
        var pair = try PeerPair(seed: 18)
        pair.connect()
        try pair.a.serve("echo")
        try pair.b.serve("echo")
        // B has a request in flight to A, which does not answer it.
        let pending = try pair.b.request("echo", [], to: pair.idA, timeout: .seconds(60), now: pair.now)
        pair.pump()
        let incoming = try #require(requests(in: pair.eventsA).first)
        pair.eventsA.removeAll()
        let requestID = withUnsafeBytes(of: pending.rawValue.bigEndian) { Array($0) }
        let id = requestID + requestID + [0, 0, 0, 0]  // in requests: ID, floor, incarnation
        let malformed: [[UInt8]] = [
            [],  // no channel byte
            [0x03], [0xFF, 1, 2],  // unknown channels
            [0x01], [0x01] + requestID, [0x01] + requestID + requestID,  // requests cut short
            [0x01] + id + [0x00],  // empty method name
            [0x01] + id + [0x04] + Array("Echo".utf8),  // invalid method name
            [0x01] + id + [0x05] + Array("echo".utf8),  // method name longer than the rest
            [0x01] + id + [0x41] + [UInt8](repeating: 0x61, count: 65),  // method name too long
            [0x01] + requestID + [UInt8](repeating: 0xFF, count: 8) + [0, 0, 0, 0, 0x01, 0x61],  // floor above the ID
            [0x02], [0x02] + requestID,  // responses cut short
            [0x02] + requestID + [0x04],  // unknown status
            [0x02] + requestID + [0x03, 0x00],  // noHandler with a trailing byte
            [0x02] + requestID + [0x01, 0xC3, 0x28],  // reason that is not UTF-8
            [0x02] + requestID + [0x01] + [UInt8](repeating: 0x72, count: 257),  // reason too long
            [0x02] + requestID + [0x02, 0, 0, 0x10],  // tooLarge cut short
            [0x02] + requestID + [0x02, 0, 0, 0x10, 0, 0, 0, 0x04, 0x87, 0, 0],  // tooLarge with trailing bytes
        ]
        let cacheBefore = pair.b.cache.count
        for (index, payload) in malformed.enumerated() {
            try pair.a.endpoint.send(payload, to: pair.idB, now: pair.now)
            pair.pump()
            #expect(pair.b.droppedMessages == index + 1, "payload \(index)")
        }
        #expect(pair.eventsB.isEmpty)
        #expect(pair.eventsA.isEmpty)
        #expect(pair.b.pendingRequestCount == 1)
        #expect(pair.b.cache.count == cacheBefore)
        #expect(pair.a.droppedMessages == 0)
        #expect(pair.b.isEstablished(with: pair.idA))
        // The request in flight still completes normally.
        try pair.a.respond(to: incoming.id, payload: [4], now: pair.now)
        pair.pump()
        #expect(pair.eventsB == [.response(pending, .success([4]))])
        #expect(pair.b.droppedMessages == malformed.count)
    }
}
