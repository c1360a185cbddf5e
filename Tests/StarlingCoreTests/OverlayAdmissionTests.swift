import StarlingTestSupport
import Testing

@testable import StarlingCore

/// A few overlay cores on a perfect network: each datagram arrives one step (5 ms)
/// after it was sent; datagrams to addresses of no core are kept in `stray`.
struct OverlayBench {
    static let wallClock = UnixTime(seconds: 1_800_000_000)
    static let step: Duration = .milliseconds(5)

    var cores: [OverlayCore]
    var now = Instant.zero
    var stray: [(to: PeerAddress, bytes: [UInt8])] = []

    static func address(_ index: Int) -> PeerAddress {
        .ipv4(10, 0, UInt8(index >> 8), UInt8(index & 0xFF), port: 7946)
    }

    static func makeCore(
        index: Int, secret: [UInt8]? = nil, configure: (inout OverlayConfiguration) -> Void = { _ in }
    ) throws -> OverlayCore {
        var configuration = OverlayConfiguration.simulation
        configuration.swarmSecret = secret
        configure(&configuration)
        let identity = try IdentityKeyPair(seed: (0..<32).map { UInt8(truncatingIfNeeded: $0 &+ index &* 37) })
        return try OverlayCore(
            identity: identity, address: address(index), configuration: configuration, wallClockAtZero: wallClock,
            random: TestRandom(seed: UInt64(index) + 1))
    }

    init(count: Int, secret: [UInt8]? = nil) throws {
        cores = try (0..<count).map { try Self.makeCore(index: $0, secret: secret) }
    }

    /// Everything `core` has to send now.
    static func drain(_ core: inout OverlayCore, now: Instant) -> [(to: PeerAddress, bytes: [UInt8])] {
        var out: [(to: PeerAddress, bytes: [UInt8])] = []
        var buffer: [UInt8] = []
        while let destination = core.pollTransmit(now: now, into: &buffer) { out.append((destination, buffer)) }
        return out
    }

    /// Joins every core but the first through the first, then runs until every core
    /// sees all others alive (at most `limit`).
    mutating func joinAndConverge(limit: Duration = .seconds(30)) -> Bool {
        let seed = cores[0].localAddress
        for index in cores.indices.dropFirst() { cores[index].join([seed], now: now) }
        let end = now + limit
        while now < end {
            run(for: .milliseconds(100))
            if cores.allSatisfy({ $0.membership.aliveCount == cores.count - 1 }) { return true }
        }
        return false
    }

    mutating func run(for duration: Duration) {
        let end = now + duration
        var inFlight: [(from: PeerAddress, to: PeerAddress, bytes: [UInt8])] = []
        while now < end {
            for (from, to, bytes) in inFlight {
                if let target = cores.firstIndex(where: { $0.localAddress == to }) {
                    bytes.withUnsafeBytes { cores[target].handleDatagram($0, from: from, now: now) }
                } else {
                    stray.append((to, bytes))
                }
            }
            inFlight = []
            for index in cores.indices {
                if let due = cores[index].pollTimeout(), due <= now { cores[index].handleTimeout(now: now) }
                let from = cores[index].localAddress
                for (to, bytes) in Self.drain(&cores[index], now: now) { inFlight.append((from, to, bytes)) }
                while cores[index].pollEvent() != nil {}
            }
            now = now + Self.step
        }
    }
}

/// No amplification, rate limits and the replay cache of overlay datagrams.
@Suite struct OverlayAdmissionTests {
    static let secret = [UInt8](repeating: 0x5A, count: 32)
    static let spoofed = PeerAddress.ipv4(192, 0, 2, 77, port: 4000)
    static let stranger = try! IdentityKeyPair(seed: [UInt8](repeating: 0x77, count: 32))

    /// An overlay datagram of `kind` carrying `message`, from outside any core.
    static func datagram(
        _ kind: OverlayProtocol, _ message: [UInt8], secret: [UInt8]? = nil, sentAt: UnixTime = OverlayBench.wallClock,
        random: inout TestRandom
    ) -> [UInt8] {
        let envelope = OverlayEnvelope(swarmID: [UInt8](repeating: 0, count: 32), swarmSecret: secret)
        var bytes: [UInt8] = []
        envelope.encode(kind, message, sentAt: sentAt, into: &bytes, using: &random)
        return bytes
    }

    /// Feeds `request` to `core` from `source`, then runs the core for 10 s (its held
    /// datagrams expire) and returns the bytes it sent to `source`.
    static func bytesAnswered(
        _ request: [UInt8], to core: inout OverlayCore, from source: PeerAddress, at start: Instant
    )
        -> Int
    {
        request.withUnsafeBytes { core.handleDatagram($0, from: source, now: start) }
        var total = 0
        var now = start
        while now < start + .seconds(10) {
            if let due = core.pollTimeout(), due <= now { core.handleTimeout(now: now) }
            total += OverlayBench.drain(&core, now: now).filter { $0.to == source }.reduce(0) { $0 + $1.bytes.count }
            now = now + .milliseconds(50)
        }
        return total
    }

    @Test func addressCheckMessages_roundTrip_andRefuseWrongSizes() throws {
        let nonce = AddressCheckNonce(high: 0x0001_0203_0405_0607, low: 0x0809_0A0B_0C0D_0E0F)
        for message in [AddressCheckMessage.challenge(nonce), .response(nonce)] {
            var bytes: [UInt8] = []
            message.encode(into: &bytes)
            #expect(bytes.count == OverlayConstants.addressCheckMessageSize)
            #expect(bytes.dropFirst().elementsEqual(0..<16))
            #expect(try AddressCheckMessage.decode(bytes[...]) == message)
            #expect(throws: OverlayDrop.malformed) { try AddressCheckMessage.decode(bytes.dropLast()) }
            #expect(throws: OverlayDrop.malformed) { try AddressCheckMessage.decode((bytes + [0])[...]) }
        }
        #expect(throws: OverlayDrop.malformed) {
            try AddressCheckMessage.decode(([0x03] + [UInt8](repeating: 0, count: 16))[...])
        }
    }

    @Test(arguments: [false, true]) func legitimateJoin_converges_andHeldAnswersAreReleased(sealed: Bool) throws {
        var bench = try OverlayBench(count: 6, secret: sealed ? Self.secret : nil)
        let converged = bench.joinAndConverge()
        #expect(converged)
        let seed = bench.cores[0].admissionStatistics
        // The seed's answers to joiners were larger than their requests: held, and
        // released once each joiner answered the challenge.
        #expect(seed.heldDatagrams > 0)
        #expect(seed.releasedDatagrams == seed.heldDatagrams)
        #expect(seed.droppedHeldDatagrams == 0)
        for core in bench.cores {
            #expect(core.admissionStatistics.unmatchedResponses == 0)
            #expect(core.statistics.drops.isEmpty)
        }
        #expect(bench.stray.isEmpty)
    }

    /// A converged six-peer swarm's seed, and the time it is at.
    static func convergedSeed(sealed: Bool = false) throws -> (core: OverlayCore, now: Instant) {
        var bench = try OverlayBench(count: 6, secret: sealed ? Self.secret : nil)
        let converged = bench.joinAndConverge()
        #expect(converged)
        bench.run(for: .seconds(2))
        return (bench.cores[0], bench.now)
    }

    @Test func spoofedPushPull_getsNoMoreBytesThanItSent() throws {
        var (seed, now) = try Self.convergedSeed()
        // A joiner's push-pull, sent from an address it does not hold.
        var joiner = try OverlayBench.makeCore(index: 99)
        joiner.join([seed.localAddress], now: now)
        let requests = OverlayBench.drain(&joiner, now: now).filter { $0.to == seed.localAddress }
        let request = try #require(requests.first).bytes
        let heldBefore = seed.admissionStatistics.heldDatagrams
        let answered = Self.bytesAnswered(request, to: &seed, from: Self.spoofed, at: now)
        #expect(answered <= request.count)
        // The full member list was there to send: it was held, then dropped.
        #expect(seed.admissionStatistics.heldDatagrams > heldBefore)
        #expect(seed.admissionStatistics.droppedHeldDatagrams >= seed.admissionStatistics.heldDatagrams - heldBefore)
    }

    @Test func spoofedPingFindNodeAndGetProviders_getNoMoreBytesThanTheySent() throws {
        let (converged, now) = try Self.convergedSeed()
        var random = TestRandom(seed: 8)
        let sender = Self.stranger.peerID
        let requests: [(OverlayProtocol, [UInt8])] = [
            (
                .membership,
                try MembershipMessage.ping(
                    sequence: 5, target: converged.localID, sender: sender, digest: 0, updates: []
                ).encoded()
            ),
            (
                .routing,
                try RoutingMessage(requestID: 9, sender: sender, body: .findNode(target: RoutingKey(peer: sender)))
                    .encode()
            ),
            (
                .routing,
                try RoutingMessage(requestID: 10, sender: sender, body: .getProviders(service: "echo")).encode()
            ),
        ]
        for (index, (kind, message)) in requests.enumerated() {
            var seed = converged
            let request = Self.datagram(kind, message, random: &random)
            let source = PeerAddress.ipv4(192, 0, 2, UInt8(index + 1), port: 4000)
            let answered = Self.bytesAnswered(request, to: &seed, from: source, at: now)
            #expect(answered <= request.count, "request \(index): \(answered) bytes for \(request.count)")
        }
    }

    @Test func replayedSealedDatagram_isDroppedAndCounted() throws {
        var bench = try OverlayBench(count: 2, secret: Self.secret)
        bench.cores[1].join([bench.cores[0].localAddress], now: .zero)
        let join = try #require(OverlayBench.drain(&bench.cores[1], now: .zero).first).bytes
        let source = bench.cores[1].localAddress
        for _ in 0..<3 { join.withUnsafeBytes { bench.cores[0].handleDatagram($0, from: source, now: .zero) } }
        #expect(bench.cores[0].statistics.received[.membership] == 1)
        #expect(bench.cores[0].statistics.drops[.replayed] == 2)
        // From another address, too: a copy is a copy.
        join.withUnsafeBytes { bench.cores[0].handleDatagram($0, from: Self.spoofed, now: .zero + .milliseconds(1)) }
        #expect(bench.cores[0].statistics.drops[.replayed] == 3)
    }

    @Test func fullReplayCache_raisesAFloorThatRefusesOldDatagrams() throws {
        var core = try OverlayBench.makeCore(index: 0, secret: Self.secret) { $0.replayCacheSize = 2 }
        var random = TestRandom(seed: 4)
        let nack = try MembershipMessage.nack(sequence: 1, sender: Self.stranger.peerID).encoded()
        let base = OverlayBench.wallClock
        let sent = (0..<4).map { offset in
            Self.datagram(.membership, nack, secret: Self.secret, sentAt: base + .seconds(offset), random: &random)
        }
        let early = Self.datagram(.membership, nack, secret: Self.secret, sentAt: base, random: &random)
        let now = Instant.zero + .seconds(3)
        func feed(_ bytes: [UInt8], at time: Instant = now) {
            bytes.withUnsafeBytes { core.handleDatagram($0, from: Self.spoofed, now: time) }
        }
        for bytes in sent[0..<3] { feed(bytes) }
        // The third evicted the first (sent at base) and raised the floor to base.
        #expect(core.statistics.received[.membership] == 3)
        #expect(core.replayCache.floor == base.seconds)
        feed(sent[0])
        feed(early)
        #expect(core.statistics.drops[.belowReplayFloor] == 2)
        feed(sent[2])
        #expect(core.statistics.drops[.replayed] == 1)
        feed(sent[3])
        #expect(core.statistics.received[.membership] == 4)
        // Once the floor is older than the window, it no longer refuses anything;
        // datagrams that old are stale by then.
        feed(sent[0], at: now + .seconds(60))
        #expect(core.statistics.drops[.stale] == 1)
        #expect(core.replayCache.floor == nil)
    }

    @Test func floodFromOneSource_isLimited_whileOthersGetThrough() throws {
        var core = try OverlayBench.makeCore(index: 0) { configuration in
            configuration.sourceDatagramsPerSecond = 10
            configuration.sourceDatagramBurst = 20
            configuration.totalDatagramsPerSecond = 100
            configuration.totalDatagramBurst = 100
        }
        var random = TestRandom(seed: 6)
        let nack = Self.datagram(
            .membership, try MembershipMessage.nack(sequence: 1, sender: Self.stranger.peerID).encoded(),
            random: &random)
        let now = Instant.zero + .seconds(1)
        for _ in 0..<500 { nack.withUnsafeBytes { core.handleDatagram($0, from: Self.spoofed, now: now) } }
        #expect(core.statistics.drops[.sourceRateLimited] == 480)
        #expect(core.statistics.received[.membership] == 20)
        let other = PeerAddress.ipv4(192, 0, 2, 8, port: 4000)
        nack.withUnsafeBytes { core.handleDatagram($0, from: other, now: now) }
        #expect(core.statistics.received[.membership] == 21)
        // Many sources together meet the total limit: 79 tokens were left.
        for port in 1...200 {
            nack.withUnsafeBytes { core.handleDatagram($0, from: .ipv4(198, 51, 100, 1, port: UInt16(port)), now: now) }
        }
        #expect(core.statistics.received[.membership] == 100)
        #expect(core.statistics.drops[.totalRateLimited] == 121)
        // Tokens come back with time.
        nack.withUnsafeBytes { core.handleDatagram($0, from: Self.spoofed, now: now + .milliseconds(100)) }
        #expect(core.statistics.received[.membership] == 101)
    }

    @Test func configuration_refusesBadLimits() {
        var configuration = OverlayConfiguration.lan
        configuration.sourceDatagramsPerSecond = 0
        #expect(throws: OverlayConfigurationError.rateLimit("sourceDatagramsPerSecond", 0)) {
            try configuration.validate()
        }
        configuration = .lan
        configuration.totalDatagramBurst = 0
        #expect(throws: OverlayConfigurationError.rateLimit("totalDatagramBurst", 0)) { try configuration.validate() }
        configuration = .lan
        configuration.replayCacheSize = 0
        #expect(throws: OverlayConfigurationError.replayCacheSize(0)) { try configuration.validate() }
        configuration = .lan
        configuration.pureViewThreshold = -1
        #expect(throws: OverlayConfigurationError.pureViewThreshold(-1)) { try configuration.validate() }
    }

    @Test func unprovenAddress_getsOneDatagramOfAllowance_thenAChallengeProvesIt() throws {
        var validation = AddressValidation(checkSize: 29, seed: 1)
        let peer = OverlayBench.address(1)
        let now = Instant.zero
        let big = [UInt8](repeating: 1, count: 1_000)
        // First contact: the allowance covers one datagram, and no check is needed.
        #expect(validation.admit(big, kind: .membership, to: peer, now: now) == .send)
        #expect(validation.pollOutbound() == nil)
        // The next is held, and a challenge goes out, paid from the reserve.
        #expect(validation.admit(big, kind: .membership, to: peer, now: now) == .held)
        guard case .check(.challenge(let nonce), to: peer) = validation.pollOutbound() else {
            Issue.record("expected a challenge")
            return
        }
        #expect(validation.admit(big, kind: .membership, to: peer, now: now) == .held)
        #expect(validation.pollOutbound() == nil)
        validation.noteReceived(from: peer, bytes: 29, now: now)
        validation.handle(.response(AddressCheckNonce(high: 0, low: 0)), from: peer, now: now)
        #expect(validation.statistics.unmatchedResponses == 1)
        validation.handle(.response(nonce), from: peer, now: now)
        guard case .released(let held, to: peer) = validation.pollOutbound() else {
            Issue.record("expected the held datagram")
            return
        }
        #expect(held.bytes == big)
        #expect(validation.statistics.releasedDatagrams == 2)
        #expect(validation.isProven(peer, at: now))
        #expect(validation.admit(big, kind: .membership, to: peer, now: now) == .send)
        // The proof lapses after its lifetime; the address starts over.
        #expect(!validation.isProven(peer, at: now + OverlayConstants.addressProofLifetime))
    }

    @Test func aRequestSmallerThanAChallenge_stillGetsItsLargerAnswer() throws {
        var validation = AddressValidation(checkSize: 29, seed: 1)
        let asker = OverlayBench.address(1)
        // A 20-byte request (an index list request in its envelope) and a 300-byte answer.
        validation.noteReceived(from: asker, bytes: 20, now: .zero)
        let answer = [UInt8](repeating: 3, count: 300)
        #expect(validation.admit(answer, kind: .index, to: asker, now: .zero) == .held)
        guard case .check(.challenge(let nonce), to: asker) = validation.pollOutbound() else {
            Issue.record("expected a challenge, paid from the 20 bytes received")
            return
        }
        #expect(validation.pollOutbound() == nil)
        validation.handle(.response(nonce), from: asker, now: .zero)
        guard case .released(let held, to: asker) = validation.pollOutbound() else {
            Issue.record("expected the held answer")
            return
        }
        #expect(held.bytes == answer)
        // One challenge a retry interval: a second small request does not buy another
        // while the first is unanswered.
        let other = OverlayBench.address(2)
        validation.noteReceived(from: other, bytes: 20, now: .zero)
        _ = validation.admit(answer, kind: .index, to: other, now: .zero)
        validation.noteReceived(from: other, bytes: 20, now: .zero)
        _ = validation.admit(answer, kind: .index, to: other, now: .zero)
        var challenges = 0
        while let outbound = validation.pollOutbound() {
            if case .check(.challenge, to: other) = outbound { challenges += 1 }
        }
        #expect(challenges == 1)
    }

    @Test func proveAhead_challengesOnce_untilProven_andNotAProvenAddress() {
        var validation = AddressValidation(checkSize: 29, seed: 1)
        let peer = OverlayBench.address(1)
        var now = Instant.zero
        validation.noteReceived(from: peer, bytes: 200, now: now)
        validation.proveAhead(peer, now: now)
        guard case .check(.challenge(let nonce), to: peer) = validation.pollOutbound() else {
            Issue.record("expected a challenge")
            return
        }
        // Waiting for the answer: no second challenge, until the retry interval.
        validation.proveAhead(peer, now: now)
        #expect(validation.pollOutbound() == nil)
        validation.handle(.response(nonce), from: peer, now: now)
        #expect(validation.isProven(peer, at: now))
        now = now + OverlayConstants.addressCheckRetry
        validation.proveAhead(peer, now: now)
        #expect(validation.pollOutbound() == nil)
        #expect(validation.statistics.challengesSent == 1)
        // Once the proof lapses, the next call proves it again.
        now = now + OverlayConstants.addressProofLifetime
        validation.proveAhead(peer, now: now)
        guard case .check(.challenge, to: peer) = validation.pollOutbound() else {
            Issue.record("expected a challenge after the proof lapsed")
            return
        }
    }

    @Test func indexServers_keepTheirFellowsProven_soThatHandoffsAreNeverHeld() throws {
        var bench = try OverlayBench(count: 0)
        bench.cores = try (0..<3).map { index in
            try OverlayBench.makeCore(index: index) {
                $0.topology = .hybrid(.index(fellows: [OverlayBench.address(0)]))
            }
        }
        let converged = bench.joinAndConverge()
        #expect(converged)
        bench.run(for: .seconds(5))
        for (index, core) in bench.cores.enumerated() {
            let fellows = core.hybrid!.upFellowAddresses
            #expect(Set(fellows) == Set((0..<3).filter { $0 != index }.map(OverlayBench.address)))
            for fellow in fellows { #expect(core.addressValidation.isProven(fellow, at: bench.now)) }
        }
    }

    @Test func theAddressTable_growsWithTheMembersHeld_soThatProofsAreKept() {
        /// Proves `peer` as a first large answer would: held, challenged, answered.
        func prove(_ peer: PeerAddress, in validation: inout AddressValidation) {
            let big = [UInt8](repeating: 1, count: 1_400)
            _ = validation.admit(big, kind: .membership, to: peer, now: .zero)
            _ = validation.admit(big, kind: .membership, to: peer, now: .zero)
            while let outbound = validation.pollOutbound() {
                if case .check(.challenge(let nonce), to: peer) = outbound {
                    validation.handle(.response(nonce), from: peer, now: .zero)
                }
            }
        }
        let peers = (1...16).map(OverlayBench.address)
        // Sized for the 8 members held: all 16 addresses stay proven.
        var grown = AddressValidation(checkSize: 29, seed: 1, capacity: 8)
        grown.track(members: 8)
        for peer in peers { prove(peer, in: &grown) }
        #expect(peers.allSatisfy { grown.isProven($0, at: .zero) })
        // At the table's own size, proofs are forgotten in turn.
        var fixed = AddressValidation(checkSize: 29, seed: 1, capacity: 8)
        for peer in peers { prove(peer, in: &fixed) }
        #expect(peers.count { fixed.isProven($0, at: .zero) } <= 8)
        // Fewer members held: the table shrinks at the next address added, never below
        // the size it was made with.
        grown.track(members: 1)
        #expect(grown.capacity == 8)
        prove(OverlayBench.address(17), in: &grown)
        #expect(grown.entries.count <= 8)
    }

    @Test func heldDatagrams_expire_andAreBoundedPerAddress() {
        var validation = AddressValidation(checkSize: 29, seed: 1)
        let victim = OverlayBench.address(2)
        let answer = [UInt8](repeating: 2, count: 1_400)
        validation.noteReceived(from: victim, bytes: 100, now: .zero)
        for _ in 0..<100 { _ = validation.admit(answer, kind: .membership, to: victim, now: .zero) }
        #expect(validation.heldBytes <= OverlayConstants.maximumHeldBytesPerAddress)
        let held = validation.statistics.heldDatagrams
        #expect(held == OverlayConstants.maximumHeldBytesPerAddress / answer.count)
        #expect(validation.statistics.droppedHeldDatagrams == 100 - held)
        #expect(validation.nextDeadline == Instant.zero + OverlayConstants.heldLifetime)
        validation.expireHeld(now: .zero + OverlayConstants.heldLifetime)
        #expect(validation.heldBytes == 0)
        #expect(validation.statistics.droppedHeldDatagrams == 100)
        // One challenge went out, paid from the 100 bytes received.
        var sent = 0
        while let outbound = validation.pollOutbound() {
            if case .check(.challenge, to: victim) = outbound { sent += 29 }
        }
        #expect(sent == 29)
    }
}

extension AddressValidation.Outbound: Equatable {
    static func == (left: Self, right: Self) -> Bool {
        switch (left, right) {
        case (.check(let a, let x), .check(let b, let y)): a == b && x == y
        case (.released(let a, let x), .released(let b, let y)): a.bytes == b.bytes && x == y
        default: false
        }
    }
}
