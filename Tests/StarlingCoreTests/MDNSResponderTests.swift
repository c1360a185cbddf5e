import Testing

@testable import StarlingCore

/// The mDNS responder, hand-fed: probing, announcing, answering, conflicts, goodbyes.
@Suite struct MDNSResponderTests {
    static let start = Instant(nanoseconds: 1_000_000_000)
    static let type = try! DNSName("_starling._udp.local")
    static let peer = PeerAddress.ipv4(10, 0, 0, 9, port: 5353)

    /// One responder with its outputs collected.
    struct Node {
        var core: MDNSResponder
        let address: PeerAddress
        var now = MDNSResponderTests.start
        var sent: [(at: Instant, to: PeerAddress, message: DNSMessage, bytes: [UInt8])] = []
        var events: [MDNSResponderEvent] = []

        init(host: String, address: PeerAddress, seed: UInt64 = 1, addresses: [PeerAddress.Host]? = nil) throws {
            var configuration = MDNSResponderConfiguration(hostName: host, addresses: addresses ?? [address.host])
            configuration.destinations = [MDNSConstants.ipv4Group]
            core = try MDNSResponder(configuration: configuration, seed: seed, now: MDNSResponderTests.start)
            self.address = address
        }

        /// Drains transmits and events.
        mutating func drain() {
            var buffer: [UInt8] = []
            while let destination = core.pollTransmit(now: now, into: &buffer) {
                sent.append((now, destination, try! DNSMessage.decode(buffer), buffer))
            }
            while let event = core.pollEvent() { events.append(event) }
        }

        /// Runs timers up to `time`.
        mutating func run(until time: Instant) {
            while let due = core.pollTimeout(), due <= time {
                now = max(now, due)
                core.handleTimeout(now: now)
                drain()
            }
            now = max(now, time)
        }

        mutating func run(for duration: Duration) { run(until: now + duration) }

        /// Feeds a message from `source`.
        mutating func receive(_ message: DNSMessage, from source: PeerAddress = MDNSResponderTests.peer) {
            let bytes = try! message.encoded()
            bytes.withUnsafeBytes { core.handleDatagram($0, from: source, now: now) }
            drain()
        }

        /// Takes the messages sent so far.
        mutating func takeSent() -> [(at: Instant, to: PeerAddress, message: DNSMessage, bytes: [UInt8])] {
            defer { sent = [] }
            return sent
        }
    }

    static func service(_ name: String = "Peer One", port: UInt16 = 4242) -> MDNSService {
        MDNSService(instance: name, type: "_starling._udp", port: port, txt: MDNSService.txt([("v", "1")]))
    }

    /// A node whose host name and one service are established.
    static func established(port: UInt16 = 4242) throws -> (Node, MDNSResponder.ServiceID) {
        var node = try Node(host: "alpha", address: .ipv4(10, 0, 0, 1, port: 5353))
        let id = try node.core.register(service(port: port), now: node.now)
        node.run(for: .seconds(5))
        _ = node.takeSent()
        node.events = []
        return (node, id)
    }

    @Test func responder_register_probesThreeTimesThenAnnouncesTwice() throws {
        var node = try Node(host: "alpha", address: .ipv4(10, 0, 0, 1, port: 5353))
        let id = try node.core.register(Self.service(), now: node.now)
        node.run(for: .seconds(5))
        let instance = try DNSName(label: "Peer One", parent: Self.type)
        let sent = node.takeSent().filter {
            $0.message.questions.first?.name == instance || $0.message.answers.contains { $0.name == instance }
        }
        let probes = sent.filter { !$0.message.isResponse }
        #expect(probes.count == 3)
        #expect(probes[0].at - Self.start <= .milliseconds(250))
        #expect(probes[1].at - probes[0].at == .milliseconds(250))
        #expect(probes[2].at - probes[1].at == .milliseconds(250))
        for probe in probes {
            #expect(probe.to == MDNSConstants.ipv4Group)
            #expect(probe.message.questions == [DNSQuestion(name: instance, type: .any, unicastResponse: true)])
            #expect(Set(probe.message.authorities.map(\.type)) == [.srv, .txt])
        }
        let announcements = sent.filter { $0.message.isResponse }
        #expect(announcements.count == 2)
        #expect(announcements[0].at - probes[2].at == .milliseconds(250))
        #expect(announcements[1].at - announcements[0].at == .seconds(1))
        let records = announcements[0].message.answers
        let srv = try #require(records.first { $0.type == .srv })
        #expect(srv.ttl == 120 && srv.cacheFlush)
        #expect(srv.data == .srv(priority: 0, weight: 0, port: 4242, target: try DNSName("alpha.local")))
        let txt = try #require(records.first { $0.type == .txt })
        #expect(txt.ttl == 4500 && txt.cacheFlush && txt.data == .txt([Array("v=1".utf8)]))
        let ptrs = records.filter { $0.type == .ptr }
        #expect(Set(ptrs.map(\.name)) == [Self.type, MDNSConstants.servicesName])
        #expect(ptrs.allSatisfy { $0.ttl == 4500 && !$0.cacheFlush })
        #expect(node.events.contains(.registered(instance)))
        #expect(node.events.contains(.registered(try DNSName("alpha.local"))))
        #expect(node.core.isRegistered(id))
    }

    @Test func responder_hostAnnouncement_carriesAddressAndNSECForMissingFamily() throws {
        var node = try Node(host: "alpha", address: .ipv4(10, 0, 0, 1, port: 5353))
        node.run(for: .seconds(3))
        let announcement = try #require(node.takeSent().first { $0.message.isResponse }).message
        #expect(
            announcement.answers == [
                DNSRecord(name: try DNSName("alpha.local"), data: .a(0x0A00_0001), ttl: 120, cacheFlush: true)
            ])
        #expect(announcement.additionals.first?.data == .nsec(next: try DNSName("alpha.local"), types: [.a]))
    }

    @Test func responder_probe_answeredByOtherHost_renames() throws {
        var node = try Node(host: "alpha", address: .ipv4(10, 0, 0, 1, port: 5353))
        let id = try node.core.register(Self.service(), now: node.now)
        node.run(for: .milliseconds(300))
        let instance = try DNSName(label: "Peer One", parent: Self.type)
        let theirs = DNSRecord(
            name: instance, data: .srv(priority: 0, weight: 0, port: 1, target: try DNSName("other.local")), ttl: 120,
            cacheFlush: true)
        node.receive(DNSMessage(flags: DNSMessage.responseFlags, answers: [theirs]))
        let renamed = try DNSName(label: "Peer One (2)", parent: Self.type)
        #expect(node.events.contains(.renamed(from: instance, to: renamed)))
        #expect(node.core.name(of: id) == renamed)
        _ = node.takeSent()
        node.run(for: .seconds(5))
        #expect(node.events.contains(.registered(renamed)))
        let probes = node.takeSent().filter {
            !$0.message.isResponse && $0.message.questions.first?.name != node.core.hostName
        }
        #expect(probes.count == 3)
        #expect(probes.allSatisfy { $0.message.questions.first?.name == renamed })
    }

    @Test func responder_probe_ownRecordsInAResponse_areNoConflict() throws {
        var node = try Node(host: "alpha", address: .ipv4(10, 0, 0, 1, port: 5353))
        node.run(for: .milliseconds(300))
        node.receive(
            DNSMessage(
                flags: DNSMessage.responseFlags,
                answers: [
                    DNSRecord(name: try DNSName("alpha.local"), data: .a(0x0A00_0001), ttl: 120, cacheFlush: true)
                ]))
        #expect(node.events.isEmpty)
    }

    @Test func responder_conflicts_fifteenInTenSeconds_slowProbingToFiveSeconds() throws {
        var node = try Node(host: "alpha", address: .ipv4(10, 0, 0, 1, port: 5353))
        let host = try DNSName("alpha.local")
        for round in 0..<MDNSConstants.conflictLimit {
            let current = node.core.hostName
            let claim = DNSRecord(name: current, data: .a(0x0A00_0063), ttl: 120, cacheFlush: true)
            node.receive(DNSMessage(flags: DNSMessage.responseFlags, answers: [claim]))
            let wait = try #require(node.core.pollTimeout()) - node.now
            if round < MDNSConstants.conflictLimit - 1 {
                #expect(wait <= .milliseconds(250))
            } else {
                #expect(wait == .seconds(5))
            }
            node.run(for: .milliseconds(100))
        }
        #expect(node.core.hostName != host)
        #expect(node.core.hostName.firstLabel == "alpha-16")
    }

    /// Two responders on one link, every multicast delivered to the other.
    struct Link {
        var a: Node
        var b: Node

        mutating func run(for duration: Duration, step: Duration = .milliseconds(10)) {
            let end = a.now + duration
            while a.now < end {
                let next = a.now + step
                a.run(until: next)
                b.run(until: next)
                deliver()
            }
        }

        mutating func deliver() {
            while !a.sent.isEmpty || !b.sent.isEmpty {
                let fromA = a.takeSent()
                let fromB = b.takeSent()
                for packet in fromA {
                    packet.bytes.withUnsafeBytes { b.core.handleDatagram($0, from: a.address, now: b.now) }
                }
                for packet in fromB {
                    packet.bytes.withUnsafeBytes { a.core.handleDatagram($0, from: b.address, now: a.now) }
                }
                a.drain()
                b.drain()
            }
        }
    }

    @Test func responder_simultaneousProbe_laterRecordsWin_loserWaitsThenRenames() throws {
        var a = try Node(host: "alpha", address: .ipv4(10, 0, 0, 1, port: 5353), seed: 1)
        var b = try Node(host: "beta", address: .ipv4(10, 0, 0, 2, port: 5353), seed: 2)
        let idA = try a.core.register(Self.service(port: 1000), now: a.now)
        let idB = try b.core.register(Self.service(port: 2000), now: b.now)
        var link = Link(a: a, b: b)
        link.run(for: .seconds(6))
        let instance = try DNSName(label: "Peer One", parent: Self.type)
        // B's SRV sorts later (higher port): B keeps the name, A defers, then loses to B's answer.
        #expect(link.a.events.contains(.tieBreakLost(instance)))
        #expect(!link.b.events.contains(.tieBreakLost(instance)))
        #expect(link.b.core.name(of: idB) == instance)
        let renamed = try DNSName(label: "Peer One (2)", parent: Self.type)
        #expect(link.a.core.name(of: idA) == renamed)
        #expect(link.a.core.isRegistered(idA) && link.b.core.isRegistered(idB))
        #expect(link.a.events.filter { if case .renamed = $0 { true } else { false } }.count == 1)
    }

    @Test func responder_sameRecordsOnTwoHosts_tieIsNoConflict() throws {
        #expect(MDNSProbeTieBreak.compare(ours: [], theirs: []) == .tie)
        let name = try DNSName("x.local")
        let low = DNSRecord(name: name, data: .a(1), ttl: 120)
        let high = DNSRecord(name: name, data: .a(2), ttl: 120)
        let aaaa = DNSRecord(name: name, data: .aaaa(high: 0, low: 0), ttl: 120)
        #expect(MDNSProbeTieBreak.compare(ours: [high], theirs: [low]) == .won)
        #expect(MDNSProbeTieBreak.compare(ours: [low], theirs: [high]) == .lost)
        #expect(MDNSProbeTieBreak.compare(ours: [low, high], theirs: [high, low]) == .tie)
        #expect(MDNSProbeTieBreak.compare(ours: [low], theirs: [low, high]) == .lost)
        // Type sorts before RDATA: AAAA (28) beats any A (1).
        #expect(MDNSProbeTieBreak.compare(ours: [aaaa], theirs: [high]) == .won)
        // Case in names does not matter (canonical form).
        let upper = DNSRecord(name: name, data: .ptr(try DNSName("A.local")), ttl: 1)
        let lower = DNSRecord(name: name, data: .ptr(try DNSName("a.local")), ttl: 1)
        #expect(MDNSProbeTieBreak.compare(ours: [upper], theirs: [lower]) == .tie)
    }

    @Test func mdnsService_renamed_addsAndAdvancesSuffix() {
        #expect(MDNSService.renamed("Peer") == "Peer (2)")
        #expect(MDNSService.renamed("Peer (2)") == "Peer (3)")
        #expect(MDNSService.renamed("Peer (9)") == "Peer (10)")
        #expect(MDNSService.renamed("(2)") == "(2) (2)")
        #expect(MDNSService.renamed(String(repeating: "x", count: 63)).utf8.count == 63)
        #expect(MDNSService.renamedHost("alpha") == "alpha-2")
        #expect(MDNSService.renamedHost("alpha-2") == "alpha-3")
        #expect(MDNSService.renamedHost("my-host") == "my-host-2")
    }

    @Test func responder_sharedAnswer_delayed20To120msWithAdditionals() throws {
        var (node, _) = try Self.established()
        node.run(for: .seconds(2))
        node.receive(DNSMessage(questions: [DNSQuestion(name: Self.type, type: .ptr)]))
        #expect(node.sent.isEmpty)
        let due = try #require(node.core.pollTimeout()) - node.now
        #expect(due >= .milliseconds(20) && due <= .milliseconds(120))
        node.run(for: .milliseconds(120))
        let response = try #require(node.takeSent().first).message
        #expect(response.answers.map(\.type) == [.ptr])
        #expect(Set(response.additionals.map(\.type)) == [.srv, .txt, .a, .nsec])
        #expect(response.id == 0 && response.isResponse)
    }

    @Test func responder_uniqueAnswer_immediateWithAddressAdditionals() throws {
        var (node, _) = try Self.established()
        node.run(for: .seconds(2))
        let instance = try DNSName(label: "Peer One", parent: Self.type)
        node.receive(DNSMessage(questions: [DNSQuestion(name: instance, type: .srv)]))
        let response = try #require(node.takeSent().first).message
        #expect(response.answers.map(\.type) == [.srv])
        #expect(Set(response.additionals.map(\.type)) == [.a, .nsec])
    }

    @Test func responder_missingAddressFamily_answersNSEC() throws {
        var (node, _) = try Self.established()
        node.run(for: .seconds(2))
        node.receive(DNSMessage(questions: [DNSQuestion(name: try DNSName("alpha.local"), type: .aaaa)]))
        let response = try #require(node.takeSent().first).message
        #expect(response.answers.map(\.data) == [.nsec(next: try DNSName("alpha.local"), types: [.a])])
    }

    @Test func responder_knownAnswer_suppressesOnlyWithAtLeastHalfTTL() throws {
        var (node, _) = try Self.established()
        node.run(for: .seconds(2))
        let instance = try DNSName(label: "Peer One", parent: Self.type)
        let known = DNSRecord(name: Self.type, data: .ptr(instance), ttl: 2250)
        node.receive(DNSMessage(questions: [DNSQuestion(name: Self.type, type: .ptr)], answers: [known]))
        node.run(for: .milliseconds(200))
        #expect(node.takeSent().isEmpty)
        var stale = known
        stale.ttl = 2249
        node.receive(DNSMessage(questions: [DNSQuestion(name: Self.type, type: .ptr)], answers: [stale]))
        node.run(for: .milliseconds(200))
        #expect(node.takeSent().count == 1)
    }

    @Test func responder_knownAnswerContinuation_suppressesPendingAnswer() throws {
        var (node, _) = try Self.established()
        node.run(for: .seconds(2))
        let instance = try DNSName(label: "Peer One", parent: Self.type)
        var query = DNSMessage(questions: [DNSQuestion(name: Self.type, type: .ptr)])
        query.flags |= MDNSConstants.flagTruncated
        node.receive(query)
        let due = try #require(node.core.pollTimeout()) - node.now
        #expect(due >= .milliseconds(400) && due <= .milliseconds(500))
        node.receive(DNSMessage(answers: [DNSRecord(name: Self.type, data: .ptr(instance), ttl: 4500)]))
        node.run(for: .seconds(1))
        #expect(node.takeSent().isEmpty)
    }

    @Test func responder_multicastRateLimit_oneSecondPerRecord() throws {
        var (node, _) = try Self.established()
        node.run(for: .seconds(2))
        let question = DNSQuestion(name: try DNSName("alpha.local"), type: .a)
        node.receive(DNSMessage(questions: [question]))
        #expect(node.takeSent().count == 1)
        node.run(for: .milliseconds(500))
        node.receive(DNSMessage(questions: [question]))
        #expect(node.takeSent().isEmpty)
        node.run(for: .milliseconds(500))
        node.receive(DNSMessage(questions: [question]))
        #expect(node.takeSent().count == 1)
    }

    @Test func responder_probeDefense_rateLimitIs250ms() throws {
        var (node, _) = try Self.established()
        node.run(for: .seconds(40))
        let host = try DNSName("alpha.local")
        let probe = DNSMessage(
            questions: [DNSQuestion(name: host, type: .any)],
            authorities: [DNSRecord(name: host, data: .a(0x0A00_0063), ttl: 120)])
        node.receive(probe)
        #expect(node.takeSent().first?.message.answers.first?.data == .a(0x0A00_0001))
        node.run(for: .milliseconds(250))
        node.receive(probe)
        #expect(node.takeSent().count == 1)
        node.run(for: .milliseconds(100))
        node.receive(probe)
        #expect(node.takeSent().isEmpty)
    }

    @Test func responder_unicastQuestion_unicastOnlyIfMulticastWithinQuarterTTL() throws {
        var (node, _) = try Self.established()
        let host = try DNSName("alpha.local")
        let question = DNSQuestion(name: host, type: .a, unicastResponse: true)
        // Announced ~4 s ago: within a quarter of 120 s, so the reply is unicast.
        node.receive(DNSMessage(questions: [question]))
        #expect(node.takeSent().map(\.to) == [Self.peer])
        // 31 s later (more than 30 s): multicast again.
        node.run(for: .seconds(31))
        node.receive(DNSMessage(questions: [question]))
        #expect(node.takeSent().map(\.to) == [MDNSConstants.ipv4Group])
    }

    @Test func responder_probeWithQU_isDefendedByMulticast() throws {
        var (node, _) = try Self.established()
        let host = try DNSName("alpha.local")
        // Announced ~4 s ago, yet the defence goes to the group, where every process
        // sharing the prober's port 5353 hears it.
        let probe = DNSMessage(
            questions: [DNSQuestion(name: host, type: .any, unicastResponse: true)],
            authorities: [DNSRecord(name: host, data: .a(0x0A00_0063), ttl: 120)])
        node.receive(probe)
        let sent = node.takeSent()
        #expect(sent.map(\.to) == [MDNSConstants.ipv4Group])
        #expect(sent.first?.message.answers.first?.data == .a(0x0A00_0001))
    }

    @Test func responder_legacyUnicast_echoesIDAndQuestionWithShortTTLs() throws {
        var (node, _) = try Self.established()
        let source = PeerAddress.ipv4(10, 0, 0, 9, port: 40000)
        let question = DNSQuestion(name: Self.type, type: .ptr)
        node.receive(DNSMessage(id: 0x1234, questions: [question]), from: source)
        let reply = try #require(node.takeSent().first)
        #expect(reply.to == source)
        #expect(reply.message.id == 0x1234 && reply.message.questions == [question])
        #expect(!reply.message.answers.isEmpty)
        #expect(reply.message.allRecords.allSatisfy { $0.ttl <= 10 && !$0.cacheFlush })
    }

    @Test func responder_conflictAfterAnnouncing_reprobesSameNameThenKeepsIt() throws {
        var (node, id) = try Self.established()
        let instance = try DNSName(label: "Peer One", parent: Self.type)
        let other = DNSRecord(
            name: instance, data: .srv(priority: 0, weight: 0, port: 9, target: try DNSName("x.local")), ttl: 120,
            cacheFlush: true)
        node.receive(DNSMessage(flags: DNSMessage.responseFlags, answers: [other]))
        #expect(node.events == [.conflict(instance)])
        node.run(for: .seconds(3))
        #expect(node.takeSent().filter { !$0.message.isResponse }.count == 3)
        #expect(node.core.name(of: id) == instance)
        #expect(node.events.contains(.registered(instance)))
    }

    @Test func responder_conflictAfterAnnouncing_renamesIfReprobeIsAnswered() throws {
        var (node, id) = try Self.established()
        let instance = try DNSName(label: "Peer One", parent: Self.type)
        let other = DNSRecord(
            name: instance, data: .srv(priority: 0, weight: 0, port: 9, target: try DNSName("x.local")), ttl: 120,
            cacheFlush: true)
        node.receive(DNSMessage(flags: DNSMessage.responseFlags, answers: [other]))
        node.run(for: .milliseconds(300))
        node.receive(DNSMessage(flags: DNSMessage.responseFlags, answers: [other]))
        #expect(node.core.name(of: id) == (try DNSName(label: "Peer One (2)", parent: Self.type)))
    }

    @Test func responder_unregister_sendsGoodbye() throws {
        var (node, id) = try Self.established()
        node.core.unregister(id, now: node.now)
        node.drain()
        let goodbye = try #require(node.takeSent().first).message
        #expect(Set(goodbye.answers.map(\.type)) == [.ptr, .srv, .txt])
        #expect(goodbye.answers.allSatisfy { $0.ttl == 0 })
        #expect(node.core.name(of: id) == nil)
    }

    /// A shared answer queued before a withdrawal must not announce the service again
    /// after its goodbye, neither as an answer nor as an additional record.
    @Test func responder_unregister_dropsPendingAnswersOfTheService() throws {
        var (node, id) = try Self.established()
        let other = try node.core.register(
            MDNSService(instance: "Other", type: "_other._udp", port: 1), now: node.now)
        node.run(for: .seconds(3))
        #expect(node.core.isRegistered(other))
        _ = node.takeSent()
        node.receive(
            DNSMessage(questions: [
                DNSQuestion(name: Self.type, type: .ptr), DNSQuestion(name: MDNSConstants.servicesName, type: .ptr),
            ]))
        #expect(node.sent.isEmpty)
        node.core.unregister(id, now: node.now)
        node.run(for: .milliseconds(200))
        let instance = try Self.service().instanceName()
        for sent in node.takeSent() {
            let records = sent.message.answers + sent.message.additionals
            let revived = records.filter { $0.ttl > 0 && ($0.name == instance || $0.data == .ptr(instance)) }
            #expect(revived.isEmpty, "sent after the goodbye: \(revived)")
        }
    }

    @Test func responder_shutdown_goodbyeForEverythingThenSilence() throws {
        var (node, _) = try Self.established()
        node.core.shutdown(now: node.now)
        node.drain()
        let goodbye = try #require(node.takeSent().first).message
        #expect(Set(goodbye.answers.map(\.type)) == [.ptr, .srv, .txt, .a])
        #expect(goodbye.answers.allSatisfy { $0.ttl == 0 })
        node.receive(DNSMessage(questions: [DNSQuestion(name: Self.type, type: .ptr)]))
        node.run(for: .seconds(1))
        #expect(node.takeSent().isEmpty && node.core.pollTimeout() == nil)
    }

    @Test func responder_linkFlap_reprobesAndReannouncesSameNames() throws {
        var (node, id) = try Self.established()
        let instance = try DNSName(label: "Peer One", parent: Self.type)
        node.core.linkChanged(up: false, now: node.now)
        node.receive(DNSMessage(questions: [DNSQuestion(name: Self.type, type: .ptr)]))
        node.run(for: .seconds(1))
        #expect(node.takeSent().isEmpty)
        node.core.linkChanged(up: true, now: node.now)
        node.run(for: .seconds(3))
        let sent = node.takeSent()
        #expect(sent.filter { !$0.message.isResponse && $0.message.questions.first?.name == instance }.count == 3)
        #expect(sent.filter { $0.message.isResponse && $0.message.answers.contains { $0.name == instance } }.count == 2)
        #expect(node.core.name(of: id) == instance)
        #expect(!node.events.contains { if case .renamed = $0 { true } else { false } })
    }

    @Test func responder_ownLoopedBackProbe_isIgnored() throws {
        var node = try Node(host: "alpha", address: .ipv4(10, 0, 0, 1, port: 5353))
        node.run(for: .milliseconds(300))
        let probe = try #require(node.takeSent().first)
        probe.bytes.withUnsafeBytes { node.core.handleDatagram($0, from: node.address, now: node.now) }
        node.drain()
        #expect(node.core.drops[.ownDatagram] == 1)
        node.run(for: .seconds(3))
        #expect(node.core.hostName == (try DNSName("alpha.local")))
    }

    @Test func responder_drops_responsesFromOtherPortsAndBadHeaders() throws {
        var node = try Node(host: "alpha", address: .ipv4(10, 0, 0, 1, port: 5353))
        node.run(for: .milliseconds(300))
        let claim = DNSRecord(name: try DNSName("alpha.local"), data: .a(0x0A00_0063), ttl: 120, cacheFlush: true)
        node.receive(
            DNSMessage(flags: DNSMessage.responseFlags, answers: [claim]), from: .ipv4(10, 0, 0, 9, port: 5354))
        node.receive(DNSMessage(flags: DNSMessage.responseFlags | 0x0001, answers: [claim]))
        node.receive(DNSMessage(flags: DNSMessage.responseFlags | 0x2000, answers: [claim]))
        [0xFF].withUnsafeBytes { node.core.handleDatagram($0, from: Self.peer, now: node.now) }
        #expect(node.core.drops == [.responseFromWrongPort: 1, .badHeader: 2, .malformed: 1])
        #expect(node.events.isEmpty)
    }

    @Test func responder_updateTXT_reannouncesWithoutProbing() throws {
        var (node, id) = try Self.established()
        node.core.updateTXT([Array("v=2".utf8)], of: id, now: node.now)
        node.drain()
        node.run(for: .seconds(2))
        let sent = node.takeSent()
        #expect(sent.allSatisfy { $0.message.isResponse })
        #expect(sent.count == 2)
        #expect(sent[0].message.answers.contains { $0.data == .txt([Array("v=2".utf8)]) })
    }

    @Test func responder_unicastReplies_areRateLimited() throws {
        var (node, _) = try Self.established()
        let source = PeerAddress.ipv4(10, 0, 0, 9, port: 40000)
        for _ in 0..<30 {
            node.receive(DNSMessage(id: 1, questions: [DNSQuestion(name: Self.type, type: .ptr)]), from: source)
        }
        #expect(node.takeSent().count == 20)
        #expect(node.core.drops[.unicastRateLimited] == 10)
    }

    @Test func responder_pendingResponses_areBounded() throws {
        var (node, _) = try Self.established()
        node.run(for: .seconds(2))
        var query = DNSMessage(questions: [DNSQuestion(name: Self.type, type: .ptr)])
        query.flags |= MDNSConstants.flagTruncated
        for _ in 0..<100 { node.receive(query) }
        #expect(node.core.pendingResponses.count == 64)
        #expect(node.core.drops[.overloaded] == 36)
    }

    @Test func responder_duplicateAnswer_fromAnotherResponderSuppressesPending() throws {
        var (node, _) = try Self.established()
        node.run(for: .seconds(2))
        let instance = try DNSName(label: "Peer One", parent: Self.type)
        node.receive(DNSMessage(questions: [DNSQuestion(name: Self.type, type: .ptr)]))
        node.receive(
            DNSMessage(
                flags: DNSMessage.responseFlags, answers: [DNSRecord(name: Self.type, data: .ptr(instance), ttl: 4500)])
        )
        node.run(for: .milliseconds(200))
        #expect(node.takeSent().isEmpty)
    }

    @Test func responder_updateAddresses_goodbyeForOldThenReprobeAndAnnounceNew() throws {
        var (node, _) = try Self.established()
        let host = try DNSName("alpha.local")
        node.core.updateAddresses([.ipv4(0x0A00_0002)], now: node.now)
        node.drain()
        let goodbye = try #require(node.takeSent().first).message
        #expect(goodbye.answers == [DNSRecord(name: host, data: .a(0x0A00_0001), ttl: 0, cacheFlush: true)])
        node.run(for: .seconds(3))
        let sent = node.takeSent()
        #expect(sent.filter { !$0.message.isResponse }.count == 3)
        #expect(sent.contains { $0.message.isResponse && $0.message.answers.contains { $0.data == .a(0x0A00_0002) } })
        #expect(node.core.hostName == host)
    }

    @Test func responder_hostNameLost_renamesHostAndReannouncesSRVWithNewTarget() throws {
        var (node, id) = try Self.established()
        let instance = try DNSName(label: "Peer One", parent: Self.type)
        node.run(for: .seconds(1))
        // Another host's different address for our host name: re-probe, then lose the re-probe.
        let claim = DNSRecord(name: try DNSName("alpha.local"), data: .a(0x0A00_0063), ttl: 120, cacheFlush: true)
        node.receive(DNSMessage(flags: DNSMessage.responseFlags, answers: [claim]))
        #expect(node.events.last == .conflict(try DNSName("alpha.local")))
        node.run(for: .milliseconds(300))
        node.receive(DNSMessage(flags: DNSMessage.responseFlags, answers: [claim]))
        let renamed = try DNSName("alpha-2.local")
        #expect(node.events.last == .renamed(from: try DNSName("alpha.local"), to: renamed))
        _ = node.takeSent()
        node.run(for: .seconds(3))
        let srvs = node.takeSent().flatMap { $0.message.answers }.filter { $0.name == instance && $0.type == .srv }
        #expect(srvs.contains { $0.data == .srv(priority: 0, weight: 0, port: 4242, target: renamed) })
        #expect(node.core.name(of: id) == instance)
    }
}
