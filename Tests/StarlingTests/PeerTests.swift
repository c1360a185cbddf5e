import MetricsTestKit
import NIOCore
import NIOPosix
import Starling
import StarlingCore
import StarlingIO
import StarlingTestSupport
import Testing

/// Peers in one process over loopback: sessions both ways, datagrams, requests and
/// their typed errors, private swarms, bad input, metrics and shutdown.
@Suite struct PeerTests {
    /// Two started peers with recorders, shut down by `body`'s end.
    static func withPair(
        _ first: PeerConfiguration = PeerConfiguration(), _ second: PeerConfiguration = PeerConfiguration(),
        _ body: (Peer, EventRecorder, Peer, EventRecorder) async throws -> Void
    ) async throws {
        let a = try await Peer.start(first)
        let b = try await Peer.start(second)
        let recordA = EventRecorder(a)
        let recordB = EventRecorder(b)
        try await shuttingDown(a, b) { try await body(a, recordA, b, recordB) }
    }

    /// Runs `body`, then shuts `peers` down, whether `body` threw or not.
    static func shuttingDown(_ peers: Peer..., after body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            for peer in peers { await peer.shutdown() }
            throw error
        }
        for peer in peers { await peer.shutdown() }
    }

    /// Sends, from `attacker`, 64-byte datagrams of every type byte 0 to 8 under version 1
    /// and under version 9; returns how many (each one a drop at the receiver).
    static func sendEveryTypeUnderTwoVersions(
        from attacker: RawDatagramSocket, to address: PeerAddress
    ) async throws -> Int {
        for type: UInt8 in 0...8 {
            try await attacker.send([1, type] + [UInt8](repeating: 0xAA, count: 64), to: address)
            try await attacker.send([9, type] + [UInt8](repeating: 0xAA, count: 64), to: address)
        }
        return 18
    }

    static func isUp(_ peer: PeerID) -> @Sendable (Peer.Event) -> Bool {
        { if case .sessionUp(peer, _) = $0 { true } else { false } }
    }

    static func isDatagram(_ payload: [UInt8]) -> @Sendable (Peer.Event) -> Bool {
        { if case .datagram(_, payload) = $0 { true } else { false } }
    }

    @Test(arguments: [true, false])
    func connect_thenDatagramsAndRequests_flowBothWays(expectingPeer: Bool) async throws {
        try await Self.withPair { a, recordA, b, recordB in
            #expect(a.address.port != 0)
            try await a.handle("echo") { request in request.payload }
            try await b.handle("whoami") { request in request.peer.bytes }

            let connected = try await a.connect(to: b.address, expecting: expectingPeer ? b.id : nil)
            #expect(connected == b.id)
            #expect(await recordA.first(where: Self.isUp(b.id)) != nil)
            #expect(await recordB.first(where: Self.isUp(a.id)) != nil)
            #expect(await a.connectedPeers() == [b.id])

            try await a.send([1, 2, 3], to: b.id)
            try await b.send([4, 5], to: a.id)
            #expect(
                await recordB.first(where: Self.isDatagram([1, 2, 3])) == .datagram(peer: a.id, payload: [1, 2, 3]))
            #expect(await recordA.first(where: Self.isDatagram([4, 5])) == .datagram(peer: b.id, payload: [4, 5]))

            // Both serve and both ask, on one session.
            #expect(try await b.request("echo", Array("hello".utf8), to: a.id) == Array("hello".utf8))
            #expect(try await a.request("whoami", [], to: b.id) == a.id.bytes)
        }
    }

    /// A smoke test over real sockets: the burst is tested deterministically, over a lossy
    /// link and on overloaded hosts, in `NodeSimulationTests`. Here each request may take
    /// up to two minutes (a hang bound), so a slow machine that answers late still passes.
    @Test func requests_manyAtOnce_eachAnsweredWithItsOwnPayload() async throws {
        try await Self.withPair { a, _, b, _ in
            try await b.handle("double") { request in request.payload + request.payload }
            try await a.connect(to: b.address, expecting: b.id, timeout: .seconds(120))
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let payload = [UInt8(index & 0xFF), UInt8(index >> 8)]
                        let answer = try await a.request("double", payload, to: b.id, timeout: .seconds(120))
                        return answer == payload + payload
                    }
                }
                var answered = 0
                for try await correct in group where correct { answered += 1 }
                #expect(answered == 200)
            }
        }
    }

    @Test func request_errors_areTyped() async throws {
        try await Self.withPair { a, _, b, _ in
            struct Refusal: Error, CustomStringConvertible {
                var description: String { "not today" }
            }
            try await b.handle("refuse") { _ in throw Refusal() }
            try await b.handle("big") { _ in [UInt8](repeating: 7, count: 5000) }
            try await b.handle("never") { _ in
                try await Task.sleep(for: .seconds(3600))
                return []
            }
            try await a.connect(to: b.address, expecting: b.id)

            await #expect(throws: PeerError.request(.rejected(reason: "not today"))) {
                try await a.request("refuse", [], to: b.id)
            }
            await #expect(throws: PeerError.request(.noHandler(method: "missing"))) {
                try await a.request("missing", [], to: b.id)
            }
            await #expect(throws: PeerError.request(.invalidMethod("Bad Name"))) {
                try await a.request("Bad Name", [], to: b.id)
            }
            let maximum = RPCConstants.maximumRequestPayload(methodLength: 4)
            await #expect(throws: PeerError.request(.payloadTooLarge(size: maximum + 1, maximum: maximum))) {
                try await a.request("echo", [UInt8](repeating: 0, count: maximum + 1), to: b.id, via: .datagram)
            }
            await #expect(
                throws: PeerError.request(.payloadTooLarge(size: 5000, maximum: RPCConstants.maximumResponsePayload))
            ) {
                try await a.request("big", [], to: b.id)
            }
            await #expect(throws: PeerError.request(.timedOut)) {
                try await a.request("never", [], to: b.id, timeout: .milliseconds(300))
            }
            var random = TestRandom(seed: 3)
            let stranger = IdentityKeyPair.generate(using: &random).peerID
            await #expect(throws: PeerError.request(.unreachable)) {
                try await a.request("echo", [], to: stranger)
            }
        }
    }

    @Test func send_errors_areTyped() async throws {
        try await Self.withPair { a, _, b, _ in
            await #expect(throws: PeerError.session(.noSession(b.id))) { try await a.send([1], to: b.id) }
            try await a.connect(to: b.address, expecting: b.id)
            let maximum = Peer.maximumDatagramPayload
            await #expect(throws: PeerError.session(.payloadTooLarge(size: maximum + 1, maximum: maximum))) {
                try await a.send([UInt8](repeating: 0, count: maximum + 1), to: b.id)
            }
            try await a.send([UInt8](repeating: 9, count: maximum), to: b.id)
        }
    }

    @Test func privateSwarm_sameSecretConnects_otherSecretTimesOutAndIsCounted() async throws {
        var secretOne = PeerConfiguration()
        secretOne.swarmSecret = [UInt8](repeating: 1, count: 32)
        var secretTwo = PeerConfiguration()
        secretTwo.swarmSecret = [UInt8](repeating: 2, count: 32)
        try await Self.withPair(secretOne, secretOne) { a, _, b, _ in
            let connected = try await a.connect(to: b.address)
            #expect(connected == b.id)
        }
        try await Self.withPair(secretOne, secretTwo) { a, _, b, _ in
            await #expect(throws: PeerError.connectTimedOut(address: b.address, after: .seconds(1))) {
                try await a.connect(to: b.address, expecting: b.id, timeout: .seconds(1))
            }
            #expect(await a.connectedPeers().isEmpty)
            #expect(await b.connectedPeers().isEmpty)
            // The mac1 of every initiation is keyed by the swarm secret: b drops them
            // unread and answers nothing (a private swarm is opaque to outsiders).
            #expect(await b.drops()[.invalidMAC] > 0)
            #expect(await a.drops().total == 0)
        }
    }

    @Test func badInput_overLoopback_isDroppedCountedAndChangesNothing() async throws {
        let metrics = TestMetrics()
        var configuration = PeerConfiguration()
        configuration.metricsFactory = metrics
        try await Self.withPair(PeerConfiguration(), configuration) { a, _, b, recordB in
            try await b.handle("echo") { $0.payload }
            try await a.connect(to: b.address, expecting: b.id)
            let attacker = try await RawDatagramSocket.open()
            var random = TestRandom(seed: 7)
            var sent = 0
            // Random bytes, every truncation of a valid-looking header, unknown versions and types.
            for length in [0, 1, 2, 3, 16, 32, 100, 148, 1200, 1500] {
                for _ in 0..<5 {
                    try await attacker.send(
                        (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }, to: b.address)
                    sent += 1
                }
            }
            sent += try await Self.sendEveryTypeUnderTwoVersions(from: attacker, to: b.address)
            // The session is untouched: a request still works, and only the one session exists.
            await attacker.close()
            #expect(try await a.request("echo", [42], to: b.id) == [42])
            let drops = await b.drops()
            #expect(drops.total == UInt64(sent))
            #expect(await b.connectedPeers() == [a.id])
            #expect(metrics.counterTotal(label: "starling_datagrams_dropped_total") == Int64(sent))
            #expect(await recordB.events.allSatisfy { if case .sessionUp = $0 { true } else { false } })
        }
    }

    @Test func shutdown_closesSessionsFailsCallsAndFinishesEvents() async throws {
        let a = try await Peer.start()
        let b = try await Peer.start()
        let recordA = EventRecorder(a)
        try await b.handle("never") { _ in
            try await Task.sleep(for: .seconds(3600))
            return []
        }
        try await a.connect(to: b.address, expecting: b.id)
        let pending = Task { try await a.request("never", [], to: b.id, timeout: .seconds(3600)) }
        // Whether the request is already in flight or not yet issued, shutting down must
        // fail it rather than leave it hanging.
        #expect(await recordA.first(where: Self.isUp(b.id)) != nil)
        await a.shutdown()
        await #expect(throws: PeerError.shutDown) { try await pending.value }
        #expect(
            await recordA.first(where: { $0 == .sessionDown(peer: b.id, reason: .local) })
                == .sessionDown(peer: b.id, reason: .local))
        #expect(await recordA.waitUntilFinished())
        await #expect(throws: PeerError.shutDown) { try await a.send([1], to: b.id) }
        await #expect(throws: PeerError.shutDown) { try await a.connect(to: b.address) }
        await a.shutdown()
        await b.shutdown()
    }

    @Test func start_badConfiguration_isTypedError() async throws {
        var configuration = PeerConfiguration()
        configuration.swarmSecret = [1, 2, 3]
        await #expect(throws: PeerError.invalidConfiguration("the swarm secret must be 32 bytes, not 3")) {
            try await Peer.start(configuration)
        }
        var taken = PeerConfiguration()
        let holder = try await Peer.start()
        taken.listenAddress = holder.address
        await #expect {
            try await Peer.start(taken)
        } throws: { error in
            if case PeerError.bindFailed(let address, _) = error { address == holder.address } else { false }
        }
        await holder.shutdown()
    }

    @Test func peersOnOneGroup_shareItsLoops() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let a = try await Peer.start(on: group)
        let b = try await Peer.start(on: group)
        #expect(a.eventLoop === b.eventLoop)
        try await b.handle("echo") { $0.payload }
        try await a.connect(to: b.address, expecting: b.id)
        #expect(try await a.request("echo", [7], to: b.id) == [7])
        await a.shutdown()
        await b.shutdown()
        try await group.shutdownGracefully()
    }
}
