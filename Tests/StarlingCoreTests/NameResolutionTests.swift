import StarlingCore
import StarlingTestSupport
import Testing

/// The name store, the resolver cache and the resolution walk, fed by hand.
struct NameResolutionTests {
    typealias Fixture = NameRecordTests
    static let wall = Fixture.wall
    static let alice = Fixture.key(1)
    static let bob = Fixture.key(2)
    static let pins = ["alice": alice.peerID]
    static let later = Instant.zero + .seconds(1)

    static func chain(_ records: SignedNameRecord...) -> NameChain { NameChain(records: records) }

    @Test func theStoreKeepsTheNewestChainAndIsBounded() throws {
        var store = NameStore(capacity: 3, capacityPerZone: 2)
        let now = Instant.zero
        let v1 = Self.chain(try Fixture.record(Self.alice, "www", sequence: 1, .data(NameData())))
        let v2 = Self.chain(try Fixture.record(Self.alice, "www", sequence: 2, .data(Fixture.printerData)))
        let key = try #require(v1.key)
        #expect(store.insert(v1, expiresAt: now + .seconds(60), now: now) == .stored)
        #expect(store.insert(v2, expiresAt: now + .seconds(60), now: now) == .updated)
        #expect(store.insert(v2, expiresAt: now + .seconds(60), now: now) == .refreshed)
        #expect(store.insert(v1, expiresAt: now + .seconds(60), now: now) == .stale)
        #expect(store.chain(at: key, now: now) == v2)
        // One zone holds at most two keys; the store three in all.
        let other = Self.chain(try Fixture.record(Self.alice, "ftp", .data(NameData())))
        let third = Self.chain(try Fixture.record(Self.alice, "mail", .data(NameData())))
        #expect(store.insert(other, expiresAt: now + .seconds(60), now: now) == .stored)
        #expect(store.insert(third, expiresAt: now + .seconds(60), now: now) == .full)
        let bobs = Self.chain(try Fixture.record(Self.bob, "www", .data(NameData())))
        let bobs2 = Self.chain(try Fixture.record(Self.bob, "ftp", .data(NameData())))
        #expect(store.insert(bobs, expiresAt: now + .seconds(60), now: now) == .stored)
        #expect(store.insert(bobs2, expiresAt: now + .seconds(60), now: now) == .full)
        // Expired entries make room, and an expired chain no longer blocks an older one.
        let later = now + .seconds(61)
        #expect(store.chain(at: key, now: later) == nil)
        #expect(store.insert(bobs2, expiresAt: later + .seconds(60), now: later) == .stored)
        #expect(store.count == 1)
    }

    @Test func theCacheHonoursTTLsAndIsBounded() throws {
        var cache = NameCache(capacity: 2)
        let now = Instant.zero
        let www = try Fixture.record(Self.alice, "www", sequence: 5, ttl: 30, .data(NameData()))
        cache.insert(www, now: now, wallClock: Self.wall)
        let key = NameCache.Key(zone: Self.alice.peerID, label: "www")
        #expect(cache.lookup(key, now: now + .seconds(29)) == .record(www))
        #expect(cache.lookup(key, now: now + .seconds(30)) == nil)
        #expect(cache.highestSequence(key) == 5)
        // A record is never cached past its expiry, whatever its TTL.
        let short = try Fixture.record(Self.alice, "ftp", expiresIn: 10, ttl: 3_600, .data(NameData()))
        cache.insert(short, now: now, wallClock: Self.wall)
        #expect(cache.lookup(NameCache.Key(zone: Self.alice.peerID, label: "ftp"), now: now + .seconds(10)) == nil)
        // Names known missing, for the negative TTL.
        let missing = NameCache.Key(zone: Self.alice.peerID, label: "nope")
        cache.insertMissing(missing, now: now)
        #expect(cache.lookup(missing, now: now + (NameConstants.negativeTTL - .seconds(1))) == .missing)
        #expect(cache.lookup(missing, now: now + NameConstants.negativeTTL) == nil)
        for index in 0..<10 { cache.insertMissing(NameCache.Key(zone: Self.bob.peerID, label: "n\(index)"), now: now) }
        #expect(cache.count <= 2)
        // The oldest store goes first: a key stored again counts from its latest store.
        let (a, b, c) = (
            NameCache.Key(zone: Self.bob.peerID, label: "a"), NameCache.Key(zone: Self.bob.peerID, label: "b"),
            NameCache.Key(zone: Self.bob.peerID, label: "c")
        )
        var small = NameCache(capacity: 2)
        for key in [a, b, a, c] { small.insertMissing(key, now: now) }
        #expect(small.lookup(a, now: now) == .missing)
        #expect(small.lookup(b, now: now) == nil)
        #expect(small.lookup(c, now: now) == .missing)
    }

    /// A three-label name costs one lookup when its chain is stapled, and none once cached.
    @Test func aStapledChainResolvesInOneLookup() throws {
        let carol = Fixture.key(3)
        let lab = try Fixture.record(Self.alice, "lab", .delegation(Self.bob.peerID))
        let printer = try Fixture.record(Self.bob, "printer", .delegation(carol.peerID))
        let queue = try Fixture.record(carol, "queue", .data(Fixture.printerData))
        var cache = NameCache(capacity: 64)
        let name = try OverlayName("queue.printer.lab.alice")
        var resolution = try NameResolution(name: name, pins: Self.pins)
        let first = resolution.start(cache: &cache, now: .zero, wallClock: Self.wall)
        #expect(first == .fetch(RoutingKey(nameZone: Self.alice.peerID, path: "queue.printer.lab")))
        let step = resolution.received(
            Self.chain(lab, printer, queue), refused: nil, hops: 2, cache: &cache, now: .zero, wallClock: Self.wall)
        guard case .done(.success(let resolved)) = step else {
            Issue.record("expected a resolution, got \(step)")
            return
        }
        #expect(resolved.chain == [lab, printer, queue])
        #expect(resolved.data == Fixture.printerData)
        #expect(resolved.roundTrips == 2)
        #expect(resolved.lookups == 1)
        var again = try NameResolution(name: name, pins: Self.pins)
        guard case .done(.success(let cached)) = again.start(cache: &cache, now: Self.later, wallClock: Self.wall)
        else {
            Issue.record("the cache did not answer")
            return
        }
        #expect(cached.lookups == 0)
        #expect(cached.chain == [lab, printer, queue])
    }

    /// Without a stapled chain the walk asks label by label; a label nobody holds is
    /// missing, and stays so in the cache.
    @Test func theWalkFallsBackLabelByLabel() throws {
        let lab = try Fixture.record(Self.alice, "lab", .delegation(Self.bob.peerID))
        let printer = try Fixture.record(Self.bob, "printer", .data(Fixture.printerData))
        var cache = NameCache(capacity: 64)
        var resolution = try NameResolution(name: try OverlayName("printer.lab.alice"), pins: Self.pins)
        #expect(
            resolution.start(cache: &cache, now: .zero, wallClock: Self.wall)
                == .fetch(RoutingKey(nameZone: Self.alice.peerID, path: "printer.lab")))
        var step = resolution.received(nil, refused: nil, hops: 3, cache: &cache, now: .zero, wallClock: Self.wall)
        #expect(step == .fetch(RoutingKey(nameZone: Self.alice.peerID, path: "lab")))
        step = resolution.received(
            Self.chain(lab), refused: nil, hops: 2, cache: &cache, now: .zero, wallClock: Self.wall)
        #expect(step == .fetch(RoutingKey(nameZone: Self.bob.peerID, path: "printer")))
        step = resolution.received(
            Self.chain(printer), refused: nil, hops: 2, cache: &cache, now: .zero, wallClock: Self.wall)
        guard case .done(.success(let resolved)) = step else {
            Issue.record("expected a resolution, got \(step)")
            return
        }
        #expect(resolved.roundTrips == 7)
        #expect(resolved.lookups == 3)

        let missingName = try OverlayName("fax.lab.alice")
        var missing = try NameResolution(name: missingName, pins: Self.pins)
        // The delegation of lab is cached: the walk goes straight to bob's zone.
        #expect(
            missing.start(cache: &cache, now: .zero, wallClock: Self.wall)
                == .fetch(RoutingKey(nameZone: Self.bob.peerID, path: "fax")))
        #expect(
            missing.received(nil, refused: nil, hops: 3, cache: &cache, now: .zero, wallClock: Self.wall)
                == .done(.failure(.noSuchName("fax.lab.alice"))))
        var again = try NameResolution(name: missingName, pins: Self.pins)
        #expect(
            again.start(cache: &cache, now: Self.later, wallClock: Self.wall)
                == .done(.failure(.noSuchName("fax.lab.alice"))))
    }

    @Test func rolledBackAndMisplacedChainsAreRefused() throws {
        let v2 = try Fixture.record(Self.alice, "www", sequence: 2, ttl: 0, .data(Fixture.printerData))
        let v1 = try Fixture.record(Self.alice, "www", sequence: 1, .data(NameData()))
        var cache = NameCache(capacity: 64)
        let name = try OverlayName("www.alice")
        var first = try NameResolution(name: name, pins: Self.pins)
        _ = first.start(cache: &cache, now: .zero, wallClock: Self.wall)
        guard
            case .done(.success) = first.received(
                Self.chain(v2), refused: nil, hops: 1, cache: &cache, now: .zero, wallClock: Self.wall)
        else {
            Issue.record("the newer record did not resolve")
            return
        }
        // TTL 0: nothing cached, so the next resolution asks again and gets the old record.
        var second = try NameResolution(name: name, pins: Self.pins)
        _ = second.start(cache: &cache, now: Self.later, wallClock: Self.wall)
        #expect(
            second.received(Self.chain(v1), refused: nil, hops: 1, cache: &cache, now: Self.later, wallClock: Self.wall)
                == .done(.failure(.rolledBack(name: "www.alice", seen: 2, got: 1))))
        // A valid chain for another name.
        var third = try NameResolution(name: name, pins: Self.pins)
        _ = third.start(cache: &cache, now: Self.later, wallClock: Self.wall)
        let elsewhere = try Fixture.record(Self.alice, "ftp", .data(NameData()))
        #expect(
            third.received(
                Self.chain(elsewhere), refused: nil, hops: 1, cache: &cache, now: Self.later, wallClock: Self.wall)
                == .done(.failure(.forged("a chain for another name"))))
        // What the lookup refused is what the resolution reports.
        var fourth = try NameResolution(name: name, pins: Self.pins)
        _ = fourth.start(cache: &cache, now: Self.later, wallClock: Self.wall)
        #expect(
            fourth.received(
                nil, refused: .expired("www"), hops: 1, cache: &cache, now: Self.later, wallClock: Self.wall)
                == .done(.failure(.expired("www"))))
    }

    @Test func delegationLoopsEnd() throws {
        let aLoop = try Fixture.record(Self.alice, "b", .delegation(Self.bob.peerID))
        let bLoop = try Fixture.record(Self.bob, "a", .delegation(Self.alice.peerID))
        var cache = NameCache(capacity: 64)
        cache.insert(aLoop, now: .zero, wallClock: Self.wall)
        cache.insert(bLoop, now: .zero, wallClock: Self.wall)
        var resolution = try NameResolution(name: try OverlayName("x.a.b.alice"), pins: Self.pins)
        #expect(
            resolution.start(cache: &cache, now: .zero, wallClock: Self.wall)
                == .done(.failure(.delegationLoop("x.a.b.alice"))))
    }
}
