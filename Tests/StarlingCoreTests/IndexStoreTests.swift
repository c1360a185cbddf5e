import StarlingCore
import StarlingTestSupport
import Testing

/// An index server's store: what it keeps, hands out and refuses.
@Suite struct IndexStoreTests {
    static let wallClock = UnixTime(seconds: 1_800_000_000)
    static let host = PeerAddress.Host.ipv4(0x0A00_0001)

    static func identity(_ index: Int) -> IdentityKeyPair {
        var seed = [UInt8](repeating: 0, count: 32)
        seed[0] = UInt8(index & 0xFF)
        seed[1] = UInt8(index >> 8 & 0xFF)
        seed[2] = 0x5C
        return try! IdentityKeyPair(seed: seed)
    }

    static func record(
        _ identity: IdentityKeyPair, services: [String] = [], sequence: UInt64 = 1, lifetime: Duration = .seconds(3_600)
    ) -> SignedPeerRecord {
        let record = PeerRecord(
            peerID: identity.peerID, sequence: sequence, expiresAt: wallClock + lifetime,
            addresses: [.ipv4(10, 0, 0, 1, port: 7946)], services: services)
        return try! record.sign(with: identity)
    }

    static func register(
        _ store: inout IndexStore, _ record: SignedPeerRecord, host: PeerAddress.Host = host, at now: Instant = .zero,
        lifetime: Duration = .seconds(30)
    ) -> IndexRegistrationStatus {
        store.register(record, lifetime: lifetime, from: host, now: now, wallNow: wallClock + (now - .zero))
    }

    @Test func indexStore_storesRecordsAndProviders_untilTheyExpire() {
        var store = IndexStore(limits: IndexLimits())
        let alice = Self.identity(1)
        let bob = Self.identity(2)
        #expect(Self.register(&store, Self.record(alice, services: ["chat", "files"])) == .stored)
        #expect(Self.register(&store, Self.record(bob, services: ["chat"]), lifetime: .seconds(60)) == .stored)
        var random = TestRandom(seed: 1)
        #expect(store.record(of: alice.peerID, now: .zero)?.record.services == ["chat", "files"])
        #expect(
            Set(store.providers(of: "chat", count: 16, now: .zero, using: &random).map(\.record.peerID)) == [
                alice.peerID, bob.peerID,
            ])
        // Alice's registration lapses after 30 s, Bob's after 60 s.
        let later = Instant.zero + .seconds(31)
        #expect(store.record(of: alice.peerID, now: later) == nil)
        #expect(store.providers(of: "chat", count: 16, now: later, using: &random).map(\.record.peerID) == [bob.peerID])
        store.sweep(now: later)
        #expect(store.count == 1)
        #expect(store.providers(of: "files", count: 16, now: later, using: &random).isEmpty)
        #expect(store.serviceCount == 1)
        #expect(store.statistics.expired == 1)
    }

    @Test func indexStore_handoffsFromAFellow_passThePerHostLimits_butNotTheTotalOrTheSignature() {
        var limits = IndexLimits()
        limits.maximumRegistrationsPerHost = 2
        limits.maximumRegistrations = 4
        var store = IndexStore(limits: limits)
        let fellow = PeerAddress.Host.ipv4(0x0A00_0002)
        func handOff(_ record: SignedPeerRecord) -> IndexRegistrationStatus {
            store.takeHandoff(record, lifetime: .seconds(20), from: fellow, now: .zero, wallNow: Self.wallClock)
        }
        // Three records from one fellow: over its host's limit of two, and taken.
        for index in 1...3 { #expect(handOff(Self.record(Self.identity(index))) == .stored) }
        #expect(store.count == 3)
        // A record held as new already is left alone; an older one is stale.
        #expect(Self.register(&store, Self.record(Self.identity(4), sequence: 2)) == .stored)
        #expect(handOff(Self.record(Self.identity(4), sequence: 2)) == .stored)
        #expect(handOff(Self.record(Self.identity(4), sequence: 1)) == .stored)
        #expect(store.record(of: Self.identity(4).peerID, now: .zero)?.record.sequence == 2)
        // The total limit holds, and a forged record is refused.
        #expect(handOff(Self.record(Self.identity(5))) == .full)
        var bytes = Self.record(Self.identity(1), sequence: 9).encoded
        bytes[bytes.count - 1] ^= 1
        #expect(handOff(try! SignedPeerRecord.decode(bytes[...])) == .invalid)
        #expect(store.statistics.handoffs[.stored] == 5 && store.statistics.handoffs[.full] == 1)
        #expect(store.statistics.registrations[.stored] == 1)
        // The peer's own registration takes a handed-over record back under its own host.
        #expect(Self.register(&store, Self.record(Self.identity(1), sequence: 2)) == .stored)
        #expect(store.entries[Self.identity(1).peerID]?.host == Self.host)
    }

    @Test func indexStore_newerRecordReplacesOlder_olderIsStale_andServicesFollow() {
        var store = IndexStore(limits: IndexLimits())
        let alice = Self.identity(1)
        var random = TestRandom(seed: 1)
        #expect(Self.register(&store, Self.record(alice, services: ["chat"], sequence: 5)) == .stored)
        #expect(Self.register(&store, Self.record(alice, services: ["old"], sequence: 4)) == .stale)
        #expect(Self.register(&store, Self.record(alice, services: ["files"], sequence: 6)) == .stored)
        #expect(store.providers(of: "chat", count: 16, now: .zero, using: &random).isEmpty)
        #expect(store.providers(of: "files", count: 16, now: .zero, using: &random).count == 1)
        #expect(store.record(of: alice.peerID, now: .zero)?.record.sequence == 6)
    }

    @Test func indexStore_forgedOrExpiredRecords_areRefused() {
        var store = IndexStore(limits: IndexLimits())
        let alice = Self.identity(1)
        let signed = Self.record(alice)
        var forgedSignature = signed.encoded
        forgedSignature[forgedSignature.count - 1] ^= 1
        let forged = try! SignedPeerRecord.decode(forgedSignature[...])
        #expect(Self.register(&store, forged) == .invalid)
        let expired = Self.record(alice, lifetime: .seconds(10))
        #expect(Self.register(&store, expired, at: .zero + .seconds(20)) == .invalid)
        #expect(store.count == 0)
        #expect(store.statistics.refused == 2)
    }

    @Test func indexStore_floodOfFreePeerIDsFromOneHost_stopsAtTheHostLimit_othersStillRegister() {
        let limits = IndexLimits(maximumRegistrationsPerHost: 50)
        var store = IndexStore(limits: limits)
        var outcomes: [IndexRegistrationStatus: Int] = [:]
        for index in 0..<200 {
            outcomes[Self.register(&store, Self.record(Self.identity(index))), default: 0] += 1
        }
        #expect(outcomes == [.stored: 50, .hostFull: 150])
        // Another host still registers, and a held peer still refreshes.
        #expect(Self.register(&store, Self.record(Self.identity(500)), host: .ipv4(0x0A00_0002)) == .stored)
        #expect(Self.register(&store, Self.record(Self.identity(0), sequence: 2)) == .stored)
        #expect(store.count == 51)
    }

    @Test func indexStore_totalAndPerServiceLimits_keepHeldEntries() {
        let limits = IndexLimits(maximumRegistrations: 20, maximumProvidersPerService: 5)
        var store = IndexStore(limits: limits)
        var random = TestRandom(seed: 2)
        var outcomes: [IndexRegistrationStatus: Int] = [:]
        for index in 0..<30 {
            let status = Self.register(&store, Self.record(Self.identity(index), services: ["chat"]))
            outcomes[status, default: 0] += 1
        }
        #expect(outcomes == [.stored: 5, .storedPartly: 15, .full: 10])
        #expect(store.providers(of: "chat", count: 16, now: .zero, using: &random).count == 5)
        // Once registrations lapse there is room again.
        store.sweep(now: .zero + .seconds(31))
        #expect(Self.register(&store, Self.record(Self.identity(40)), at: .zero + .seconds(31)) == .stored)
    }

    @Test func indexStore_registrationRate_isLimitedPerHost() {
        let limits = IndexLimits(registrationsPerSecondPerHost: 10, registrationBurstPerHost: 20)
        var store = IndexStore(limits: limits)
        let alice = Self.record(Self.identity(1))
        let statuses = (0..<50).map { _ in Self.register(&store, alice) }
        #expect(statuses.filter { $0 == .stored }.count == 20)
        #expect(statuses.filter { $0 == .rateLimited }.count == 30)
        // A second later ten more are accepted; another host was never limited.
        let later = Instant.zero + .seconds(1)
        #expect((0..<15).map { _ in Self.register(&store, alice, at: later) }.filter { $0 == .stored }.count == 10)
        #expect(Self.register(&store, alice, host: .ipv4(0x0A00_0009), at: later) == .stored)
    }

    @Test func indexStore_providerAnswers_sampleWhenThereAreMany() {
        var store = IndexStore(limits: IndexLimits())
        for index in 0..<100 {
            _ = Self.register(&store, Self.record(Self.identity(index), services: ["chat"]))
        }
        var random = TestRandom(seed: 3)
        var seen = Set<PeerID>()
        for _ in 0..<20 {
            let sample = store.providers(of: "chat", count: 16, now: .zero, using: &random)
            #expect(sample.count == 16)
            #expect(Set(sample.map(\.record.peerID)).count == 16)
            seen.formUnion(sample.map(\.record.peerID))
        }
        #expect(seen.count > 80)
    }
}
