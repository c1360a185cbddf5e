import StarlingCore
import StarlingTestSupport
import Testing

@testable import Starling

/// The shape of the `Peer` API: the two ways to connect, cancellation of calls that
/// wait, one reader of the events at a time, and the overlay's swarm settings. The time
/// limit only catches a hang: at the start of `make test` a test may wait more than a
/// minute for a thread on this 2-core machine.
@Suite(.timeLimit(.minutes(5))) struct PeerAPITests {
    /// The loopback overlay with routing and echo timeouts far beyond any test: a call
    /// to a silent peer then waits until it is cancelled.
    static let patientOverlay: OverlayConfiguration = {
        var overlay = OverlayConfiguration.local
        overlay.routing.requestTimeout = .seconds(3_600)
        overlay.routing.lookupTimeout = .seconds(3_600)
        overlay.spreading.echoTimeout = .seconds(3_600)
        overlay.membership.probeInterval = .seconds(3_600)
        return overlay
    }()

    /// Two overlay peers, `b` joined through `a`, once each has seen the other join.
    static func withOverlayPair(
        _ overlay: OverlayConfiguration = .local,
        _ body: (Peer, EventRecorder, Peer, EventRecorder) async throws -> Void
    ) async throws {
        var configuration = PeerConfiguration()
        configuration.overlay = overlay
        let a = try await Peer.start(configuration)
        let recordA = EventRecorder(a)
        configuration.seeds = [a.address]
        let b = try await Peer.start(configuration)
        let recordB = EventRecorder(b)
        #expect(await recordA.first(where: Self.joined(b.id)) != nil)
        #expect(await recordB.first(where: Self.joined(a.id)) != nil)
        try await PeerTests.shuttingDown(a, b) { try await body(a, recordA, b, recordB) }
    }

    static func joined(_ peer: PeerID) -> @Sendable (Peer.Event) -> Bool {
        { if case .membership(.joined(let member)) = $0 { member.id == peer } else { false } }
    }

    static func stranger(_ seed: UInt64) -> PeerID {
        var random = TestRandom(seed: seed)
        return IdentityKeyPair.generate(using: &random).peerID
    }

    /// Waits until `peer` has `count` callers waiting on its loop: each check is a trip
    /// to the loop, so the wait follows the calls' progress, not a clock.
    static func waitUntilPending(_ peer: Peer, count: Int) async {
        while await peer.pendingCallCount() != count { await Task.yield() }
    }

    /// Runs `call` in a task, cancels it once it waits on the loop (or before it
    /// starts, with `early`), and checks it ends with ``PeerError/cancelled`` and leaves
    /// no waiter behind.
    static func expectCancelled<Value: Sendable>(
        _ peer: Peer, early: Bool, _ call: @escaping @Sendable () async throws -> Value
    ) async {
        let task = Task { () async throws -> Value in
            if early { withUnsafeCurrentTask { $0?.cancel() } }
            return try await call()
        }
        if !early { await waitUntilPending(peer, count: 1) }
        task.cancel()
        await #expect(throws: PeerError.cancelled) { try await task.value }
        #expect(await peer.pendingCallCount() == 0)
    }

    // MARK: Connecting

    @Test func connect_dialingAndResolving_returnThePeerTheSessionIsWith() async throws {
        try await Self.withOverlayPair { a, recordA, b, _ in
            let resolved = try await a.connect(resolving: b.id)
            #expect(resolved == b.id)
            #expect(await recordA.first(where: PeerTests.isUp(b.id)) != nil)
            // Already up: both forms answer at once with the same peer.
            #expect(try await a.connect(resolving: b.id) == b.id)
            #expect(try await a.connect(to: b.address, expecting: b.id) == b.id)
            #expect(await a.connectedPeers() == [b.id])
        }
    }

    @Test func connect_resolvingWithoutOverlay_isOverlayDisabled() async throws {
        let peer = try await Peer.start()
        await #expect(throws: PeerError.overlayDisabled) { try await peer.connect(resolving: Self.stranger(1)) }
        await peer.shutdown()
    }

    // MARK: Cancellation

    @Test(arguments: [false, true])
    func connect_cancelled_throwsCancelledAndLeavesNoWaiter(early: Bool) async throws {
        let peer = try await Peer.start()
        // A socket that takes the handshake and never answers it.
        let silent = try await RawDatagramSocket.open()
        let address = try #require(PeerAddress(silent.channel.localAddress!))
        await Self.expectCancelled(peer, early: early) {
            try await peer.connect(to: address, expecting: Self.stranger(2), timeout: .seconds(3_600))
        }
        await silent.close()
        await peer.shutdown()
    }

    @Test(arguments: [false, true])
    func lookup_cancelled_throwsCancelledAndLeavesNoWaiter(early: Bool) async throws {
        try await Self.withOverlayPair(Self.patientOverlay) { a, _, b, _ in
            // b vanishes without a word: a's lookup asks it and waits for an answer.
            await b.shutdown(leavingOverlay: false)
            await Self.expectCancelled(a, early: early) { try await a.lookup(Self.stranger(3)) }
        }
    }

    @Test(arguments: [false, true])
    func echo_cancelled_throwsCancelledAndLeavesNoWaiter(early: Bool) async throws {
        try await Self.withOverlayPair(Self.patientOverlay) { a, _, b, _ in
            // b vanishes without a word while a still counts it alive.
            await b.shutdown(leavingOverlay: false)
            await Self.expectCancelled(a, early: early) { try await a.echo(b.id) }
        }
    }

    @Test func request_cancelled_throwsCancelledAndLeavesNoWaiter() async throws {
        try await PeerTests.withPair { a, _, b, _ in
            try await b.handle("never") { _ in
                try await Task.sleep(for: .seconds(3_600))
                return []
            }
            try await a.connect(to: b.address, expecting: b.id)
            await Self.expectCancelled(a, early: false) {
                try await a.request("never", [], to: b.id, timeout: .seconds(3_600))
            }
        }
    }

    // MARK: Events

    /// The next event from `iterator` that matches `predicate`, or `nil` at the end.
    static func next(
        _ iterator: inout Peer.Events.Iterator, where predicate: (Peer.Event) -> Bool
    ) async -> Peer.Event? {
        while let event = await iterator.next() {
            if predicate(event) { return event }
        }
        return nil
    }

    @Test func events_secondIterator_endsAtOnceWhileTheReaderReadsOn() async throws {
        let a = try await Peer.start()
        let b = try await Peer.start()
        let reader = a.events.makeAsyncIterator()
        let reading = Task {
            var reader = reader
            return await Self.next(&reader, where: PeerTests.isUp(b.id))
        }
        // Whether or not the reader waits in `next()` by now, a second iterator, here or
        // in another task, gets no events and ends at once instead of trapping.
        var second = a.events.makeAsyncIterator()
        let secondEvent = await second.next()
        #expect(secondEvent == nil)
        let fromTask = await Task {
            var iterator = a.events.makeAsyncIterator()
            return await iterator.next()
        }.value
        #expect(fromTask == nil)
        try await a.connect(to: b.address, expecting: b.id)
        #expect(await reading.value == .sessionUp(peer: b.id, address: b.address))
        await a.shutdown()
        await b.shutdown()
    }

    @Test func events_afterTheReaderIsGone_theNextIteratorReads() async throws {
        let a = try await Peer.start()
        let b = try await Peer.start()
        do {
            let reader = a.events.makeAsyncIterator()
            var other = a.events.makeAsyncIterator()
            let otherEvent = await other.next()
            #expect(otherEvent == nil)
            withExtendedLifetime(reader) {}
        }
        var next = a.events.makeAsyncIterator()
        try await a.connect(to: b.address, expecting: b.id)
        #expect(await Self.next(&next, where: PeerTests.isUp(b.id)) == .sessionUp(peer: b.id, address: b.address))
        await a.shutdown()
        #expect(await Self.next(&next, where: { _ in false }) == nil)
        await b.shutdown()
    }

    @Test func lookup_loneOverlayPeer_isPeerNotFoundAtOnce() async throws {
        var configuration = PeerConfiguration()
        configuration.overlay = .local
        let peer = try await Peer.start(configuration)
        await #expect(throws: PeerError.peerNotFound(Self.stranger(4))) { try await peer.lookup(Self.stranger(4)) }
        #expect(await peer.pendingCallCount() == 0)
        await peer.shutdown()
    }

    // MARK: Configuration

    @Test func validate_overlaySwarmDiffersFromPeers_isInvalidConfiguration() throws {
        var configuration = PeerConfiguration()
        configuration.overlay = .local
        try configuration.validate()

        configuration.swarmID = [UInt8](repeating: 7, count: 32)
        try configuration.validate()  // the overlay's own is left at its default
        configuration.overlay?.swarmID = [UInt8](repeating: 7, count: 32)
        try configuration.validate()  // the same as the peer's
        configuration.overlay?.swarmID = [UInt8](repeating: 8, count: 32)
        #expect(
            throws: PeerError.invalidConfiguration(
                "overlay.swarmID differs from swarmID; set the swarm ID on PeerConfiguration only, "
                    + "the overlay always uses the peer's")
        ) { try configuration.validate() }

        let peerSwarmID = configuration.swarmID
        configuration.overlay?.swarmID = peerSwarmID
        configuration.overlay?.swarmSecret = [UInt8](repeating: 1, count: 32)
        #expect(
            throws: PeerError.invalidConfiguration(
                "overlay.swarmSecret differs from swarmSecret; set the swarm secret on PeerConfiguration only, "
                    + "the overlay always uses the peer's")
        ) { try configuration.validate() }
        configuration.swarmSecret = [UInt8](repeating: 1, count: 32)
        try configuration.validate()
    }

    @Test func start_overlaySwarmDiffersFromPeers_isInvalidConfiguration() async throws {
        var configuration = PeerConfiguration()
        configuration.overlay = .local
        configuration.overlay?.swarmSecret = [UInt8](repeating: 1, count: 32)
        await #expect {
            try await Peer.start(configuration)
        } throws: { error in
            if case PeerError.invalidConfiguration(let reason) = error {
                reason.hasPrefix("overlay.swarmSecret")
            } else {
                false
            }
        }
    }
}
