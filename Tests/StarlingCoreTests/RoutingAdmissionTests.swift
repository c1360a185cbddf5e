import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Routing admission: proof of ID and address, subnet limits, liveness from the
/// contact's own failures, and provider slots that cannot be captured.
@Suite struct RoutingAdmissionTests {
    static let now = UnixTime(seconds: 1_700_000_000)
    static let timeout = RoutingConfiguration.lan.requestTimeout

    /// A routing identity from a seed.
    static func identity(_ seed: UInt64) -> IdentityKeyPair {
        var random = TestRandom(seed: seed)
        return IdentityKeyPair.generate(using: &random)
    }

    /// A core that can prove itself, with the `lan` settings unless told.
    static func core(seed: UInt64 = 1, configuration: RoutingConfiguration = .lan) -> RoutingCore {
        RoutingCore(
            identity: identity(seed), configuration: configuration, wallClockAtZero: now, random: TestRandom(seed: seed)
        )
    }

    /// Everything the core sends, decoded, with its destination.
    static func drain(_ core: inout RoutingCore, now: Instant = .zero) -> [(PeerAddress, RoutingMessage)] {
        var sent: [(PeerAddress, RoutingMessage)] = []
        var buffer: [UInt8] = []
        while let to = core.pollTransmit(now: now, into: &buffer) {
            sent.append((to, try! RoutingMessage.decode(buffer[...])))
        }
        return sent
    }

    /// Feeds `message` from `source`.
    static func feed(
        _ core: inout RoutingCore, _ message: RoutingMessage, from source: PeerAddress, now: Instant = .zero
    ) {
        core.handleMessage(try! message.encode()[...], from: source, now: now)
    }

    /// Answers every `PROVE` in `sent` addressed to one of `provers` (by address) with
    /// a valid proof; returns the other messages.
    @discardableResult
    static func answerChallenges(
        _ core: inout RoutingCore, _ sent: [(PeerAddress, RoutingMessage)], provers: [PeerAddress: IdentityKeyPair],
        now: Instant = .zero
    ) -> [(PeerAddress, RoutingMessage)] {
        var rest: [(PeerAddress, RoutingMessage)] = []
        for (to, message) in sent {
            guard case .prove(let nonce, let address) = message.body, let prover = provers[to] else {
                rest.append((to, message))
                continue
            }
            let signature = RoutingProof.sign(nonce: nonce, address: address, challenger: message.sender, with: prover)
            feed(
                &core,
                RoutingMessage(requestID: message.requestID, sender: prover.peerID, body: .proof(signature: signature)),
                from: to, now: now)
        }
        return rest
    }

    static func record(of identity: IdentityKeyPair, at address: PeerAddress, services: [String]) throws
        -> SignedPeerRecord
    {
        try PeerRecord(
            peerID: identity.peerID, sequence: 1, expiresAt: now + .seconds(3_600), addresses: [address],
            services: services
        ).sign(with: identity)
    }

    // MARK: Proof of ID and address

    @Test func request_fromUnprovenSender_isAnsweredButAdmittedOnlyAfterItsProof() throws {
        var core = Self.core()
        let other = Self.identity(2)
        let source = PeerAddress.ipv4(10, 0, 0, 2, port: 4000)
        Self.feed(&core, RoutingMessage(requestID: 7, sender: other.peerID, body: .ping), from: source)
        let sent = Self.drain(&core)
        // Answered at once, and challenged; not in the table.
        #expect(sent.contains { $0.0 == source && $0.1.body == .pong && $0.1.requestID == 7 })
        let challenge = try #require(sent.first { if case .prove = $0.1.body { true } else { false } })
        #expect(challenge.0 == source)
        #expect(try challenge.1.encode().count == RoutingConstants.proveMessageSize)
        #expect(core.table.contact(for: other.peerID) == nil)
        guard case .prove(let nonce, let address) = challenge.1.body else { return }
        #expect(address == source)
        // A proof signed by someone else, or from another address, is refused.
        let wrong = RoutingProof.sign(nonce: nonce, address: address, challenger: core.localID, with: Self.identity(3))
        Self.feed(
            &core,
            RoutingMessage(requestID: challenge.1.requestID, sender: other.peerID, body: .proof(signature: wrong)),
            from: source)
        #expect(core.drops[.invalidProof] == 1)
        #expect(core.table.contact(for: other.peerID) == nil)
        // Met again, it is challenged again, and its own proof admits it.
        Self.feed(&core, RoutingMessage(requestID: 8, sender: other.peerID, body: .ping), from: source)
        let again = Self.drain(&core)
        let elsewhere = PeerAddress.ipv4(10, 9, 9, 9, port: 4000)
        for (to, message) in again {
            guard case .prove(let nonce, let address) = message.body else { continue }
            let signature = RoutingProof.sign(nonce: nonce, address: address, challenger: core.localID, with: other)
            let proof = RoutingMessage(
                requestID: message.requestID, sender: other.peerID, body: .proof(signature: signature))
            Self.feed(&core, proof, from: elsewhere)
            #expect(core.table.contact(for: other.peerID) == nil)
            Self.feed(&core, proof, from: to)
        }
        #expect(core.table.contact(for: other.peerID)?.address == source)
        // Proven once: later requests send no challenge.
        Self.feed(&core, RoutingMessage(requestID: 9, sender: other.peerID, body: .ping), from: source)
        #expect(Self.drain(&core).allSatisfy { $0.1.body == .pong })
    }

    @Test func spoofedIDs_withoutProof_neverEnterTheTable_andChallengesAreBounded() {
        var core = Self.core()
        var random = TestRandom(seed: 5)
        for index in 0..<600 {
            let sender = RoutingTableTests.peer(random.next())
            let source = PeerAddress.ipv4(10, UInt8(index >> 8), UInt8(index & 0xFF), 1, port: 4000)
            Self.feed(&core, RoutingMessage(requestID: UInt64(index), sender: sender, body: .ping), from: source)
        }
        let sent = Self.drain(&core)
        let challenges = sent.filter { if case .prove = $0.1.body { true } else { false } }
        #expect(challenges.count <= RoutingConstants.maximumPendingProofs)
        #expect(core.table.count == 0)
        core.handleTimeout(now: .zero + Self.timeout * 2)
        #expect(core.table.count == 0)
        #expect(core.proving.isEmpty)
    }

    @Test func prove_isAnsweredOnlyForOwnAddresses_andOnlyWithAnIdentity() throws {
        let me = Self.identity(1)
        let mine = PeerAddress.ipv4(10, 0, 0, 1, port: 4000)
        var core = Self.core()
        core.updateLocalRecord(try Self.record(of: me, at: mine, services: []))
        let challenger = Self.identity(2).peerID
        let nonce = [UInt8](repeating: 0xAB, count: 32)
        let source = PeerAddress.ipv4(10, 0, 0, 2, port: 4000)
        Self.feed(
            &core, RoutingMessage(requestID: 1, sender: challenger, body: .prove(nonce: nonce, address: mine)),
            from: source)
        let proof = try #require(Self.drain(&core).first { $0.1.requestID == 1 })
        guard case .proof(let signature) = proof.1.body else {
            Issue.record("expected a proof")
            return
        }
        #expect(RoutingProof.verify(signature, by: me.peerID, nonce: nonce, address: mine, challenger: challenger))
        // Not its address: a relayed challenge gets no signature.
        let foreign = PeerAddress.ipv4(10, 6, 6, 6, port: 4000)
        Self.feed(
            &core, RoutingMessage(requestID: 2, sender: challenger, body: .prove(nonce: nonce, address: foreign)),
            from: source)
        #expect(!Self.drain(&core).contains { $0.1.requestID == 2 })
        #expect(core.drops[.refusedChallenge] == 1)
        // A core without an identity cannot prove itself.
        var anonymous = RoutingCore(localID: me.peerID, wallClockAtZero: Self.now, random: TestRandom(seed: 1))
        Self.feed(
            &anonymous, RoutingMessage(requestID: 3, sender: challenger, body: .prove(nonce: nonce, address: mine)),
            from: source)
        #expect(!Self.drain(&anonymous).contains { $0.1.requestID == 3 })
    }

    @Test func lookupReplies_areCandidatesNotTableEntries() throws {
        var core = Self.core()
        let seed = Self.identity(2)
        let seedAddress = PeerAddress.ipv4(10, 0, 0, 2, port: 4000)
        core.markAlive(peer: seed.peerID, address: seedAddress, now: .zero)
        core.findNode(RoutingKey(peer: Self.identity(9).peerID), now: .zero)
        let request = try #require(Self.drain(&core).first { $0.0 == seedAddress })
        let named = (0..<UInt64(20)).map { RoutingTableTests.contact(1_000 + $0) }
        Self.feed(
            &core, RoutingMessage(requestID: request.1.requestID, sender: seed.peerID, body: .nodes(named)),
            from: seedAddress)
        // The named contacts are asked, but none is in the table.
        let asked = Self.drain(&core).filter { if case .findNode = $0.1.body { true } else { false } }
        #expect(!asked.isEmpty)
        #expect(core.table.count == 1)
        // A reply from another address than the one asked is not accepted.
        let first = try #require(asked.first)
        Self.feed(
            &core,
            RoutingMessage(
                requestID: first.1.requestID, sender: named.first { $0.address == first.0 }!.peerID, body: .nodes([])),
            from: .ipv4(10, 99, 0, 1, port: 1))
        #expect(core.drops[.unexpectedResponse] == 1)
    }

    // MARK: Subnet limits

    @Test func diversity_limitsEachSubnetPerBucket_andExemptsLoopback() {
        var core = Self.core()
        for index in 0..<200 {
            core.markAlive(
                peer: RoutingTableTests.peer(UInt64(index) + 10), address: .ipv4(10, 1, 2, UInt8(index), port: 4000),
                now: .zero)
        }
        // At most 2 of one /24 per bucket, entries and replacements together.
        for bucket in core.table.buckets {
            #expect(bucket.entries.count + bucket.replacements.count <= 2)
        }
        #expect(core.drops[.subnetFull, default: 0] > 150)
        // One IPv6 /64 likewise.
        var six = Self.core()
        for index in 0..<200 {
            six.markAlive(
                peer: RoutingTableTests.peer(UInt64(index) + 10),
                address: PeerAddress(host: .ipv6(high: 0x2001_0db8_0000_0001, low: UInt64(index)), port: 4000),
                now: .zero)
        }
        #expect(six.table.buckets.allSatisfy { $0.entries.count + $0.replacements.count <= 2 })
        // Loopback: hundreds of peers on 127.0.0.1 all fit as they would without a limit.
        var loopback = Self.core()
        var unlimited = Self.core(configuration: .local)
        for index in 0..<200 {
            let peer = RoutingTableTests.peer(UInt64(index) + 10)
            let address = PeerAddress.ipv4(127, 0, 0, 1, port: UInt16(5000 + index))
            loopback.markAlive(peer: peer, address: address, now: .zero)
            unlimited.markAlive(peer: peer, address: address, now: .zero)
        }
        #expect(loopback.table.count == unlimited.table.count)
        #expect(loopback.table.count > 40)
        #expect(loopback.drops[.subnetFull] == nil)
    }

    // MARK: Liveness

    /// Fills `core` with 300 live contacts from distinct /24s.
    static func fillWithLiveContacts(_ core: inout RoutingCore) -> [PeerAddress: PeerID] {
        var live: [PeerAddress: PeerID] = [:]
        for index in 0..<300 {
            let peer = RoutingTableTests.peer(UInt64(index) + 50_000)
            let address = PeerAddress.ipv4(10, UInt8(index >> 8), UInt8(index & 0xFF), 1, port: 4000)
            core.markAlive(peer: peer, address: address, now: .zero)
            live[address] = peer
        }
        return live
    }

    @Test func sybilFlood_doesNotDisplaceLiveContacts() {
        var core = Self.core()
        var live = Self.fillWithLiveContacts(&core)
        let before = Set(core.table.contacts.map(\.peerID))
        #expect(before.count > 60)
        live = live.filter { before.contains($0.value) }
        // 150 fresh IDs, each proving itself from its own /24: an attacker with many
        // addresses and all the keys it wants.
        var sybils: [PeerAddress: IdentityKeyPair] = [:]
        for index in 0..<150 {
            sybils[.ipv4(172, 16, UInt8(index), 9, port: 4000)] = Self.identity(UInt64(index) + 9_000)
        }
        var now = Instant.zero
        for round in 0..<3 {
            for (address, sybil) in sybils.sorted(by: { $0.key.description < $1.key.description }) {
                Self.feed(
                    &core, RoutingMessage(requestID: UInt64(round), sender: sybil.peerID, body: .ping), from: address,
                    now: now)
                let rest = Self.answerChallenges(&core, Self.drain(&core, now: now), provers: sybils, now: now)
                // Live contacts answer their eviction pings, except in the first round
                // (one lost datagram each).
                for (to, message) in rest where message.body == .ping {
                    guard round > 0, let peer = live[to] else { continue }
                    Self.feed(
                        &core, RoutingMessage(requestID: message.requestID, sender: peer, body: .pong), from: to,
                        now: now)
                }
            }
            now = now + Self.timeout * 2
            core.handleTimeout(now: now)
            _ = Self.drain(&core, now: now)
        }
        let after = Set(core.table.contacts.map(\.peerID))
        #expect(before.isSubset(of: after), "\(before.subtracting(after).count) live contacts displaced")
    }

    // MARK: Provider slots

    @Test func sybilProviders_cannotTakeAllSlotsOfAService() throws {
        var core = Self.core()
        var provers: [PeerAddress: IdentityKeyPair] = [:]
        for index in 0..<30 {
            let address = PeerAddress.ipv4(10, 66, 0, UInt8(index + 1), port: 4000)
            let sybil = Self.identity(UInt64(index) + 5_000)
            provers[address] = sybil
            let record = try Self.record(of: sybil, at: address, services: ["files"])
            Self.feed(
                &core,
                RoutingMessage(
                    requestID: UInt64(index), sender: sybil.peerID, body: .addProvider(service: "files", record: record)
                ), from: address)
            Self.answerChallenges(&core, Self.drain(&core), provers: provers)
            _ = Self.drain(&core)
        }
        #expect(core.providerStore.entries["files"]?.count == 2)
        #expect(core.drops[.subnetFull, default: 0] >= 28)
        // Honest providers elsewhere still get slots; once the service is full, the
        // earlier live providers are kept and a newcomer is refused.
        for index in 0..<19 {
            let address = PeerAddress.ipv4(10, 70, UInt8(index), 1, port: 4000)
            let honest = Self.identity(UInt64(index) + 6_000)
            provers[address] = honest
            let record = try Self.record(of: honest, at: address, services: ["files"])
            Self.feed(
                &core,
                RoutingMessage(
                    requestID: 100 + UInt64(index), sender: honest.peerID,
                    body: .addProvider(service: "files", record: record)), from: address)
            let acks = Self.answerChallenges(&core, Self.drain(&core), provers: provers) + Self.drain(&core)
            let stored = acks.contains { $0.1.body == .addProviderAck(stored: true) }
            #expect(stored == (index < 18), "provider \(index)")
        }
        #expect(core.providerStore.entries["files"]?.count == 20)
    }

    @Test func addProvider_ofSomeoneElsesRecord_isRefused() throws {
        var core = Self.core()
        let owner = Self.identity(2)
        let address = PeerAddress.ipv4(10, 0, 0, 2, port: 4000)
        let record = try Self.record(of: owner, at: address, services: ["files"])
        Self.feed(
            &core,
            RoutingMessage(
                requestID: 1, sender: Self.identity(3).peerID, body: .addProvider(service: "files", record: record)),
            from: address)
        #expect(Self.drain(&core).contains { $0.1.body == .addProviderAck(stored: false) })
        #expect(core.drops[.notOwnRecord] == 1)
        #expect(core.providerStore.count == 0)
    }

    // MARK: Wire

    @Test func proveAndProof_roundTrip_andRejectBadPadding() throws {
        let prove = RoutingMessage(
            requestID: 1, sender: Self.identity(1).peerID,
            body: .prove(
                nonce: [UInt8](repeating: 7, count: 32), address: PeerAddress(host: .ipv6(high: 1, low: 2), port: 9)))
        var bytes = try prove.encode()
        #expect(bytes.count == RoutingConstants.proveMessageSize)
        #expect(try RoutingMessage.decode(bytes[...]) == prove)
        bytes[bytes.count - 1] = 1
        #expect(throws: WireError.self) { try RoutingMessage.decode(bytes[...]) }
        #expect(throws: WireError.self) { try RoutingMessage.decode(bytes.dropLast()) }
        let proof = RoutingMessage(
            requestID: 1, sender: Self.identity(1).peerID, body: .proof(signature: [UInt8](repeating: 3, count: 64)))
        #expect(try proof.encode().count == RoutingConstants.headerSize + 64)
        #expect(try proof.encode().count <= RoutingConstants.proveMessageSize)
        #expect(try RoutingMessage.decode(try proof.encode()[...]) == proof)
        #expect(RoutingConstants.maximumMessageSize == 7_439)
    }

    // MARK: Document examples

    /// The nonce of the document's examples: `a0 a1 … bf`.
    static let exampleNonce: [UInt8] = Array(UInt8(0xA0)...UInt8(0xBF))

    /// The `PROVE` of docs/PROTOCOL.md: A challenges B at 127.0.0.1:4001.
    static let exampleProve = RoutingMessage(
        requestID: 0x1122_3344_5566_7788, sender: ProtocolDocTests.exampleKey.peerID,
        body: .prove(nonce: Self.exampleNonce, address: .ipv4(127, 0, 0, 1, port: 4001)))

    @Test func document_proveExample_matchesEncoding() throws {
        let bytes = try #require(try ProtocolDocTests.examples()["routing-prove"])
        let expected = try Self.exampleProve.encode()
        #expect(bytes == expected, "expected:\n\(ProtocolDocTests().formatted(expected))")
        #expect(try RoutingMessage.decode(bytes[...]) == Self.exampleProve)
    }

    @Test func document_proofExample_verifies() throws {
        let bytes = try #require(try ProtocolDocTests.examples()["routing-proof"])
        let b = ProtocolDocTests.secondKey
        let signature = RoutingProof.sign(
            nonce: Self.exampleNonce, address: .ipv4(127, 0, 0, 1, port: 4001),
            challenger: ProtocolDocTests.exampleKey.peerID, with: b)
        let expected = try RoutingMessage(
            requestID: 0x1122_3344_5566_7788, sender: b.peerID, body: .proof(signature: signature)
        ).encode()
        #expect(bytes == expected, "expected:\n\(ProtocolDocTests().formatted(expected))")
        let signed = RoutingProof.signedBytes(
            nonce: Self.exampleNonce, address: .ipv4(127, 0, 0, 1, port: 4001),
            challenger: ProtocolDocTests.exampleKey.peerID)
        #expect(signed.count == 26 + 32 + 7 + 32)
        #expect(
            RoutingProof.verify(
                signature, by: b.peerID, nonce: Self.exampleNonce, address: .ipv4(127, 0, 0, 1, port: 4001),
                challenger: ProtocolDocTests.exampleKey.peerID))
    }
}
