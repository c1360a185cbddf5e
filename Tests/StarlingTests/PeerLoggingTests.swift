import Logging
import Starling
import StarlingCore
import Testing

/// What a peer logs through ``PeerConfiguration/logger``: its ID on every record, a
/// quiet `info` level in steady state, and at `debug` every class of dropped datagram.
@Suite struct PeerLoggingTests {
    @Test func info_startAndShutdownOnly_inSteadyState_withThePeerID() async throws {
        let capture = LogCapture()
        var configuration = PeerConfiguration()
        configuration.overlay = .local
        configuration.logger = capture.logger(level: .info)
        try await PeerAPITests.withOverlayPair(.local) { a, _, b, _ in
            try await a.handle("echo") { $0.payload }
            try await b.connect(to: a.address, expecting: a.id)
            #expect(try await b.request("echo", [1], to: a.id) == [1])
            configuration.seeds = [a.address]
            let logged = try await Peer.start(configuration)
            let record = EventRecorder(logged)
            #expect(await record.first(where: PeerAPITests.joined(a.id)) != nil)
            #expect(await record.first(where: PeerAPITests.joined(b.id)) != nil)
            await logged.shutdown()
            let records = capture.all
            #expect(records.map(\.message) == ["peer started", "peer shut down"], "\(records)")
            #expect(records.allSatisfy { $0.metadata["starling.peer"] == "\(logged.id)" })
            #expect(records.first { $0.message == "peer started" }?.metadata["address"] == "\(logged.address)")
        }
    }

    @Test func debug_explainsEveryDroppedDatagramClass_andSessions() async throws {
        let capture = LogCapture()
        var configuration = PeerConfiguration()
        configuration.logger = capture.logger(level: .debug)
        try await PeerTests.withPair(PeerConfiguration(), configuration) { a, _, b, _ in
            try await b.handle("echo") { $0.payload }
            try await a.connect(to: b.address, expecting: b.id)
            let attacker = try await RawDatagramSocket.open()
            let sent = try await PeerTests.sendEveryTypeUnderTwoVersions(from: attacker, to: b.address)
            await attacker.close()
            // Sent after the attacker's datagrams, so answered after b read them.
            #expect(try await a.request("echo", [42], to: b.id) == [42])
            let drops = await b.drops()
            #expect(drops.total == UInt64(sent))
            let dropped = capture.all.filter { $0.message == "datagrams dropped" }
            // One line per reason that grew, with its count: together, every drop.
            var logged: [String: Int] = [:]
            for record in dropped {
                #expect(record.metadata["layer"] == "session")
                logged[record.metadata["reason"] ?? "", default: 0] += Int(record.metadata["count"] ?? "") ?? 0
            }
            var counted: [String: Int] = [:]
            for reason in DropReason.allCases where drops[reason] > 0 { counted[reason.rawValue] = Int(drops[reason]) }
            #expect(logged == counted)
            #expect(!counted.isEmpty)
            #expect(
                capture.all.contains {
                    $0.message == "session up" && $0.metadata["starling.remote"] == "\(a.id)"
                        && $0.metadata["starling.peer"] == "\(b.id)"
                })
        }
    }

    @Test func swarm_logsEachPeerWithItsIndex() async throws {
        let capture = LogCapture()
        var configuration = Swarm.Configuration(peers: 3)
        configuration.logger = capture.logger(level: .info)
        let swarm = try await Swarm.launch(configuration)
        await swarm.shutdown()
        let started = capture.all.filter { $0.message == "peer started" }
        #expect(Set(started.compactMap { $0.metadata["starling.swarm.index"] }) == ["0", "1", "2"])
        #expect(Set(started.compactMap { $0.metadata["starling.peer"] }) == Set(swarm.peers.map { "\($0.id)" }))
    }
}
