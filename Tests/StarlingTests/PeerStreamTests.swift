import Starling
import StarlingCore
import StarlingIO
import Synchronization
import Testing

/// Payloads too large for a datagram: reliable messages and large requests over the
/// peers' TCP streams.
@Suite struct PeerStreamTests {
    static func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    static func isMessage(from peer: PeerID) -> @Sendable (Peer.Event) -> Bool {
        { if case .message(peer, _) = $0 { true } else { false } }
    }

    @Test func sendMessage_sixteenMebibytes_arrivesWholeBothWays() async throws {
        try await PeerTests.withPair { a, recordA, b, recordB in
            try await a.connect(to: b.address, expecting: b.id)
            let big = Self.pattern(StreamConstants.defaultMaximumMessageSize - 1, seed: 1)
            try await a.sendMessage(big, to: b.id)
            let received = await recordB.first(where: Self.isMessage(from: a.id))
            #expect(received == .message(peer: a.id, payload: big))
            // The other way uses the stream a opened.
            let reply = Self.pattern(3_000_000, seed: 2)
            try await b.sendMessage(reply, to: a.id)
            #expect(await recordA.first(where: Self.isMessage(from: b.id)) == .message(peer: b.id, payload: reply))
            // Order is kept.
            for index in 0..<20 { try await a.sendMessage([UInt8(index)] + Self.pattern(5000, seed: 3), to: b.id) }
            let last = await recordB.first {
                if case .message(_, let payload) = $0 { payload.count == 5001 && payload[0] == 19 } else { false }
            }
            #expect(last != nil)
            let firsts = await recordB.events.compactMap { event -> UInt8? in
                if case .message(_, let payload) = event, payload.count == 5001 { payload[0] } else { nil }
            }
            #expect(firsts == (0..<20).map(UInt8.init))
        }
    }

    @Test func request_largePayloads_goOverTheStream_andEachHandlerRunsOnce() async throws {
        let runs = Mutex(0)
        try await PeerTests.withPair { a, _, b, _ in
            try await b.handle("reverse") { request in
                runs.withLock { $0 += 1 }
                return request.payload.reversed()
            }
            try await b.handle("grow") { request in [UInt8](repeating: request.payload[0], count: 2_000_000) }
            try await a.connect(to: b.address, expecting: b.id)

            // Too large for a datagram: chosen automatically.
            let payload = Self.pattern(200_000, seed: 4)
            #expect(try await a.request("reverse", payload, to: b.id) == payload.reversed())
            // A small request whose answer is large: the datagram path says so, the stream carries it.
            await #expect(
                throws: PeerError.request(
                    .payloadTooLarge(size: 2_000_000, maximum: RPCConstants.maximumResponsePayload))
            ) {
                try await a.request("grow", [9], to: b.id, via: .datagram)
            }
            #expect(try await a.request("grow", [9], to: b.id, via: .stream) == [UInt8](repeating: 9, count: 2_000_000))
            // Many at once on one stream.
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let body = Self.pattern(10_000 + index, seed: UInt8(index))
                        return try await a.request("reverse", body, to: b.id, via: .stream) == body.reversed()
                    }
                }
                var correct = 0
                for try await ok in group where ok { correct += 1 }
                #expect(correct == 20)
            }
            #expect(runs.withLock { $0 } == 21)
            await #expect(throws: PeerError.request(.noHandler(method: "absent"))) {
                try await a.request("absent", [], to: b.id, via: .stream)
            }
        }
    }

    @Test func streamErrors_areTyped() async throws {
        var small = PeerConfiguration()
        small.maximumMessageSize = 64 * 1024
        try await PeerTests.withPair(small, PeerConfiguration()) { a, _, b, _ in
            await #expect(throws: PeerError.session(.noSession(b.id))) { try await a.sendMessage([1], to: b.id) }
            try await a.connect(to: b.address, expecting: b.id)
            await #expect(throws: PeerError.payloadTooLarge(size: 64 * 1024, maximum: 64 * 1024 - 1)) {
                try await a.sendMessage([UInt8](repeating: 0, count: 64 * 1024), to: b.id)
            }
            let maximum = 64 * 1024 - RPCConstants.requestFixedSize - 4
            await #expect(throws: PeerError.request(.payloadTooLarge(size: maximum + 1, maximum: maximum))) {
                try await a.request("echo", [UInt8](repeating: 0, count: maximum + 1), to: b.id)
            }
        }
        var tiny = PeerConfiguration()
        tiny.maximumMessageSize = 1000
        await #expect(throws: PeerError.self) { try await Peer.start(tiny) }
    }
}
