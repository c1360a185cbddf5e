import StarlingTestSupport
import Testing

@testable import StarlingCore

/// LAN discovery: envelopes, beacons, queries, sealing and every limit, hand-fed.
@Suite struct DiscoveryTests {
    static let wall = UnixTime(seconds: 1_800_000_000)
    static let start = Instant(nanoseconds: 1_000_000_000)
    static let group = DiscoveryConstants.defaultIPv4Group
    static let broadcast = PeerAddress.ipv4(192, 0, 2, 255, port: DiscoveryConstants.defaultPort)
    static let secret = [UInt8](repeating: 0x5A, count: 32)
    static let otherSecret = [UInt8](repeating: 0xA5, count: 32)

    /// One peer: its key, address and core.
    struct Node {
        let key: IdentityKeyPair
        let address: PeerAddress
        var core: DiscoveryCore

        /// Drains the outbox.
        mutating func transmits(now: Instant = DiscoveryTests.start) -> [(PeerAddress, [UInt8])] {
            var buffer: [UInt8] = []
            var sent: [(PeerAddress, [UInt8])] = []
            while let destination = core.pollTransmit(now: now, into: &buffer) { sent.append((destination, buffer)) }
            return sent
        }

        /// Drains the events.
        mutating func events() -> [DiscoveryEvent] {
            var events: [DiscoveryEvent] = []
            while let event = core.pollEvent() { events.append(event) }
            return events
        }

        /// Feeds one datagram.
        mutating func receive(_ bytes: [UInt8], from source: PeerAddress, now: Instant = DiscoveryTests.start) {
            bytes.withUnsafeBytes { core.handleDatagram($0, from: source, now: now) }
        }
    }

    /// A configuration with both destinations and limits high enough not to interfere.
    static func configuration(secret: [UInt8]? = nil) -> DiscoveryConfiguration {
        var configuration = DiscoveryConfiguration.lan
        configuration.destinations = [group, broadcast]
        configuration.swarmSecret = secret
        configuration.messagesPerSourcePerSecond = 1e6
        configuration.burstPerSource = 1_000_000
        configuration.messagesPerSecond = 1e6
        configuration.burst = 1_000_000
        return configuration
    }

    static func record(
        _ key: IdentityKeyPair, sequence: UInt64 = 1, expiresIn: Int64 = 3600, octet: UInt8 = 1
    ) throws -> SignedPeerRecord {
        try PeerRecord(
            peerID: key.peerID, sequence: sequence, expiresAt: wall + .seconds(expiresIn),
            addresses: [.ipv4(192, 0, 2, octet, port: 4000)], services: ["echo"]
        ).sign(with: key)
    }

    static func node(
        seed: UInt64, configuration: DiscoveryConfiguration = configuration(), sequence: UInt64 = 1
    ) throws -> Node {
        var random = TestRandom(seed: seed)
        let key = IdentityKeyPair.generate(using: &random)
        let octet = UInt8(truncatingIfNeeded: seed)
        let core = try DiscoveryCore(
            record: try record(key, sequence: sequence, octet: octet), configuration: configuration,
            random: TestRandom(seed: seed &+ 100), now: start, wallClock: wall)
        return Node(key: key, address: .ipv4(192, 0, 2, octet, port: 47077), core: core)
    }

    /// The beacon `node` sends on start (the copy for the first destination).
    static func firstBeacon(of node: inout Node) -> [UInt8] {
        node.core.handleTimeout(now: start)
        return node.transmits()[0].1
    }

    // MARK: Envelope

    @Test(arguments: [nil, secret])
    func envelope_everyMessage_roundTrips(secret: [UInt8]?) throws {
        let envelope = DiscoveryEnvelope(swarmID: [UInt8](repeating: 0, count: 32), swarmSecret: secret)
        var random = TestRandom(seed: 1)
        let a = try Self.record(IdentityKeyPair.generate(using: &random))
        let b = try Self.record(IdentityKeyPair.generate(using: &random), sequence: 9)
        for message in [DiscoveryMessage.beacon(a), .whoHas(wanted: b.record.peerID, asker: a), .iHave(b)] {
            let bytes = envelope.encode(message, sentAt: Self.wall, using: &random)
            #expect(bytes[1] == message.type.rawValue)
            #expect(bytes.count <= DiscoveryConstants.maximumDatagramSize)
            let decoded = try envelope.decode(bytes)
            #expect(decoded.message == message)
            #expect(decoded.sentAt == (secret == nil ? nil : Self.wall))
        }
    }

    @Test func envelope_keyDerivation_dependsOnSecretAndSwarmID() {
        let zero = [UInt8](repeating: 0, count: 32)
        let one = [UInt8](repeating: 1, count: 32)
        let base = DiscoveryEnvelope.deriveKeyBytes(swarmID: zero, swarmSecret: Self.secret)
        #expect(base.count == 32)
        #expect(base == DiscoveryEnvelope.deriveKeyBytes(swarmID: zero, swarmSecret: Self.secret))
        #expect(base != DiscoveryEnvelope.deriveKeyBytes(swarmID: one, swarmSecret: Self.secret))
        #expect(base != DiscoveryEnvelope.deriveKeyBytes(swarmID: zero, swarmSecret: Self.otherSecret))
    }

    @Test func envelope_truncatedAndOversized_areMalformed() throws {
        var node = try Self.node(seed: 1)
        let beacon = Self.firstBeacon(of: &node)
        let envelope = DiscoveryEnvelope(swarmID: [UInt8](repeating: 0, count: 32), swarmSecret: nil)
        for length in 0..<beacon.count {
            #expect(throws: DiscoveryDrop.self) { try envelope.decode(Array(beacon[0..<length])) }
        }
        #expect(throws: DiscoveryDrop.malformed) { try envelope.decode(beacon + [0]) }
        #expect(throws: DiscoveryDrop.malformed) {
            try envelope.decode([UInt8](repeating: 1, count: DiscoveryConstants.maximumDatagramSize + 1))
        }
    }

    // MARK: Beacons

    @Test func beacon_onStart_goesToEveryDestination_andIsDiscovered() throws {
        var a = try Self.node(seed: 1)
        var b = try Self.node(seed: 2)
        #expect(a.core.pollTimeout() == Self.start)
        a.core.handleTimeout(now: Self.start)
        let sent = a.transmits()
        #expect(sent.map(\.0) == [Self.group, Self.broadcast])
        b.receive(sent[0].1, from: a.address)
        #expect(b.events() == [.discovered(a.core.ownRecord)])
        #expect(b.core.record(for: a.key.peerID) == a.core.ownRecord)
        b.receive(sent[1].1, from: a.address)
        #expect(b.events().isEmpty)
        #expect(b.core.drops == [.stale: 1])
    }

    @Test func beacon_staleExpiredAndOwn_areIgnored_newerUpdates() throws {
        var a = try Self.node(seed: 1, sequence: 5)
        var b = try Self.node(seed: 2)
        b.receive(Self.firstBeacon(of: &a), from: a.address)
        #expect(b.events().count == 1)

        try a.core.updateRecord(try Self.record(a.key, sequence: 4), now: Self.start)
        a.core.handleTimeout(now: Self.start + .seconds(1))
        b.receive(a.transmits()[0].1, from: a.address)
        #expect(b.core.drops[.stale] == 1)

        try a.core.updateRecord(try Self.record(a.key, sequence: 6, expiresIn: 0), now: Self.start)
        a.core.handleTimeout(now: Self.start + .seconds(2))
        b.receive(a.transmits()[0].1, from: a.address)
        #expect(b.core.drops[.badRecord] == 1)

        b.receive(Self.firstBeacon(of: &b), from: b.address)
        #expect(b.core.drops[.own] == 1)

        let newer = try Self.record(a.key, sequence: 7)
        try a.core.updateRecord(newer, now: Self.start)
        a.core.handleTimeout(now: Self.start + .seconds(3))
        b.receive(a.transmits()[0].1, from: a.address)
        #expect(b.events() == [.updated(newer)])
        #expect(b.core.record(for: a.key.peerID)?.record.sequence == 7)
    }

    @Test func beacon_recordOfAnotherPeer_isRefusedByUpdateRecord() throws {
        var a = try Self.node(seed: 1)
        let b = try Self.node(seed: 2)
        #expect(throws: RecordError.self) { try a.core.updateRecord(b.core.ownRecord, now: Self.start) }
    }

    @Test(arguments: [nil, secret])
    func beacon_everySingleBitFlip_isRejected(secret: [UInt8]?) throws {
        var a = try Self.node(seed: 1, configuration: Self.configuration(secret: secret))
        var b = try Self.node(seed: 2, configuration: Self.configuration(secret: secret))
        let beacon = Self.firstBeacon(of: &a)
        for bit in 0..<(beacon.count * 8) {
            var flipped = beacon
            flipped[bit / 8] ^= 1 << (bit % 8)
            b.receive(flipped, from: a.address)
        }
        #expect(b.events().isEmpty)
        #expect(b.core.peerCount == 0)
        #expect(b.core.drops.values.reduce(0, +) == beacon.count * 8)
        let bodyBits = (beacon.count - DiscoveryConstants.prefixSize) * 8
        if secret == nil {
            // Body flips fail the record signature, or its structure before that.
            let allowed: Set<DiscoveryDrop> = [.badRecord, .malformed, .unsupportedVersion, .unknownType, .wrongMode]
            #expect(Set(b.core.drops.keys).isSubset(of: allowed), "\(b.core.drops)")
            #expect(b.core.drops[.badRecord, default: 0] > bodyBits / 2)
        } else {
            // Every flip after the mode byte fails the AEAD, and so does the one flip of
            // the type byte that names another discovery type (beacon 0x06 → who-has 0x07),
            // because the header is the associated data.
            #expect(b.core.drops[.unauthentic] == bodyBits + 1)
        }
        b.receive(beacon, from: a.address)
        #expect(b.events() == [.discovered(a.core.ownRecord)])
    }

    // MARK: Private swarms

    @Test func sealed_wrongSwarm_isUnreadable_andModesDoNotMix() throws {
        var a = try Self.node(seed: 1, configuration: Self.configuration(secret: Self.secret))
        let sealed = Self.firstBeacon(of: &a)
        #expect(!sealed.containsSubsequence(a.core.ownRecord.signature))

        var otherSecret = try Self.node(seed: 2, configuration: Self.configuration(secret: Self.otherSecret))
        otherSecret.receive(sealed, from: a.address)
        var otherIDConfiguration = Self.configuration(secret: Self.secret)
        otherIDConfiguration.swarmID = [UInt8](repeating: 7, count: 32)
        var otherID = try Self.node(seed: 3, configuration: otherIDConfiguration)
        otherID.receive(sealed, from: a.address)
        var open = try Self.node(seed: 4)
        open.receive(sealed, from: a.address)
        var privateNode = try Self.node(seed: 5, configuration: Self.configuration(secret: Self.secret))
        privateNode.receive(Self.firstBeacon(of: &open), from: open.address)

        #expect(otherSecret.core.drops == [.unauthentic: 1])
        #expect(otherID.core.drops == [.unauthentic: 1])
        #expect(open.core.drops == [.wrongMode: 1])
        #expect(privateNode.core.drops == [.wrongMode: 1])
        for node in [otherSecret, otherID, open, privateNode] { #expect(node.core.peerCount == 0) }
    }

    @Test func sealed_forgeries_areRejected() throws {
        var b = try Self.node(seed: 2, configuration: Self.configuration(secret: Self.secret))
        var random = TestRandom(seed: 9)
        let mallory = IdentityKeyPair.generate(using: &random)
        let record = try Self.record(mallory)
        // Without the secret: sealed under a guessed key.
        let outsider = DiscoveryEnvelope(swarmID: [UInt8](repeating: 0, count: 32), swarmSecret: Self.otherSecret)
        b.receive(outsider.encode(.beacon(record), sentAt: Self.wall, using: &random), from: b.address)
        // A nonce and ciphertext of random bytes.
        let junk = [0x01, 0x06, 0x01] + (0..<(24 + 8 + 16 + 40)).map { _ in UInt8.random(in: 0...255, using: &random) }
        b.receive(junk, from: b.address)
        // With the secret, but someone else's record with a forged signature.
        let insider = DiscoveryEnvelope(swarmID: [UInt8](repeating: 0, count: 32), swarmSecret: Self.secret)
        var signature = record.signature
        signature[10] ^= 0x40
        let forged = SignedPeerRecord(record: record.record, body: record.body, signature: signature)
        b.receive(insider.encode(.beacon(forged), sentAt: Self.wall, using: &random), from: b.address)
        #expect(b.core.drops == [.unauthentic: 2, .badRecord: 1])
        #expect(b.core.peerCount == 0)
    }

    @Test func sealed_replay_isStaleInsideWindow_refusedOutside() throws {
        var a = try Self.node(seed: 1, configuration: Self.configuration(secret: Self.secret))
        var b = try Self.node(seed: 2, configuration: Self.configuration(secret: Self.secret))
        let beacon = Self.firstBeacon(of: &a)
        b.receive(beacon, from: a.address)
        b.receive(beacon, from: a.address, now: Self.start + .seconds(30))
        b.receive(beacon, from: a.address, now: Self.start + DiscoveryConstants.replayWindow + .seconds(1))
        #expect(b.core.drops == [.stale: 1, .outsideReplayWindow: 1])
        // A fresh receiver refuses the old capture too, though it never saw the record.
        var c = try Self.node(seed: 3, configuration: Self.configuration(secret: Self.secret))
        c.receive(beacon, from: a.address, now: Self.start + .seconds(120))
        #expect(c.core.drops == [.outsideReplayWindow: 1])
    }

    @Test func replayWindow_table() {
        let now = UnixTime(seconds: 1000)
        let cases: [(UInt64, Bool)] = [
            (1000, true), (940, true), (939, false), (1060, true), (1061, false), (0, false),
        ]
        for (sentAt, expected) in cases {
            #expect(DiscoveryCore.isWithinReplayWindow(sentAt: UnixTime(seconds: sentAt), now: now) == expected)
        }
    }

    // MARK: Rate limits

    @Test func rateLimit_perSourceAndGlobal_dropExcess() throws {
        var configuration = Self.configuration()
        configuration.burstPerSource = 3
        configuration.messagesPerSourcePerSecond = 1
        var a = try Self.node(seed: 1)
        let beacon = Self.firstBeacon(of: &a)
        var b = try Self.node(seed: 2, configuration: configuration)
        for _ in 0..<5 { b.receive(beacon, from: a.address) }
        #expect(b.core.drops == [.stale: 2, .rateLimited: 2])
        b.receive(beacon, from: a.address, now: Self.start + .seconds(1))
        #expect(b.core.drops[.rateLimited] == 2, "a token refilled after a second")

        configuration = Self.configuration()
        configuration.burst = 4
        configuration.messagesPerSecond = 1
        var c = try Self.node(seed: 3, configuration: configuration)
        for octet in 10..<16 { c.receive(beacon, from: .ipv4(192, 0, 2, UInt8(octet), port: 47077)) }
        #expect(c.core.drops == [.stale: 3, .rateLimited: 2])
    }

    @Test func rateLimit_outgoing_beaconsKeepIntervalAndMinimum() throws {
        var configuration = Self.configuration()
        configuration.destinations = [Self.group]
        var a = try Self.node(seed: 1, configuration: configuration)
        a.core.handleTimeout(now: Self.start)
        #expect(a.transmits().count == 1)
        var previous = Self.start
        for _ in 0..<50 {
            let next = try #require(a.core.pollTimeout())
            let beaconDue = min(next, previous + .seconds(20))
            a.core.handleTimeout(now: beaconDue)
            let sent = a.transmits()
            if sent.isEmpty { continue }  // housekeeping
            let gap = beaconDue - previous
            #expect(gap >= .milliseconds(7500) && gap <= .milliseconds(12500), "gap \(gap)")
            previous = beaconDue
        }
        // Changing the record twice at once still waits for the minimum interval.
        try a.core.updateRecord(try Self.record(a.key, sequence: 2), now: previous)
        try a.core.updateRecord(try Self.record(a.key, sequence: 3), now: previous)
        #expect(a.core.nextBeacon == previous + configuration.minimumBeaconInterval)
        a.core.handleTimeout(now: previous + .milliseconds(500))
        #expect(a.transmits().isEmpty)
    }

    @Test func beaconDelay_table() {
        let interval = Duration.seconds(10)
        let cases: [(Double, Double, Duration)] = [
            (0, 0.5, .seconds(10)), (0.25, 0, .milliseconds(7500)), (0.25, 0.5, .seconds(10)),
            (0.25, 1, .milliseconds(12500)), (1, 0, .seconds(1)),
        ]
        for (jitter, unit, expected) in cases {
            let delay = DiscoveryCore.beaconDelay(interval: interval, jitter: jitter, unit: unit, minimum: .seconds(1))
            #expect(delay == expected, "jitter \(jitter) unit \(unit)")
        }
    }

    // MARK: Who has

    @Test func whoHas_answeredByOwner_immediately() throws {
        var a = try Self.node(seed: 1)
        var c = try Self.node(seed: 3)
        let asked = c.core.whoHas(a.key.peerID, now: Self.start)
        #expect(asked)
        let queries = c.transmits().filter { $0.1[1] == MessageType.whoHas.rawValue }
        #expect(queries.map(\.0) == [Self.group, Self.broadcast])
        a.receive(queries[0].1, from: c.address)
        #expect(a.events() == [.discovered(c.core.ownRecord)])
        let answers = a.transmits()
        #expect(answers.map(\.0) == [c.address])
        c.receive(answers[0].1, from: a.address)
        #expect(c.events() == [.discovered(a.core.ownRecord), .answered(a.core.ownRecord)])
        c.core.handleTimeout(now: Self.start + .seconds(10))
        #expect(!c.events().contains(.queryTimedOut(a.key.peerID)))
    }

    @Test func whoHas_answeredByHolder_passingTheOwnersRecordOn() throws {
        var a = try Self.node(seed: 1)
        var b = try Self.node(seed: 2)
        var c = try Self.node(seed: 3)
        b.receive(Self.firstBeacon(of: &a), from: a.address)
        _ = b.events()
        c.core.whoHas(a.key.peerID, now: Self.start)
        b.receive(c.transmits().last!.1, from: c.address)
        let answers = b.transmits()
        #expect(answers.map(\.0) == [c.address])
        c.receive(answers[0].1, from: b.address)
        #expect(c.events() == [.discovered(a.core.ownRecord), .answered(a.core.ownRecord)])
        #expect(c.core.record(for: a.key.peerID)?.signature == a.core.ownRecord.signature)
    }

    @Test func whoHas_unknownPeer_timesOut_andUnsolicitedAnswerIsDropped() throws {
        var a = try Self.node(seed: 1)
        var b = try Self.node(seed: 2)
        var c = try Self.node(seed: 3)
        c.core.whoHas(a.key.peerID, now: Self.start)
        b.receive(c.transmits().last!.1, from: c.address)
        #expect(b.transmits().isEmpty, "b holds no record of a")
        c.core.handleTimeout(now: Self.start + .seconds(3))
        #expect(c.events() == [.queryTimedOut(a.key.peerID)])
        // An answer that arrives after the query ended is unsolicited.
        a.receive(Self.queryBytes(from: &b, for: a.key.peerID), from: b.address)
        c.receive(a.transmits()[0].1, from: a.address)
        #expect(c.core.drops == [.unsolicited: 1])
    }

    /// The query `node` sends for `peer`.
    static func queryBytes(from node: inout Node, for peer: PeerID) -> [UInt8] {
        node.core.whoHas(peer, now: start)
        return node.transmits().last!.1
    }

    @Test func whoHas_holderAnswersAreRateLimited_ownAnswersAreNot() throws {
        var configuration = Self.configuration()
        configuration.answerBurst = 2
        var a = try Self.node(seed: 1, configuration: configuration)
        var b = try Self.node(seed: 2, configuration: configuration)
        var c = try Self.node(seed: 3)
        b.receive(Self.firstBeacon(of: &a), from: a.address)
        let forA = Self.queryBytes(from: &c, for: a.key.peerID)
        for _ in 0..<5 { b.receive(forA, from: c.address) }
        #expect(b.transmits().count == 2)
        #expect(b.core.drops[.rateLimited] == 3)
        let forB = Self.queryBytes(from: &c, for: b.key.peerID)
        for _ in 0..<5 { b.receive(forB, from: c.address) }
        #expect(b.transmits().count == 5)
    }

    @Test func whoHas_selfAndDisabled_sendNothing() throws {
        var a = try Self.node(seed: 1)
        let askedSelf = a.core.whoHas(a.key.peerID, now: Self.start)
        #expect(!askedSelf)
        var configuration = Self.configuration()
        configuration.destinations = []
        var off = try Self.node(seed: 2, configuration: configuration)
        #expect(!off.core.isEnabled)
        #expect(off.core.pollTimeout() == nil)
        let askedWhileOff = off.core.whoHas(a.key.peerID, now: Self.start)
        #expect(!askedWhileOff)
        off.receive(Self.firstBeacon(of: &a), from: a.address)
        #expect(off.core.drops == [.disabled: 1])
        #expect(off.transmits().isEmpty)
    }

    // MARK: Bounds

    @Test func bounds_recordTableAndPendingQueries() throws {
        var configuration = Self.configuration()
        configuration.maximumPeers = 3
        configuration.maximumPendingQueries = 2
        var b = try Self.node(seed: 100, configuration: configuration)
        var others: [Node] = []
        for seed in 1...5 {
            var node = try Self.node(seed: UInt64(seed))
            b.receive(Self.firstBeacon(of: &node), from: node.address)
            others.append(node)
        }
        #expect(b.core.peerCount == 3)
        #expect(b.core.drops == [.tableFull: 2])
        _ = b.transmits()
        let first = b.core.whoHas(others[3].key.peerID, now: Self.start)
        #expect(first)
        let second = b.core.whoHas(others[4].key.peerID, now: Self.start)
        #expect(second)
        let again = b.core.whoHas(others[4].key.peerID, now: Self.start)
        #expect(again, "already pending")
        let third = b.core.whoHas(others[0].key.peerID, now: Self.start)
        #expect(!third)
    }

    @Test func bounds_outboxKeepsTheNewestDatagrams() throws {
        var a = try Self.node(seed: 1)
        var c = try Self.node(seed: 3)
        let query = Self.queryBytes(from: &c, for: a.key.peerID)
        for _ in 0..<(DiscoveryConstants.maximumOutbox + 50) { a.receive(query, from: c.address) }
        #expect(a.transmits().count == DiscoveryConstants.maximumOutbox)
    }

    @Test func configuration_validate_rejectsBadFields() {
        var configuration = DiscoveryConfiguration.lan
        #expect(throws: Never.self) { try configuration.validate() }
        configuration.swarmSecret = [1, 2, 3]
        #expect(throws: DiscoveryConfiguration.ValidationError.swarmSecretLength(3)) { try configuration.validate() }
        configuration = .lan
        configuration.beaconJitter = 1.5
        #expect(throws: DiscoveryConfiguration.ValidationError.outOfRange(field: "beaconJitter")) {
            try configuration.validate()
        }
        configuration = .simulation
        configuration.swarmID = []
        #expect(throws: DiscoveryConfiguration.ValidationError.swarmIDLength(0)) { try configuration.validate() }
    }

    @Test func expiry_dropsRecordAndReports() throws {
        var a = try Self.node(seed: 1)
        try a.core.updateRecord(try Self.record(a.key, sequence: 2, expiresIn: 15), now: Self.start)
        var b = try Self.node(seed: 2)
        b.receive(Self.firstBeacon(of: &a), from: a.address)
        _ = b.events()
        b.core.handleTimeout(now: Self.start + .seconds(10))
        #expect(b.events().isEmpty)
        b.core.handleTimeout(now: Self.start + .seconds(20))
        #expect(b.events() == [.expired(a.key.peerID)])
        #expect(b.core.peerCount == 0)
    }

    /// Runs `a`'s and `b`'s timers up to `end`, carrying every datagram `a` sends to `b`
    /// at once.
    static func run(_ a: inout Node, _ b: inout Node, until end: Instant) {
        while let due = [a.core.pollTimeout(), b.core.pollTimeout()].compactMap({ $0 }).min(), due <= end {
            if let deadline = a.core.pollTimeout(), deadline <= due { a.core.handleTimeout(now: due) }
            for (_, bytes) in a.transmits(now: due) { b.receive(bytes, from: a.address, now: due) }
            if let deadline = b.core.pollTimeout(), deadline <= due { b.core.handleTimeout(now: due) }
            _ = b.transmits(now: due)
        }
    }

    @Test func renewal_atHalfTheLifetime_signsANewerRecordAndBeaconsIt() throws {
        var a = try Self.node(seed: 1)
        let first = a.core.ownRecord
        try a.core.renewRecord(signingWith: a.key, lifetime: .seconds(600), now: Self.start)
        var b = try Self.node(seed: 2)
        Self.run(&a, &b, until: Self.start + .seconds(299))
        #expect(a.core.ownRecord == first)
        #expect(b.events() == [.discovered(first)])

        Self.run(&a, &b, until: Self.start + .seconds(300))
        let renewed = a.core.ownRecord.record
        // The wall clock in milliseconds at the renewal, valid for a lifetime from then.
        #expect(renewed.sequence == (Self.wall.seconds + 300) * 1_000)
        #expect(renewed.expiresAt == Self.wall + .seconds(900))
        #expect(renewed.addresses == first.record.addresses)
        #expect(renewed.services == first.record.services)
        #expect(try a.core.ownRecord.verify(now: Self.wall + .seconds(300), expecting: a.key.peerID) == renewed)
        // Beaconed as soon as the minimum beacon interval allows: `b` holds it.
        Self.run(&a, &b, until: Self.start + .seconds(300) + a.core.configuration.minimumBeaconInterval)
        #expect(b.events() == [.updated(a.core.ownRecord)])
        #expect(b.core.record(for: a.key.peerID) == a.core.ownRecord)
    }

    @Test func renewal_keepsTheRecordAliveEverywhereForManyLifetimes() throws {
        var a = try Self.node(seed: 1)
        try a.core.updateRecord(try Self.record(a.key, sequence: 2, expiresIn: 100), now: Self.start)
        try a.core.renewRecord(signingWith: a.key, lifetime: .seconds(100), now: Self.start)
        var b = try Self.node(seed: 2)
        var sequences: [UInt64] = []
        for step in 1...20 {
            // Midway between two renewals, once the renewed record was beaconed.
            Self.run(&a, &b, until: Self.start + .seconds(Int64(step) * 50 + 25))
            sequences.append(a.core.ownRecord.record.sequence)
            #expect(b.core.record(for: a.key.peerID) == a.core.ownRecord, "after \(step * 50 + 25) s")
        }
        #expect(!b.events().contains(.expired(a.key.peerID)))
        #expect(sequences == sequences.sorted())
        #expect(Set(sequences).count == 20)
    }

    @Test func renewal_wrongKeyOrLifetime_isTypedError() throws {
        var a = try Self.node(seed: 1)
        let b = try Self.node(seed: 2)
        #expect(throws: RecordError.wrongSigner(expected: a.key.peerID, actual: b.key.peerID)) {
            try a.core.renewRecord(signingWith: b.key, lifetime: .seconds(600), now: Self.start)
        }
        #expect(throws: RecordError.expired(expiresAt: Self.wall, now: Self.wall)) {
            try a.core.renewRecord(signingWith: a.key, lifetime: .zero, now: Self.start)
        }
        let tooLong = RecordConstants.maximumLifetime + .seconds(1)
        #expect(
            throws: RecordError.expiryTooFar(
                expiresAt: Self.wall + tooLong, limit: Self.wall + RecordConstants.maximumLifetime)
        ) {
            try a.core.renewRecord(signingWith: a.key, lifetime: tooLong, now: Self.start)
        }
        // Refused renewals leave no timer behind.
        #expect(a.core.nextRenewal == nil)
    }

    @Test(arguments: [
        (previous: UInt64(5), wall: UInt64(3), expected: UInt64(6)),
        (previous: 5, wall: 1_000, expected: 1_000),
        (previous: 999, wall: 1_000, expected: 1_000),
        (previous: 1_000, wall: 1_000, expected: 1_001),
        (previous: .max, wall: 7, expected: .max),
    ])
    func renewal_sequence_isAboveThePreviousAndFollowsTheClock(previous: UInt64, wall: UInt64, expected: UInt64) {
        #expect(RecordRenewal.sequence(after: previous, wallMilliseconds: wall) == expected)
        #expect(RecordRenewal.interval(lifetime: .seconds(3_600)) == .seconds(1_800))
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in the array as consecutive bytes.
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
