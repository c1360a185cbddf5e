import Testing

@testable import StarlingCore

/// The mDNS browser, hand-fed: continuous querying, resolving, known answers, the
/// cache (bounds, cache-flush, goodbyes, refresh), and a browser against a responder.
@Suite struct MDNSBrowserTests {
    static let start = Instant(nanoseconds: 1_000_000_000)
    static let type = try! DNSName("_starling._udp.local")
    static let instance = try! DNSName(label: "Peer One", parent: type)
    static let host = try! DNSName("alpha.local")
    static let responder = PeerAddress.ipv4(10, 0, 0, 1, port: 5353)

    struct Node {
        var core: MDNSBrowser
        var now = MDNSBrowserTests.start
        var sent: [(at: Instant, message: DNSMessage)] = []
        var events: [MDNSBrowserEvent] = []

        init(configuration: MDNSBrowserConfiguration? = nil) throws {
            var configuration = configuration ?? MDNSBrowserConfiguration()
            configuration.destinations = [MDNSConstants.ipv4Group]
            core = try MDNSBrowser(configuration: configuration, seed: 3)
        }

        mutating func drain() {
            var buffer: [UInt8] = []
            while core.pollTransmit(now: now, into: &buffer) != nil {
                sent.append((now, try! DNSMessage.decode(buffer)))
            }
            while let event = core.pollEvent() { events.append(event) }
        }

        mutating func run(until time: Instant) {
            while let due = core.pollTimeout(), due <= time {
                now = max(now, due)
                core.handleTimeout(now: now)
                drain()
            }
            now = max(now, time)
        }

        mutating func run(for duration: Duration) { run(until: now + duration) }

        mutating func receive(
            _ records: [DNSRecord], additionals: [DNSRecord] = [], from source: PeerAddress = MDNSBrowserTests.responder
        ) {
            let message = DNSMessage(flags: DNSMessage.responseFlags, answers: records, additionals: additionals)
            try! message.encoded().withUnsafeBytes { core.handleDatagram($0, from: source, now: now) }
            drain()
        }

        /// Queries sent that ask `name`/`type`.
        func queries(for name: DNSName, _ type: DNSRecordType) -> [(at: Instant, message: DNSMessage)] {
            sent.filter { $0.message.questions.contains { $0.name == name && $0.type == type } }
        }
    }

    static let ptr = DNSRecord(name: type, data: .ptr(instance), ttl: 4500)
    static let srv = DNSRecord(
        name: instance, data: .srv(priority: 0, weight: 0, port: 4242, target: host), ttl: 120, cacheFlush: true)
    static let txt = DNSRecord(
        name: instance, data: .txt([Array("v=1".utf8), Array("ID=x".utf8), Array("v=2".utf8), Array("flag".utf8)]),
        ttl: 4500, cacheFlush: true)
    static let a = DNSRecord(name: host, data: .a(0x0A00_0001), ttl: 120, cacheFlush: true)
    static let aaaa = DNSRecord(name: host, data: .aaaa(high: 0xFD00 << 48, low: 1), ttl: 120, cacheFlush: true)

    @Test func browser_nextInterval_doublesUpToCap() {
        let cap = MDNSConstants.maximumQueryInterval
        #expect(MDNSBrowser.nextInterval(after: .seconds(1), maximum: cap) == .seconds(2))
        #expect(MDNSBrowser.nextInterval(after: .seconds(2048), maximum: cap) == .seconds(3600))
        #expect(MDNSBrowser.nextInterval(after: .seconds(3600), maximum: cap) == .seconds(3600))
    }

    @Test func browser_browse_firstQueryQUAfter20To120msThenDoubling() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        node.run(for: .seconds(40))
        let queries = node.queries(for: Self.type, .ptr)
        #expect(queries.count == 6)
        let first = queries[0].at - Self.start
        #expect(first >= .milliseconds(20) && first <= .milliseconds(120))
        #expect(queries[0].message.questions.first?.unicastResponse == true)
        #expect(queries.dropFirst().allSatisfy { $0.message.questions.first?.unicastResponse == false })
        let gaps = zip(queries.dropFirst(), queries).map { $0.at - $1.at }
        #expect(gaps == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)])
    }

    @Test func browser_response_withAdditionals_resolvesAtOnce() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        node.run(for: .milliseconds(200))
        node.receive([Self.ptr], additionals: [Self.srv, Self.txt, Self.a, Self.aaaa])
        guard case .added(let service) = try #require(node.events.first) else { Issue.record("not added"); return }
        #expect(service.name == Self.instance && service.instance == "Peer One" && service.type == Self.type)
        #expect(service.host == Self.host && service.port == 4242)
        #expect(service.addresses == [.ipv4(0x0A00_0001), .ipv6(high: 0xFD00 << 48, low: 1)])
        let values = service.txtValues
        #expect(values.count == 3)
        #expect(values["v"] == .some(Array("1".utf8)) && values["id"] == .some(Array("x".utf8)))
        #expect(values["flag"] == .some(nil))
        node.sent = []
        node.run(for: .seconds(10))
        #expect(node.sent.allSatisfy { $0.message.questions.allSatisfy { $0.type == .ptr } })
    }

    @Test func browser_ptrOnly_asksForSRVTXTThenAddresses() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        node.run(for: .milliseconds(200))
        node.receive([Self.ptr])
        node.run(for: .milliseconds(200))
        let resolveQuery = try #require(node.queries(for: Self.instance, .srv).first)
        #expect(
            resolveQuery.message.questions.contains {
                $0.name == Self.instance && $0.type == .txt && $0.unicastResponse
            })
        node.receive([Self.srv, Self.txt])
        #expect(node.events.isEmpty)
        node.run(for: .milliseconds(200))
        #expect(node.queries(for: Self.host, .a).count == 1)
        #expect(node.queries(for: Self.host, .aaaa).count == 1)
        node.receive([Self.a])
        #expect(node.events.count == 1)
        node.sent = []
        node.run(for: .seconds(5))
        #expect(node.queries(for: Self.host, .a).isEmpty && node.queries(for: Self.instance, .srv).isEmpty)
    }

    @Test func browser_query_listsKnownAnswersWithMoreThanHalfTTL() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        node.run(for: .milliseconds(200))
        var short = Self.ptr
        short.ttl = 100
        node.receive([short])
        node.sent = []
        node.run(for: .seconds(40))
        for query in node.queries(for: Self.type, .ptr) {
            let known = query.message.answers.filter { $0.data == .ptr(Self.instance) }
            let left = 100 - Double((query.at - node.queries(for: Self.type, .ptr)[0].at).components.seconds) - 1
            if left > 50 {
                #expect(known.count == 1)
                #expect(known.allSatisfy { !$0.cacheFlush && $0.ttl <= 100 && $0.ttl > 50 })
            }
        }
        node.sent = []
        node.run(for: .seconds(30))  // now ~70 s in: less than half left
        #expect(node.queries(for: Self.type, .ptr).allSatisfy { $0.message.answers.isEmpty })
    }

    @Test func browser_query_tooManyKnownAnswers_continuesWithTC() throws {
        var configuration = MDNSBrowserConfiguration()
        configuration.maximumPayload = 512
        var node = try Node(configuration: configuration)
        node.core.browseServiceTypes(now: node.now)
        let many = (0..<40).map { index in
            DNSRecord(
                name: MDNSConstants.servicesName, data: .ptr(try! DNSName("_type-number-\(index)._udp.local")),
                ttl: 4500)
        }
        node.receive(many)
        node.run(for: .milliseconds(200))
        let packets = node.sent.map(\.message)
        #expect(packets.count > 1)
        #expect(packets.dropLast().allSatisfy { $0.isTruncated })
        #expect(packets.last.map { !$0.isTruncated } == true)
        #expect(packets.first?.questions.count == 1)
        #expect(packets.dropFirst().allSatisfy { $0.questions.isEmpty })
        #expect(packets.reduce(0) { $0 + $1.answers.count } == 40)
    }

    @Test func browser_goodbye_removesAfterOneSecond() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        node.receive([Self.ptr, Self.srv, Self.txt, Self.a])
        #expect(node.events.count == 1)
        var goodbye = Self.ptr
        goodbye.ttl = 0
        node.receive([goodbye])
        #expect(node.events.count == 1)
        node.run(for: .milliseconds(999))
        #expect(node.events.count == 1)
        node.run(for: .milliseconds(1))
        #expect(node.events.last == .removed(Self.instance))
    }

    @Test func browser_cacheFlush_expiresOlderRecordsInOneSecond() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        node.receive([Self.ptr, Self.srv, Self.txt, Self.a])
        node.run(for: .seconds(2))
        let b = DNSRecord(name: Self.host, data: .a(0x0A00_0002), ttl: 120, cacheFlush: true)
        node.receive([b])
        // The old address (received 2 s ago) goes 1 s later; the new one stays.
        #expect(node.core.services[Self.instance]?.addresses.count == 2)
        node.run(for: .seconds(1))
        #expect(node.core.services[Self.instance]?.addresses == [.ipv4(0x0A00_0002)])
        #expect(node.events.last.map { if case .updated = $0 { true } else { false } } == true)
        // Two cache-flush records within one second (a multi-packet answer) both stay.
        let c = DNSRecord(name: Self.host, data: .a(0x0A00_0003), ttl: 120, cacheFlush: true)
        node.run(for: .milliseconds(500))
        node.receive([c])
        node.run(for: .seconds(2))
        #expect(node.core.services[Self.instance]?.addresses == [.ipv4(0x0A00_0003)])
        let d = DNSRecord(name: Self.host, data: .a(0x0A00_0004), ttl: 120, cacheFlush: true)
        node.receive([d])
        node.run(for: .milliseconds(500))
        let e = DNSRecord(name: Self.host, data: .a(0x0A00_0005), ttl: 120, cacheFlush: true)
        node.receive([e])
        node.run(for: .seconds(1))
        #expect(node.core.services[Self.instance]?.addresses == [.ipv4(0x0A00_0004), .ipv4(0x0A00_0005)])
    }

    @Test func browser_refresh_queriesAt80To95PercentOfTTL() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        node.receive([Self.ptr, Self.txt, Self.a])
        var srv = Self.srv
        srv.ttl = 100
        node.receive([srv])
        let received = node.now
        node.run(for: .seconds(99))
        let times = node.queries(for: Self.instance, .srv).map {
            Double(($0.at - received).components.seconds) + Double(($0.at - received).components.attoseconds) / 1e18
        }
        #expect(times.count == 4)
        for (time, fraction) in zip(times, [80.0, 85, 90, 95]) { #expect(time >= fraction && time <= fraction + 2) }
        #expect(node.queries(for: Self.instance, .srv).allSatisfy { $0.message.answers.isEmpty })
    }

    @Test func browser_cache_clampsTTLTo75Minutes() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        var long = Self.ptr
        long.ttl = 1_000_000
        node.receive([long])
        let entry = try #require(node.core.cache.entries.values.first)
        #expect(entry.record.ttl == 4500 && entry.expiresAt == node.now + .seconds(4500))
    }

    @Test func browser_cache_boundsEntriesPerSourceAndInTotal() throws {
        var configuration = MDNSBrowserConfiguration()
        configuration.maximumCacheEntries = 6
        configuration.maximumCacheEntriesPerSource = 4
        var node = try Node(configuration: configuration)
        node.core.browse(Self.type, now: node.now)
        let records = (0..<10).map {
            DNSRecord(name: Self.type, data: .ptr(try! DNSName(label: "I\($0)", parent: Self.type)), ttl: 4500)
        }
        node.receive(Array(records[0..<6]))
        #expect(node.core.cachedRecordCount == 4)
        node.receive(Array(records[6..<10]), from: .ipv4(10, 0, 0, 2, port: 5353))
        #expect(node.core.cachedRecordCount == 6)
        #expect(node.core.cache.perSource[.ipv4(0x0A00_0002)] ?? 0 <= 4)
        #expect(node.core.cacheEvictions == 4)
    }

    @Test func browser_cache_ignoresRecordsNobodyAskedFor() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        node.receive([DNSRecord(name: try DNSName("_other._tcp.local"), data: .ptr(Self.instance), ttl: 4500), Self.a])
        #expect(node.core.cachedRecordCount == 0)
    }

    @Test func browser_serviceTypeEnumeration_reportsTypes() throws {
        var node = try Node()
        node.core.browseServiceTypes(now: node.now)
        node.run(for: .milliseconds(200))
        #expect(node.queries(for: MDNSConstants.servicesName, .ptr).count == 1)
        node.receive([DNSRecord(name: MDNSConstants.servicesName, data: .ptr(Self.type), ttl: 4500)])
        #expect(node.events == [.serviceTypeAdded(Self.type)])
    }

    @Test func browser_drops_responsesFromOtherPorts() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        node.receive([Self.ptr], from: .ipv4(10, 0, 0, 1, port: 40000))
        #expect(node.core.drops == [.responseFromWrongPort: 1])
        #expect(node.core.cachedRecordCount == 0)
    }

    @Test func browser_linkUp_queriesAgainWithQU() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        node.run(for: .seconds(10))
        node.core.linkChanged(up: false, now: node.now)
        node.sent = []
        node.run(for: .seconds(20))
        #expect(node.sent.isEmpty)
        node.core.linkChanged(up: true, now: node.now)
        node.run(for: .milliseconds(120))
        #expect(node.queries(for: Self.type, .ptr).first?.message.questions.first?.unicastResponse == true)
    }

    @Test func browser_againstResponder_findsResolvesAndLosesService() throws {
        var configuration = MDNSResponderConfiguration(hostName: "alpha", addresses: [.ipv4(0x0A00_0001)])
        configuration.destinations = [MDNSConstants.ipv4Group]
        var responder = try MDNSResponder(configuration: configuration, seed: 9, now: Self.start)
        let id = try responder.register(
            MDNSService(instance: "Peer One", type: "_starling._udp", port: 4242, txt: [Array("v=1".utf8)]),
            now: Self.start)
        var browser = try Node()
        let browserAddress = PeerAddress.ipv4(10, 0, 0, 7, port: 5353)
        var now = Self.start
        var buffer: [UInt8] = []
        func step(until end: Instant) {
            while now < end {
                now = now + .milliseconds(5)
                if let due = responder.pollTimeout(), due <= now { responder.handleTimeout(now: now) }
                browser.run(until: now)
                while responder.pollTransmit(now: now, into: &buffer) != nil {
                    buffer.withUnsafeBytes { browser.core.handleDatagram($0, from: Self.responder, now: now) }
                }
                browser.drain()
                for query in browser.sent {
                    try! query.message.encoded().withUnsafeBytes {
                        responder.handleDatagram($0, from: browserAddress, now: now)
                    }
                }
                browser.sent = []
                while responder.pollEvent() != nil {}
            }
        }
        browser.core.browse(Self.type, now: now)
        step(until: Self.start + .seconds(4))
        let expected = MDNSResolvedService(
            name: Self.instance, type: Self.type, host: Self.host, port: 4242, addresses: [.ipv4(0x0A00_0001)],
            txt: [Array("v=1".utf8)])
        #expect(browser.events == [.added(expected)])
        responder.unregister(id, now: now)
        step(until: now + .seconds(2))
        #expect(browser.events.last == .removed(Self.instance))
    }

    @Test func browser_duplicateQuestion_fromAnotherHostCountsAsSent() throws {
        var node = try Node()
        node.core.browse(Self.type, now: node.now)
        node.run(for: .milliseconds(500))  // first query sent; the next is due 1 s later
        node.sent = []
        let other = PeerAddress.ipv4(10, 0, 0, 8, port: 5353)
        let duplicate = DNSMessage(questions: [DNSQuestion(name: Self.type, type: .ptr)])
        try duplicate.encoded().withUnsafeBytes { node.core.handleDatagram($0, from: other, now: node.now) }
        node.run(for: .milliseconds(900))
        #expect(node.sent.isEmpty)
        // A duplicate listing a known answer this browser lacks does not suppress.
        node.run(for: .seconds(1))
        let listing = DNSMessage(questions: [DNSQuestion(name: Self.type, type: .ptr)], answers: [Self.ptr])
        try listing.encoded().withUnsafeBytes { node.core.handleDatagram($0, from: other, now: node.now) }
        node.run(for: .seconds(1))
        #expect(node.queries(for: Self.type, .ptr).count == 1)
    }
}
