import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Requests, responses and messages over streams, decided without the streams.
@Suite struct StreamCallsTests {
    static let start = Instant(nanoseconds: 5_000_000_000)
    static let one = StreamID(rawValue: 1)
    static let two = StreamID(rawValue: 2)

    static func peer(_ seed: UInt64) -> PeerID {
        var random = TestRandom(seed: seed)
        return IdentityKeyPair.generate(using: &random).peerID
    }

    /// Calls with streams `one` and `two` open to the same peer.
    static func calls(waiting: Int = 16, streams: Int = 16) -> StreamCalls {
        var calls = StreamCalls(
            maximumMessageSize: 4096, firstRequestID: 100, maximumWaitingRequests: waiting, maximumOpenStreams: streams)
        let openedOne = calls.streamOpened(one, with: peer(1))
        #expect(openedOne)
        let openedTwo = calls.streamOpened(two, with: peer(1))
        #expect(openedTwo)
        return calls
    }

    static func drainEvents(_ calls: inout StreamCalls) -> [StreamCallEvent] {
        var events: [StreamCallEvent] = []
        while let event = calls.pollEvent() { events.append(event) }
        return events
    }

    static func drainTransmits(_ calls: inout StreamCalls) -> [StreamTransmit] {
        var transmits: [StreamTransmit] = []
        while let transmit = calls.pollTransmit() { transmits.append(transmit) }
        return transmits
    }

    static func response(_ id: RequestID, _ outcome: RPCResponse.Outcome) throws -> [UInt8] {
        try RPCResponse(id: id.rawValue, outcome: outcome).encoded(maximumSize: 4096)
    }

    // MARK: Requests

    @Test func streamCalls_request_sendsTheRequestEncodingAndMatchesItsResponse() throws {
        var calls = Self.calls()
        let id = try calls.request("echo", [1, 2, 3], on: Self.one, timeout: .seconds(5), now: Self.start)
        #expect(id == RequestID(rawValue: 100))
        let expected = try RPCRequest(id: 100, method: "echo", payload: [1, 2, 3]).encoded(maximumSize: 4096)
        #expect(Self.drainTransmits(&calls) == [StreamTransmit(stream: Self.one, bytes: expected)])
        #expect(calls.waitingCount == 1)
        #expect(calls.earliestDeadline == Self.start + .seconds(5))
        calls.handleMessage(try Self.response(id, .ok([9])), on: Self.one, servedMethods: [])
        #expect(Self.drainEvents(&calls) == [.response(id, .success([9]))])
        #expect(calls.waitingCount == 0)
        #expect(calls.earliestDeadline == nil)
        // A duplicate answer is not a second outcome.
        calls.handleMessage(try Self.response(id, .ok([9])), on: Self.one, servedMethods: [])
        #expect(Self.drainEvents(&calls).isEmpty)
        #expect(calls.unmatchedResponses == 1)
    }

    @Test func streamCalls_twoSides_requestRunsOnceAndAnswersComeBack() throws {
        var client = StreamCalls(maximumMessageSize: 4096)
        var server = StreamCalls(maximumMessageSize: 4096)
        let clientOpened = client.streamOpened(Self.one, with: Self.peer(2))
        #expect(clientOpened)
        let serverOpened = server.streamOpened(Self.two, with: Self.peer(1))
        #expect(serverOpened)
        let served = try client.request("reverse", [1, 2, 3], on: Self.one, timeout: .seconds(5), now: Self.start)
        let unserved = try client.request("absent", [], on: Self.one, timeout: .seconds(5), now: Self.start)
        let rejected = try client.request("reverse", [4], on: Self.one, timeout: .seconds(5), now: Self.start)
        for transmit in Self.drainTransmits(&client) {
            server.handleMessage(transmit.bytes, on: Self.two, servedMethods: ["reverse"])
        }
        let incoming = Self.drainEvents(&server).compactMap { if case .request(let r) = $0 { r } else { nil } }
        #expect(incoming.map(\.method) == ["reverse", "reverse"])
        #expect(incoming.map(\.peer) == [Self.peer(1), Self.peer(1)])
        try server.respond(to: incoming[0].id, payload: incoming[0].payload.reversed())
        server.reject(incoming[1].id, reason: "no thanks")
        for transmit in Self.drainTransmits(&server) {
            #expect(transmit.stream == Self.two)
            client.handleMessage(transmit.bytes, on: Self.one, servedMethods: [])
        }
        #expect(
            Self.drainEvents(&client) == [
                .response(unserved, .failure(.noHandler(method: "absent"))),
                .response(served, .success([3, 2, 1])),
                .response(rejected, .failure(.rejected(reason: "no thanks"))),
            ])
        #expect(client.waitingCount == 0)
    }

    @Test func streamCalls_respond_tooLarge_throwsAndAnswersTooLarge() throws {
        var calls = Self.calls()
        let request = IncomingStreamRequestID(stream: Self.one, requestID: RequestID(rawValue: 7))
        let maximum = 4096 - RPCConstants.responseHeaderSize
        #expect(throws: RPCError.payloadTooLarge(size: maximum + 1, maximum: maximum)) {
            try calls.respond(to: request, payload: [UInt8](repeating: 0, count: maximum + 1))
        }
        let answer = try Self.response(RequestID(rawValue: 7), .tooLarge(size: maximum + 1, maximum: maximum))
        #expect(Self.drainTransmits(&calls) == [StreamTransmit(stream: Self.one, bytes: answer)])
    }

    @Test func streamCalls_badRequests_areTypedErrorsAndSendNothing() throws {
        var calls = Self.calls()
        #expect(throws: RPCError.invalidMethod("Bad Name")) {
            try calls.request("Bad Name", [], on: Self.one, timeout: .seconds(1), now: Self.start)
        }
        let maximum = 4096 - RPCConstants.requestFixedSize - 4
        #expect(throws: RPCError.payloadTooLarge(size: maximum + 1, maximum: maximum)) {
            try calls.request(
                "echo", [UInt8](repeating: 0, count: maximum + 1), on: Self.one, timeout: .seconds(1), now: Self.start)
        }
        #expect(throws: RPCError.unreachable) {
            try calls.request("echo", [], on: StreamID(rawValue: 99), timeout: .seconds(1), now: Self.start)
        }
        #expect(Self.drainTransmits(&calls).isEmpty)
        #expect(calls.waitingCount == 0)
        #expect(throws: RPCError.payloadTooLarge(size: 4096, maximum: 4095)) {
            try StreamCalls.message([UInt8](repeating: 0, count: 4096), maximumMessageSize: 4096)
        }
        #expect(try StreamCalls.message([5, 6], maximumMessageSize: 4096) == [0x00, 5, 6])
    }

    // MARK: Deadlines and stream ends

    @Test func streamCalls_unanswered_timesOutAtItsDeadlineOnce() throws {
        var calls = Self.calls()
        let late = try calls.request("echo", [], on: Self.one, timeout: .seconds(3), now: Self.start)
        let early = try calls.request("echo", [], on: Self.two, timeout: .seconds(2), now: Self.start)
        #expect(calls.earliestDeadline == Self.start + .seconds(2))
        calls.handleTimeout(now: Self.start + .nanoseconds(1_999_999_999))
        #expect(Self.drainEvents(&calls).isEmpty)
        calls.handleTimeout(now: Self.start + .seconds(2))
        #expect(Self.drainEvents(&calls) == [.response(early, .failure(.timedOut))])
        #expect(calls.earliestDeadline == Self.start + .seconds(3))
        calls.handleTimeout(now: Self.start + .seconds(10))
        #expect(Self.drainEvents(&calls) == [.response(late, .failure(.timedOut))])
        #expect(calls.earliestDeadline == nil)
        // The answer after the deadline changes nothing.
        calls.handleMessage(try Self.response(early, .ok([])), on: Self.two, servedMethods: [])
        #expect(Self.drainEvents(&calls).isEmpty)
        #expect(calls.unmatchedResponses == 1)
    }

    @Test func streamCalls_streamEnded_failsItsWaitingRequestsAsUnreachable() throws {
        var calls = Self.calls()
        let first = try calls.request("echo", [], on: Self.one, timeout: .seconds(3), now: Self.start)
        let other = try calls.request("echo", [], on: Self.two, timeout: .seconds(5), now: Self.start)
        let second = try calls.request("echo", [], on: Self.one, timeout: .seconds(1), now: Self.start)
        _ = Self.drainTransmits(&calls)
        // An answer queued for the ending stream is dropped with it.
        calls.reject(IncomingStreamRequestID(stream: Self.one, requestID: RequestID(rawValue: 1)), reason: "x")
        calls.streamEnded(Self.one)
        #expect(
            Self.drainEvents(&calls) == [
                .response(first, .failure(.unreachable)), .response(second, .failure(.unreachable)),
            ]
        )
        #expect(Self.drainTransmits(&calls).isEmpty)
        #expect(calls.waitingCount == 1)
        #expect(calls.earliestDeadline == Self.start + .seconds(5))
        #expect(calls.openStreamCount == 1)
        // A second end, and anything on the ended stream, changes nothing more.
        calls.streamEnded(Self.one)
        calls.handleMessage(try Self.response(other, .ok([])), on: Self.one, servedMethods: [])
        #expect(Self.drainEvents(&calls).isEmpty)
        #expect(calls.waitingCount == 1)
    }

    @Test func streamCalls_cancel_leavesNoEventAndTheAnswerUnmatched() throws {
        var calls = Self.calls()
        let id = try calls.request("echo", [], on: Self.one, timeout: .seconds(3), now: Self.start)
        calls.cancel(id)
        calls.cancel(id)
        #expect(calls.earliestDeadline == nil)
        calls.handleTimeout(now: Self.start + .seconds(5))
        calls.handleMessage(try Self.response(id, .ok([])), on: Self.one, servedMethods: [])
        #expect(Self.drainEvents(&calls).isEmpty)
        #expect(calls.unmatchedResponses == 1)
    }

    @Test func streamCalls_responseOnAnotherStream_isUnmatched() throws {
        var calls = Self.calls()
        let id = try calls.request("echo", [], on: Self.one, timeout: .seconds(3), now: Self.start)
        calls.handleMessage(try Self.response(id, .ok([1])), on: Self.two, servedMethods: [])
        #expect(Self.drainEvents(&calls).isEmpty)
        #expect(calls.unmatchedResponses == 1)
        #expect(calls.waitingCount == 1)
    }

    // MARK: Bad input and bounds

    @Test func streamCalls_malformedMessages_areCountedAndChangeNothing() throws {
        var calls = Self.calls()
        let id = try calls.request("echo", [], on: Self.one, timeout: .seconds(3), now: Self.start)
        _ = Self.drainTransmits(&calls)
        let valid = try Self.response(id, .ok([1, 2]))
        let bad: [[UInt8]] = [
            [], [0x07, 1, 2], [0x01, 0, 0], Array(valid.dropLast(3) + [0xFF]),
            [0x02] + [UInt8](repeating: 0xEE, count: 12),
            [UInt8](repeating: 0x01, count: 5000),
        ]
        for message in bad { calls.handleMessage(message, on: Self.one, servedMethods: ["echo"]) }
        calls.handleMessage(valid, on: StreamID(rawValue: 99), servedMethods: [])
        #expect(calls.malformedMessages == bad.count + 1)
        #expect(Self.drainEvents(&calls).isEmpty)
        #expect(Self.drainTransmits(&calls).isEmpty)
        #expect(calls.waitingCount == 1)
        calls.handleMessage([0x00, 4, 5], on: Self.one, servedMethods: [])
        calls.handleMessage(valid, on: Self.one, servedMethods: [])
        #expect(
            Self.drainEvents(&calls) == [
                .message(peer: Self.peer(1), payload: [4, 5]), .response(id, .success([1, 2])),
            ])
    }

    @Test func streamCalls_waitingTable_isBoundedAndFreesRoomAsRequestsEnd() throws {
        var calls = Self.calls(waiting: 2)
        let first = try calls.request("echo", [], on: Self.one, timeout: .seconds(3), now: Self.start)
        _ = try calls.request("echo", [], on: Self.two, timeout: .seconds(3), now: Self.start)
        #expect(throws: RPCError.tooManyRequests(maximum: 2)) {
            try calls.request("echo", [], on: Self.one, timeout: .seconds(3), now: Self.start)
        }
        #expect(calls.waitingCount == 2)
        #expect(Self.drainTransmits(&calls).count == 2)
        calls.handleMessage(try Self.response(first, .ok([])), on: Self.one, servedMethods: [])
        _ = try calls.request("echo", [], on: Self.one, timeout: .seconds(3), now: Self.start)
        #expect(calls.waitingCount == 2)
    }

    @Test func streamCalls_openStreams_areBoundedAndRefusalsCounted() {
        var calls = Self.calls(streams: 2)
        let openedThird = calls.streamOpened(StreamID(rawValue: 3), with: Self.peer(2))
        #expect(!openedThird)
        #expect(calls.refusedStreams == 1)
        #expect(calls.openStreamCount == 2)
        // Reopening a known stream is no new entry.
        let opened6 = calls.streamOpened(Self.one, with: Self.peer(1))
        #expect(opened6)
        calls.streamEnded(Self.two)
        let opened7 = calls.streamOpened(StreamID(rawValue: 3), with: Self.peer(2))
        #expect(opened7)
        #expect(calls.peer(on: StreamID(rawValue: 3)) == Self.peer(2))
    }

    // MARK: Through the peer core

    @Test func peerCore_streamRequest_deadlineJoinsPollTimeoutAndFailsThroughPollEvent() throws {
        var pair = try PeerPair(seed: 61)
        let stream = StreamID(rawValue: 5)
        let opened8 = pair.a.streamOpened(stream, with: pair.idB)
        #expect(opened8)
        let id = try pair.a.streamRequest("echo", [1], on: stream, timeout: .seconds(4), now: pair.now)
        #expect(pair.a.pollStreamTransmit()?.stream == stream)
        #expect(pair.a.pollStreamTransmit() == nil)
        #expect(pair.a.pollTimeout() == pair.now + .seconds(4))
        pair.a.handleTimeout(now: pair.now + .seconds(4))
        #expect(pair.a.pollEvent() == .stream(.response(id, .failure(.timedOut))))
        #expect(pair.a.pollTimeout() == nil)
    }

    @Test func peerCore_streamRequest_forAMethodNotServed_isAnsweredNoHandlerByTheCore() throws {
        var pair = try PeerPair(seed: 62)
        let stream = StreamID(rawValue: 5)
        let opened9 = pair.b.streamOpened(stream, with: pair.idA)
        #expect(opened9)
        try pair.b.serve("echo")
        let request = try RPCRequest(id: 8, method: "other", payload: []).encoded(maximumSize: 4096)
        pair.b.handleStreamMessage(request, on: stream)
        #expect(pair.b.pollEvent() == nil)
        let answer = try Self.response(RequestID(rawValue: 8), .noHandler)
        #expect(pair.b.pollStreamTransmit() == StreamTransmit(stream: stream, bytes: answer))
        let served = try RPCRequest(id: 9, method: "echo", payload: [3]).encoded(maximumSize: 4096)
        pair.b.handleStreamMessage(served, on: stream)
        let incoming = IncomingStreamRequest(
            id: IncomingStreamRequestID(stream: stream, requestID: RequestID(rawValue: 9)), peer: pair.idA,
            method: "echo", payload: [3])
        #expect(pair.b.pollEvent() == .stream(.request(incoming)))
    }
}
