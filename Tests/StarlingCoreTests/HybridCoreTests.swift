import StarlingCore
import StarlingTestSupport
import Testing

/// The hybrid core on its own: index servers and clients wired by a tiny in-test
/// network (instant delivery, cut links, a virtual clock), so every rule is seen
/// message by message.
@Suite struct HybridCoreTests {
    static let wallClock = UnixTime(seconds: 1_800_000_000)

    /// Cores by address, and the links that are cut.
    struct Net {
        var cores: [PeerAddress: HybridCore] = [:]
        var order: [PeerAddress] = []
        var cut: Set<PeerAddress> = []
        var now = Instant.zero
        var events: [PeerAddress: [HybridEvent]] = [:]
        var delivered = 0

        static func address(_ index: Int) -> PeerAddress { .ipv4(10, 0, 0, UInt8(index + 1), port: 7946) }

        static func identity(_ index: Int) -> IdentityKeyPair {
            try! IdentityKeyPair(seed: [UInt8](repeating: UInt8(index + 1), count: 32))
        }

        static func record(_ index: Int, services: [String] = [], sequence: UInt64 = 1) -> SignedPeerRecord {
            let record = PeerRecord(
                peerID: identity(index).peerID, sequence: sequence, expiresAt: wallClock + .seconds(3_600),
                addresses: [address(index)], services: services)
            return try! record.sign(with: identity(index))
        }

        mutating func add(_ index: Int, _ configuration: HybridConfiguration, services: [String] = []) {
            let address = Self.address(index)
            var core = HybridCore(
                configuration: configuration, record: Self.record(index, services: services), address: address,
                wallClockAtZero: HybridCoreTests.wallClock, seed: UInt64(index))
            core.start(now: now)
            cores[address] = core
            order.append(address)
        }

        /// Delivers every queued message (instantly), then fires due timers, until quiet.
        mutating func settle() {
            var progress = true
            while progress {
                progress = false
                for address in order {
                    var buffer: [UInt8] = []
                    while let destination = cores[address]!.pollTransmit(now: now, into: &buffer) {
                        progress = true
                        guard !cut.contains(address), !cut.contains(destination), cores[destination] != nil else {
                            continue
                        }
                        delivered += 1
                        cores[destination]!.handleMessage(buffer[...], from: address, now: now)
                    }
                    while let event = cores[address]!.pollEvent() { events[address, default: []].append(event) }
                }
            }
        }

        /// Advances time by `duration` in steps of 10 ms, firing timers and delivering.
        mutating func run(for duration: Duration) {
            let end = now + duration
            while now < end {
                now = now + .milliseconds(10)
                for address in order {
                    if let due = cores[address]!.pollTimeout(), due <= now { cores[address]!.handleTimeout(now: now) }
                }
                settle()
            }
        }

        func result(_ id: LookupID, at index: Int) -> (LookupResult?, fellBack: Bool) {
            for event in events[Self.address(index)] ?? [] {
                if case .lookupFinished(id, let result) = event { return (result, false) }
                if case .fallback(id, _, _, _) = event { return (nil, true) }
            }
            return (nil, false)
        }
    }

    /// Three index servers (0, 1, 2) that know only the first, and clients 3...`last`.
    static func network(clients: Int = 5) -> Net {
        var net = Net()
        for index in 0..<3 { net.add(index, .index(fellows: [Net.address(0)])) }
        for index in 3..<(3 + clients) {
            net.add(index, .client(indexes: [Net.address(0)]), services: index % 2 == 0 ? ["chat"] : [])
        }
        // Long enough for the registrations made while clients knew only the first index
        // server to lapse (30 s): then only the holders by placement hold each record.
        net.run(for: .seconds(35))
        return net
    }

    @Test func hybridCore_clientsFindEveryIndexServer_andRegisterWithTheHoldersOfTheirKeys() {
        let net = Self.network()
        let indexIDs = (0..<3).map { Net.identity($0).peerID }
        for address in net.order {
            #expect(Set(net.cores[address]!.knownIndexes.map(\.id)) == Set(indexIDs))
            #expect(net.cores[address]!.upIndexes.count == 3)
        }
        for client in 3..<8 {
            let id = Net.identity(client).peerID
            var keys = [RoutingKey(peer: id)]
            if client % 2 == 0 { keys.append(RoutingKey(service: "chat")) }
            let holders = Set(keys.flatMap { IndexPlacement.holders(of: $0, among: indexIDs, count: 2) })
            for index in 0..<3 {
                let held = net.cores[Net.address(index)]!.store!.record(of: id, now: net.now) != nil
                #expect(held == holders.contains(indexIDs[index]), "client \(client) at index \(index)")
            }
        }
        // Each event stream starts with the role.
        #expect(net.events[Net.address(0)]?.first == .topology(.role(.index)))
        #expect(net.events[Net.address(3)]?.first == .topology(.role(.client)))
    }

    @Test func hybridCore_lookupsAndProviderQueries_areAnsweredInOneRequest_evenByAnIndexServerItself() throws {
        var net = Self.network()
        let wanted = Net.identity(4).peerID
        let idStarted = net.cores[Net.address(3)]!.findPeer(wanted, now: net.now)
        let id = try #require(idStarted)
        // An index server asks too; when it holds the key itself, it answers itself.
        let ownStarted = net.cores[Net.address(0)]!.findPeer(wanted, now: net.now)
        let own = try #require(ownStarted)
        let serviceStarted = net.cores[Net.address(5)]!.findProviders(service: "chat", now: net.now)
        let service = try #require(serviceStarted)
        net.settle()
        let (result, _) = net.result(id, at: 3)
        #expect(result?.outcome == .peer(Net.record(4, services: ["chat"])))
        #expect(result?.requests == 1 && result?.hops == 1)
        #expect(net.result(own, at: 0).0?.outcome == .peer(Net.record(4, services: ["chat"])))
        guard case .providers(let records) = net.result(service, at: 5).0?.outcome else {
            Issue.record("no providers")
            return
        }
        #expect(Set(records.map(\.record.peerID)) == Set([4, 6].map { Net.identity($0).peerID }))
    }

    @Test func hybridCore_holderCut_lookupGoesToTheNext_thenServerCountedDown_andRecordsMove() throws {
        var net = Self.network()
        let wanted = Net.identity(4).peerID
        let indexIDs = (0..<3).map { Net.identity($0).peerID }
        let first = IndexPlacement.holders(of: RoutingKey(peer: wanted), among: indexIDs, count: 2)[0]
        let firstAddress = Net.address(indexIDs.firstIndex(of: first)!)
        net.cut.insert(firstAddress)
        let idStarted = net.cores[Net.address(3)]!.findPeer(wanted, now: net.now)
        let id = try #require(idStarted)
        net.run(for: .seconds(3))
        let (result, _) = net.result(id, at: 3)
        #expect(result?.outcome == .peer(Net.record(4, services: ["chat"])))
        #expect(result?.requests == 2 && result?.timeouts == 1)
        // Two unanswered requests count it down; membership would say so sooner.
        _ = net.cores[Net.address(3)]!.findPeer(wanted, now: net.now)
        net.run(for: .seconds(3))
        #expect(net.cores[Net.address(3)]!.indexState(first)?.isUp == false)
        #expect(net.events[Net.address(3)]!.contains(.topology(.indexDown(first))))
        // Membership reports it failed at the others: they re-place their records.
        for address in net.order where address != firstAddress {
            net.cores[address]!.memberGone(first, left: false, now: net.now)
        }
        net.run(for: .seconds(1))
        let live = indexIDs.filter { $0 != first }
        for client in 3..<8 {
            let id = Net.identity(client).peerID
            for holder in IndexPlacement.holders(of: RoutingKey(peer: id), among: live, count: 2) {
                let address = Net.address(indexIDs.firstIndex(of: holder)!)
                #expect(net.cores[address]!.store!.record(of: id, now: net.now) != nil)
            }
        }
    }

    @Test func hybridCore_indexServerLost_fellowsCountItDown_andHandItsKeysOver_beforeClientsKnow() {
        var net = Self.network()
        let indexIDs = (0..<3).map { Net.identity($0).peerID }
        let lost = indexIDs[1]
        net.cut.insert(Net.address(1))
        // Two heartbeats unanswered (500 ms apart): the fellows count it down.
        net.run(for: .seconds(2))
        let live = [indexIDs[0], indexIDs[2]]
        for index in [0, 2] {
            #expect(net.cores[Net.address(index)]!.indexState(lost)?.isUp == false)
        }
        // Clients that have not counted it down yet registered nowhere anew (one whose
        // jittered refresh fell in these 2 s may have): their records reached the keys'
        // new holders by handoff.
        let unaware = (3..<8).filter { net.cores[Net.address($0)]!.indexState(lost)?.isUp == true }
        #expect(unaware.count >= 3)
        let handedOver = [0, 2].reduce(0) { $0 + net.cores[Net.address($1)]!.statistics.handoffsSent }
        #expect(handedOver > 0)
        for client in unaware {
            let id = Net.identity(client).peerID
            var keys = [RoutingKey(peer: id)]
            if client % 2 == 0 { keys.append(RoutingKey(service: "chat")) }
            for holder in Set(keys.flatMap { IndexPlacement.holders(of: $0, among: live, count: 2) }) {
                let store = net.cores[Net.address(indexIDs.firstIndex(of: holder)!)]!.store!
                #expect(store.record(of: id, now: net.now) != nil, "client \(client) at \(holder)")
            }
        }
        // A handoff from an address that is no fellow index server is dropped.
        var stranger = net.cores[Net.address(0)]!
        let before = stranger.store!.count
        let record = Net.record(9)
        let bytes = try! IndexMessage.handoff(request: 0, records: [HandedRecord(lifetime: 30, record: record)])
            .encoded()
        stranger.handleMessage(bytes[...], from: Net.address(9), now: net.now)
        #expect(stranger.store!.count == before)
        #expect(stranger.store!.record(of: record.record.peerID, now: net.now) == nil)
    }

    @Test func hybridCore_registrationsMadeTogether_areRefreshedApart() {
        // One index server, 40 clients that register at the same instant.
        var net = Net()
        net.add(0, .index())
        for index in 1...40 { net.add(index, .client(indexes: [Net.address(0)])) }
        net.settle()
        func stored() -> Int { net.cores[Net.address(0)]!.store!.statistics.registrations[.stored] ?? 0 }
        #expect(stored() == 41, "the 40 clients and the index server itself")
        // Each refreshes after a third of its 30 s, less up to a quarter of that: within
        // 7.5–10 s, and not in one burst.
        var steps: [Int] = []
        var before = stored()
        for step in 1...1_100 {
            net.run(for: .milliseconds(10))
            if stored() > before { steps.append(step) }
            before = stored()
        }
        #expect(stored() >= 82)
        #expect(steps.allSatisfy { $0 >= 750 }, "no refresh before 7.5 s: \(steps.prefix(3))")
        #expect(Set(steps.prefix(while: { $0 <= 1_000 })).count > 10, "refreshes spread over the window")
    }

    @Test func hybridCore_everyIndexServerLost_fallsBack_andComesBackWhenOneAnswers() throws {
        var net = Self.network(clients: 1)
        let client = Net.address(3)
        for index in 0..<3 {
            net.cores[client]!.memberGone(Net.identity(index).peerID, left: false, now: net.now)
        }
        #expect(net.cores[client]!.isFallbackActive)
        #expect(net.cores[client]!.findPeer(Net.identity(0).peerID, now: net.now) == nil)
        net.settle()
        #expect(net.events[client]!.contains(.topology(.fallbackStarted)))
        net.cores[client]!.memberAlive(Net.identity(1).peerID, address: Net.address(1), now: net.now)
        net.settle()
        #expect(!net.cores[client]!.isFallbackActive)
        #expect(net.events[client]!.contains(.topology(.fallbackEnded)))
        // It registered again with the server that came back (it may have restarted empty).
        let idStarted = net.cores[client]!.findPeer(Net.identity(3).peerID, now: net.now)
        let id = try #require(idStarted)
        net.settle()
        #expect(net.result(id, at: 3).0?.outcome == .peer(Net.record(3)))
    }

    @Test func hybridCore_clientWhoseIndexServerIsTooBusy_asksMembersForTheList() {
        var net = Self.network(clients: 1)
        // A newcomer configured with index server 0, which is too busy to answer it.
        net.cut.insert(Net.address(0))
        net.add(4, .client(indexes: [Net.address(0)]))
        net.run(for: .seconds(2))
        #expect(net.cores[Net.address(4)]!.knownIndexes.isEmpty)
        // Membership brings it members (its join was answered): it asks one of them at
        // its next retry.
        net.cores[Net.address(4)]!.memberAlive(Net.identity(3).peerID, address: Net.address(3), now: net.now)
        net.run(for: .seconds(2))
        let known = Set(net.cores[Net.address(4)]!.knownIndexes.map(\.id))
        #expect(known == Set((0..<3).map { Net.identity($0).peerID }), "client 3 listed the index servers")
        // Once it knows an index server, members are not asked any more.
        let delivered = net.delivered
        net.cores[Net.address(4)]!.memberAlive(Net.identity(5).peerID, address: Net.address(5), now: net.now)
        net.settle()
        #expect(net.delivered == delivered)
    }

    @Test func hybridCore_clientOfALargeSwarm_holdsOnlyTheIndexServers_byTheirMedianCount() {
        var net = Net()
        for index in 0..<3 {
            var server = HybridConfiguration.index(fellows: [Net.address(0)])
            server.clientViewThreshold = 500
            net.add(index, server)
        }
        var large = HybridConfiguration.client(indexes: [Net.address(0)])
        large.clientViewThreshold = 500
        net.add(3, large)
        net.add(4, .client(indexes: [Net.address(0)]))
        net.run(for: .seconds(2))
        let clients = [Net.address(3), Net.address(4)]
        let indexIDs = Set((0..<3).map { Net.identity($0).peerID })
        func loseEveryIndexServer() {
            for client in clients {
                for index in 0..<3 {
                    net.cores[client]!.memberGone(Net.identity(index).peerID, left: false, now: net.now)
                }
            }
        }
        /// The index servers come to hold `counts` members; the clients hear each count
        /// (membership called every server gone, so each is asked for its list again).
        func report(_ counts: [Int]) {
            for index in 0..<3 { net.cores[Net.address(index)]!.setHeldMembers(counts[index]) }
            loseEveryIndexServer()
            net.run(for: .seconds(2))
            #expect(net.cores[clients[0]]!.upIndexes.count == 3)
        }
        func prefersPartialView(_ client: Int = 0) -> Bool { net.cores[clients[client]]!.prefersPartialView }
        #expect(!prefersPartialView())
        #expect(net.cores[clients[0]]!.featuredMembers.isEmpty, "a full view features nobody")
        #expect(
            net.cores[Net.address(0)]!.featuredMembers == indexIDs.subtracting([Net.identity(0).peerID]),
            "an index server features its fellows")
        #expect(
            Self.network(clients: 0).cores[Net.address(0)]!.featuredMembers.isEmpty,
            "unless its threshold is 0, the default")

        report([10_000, 12, 12])
        #expect(!prefersPartialView(), "one server's count moves nothing (the median counts)")
        report([600, 600, 12])
        #expect(prefersPartialView(), "the threshold is 500")
        #expect(net.cores[clients[0]]!.featuredMembers == indexIDs)
        #expect(!prefersPartialView(1), "the default threshold, 0: never")
        #expect(!net.cores[Net.address(0)]!.prefersPartialView, "an index server holds every member")
        loseEveryIndexServer()
        #expect(prefersPartialView(), "the fallback keeps the partial view")
        report([300, 300, 300])
        #expect(prefersPartialView(), "half the threshold keeps it (hysteresis)")
        report([200, 200, 200])
        #expect(!prefersPartialView())
        #expect(net.cores[clients[0]]!.featuredMembers.isEmpty)
    }

    @Test func hybridCore_indexServersMembershipCallsGone_areAskedAgain_andAnAnswerBringsThemBack() {
        var net = Self.network(clients: 1)
        let client = Net.address(3)
        // Membership declared every index server failed, but they still answer (an index
        // server restarted without rejoining the overlay looks like this).
        for index in 0..<3 {
            net.cores[client]!.memberGone(Net.identity(index).peerID, left: false, now: net.now)
        }
        #expect(net.cores[client]!.isFallbackActive)
        net.run(for: .seconds(2))
        #expect(!net.cores[client]!.isFallbackActive)
        #expect(net.cores[client]!.upIndexes.count == 3)
    }

    @Test func hybridCore_answersFromAnotherAddress_andGarbage_areCountedAndIgnored() throws {
        var net = Self.network(clients: 1)
        let client = Net.address(3)
        let started = net.cores[client]!.findPeer(Net.identity(0).peerID, now: net.now)
        #expect(started != nil)
        var buffer: [UInt8] = []
        let destinationStarted = net.cores[client]!.pollTransmit(now: net.now, into: &buffer)
        let destination = try #require(destinationStarted)
        let request = try IndexMessage.decode(buffer[...]).request
        let forged = try IndexMessage.records(request: request, records: [Net.record(9)]).encoded()
        net.cores[client]!.handleMessage(forged[...], from: Net.address(9), now: net.now)
        net.cores[client]!.handleMessage([0xFF, 1, 2][...], from: destination, now: net.now)
        #expect(net.cores[client]!.statistics.unexpectedAnswers == 1)
        #expect(net.cores[client]!.statistics.malformed == 1)
        // The real holder's answer with a record of the wrong peer is not taken either.
        let wrong = try IndexMessage.records(request: request, records: [Net.record(9)]).encoded()
        net.cores[client]!.handleMessage(wrong[...], from: destination, now: net.now)
        #expect(net.cores[client]!.statistics.invalidRecords == 1)
    }

    @Test func hybridCore_floodOfRegistrationsWithFreeIDs_isBoundedByTheHostLimit() throws {
        var limits = IndexLimits()
        limits.maximumRegistrationsPerHost = 100
        var server = HybridCore(
            configuration: HybridConfiguration(role: .index, limits: limits), record: Net.record(0),
            address: Net.address(0), wallClockAtZero: Self.wallClock, seed: 1)
        server.start(now: .zero)
        let attacker = PeerAddress.ipv4(192, 0, 2, 1, port: 1)
        var replies: [IndexRegistrationStatus: Int] = [:]
        var buffer: [UInt8] = []
        for index in 0..<1_000 {
            var seed = [UInt8](repeating: 0xEE, count: 32)
            seed[0] = UInt8(index & 0xFF)
            seed[1] = UInt8(index >> 8)
            let identity = try IdentityKeyPair(seed: seed)
            let record = try PeerRecord(
                peerID: identity.peerID, sequence: 1, expiresAt: Self.wallClock + .seconds(3_600),
                addresses: [attacker], services: ["spam"]
            ).sign(with: identity)
            let bytes = try IndexMessage.register(request: UInt32(index + 1), lifetime: 30, record: record).encoded()
            server.handleMessage(bytes[...], from: attacker, now: .zero)
            while server.pollTransmit(now: .zero, into: &buffer) != nil {
                if case .registered(_, let status, _) = try IndexMessage.decode(buffer[...]) {
                    replies[status, default: 0] += 1
                }
            }
        }
        #expect(replies == [.stored: 100, .hostFull: 900])
        #expect(server.store?.count == 101)  // the flood's 100 and the index server's own record
    }

    @Test func overlayIndexServer_floodOfFreeIDsThroughTheEnvelope_isBoundedByRateAndHostLimits() throws {
        var limits = IndexLimits()
        limits.maximumRegistrationsPerHost = 100
        var configuration = OverlayConfiguration.simulation
        configuration.topology = .hybrid(HybridConfiguration(role: .index, limits: limits))
        let indexIdentity = Net.identity(0)
        var server = try OverlayCore(
            identity: indexIdentity, address: Net.address(0), configuration: configuration,
            wallClockAtZero: Self.wallClock, random: TestRandom(seed: 1))
        let envelope = OverlayEnvelope(swarmID: configuration.swarmID, swarmSecret: nil)
        var random = TestRandom(seed: 2)
        let attacker = PeerAddress.ipv4(192, 0, 2, 7, port: 9)
        var datagram: [UInt8] = []
        var buffer: [UInt8] = []
        var now = Instant.zero
        // 5,000 registrations of fresh IDs from one address within one second.
        for index in 0..<5_000 {
            var seed = [UInt8](repeating: 0xD0, count: 32)
            seed[0] = UInt8(index & 0xFF)
            seed[1] = UInt8(index >> 8)
            let identity = try IdentityKeyPair(seed: seed)
            let record = try PeerRecord(
                peerID: identity.peerID, sequence: 1, expiresAt: Self.wallClock + .seconds(3_600),
                addresses: [attacker],
                services: ["spam"]
            ).sign(with: identity)
            let message = try IndexMessage.register(request: UInt32(index + 1), lifetime: 30, record: record).encoded()
            envelope.encode(.index, message, sentAt: Self.wallClock, into: &datagram, using: &random)
            now = .zero + .microseconds(Int64(index) * 200)
            datagram.withUnsafeBytes { server.handleDatagram($0, from: attacker, now: now) }
            while server.pollTransmit(now: now, into: &buffer) != nil {}
        }
        let store = try #require(server.hybrid?.store)
        // The overlay's per-source limit (burst 2,000, then 1,000/s) let some 3,000 through
        // to the index server, whose per-host limit stored 100 and refused the rest.
        #expect(server.statistics.drops[.sourceRateLimited, default: 0] > 1_000)
        #expect(store.statistics.registrations[.stored] == 100 + 1)  // and the index server's own record
        #expect(store.statistics.registrations[.hostFull, default: 0] > 1_000)
        #expect(store.count == 101)
        // A client on another host still registers.
        let client = try PeerRecord(
            peerID: Net.identity(5).peerID, sequence: 1, expiresAt: Self.wallClock + .seconds(3_600),
            addresses: [Net.address(5)], services: ["chat"]
        ).sign(with: Net.identity(5))
        let message = try IndexMessage.register(request: 1, lifetime: 30, record: client).encoded()
        envelope.encode(.index, message, sentAt: Self.wallClock, into: &datagram, using: &random)
        datagram.withUnsafeBytes { server.handleDatagram($0, from: Net.address(5), now: now) }
        #expect(server.hybrid?.store?.record(of: Net.identity(5).peerID, now: now) == client)
    }
}
