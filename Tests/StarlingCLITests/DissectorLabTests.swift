import Foundation
import StarlingTestSupport
import Testing

/// The Wireshark dissector (`Tools/Wireshark/starling.lua`) against real traffic: inside
/// a fresh network namespace, `tshark` captures what `starling peer` (an XX and an IK
/// handshake, then echo requests), `starling lan` (beacons and an overlay join) and
/// `starling swarm` (membership and routing) send on its loopback, the `peer` and `lan`
/// runs both in the public swarm and in a private one (a swarm secret: PSK handshakes,
/// sealed datagrams); then `tshark` reads the capture back through the dissector, and the
/// decoded fields must tell the same story as the programs' own output.
///
/// Peers send with UDP GSO, so a capture on the sending host holds some UDP payloads
/// with several datagrams (the kernel splits them later); the dissector splits them too,
/// and a captured frame's fields then hold one value per datagram.
@Suite(.requiresNetworkNamespaces, .requiresTshark, .serialized)
struct DissectorLabTests {
    /// A bound against hangs, not a timing check.
    static let deadline = Duration.seconds(120)

    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let dissectorPath = repository.appendingPathComponent("Tools/Wireshark/starling.lua").path

    /// The swarm tag of the public swarm (all-zero swarm ID), from PROTOCOL.md.
    static let publicSwarmTag = "dd59d31c0467ca55"

    /// The fields the test reads, in `tshark -T fields` order.
    static let fields = [
        "frame.number", "_ws.col.Protocol", "udp.srcport", "udp.dstport", "starling.version", "starling.type",
        "starling.handshake.kind", "starling.handshake.sender_index", "starling.handshake.receiver_index",
        "starling.handshake.ephemeral", "starling.handshake.mac1", "starling.transport.receiver_index",
        "starling.transport.counter", "starling.transport.ciphertext_length", "starling.discovery.mode",
        "starling.record.peer_id", "starling.peer", "starling.address.port", "starling.overlay.mode",
        "starling.overlay.swarm_tag", "starling.overlay.protocol", "starling.membership.kind",
        "starling.membership.sender_id", "starling.routing.kind",
    ]

    /// One captured UDP payload as the dissector decoded it: each field's values, in
    /// order, one per datagram for the fields every datagram of its type has once.
    struct Frame: CustomStringConvertible {
        /// tshark's line for the frame.
        let line: String
        let values: [String: [String]]

        func strings(_ field: String) -> [String] { values[field] ?? [] }
        func string(_ field: String) -> String? { strings(field).first }
        func numbers(_ field: String) -> [UInt64] { strings(field).compactMap(DissectorLabTests.number) }
        func number(_ field: String) -> UInt64? { numbers(field).first }

        var source: UInt64? { number("udp.srcport") }
        var destination: UInt64? { number("udp.dstport") }
        var types: [UInt64] { numbers("starling.type") }
        /// Whether the payload is one datagram, of `type`.
        func isOne(_ type: UInt64) -> Bool { types == [type] }
        var description: String {
            values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }

    /// Reads `0x…` as hexadecimal and anything else as decimal.
    static func number(_ text: String) -> UInt64? {
        text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }

    /// A peer ID's text form (base32, lowercase, unpadded) as lowercase hex.
    static func hex(ofPeerID text: String) -> String? {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var bytes: [UInt8] = []
        var buffer = 0
        var bits = 0
        for character in text {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | value
            bits += 5
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8((buffer >> bits) & 0xff))
            }
        }
        guard bytes.count == 32 else { return nil }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "starling-dissector-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    /// Runs `tshark -r capture` through the dissector with `arguments` appended.
    ///
    /// UDP asks the heuristic dissectors first, as Starling's ports are any, and the other
    /// protocols that have one are disabled: now and then, random bytes of a handshake
    /// look like another protocol to its heuristic (which may then claim the conversation).
    static func readCapture(_ tshark: String, _ capture: String, _ arguments: [String]) async throws -> String {
        let result = try await Subprocess.run(
            tshark,
            ["-n", "-r", capture, "-X", "lua_script:\(Self.dissectorPath)", "-o", "udp.try_heuristic_first:TRUE"]
                + (try await Self.otherHeuristicsDisabled(tshark)) + arguments)
        #expect(result.status == 0, "tshark failed: \(result.stderr)")
        #expect(!result.stderr.contains("Lua"), "tshark reported a Lua problem: \(result.stderr)")
        return result.stdout
    }

    /// The port of an address printed as `host:port`.
    static func port(of address: some StringProtocol) -> UInt64? {
        address.split(separator: ":").last.flatMap { UInt64($0) }
    }

    @Test func capturedStarlingTraffic_decodesAsTheProgramsReportIt() async throws {
        let tshark = try TsharkRequirement.path()
        let binary = try StarlingBinary.path()
        #expect(FileManager.default.fileExists(atPath: Self.dissectorPath))
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let capture = directory + "/starling.pcapng"

        let secret = directory + "/swarm-secret"
        let created = FileManager.default.createFile(
            atPath: secret, contents: Data((String(repeating: "5a", count: 32) + "\n").utf8),
            attributes: [.posixPermissions: 0o600])
        #expect(created)

        try await NetworkNamespace.withFresh { namespace in
            let capturer = try namespace.spawn("/bin/sh", ["-c", Self.captureScript, tshark, capture])
            try await capturer.waitForLine(timeout: Self.deadline) { $0.contains("Capturing on") }

            let open = try await runPeers(in: namespace, binary, [])
            let closed = try await runPeers(in: namespace, binary, ["--secret-file", secret])
            let openLAN = try await runLAN(in: namespace, binary, [])
            let closedLAN = try await runLAN(in: namespace, binary, ["--secret-file", secret])
            // A small swarm: membership and, after convergence, routing lookups.
            let swarm = try await namespace.run(
                binary, ["swarm", "--peers", "4", "--duration", "2", "--json", "--seed", "9"], timeout: Self.deadline)
            #expect(swarm.status == 0, "\(swarm.stderr)")

            capturer.terminate()
            let captured = try await capturer.waitForExit(timeout: Self.deadline)
            #expect(captured.status == 0, "\(captured.stdout)")

            let text = try await Self.readCapture(
                tshark, capture,
                ["-Y", "udp", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
                    + Self.fields.flatMap { ["-e", $0] })
            let frames = text.split(separator: "\n").map { line in
                let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
                var values: [String: [String]] = [:]
                for (field, column) in zip(Self.fields, columns) where !column.isEmpty {
                    values[field] = column.split(separator: ",").map(String.init)
                }
                return Frame(line: String(line), values: values)
            }
            try checkHeaders(frames)
            try checkHandshakeAndTransport(frames, open, kinds: (xx: 2, ik: 1))
            try checkHandshakeAndTransport(frames, closed, kinds: (xx: 4, ik: 3))
            try checkUniqueCounters(frames)
            try checkLAN(frames, peers: openLAN)
            try checkPrivateSwarm(frames, lan: closedLAN, server: closed.serverID)
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data((swarm.stdout.split(separator: "\n").last ?? "").utf8))
                    as? [String: Any], "swarm output: \(swarm.stdout)")
            let closedPorts = Set(closedLAN.map(\.port))
            try checkOverlay(
                frames.filter { !closedPorts.contains($0.source ?? 0) && !closedPorts.contains($0.destination ?? 0) },
                swarmReport: report)

            // Nothing Starling sent is malformed to the dissector.
            let malformed = try await Self.readCapture(
                tshark, capture, ["-Y", "starling.malformed || starling.unsupported_version"])
            #expect(malformed.isEmpty, "datagrams the dissector finds malformed:\n\(malformed)")
        }
    }

    /// The `starling peer` processes of one swarm: a responder, an XX initiator (it does
    /// not know the responder's key) and an IK initiator (it does).
    struct Peers {
        let serverID: String
        let server: UInt64
        let xx: UInt64
        let ik: UInt64
    }

    /// Starts a responder with `extra` arguments, then an XX and an IK initiator with the
    /// same, each of which exits once its echo request is answered.
    func runPeers(in namespace: NetworkNamespace, _ binary: String, _ extra: [String]) async throws -> Peers {
        let server = try namespace.spawn(binary, ["peer", "--listen", "127.0.0.1:0"] + extra)
        let serverID = String(
            try await server.waitForLine(timeout: Self.deadline) { $0.hasPrefix("peer ") }.dropFirst(5))
        let serverAddress = String(
            try await server.waitForLine(timeout: Self.deadline) { $0.hasPrefix("listening ") }.dropFirst(10))
        var ports: [UInt64] = []
        for expect in [[], ["--expect", serverID]] {
            let client = try namespace.spawn(binary, ["peer", "--connect", serverAddress, "--once"] + expect + extra)
            let run = try await client.waitForExit(timeout: Self.deadline)
            #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
            ports.append(try #require(Self.listeningPort(run.stdout), "\(run.stdout)"))
        }
        return Peers(
            serverID: serverID, server: try #require(Self.port(of: serverAddress)), xx: ports[0], ik: ports[1])
    }

    /// Runs two `starling lan` peers with `extra` arguments, which beacon to the IPv4 group
    /// on this namespace's loopback, find each other and join their overlays.
    /// - Returns: each one's peer ID and overlay port.
    func runLAN(
        in namespace: NetworkNamespace, _ binary: String, _ extra: [String]
    ) async throws -> [(id: String, port: UInt64)] {
        let arguments =
            ["lan", "--interface", "lo", "--multicast", "--expect", "1", "--interval", "0.2", "--duration", "60"]
            + extra
        let children = [try namespace.spawn(binary, arguments), try namespace.spawn(binary, arguments)]
        var peers: [(id: String, port: UInt64)] = []
        for child in children {
            let run = try await child.waitForExit(timeout: Self.deadline)
            #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
            // "peer ID on lo via ipv4-multicast listening 127.0.0.1:PORT"
            let line = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("peer ") })
            let words = line.split(separator: " ")
            peers.append((String(words[1]), try #require(words.last.flatMap { Self.port(of: $0) })))
        }
        return peers
    }

    /// Runs `$0` (tshark) capturing UDP on `lo` into `$1` until SIGTERM.
    ///
    /// Children of the test process inherit a signal mask that blocks SIGTERM, and tshark
    /// would never see it. The shell clears the mask for the command it runs in the
    /// foreground; the signal, sent to the whole process group, stops tshark and its
    /// dumpcap, which finish the file, and the shell's trap waits for tshark to exit.
    /// tshark's status lines go to stderr; the shell folds them into stdout, where the test
    /// waits for "Capturing on".
    static let captureScript = #"trap : TERM INT; "$0" -n -i lo -f udp -w "$1" 2>&1"#

    /// `--disable-protocol` for every protocol with a UDP heuristic dissector in `tshark`,
    /// but Starling (only Starling peers send in these captures).
    static func otherHeuristicsDisabled(_ tshark: String) async throws -> [String] {
        let listing = try await Subprocess.run(tshark, ["-G", "heuristic-decodes"])
        #expect(listing.status == 0, "\(listing.stderr)")
        return listing.stdout.split(separator: "\n").flatMap { line -> [String] in
            // table, short name, enabled (T or F)
            let columns = line.split(separator: "\t")
            guard columns.count == 3, columns[0] == "udp", columns[2] == "T", !columns[1].hasPrefix("starling") else {
                return []
            }
            return ["--disable-protocol", String(columns[1])]
        }
    }

    /// The port of a `starling peer`'s own `listening host:port` line.
    static func listeningPort(_ stdout: String) -> UInt64? {
        stdout.split(separator: "\n").first { $0.hasPrefix("listening ") }.flatMap { port(of: $0) }
    }

    /// Every datagram is version 1 with a known type, and the programs sent the types
    /// they should have.
    func checkHeaders(_ frames: [Frame]) throws {
        #expect(frames.count > 10, "decoded: \(frames)")
        for frame in frames {
            // Only Starling peers send here.
            #expect(frame.string("_ws.col.Protocol") == "Starling", "\(frame)")
            #expect(!frame.types.isEmpty, "\(frame)")
            #expect(frame.numbers("starling.version") == frame.types.map { _ in 1 }, "\(frame)")
            #expect(frame.types.allSatisfy { (1...10).contains($0) }, "\(frame)")
        }
        let types = Set(frames.flatMap(\.types))
        // initiation, response, completion, transport data, beacon, overlay
        #expect(types.isSuperset(of: [0x02, 0x03, 0x04, 0x05, 0x06, 0x09]), "types seen: \(types.sorted())")
    }

    /// The XX and IK handshakes between the `starling peer` processes, and their sessions'
    /// transport data, as the fields show them.
    func checkHandshakeAndTransport(_ frames: [Frame], _ peers: Peers, kinds: (xx: UInt64, ik: UInt64)) throws {
        func between(_ from: UInt64, _ to: UInt64) -> [Frame] {
            frames.filter { $0.source == from && $0.destination == to }
        }
        let server = peers.server
        for (client, kind) in [(peers.xx, kinds.xx), (peers.ik, kinds.ik)] {
            // The response names the initiation's sender index and shares its kind.
            let initiations = between(client, server).filter { $0.isOne(0x02) }
            let responses = between(server, client).filter { $0.isOne(0x03) }
            let response = try #require(responses.first, "no response to the kind \(kind) client")
            #expect(response.number("starling.handshake.kind") == kind)
            let initiation = try #require(
                initiations.first {
                    $0.number("starling.handshake.sender_index")
                        == response.number("starling.handshake.receiver_index")
                },
                "no initiation with sender index \(response.string("starling.handshake.receiver_index") ?? "-")")
            #expect(initiation.number("starling.handshake.kind") == kind)
            let ephemeral = initiation.string("starling.handshake.ephemeral")
            #expect(ephemeral?.count == 64)
            #expect(response.string("starling.handshake.ephemeral")?.count == 64)
            #expect(ephemeral != response.string("starling.handshake.ephemeral"))
            #expect(initiation.string("starling.handshake.mac1")?.count == 32)
            let clientIndex = try #require(initiation.number("starling.handshake.sender_index"))
            let serverIndex = try #require(response.number("starling.handshake.sender_index"))

            // XX alone has a third message, naming the responder's index.
            let completions = between(client, server).filter { $0.isOne(0x04) }
            if kind == kinds.xx {
                #expect(!completions.isEmpty, "no XX completion")
                for completion in completions {
                    #expect(completion.number("starling.handshake.receiver_index") == serverIndex)
                }
            } else {
                #expect(completions.isEmpty, "an IK handshake has no completion")
            }

            // Transport data each way names the receiving side's index; its counters start
            // at 0 and grow with every datagram on the key.
            for (from, to, index) in [(client, server, serverIndex), (server, client, clientIndex)] {
                let transport = between(from, to).filter { $0.types.contains(0x05) }
                #expect(!transport.isEmpty, "no transport data \(from) -> \(to)")
                #expect(transport.allSatisfy { $0.types.allSatisfy { $0 == 0x05 } })
                let indices = transport.flatMap { $0.numbers("starling.transport.receiver_index") }
                #expect(indices.allSatisfy { $0 == index }, "receiver indices \(from) -> \(to): \(indices)")
                let counters = transport.flatMap { $0.numbers("starling.transport.counter") }
                #expect(counters.count == indices.count)
                #expect(counters.first == 0, "counters \(from) -> \(to): \(counters)")
                #expect(zip(counters, counters.dropFirst()).allSatisfy { $0 < $1 }, "counters: \(counters)")
                // Ciphertext is at least the 16-byte tag; an echo request or reply is more.
                let lengths = transport.flatMap { $0.numbers("starling.transport.ciphertext_length") }
                #expect(lengths.count == indices.count)
                #expect(lengths.allSatisfy { $0 >= 16 })
                #expect(lengths.contains { $0 > 16 }, "no data, only keepalives: \(lengths)")
            }
        }

    }

    /// No key sends two datagrams with one counter (it is the AEAD nonce), in any session.
    func checkUniqueCounters(_ frames: [Frame]) throws {
        var seen: Set<String> = []
        for frame in frames where frame.types.allSatisfy({ $0 == 0x05 }) {
            let indices = frame.strings("starling.transport.receiver_index")
            let counters = frame.strings("starling.transport.counter")
            #expect(indices.count == frame.types.count && counters.count == frame.types.count, "\(frame)")
            for (index, counter) in zip(indices, counters) {
                let key = [frame.string("udp.srcport") ?? "-", frame.string("udp.dstport") ?? "-", index, counter]
                #expect(seen.insert(key.joined(separator: "/")).inserted, "counter used twice: \(key)")
            }
        }
    }

    /// The LAN peers' beacons carry their own records: the ID each printed and the port
    /// its overlay listens on; and their overlay join carries the same IDs.
    func checkLAN(_ frames: [Frame], peers: [(id: String, port: UInt64)]) throws {
        let beacons = frames.filter { $0.isOne(0x06) }
        for peer in peers {
            let hex = try #require(Self.hex(ofPeerID: peer.id), "not a peer ID: \(peer.id)")
            let own = beacons.filter { $0.string("starling.record.peer_id") == hex }
            #expect(!own.isEmpty, "no beacon of \(peer.id)")
            for beacon in own {
                #expect(beacon.number("starling.discovery.mode") == 0)
                #expect(beacon.strings("starling.peer") == [peer.id])
                #expect(beacon.numbers("starling.address.port") == [peer.port])
            }
            // The membership messages its overlay sends name it as their sender.
            let membership = frames.filter {
                $0.source == peer.port && $0.numbers("starling.overlay.protocol").contains(1)
            }
            #expect(!membership.isEmpty, "no membership datagram from \(peer.id)")
            for frame in membership {
                #expect(frame.strings("starling.membership.sender_id").allSatisfy { $0 == hex }, "\(frame)")
            }
        }
    }

    /// A private swarm's LAN peers send sealed beacons and sealed overlay datagrams, and
    /// nothing the dissector reads in the capture names a private peer.
    func checkPrivateSwarm(_ frames: [Frame], lan: [(id: String, port: UInt64)], server: String) throws {
        let sealedBeacons = frames.filter { $0.isOne(0x06) && $0.number("starling.discovery.mode") == 1 }
        #expect(!sealedBeacons.isEmpty, "no sealed beacon")
        for beacon in sealedBeacons {
            #expect(beacon.string("starling.record.peer_id") == nil, "\(beacon)")
            #expect(beacon.strings("starling.peer").isEmpty, "\(beacon)")
        }
        for peer in lan {
            let overlay = frames.filter { $0.source == peer.port && $0.types.contains(0x09) }
            #expect(!overlay.isEmpty, "no overlay datagram from \(peer.id)")
            for frame in overlay {
                #expect(frame.numbers("starling.overlay.mode").allSatisfy { $0 == 1 }, "\(frame)")
                #expect(frame.string("starling.overlay.swarm_tag") == nil, "\(frame)")
                #expect(frame.string("starling.overlay.protocol") == nil, "\(frame)")
            }
        }
        for id in lan.map(\.id) + [server] {
            let hex = try #require(Self.hex(ofPeerID: id))
            let naming = frames.filter { $0.line.contains(id) || $0.line.contains(hex) }
            #expect(naming.isEmpty, "the private peer \(id) is named in \(naming)")
        }
    }

    /// Overlay datagrams of the public swarm are open and carry its tag, and every overlay
    /// protocol and membership message kind that the swarm reports having sent was seen.
    func checkOverlay(_ frames: [Frame], swarmReport: [String: Any]) throws {
        let overlay = frames.filter { $0.types.contains(0x09) }
        #expect(!overlay.isEmpty)
        for frame in overlay {
            #expect(frame.numbers("starling.overlay.mode").allSatisfy { $0 == 0 }, "\(frame)")
            #expect(frame.strings("starling.overlay.swarm_tag").allSatisfy { $0 == Self.publicSwarmTag }, "\(frame)")
            #expect(frame.numbers("starling.overlay.mode").count == frame.types.count, "\(frame)")
        }
        // The byte values of PROTOCOL.md's "Overlay datagrams" and "Membership" tables.
        let protocolBytes: [String: UInt64] = [
            "membership": 1, "routing": 2, "spreading": 3, "addressCheck": 4, "index": 5, "superPeer": 6,
            "group": 7,
        ]
        let membershipKinds: [String: UInt64] = [
            "ping": 1, "pingRequest": 2, "ack": 3, "nack": 4, "pushPull": 5, "gossip": 6, "syncRequest": 7,
        ]
        let protocols = Set(overlay.flatMap { $0.numbers("starling.overlay.protocol") })
        let kinds = Set(overlay.flatMap { $0.numbers("starling.membership.kind") })
        for (reported, bytes, seen) in [
            ("overlay_sent", protocolBytes, protocols), ("membership_sent", membershipKinds, kinds),
        ] {
            let sent = try #require(swarmReport[reported] as? [String: Int], "no \(reported) in \(swarmReport)")
            #expect(sent.values.contains { $0 > 0 }, "\(reported): \(sent)")
            for (name, count) in sent where count > 0 {
                let byte = try #require(bytes[name], "\(reported) names \(name), which the test does not know")
                #expect(seen.contains(byte), "the swarm sent \(count) \(name), none decoded (seen \(seen.sorted()))")
            }
        }
        #expect(kinds.isSuperset(of: [1, 3, 5]), "membership kinds seen: \(kinds.sorted())")
        if protocols.contains(2) {
            #expect(overlay.contains { !$0.numbers("starling.routing.kind").isEmpty })
        }
    }
}

/// The dissector against PROTOCOL.md's own examples: each hex example, sent as the UDP
/// payload of a capture file written here, decodes to the values the document gives it;
/// every truncation of one is marked malformed, never a Lua error; and payloads that are
/// not Starling's are left alone. Needs `tshark`, but no namespace: nothing is sent.
@Suite(.requiresTshark)
struct DissectorExampleTests {
    static let documentPath = DissectorLabTests.repository.appendingPathComponent("docs/PROTOCOL.md").path

    /// The LAN discovery port, where the dissector is registered and claims any payload.
    static let discoveryPort: UInt16 = 47077

    /// Every `hex example=NAME` block of PROTOCOL.md, by name.
    static func examples() throws -> [String: [UInt8]] {
        let text = try String(contentsOfFile: documentPath, encoding: .utf8)
        var examples: [String: [UInt8]] = [:]
        var current: (name: String, bytes: [UInt8])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```hex example=") {
                current = (String(line.dropFirst("```hex example=".count)), [])
            } else if line.hasPrefix("```"), let finished = current {
                examples[finished.name] = finished.bytes
                current = nil
            } else if current != nil {
                let data = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                current?.bytes += data.split(separator: " ").compactMap { UInt8($0, radix: 16) }
            }
        }
        return examples
    }

    /// A capture file (pcap, raw IPv4) of one UDP datagram from 127.0.0.1:40000 per payload.
    static func captureFile(_ payloads: [(port: UInt16, bytes: [UInt8])]) -> Data {
        var file = Data()
        func append32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { file.append(contentsOf: $0) } }
        func append16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { file.append(contentsOf: $0) } }
        func bigEndian(_ value: Int) -> [UInt8] {
            [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
        }
        append32(0xa1b2_c3d4)
        append16(2)
        append16(4)
        append32(0)
        append32(0)
        append32(65_535)
        append32(101)  // LINKTYPE_RAW: the packet starts with its IP header
        for (index, payload) in payloads.enumerated() {
            let udp = bigEndian(40_000) + bigEndian(Int(payload.port)) + bigEndian(8 + payload.bytes.count) + [0, 0]
            let ip: [UInt8] =
                [0x45, 0] + bigEndian(20 + udp.count + payload.bytes.count) + [0, 0, 0, 0, 64, 17, 0, 0]
                + [127, 0, 0, 1, 127, 0, 0, 1]
            let packet = ip + udp + payload.bytes
            append32(UInt32(index))
            append32(0)
            append32(UInt32(packet.count))
            append32(UInt32(packet.count))
            file.append(contentsOf: packet)
        }
        return file
    }

    /// Reads `payloads` through the dissector and returns, per payload, each of `fields`'
    /// values (several joined by commas), or nil for a payload the dissector did not claim.
    /// UDP asks Starling's heuristic dissector first and no other (as the lab test does);
    /// what it refuses goes to the dissector registered on its port, Starling's on 47077.
    func decode(_ payloads: [(port: UInt16, bytes: [UInt8])], _ fields: [String]) async throws -> [[String: String]?] {
        let directory = try DissectorLabTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let capture = directory + "/examples.pcap"
        try Self.captureFile(payloads).write(to: URL(fileURLWithPath: capture))
        let all = ["frame.number", "starling.version"] + fields
        let output = try await DissectorLabTests.readCapture(
            try TsharkRequirement.path(), capture,
            ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
                + all.flatMap { ["-e", $0] })
        var decoded = [[String: String]?](repeating: nil, count: payloads.count)
        for line in output.split(separator: "\n") {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard let frame = Int(columns[0]), (1...payloads.count).contains(frame), columns.count == all.count,
                !columns[1].isEmpty
            else { continue }
            decoded[frame - 1] = Dictionary(uniqueKeysWithValues: zip(all, columns).filter { !$0.1.isEmpty })
        }
        return decoded
    }

    static let swarmTag: [UInt8] = [0xdd, 0x59, 0xd3, 0x1c, 0x04, 0x67, 0xca, 0x55]
    static let peerA = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    static let peerAText = "aoqqpp7tzyil4hlq3umoos6atft6jvrqtosq2xy53sdgiesvgg4a"
    static let peerB = "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"

    /// The datagrams built from the examples, and what the dissector must read in each.
    static func cases() throws -> [(name: String, datagram: [UInt8], expected: [String: String])] {
        let examples = try Self.examples()
        func example(_ name: String) throws -> [UInt8] { try #require(examples[name], "no example \(name)") }
        /// An open overlay datagram of the public swarm around a message of `protocolByte`.
        func overlay(_ protocolByte: UInt8, _ name: String) throws -> [UInt8] {
            [0x01, 0x09, 0x00] + swarmTag + [protocolByte] + (try example(name))
        }
        let record: [String: String] = [
            "starling.record.peer_id": peerA, "starling.peer": peerAText, "starling.record.sequence": "7",
            "starling.address.ipv4": "127.0.0.1", "starling.address.ipv6": "::1", "starling.address.port": "4000,4001",
            "starling.service": "echo,chat",
        ]
        return [
            (
                "peer-record-datagram", try example("peer-record-datagram"),
                record.merging(["starling.type": "0x01"]) { $1 }
            ),
            (
                "handshake-initiation", try example("handshake-initiation"),
                [
                    "starling.type": "0x02", "starling.handshake.kind": "0x02",
                    "starling.handshake.sender_index": "0x0a0b0c0d",
                    "starling.handshake.ephemeral": (0xe0...0xff).map { String(format: "%02x", $0) }.joined(),
                    "starling.handshake.mac1": "0a1a41fd960c3681b00c6f2ef958e373",
                    "starling.handshake.mac2": String(repeating: "00", count: 16),
                    "starling.handshake.has_cookie": "0", "starling.handshake.noise_length": "32",
                ]
            ),
            (
                "cookie-reply", try example("cookie-reply"),
                [
                    "starling.type": "0x0a", "starling.cookie.receiver_index": "0x0a0b0c0d",
                    "starling.cookie.nonce": (0...0x17).map { String(format: "%02x", $0) }.joined(),
                    "starling.cookie.encrypted_cookie":
                        "234a438d509616d67cf1344e26eec763db9d49bb3309653d8571f86cc2c4f6cc",
                ]
            ),
            (
                "transport-header", try example("transport-header") + [UInt8](repeating: 0xaa, count: 16),
                [
                    "starling.type": "0x05", "starling.transport.receiver_index": "0x0000002a",
                    "starling.transport.counter": "256", "starling.transport.ciphertext_length": "16",
                    "starling.transport.keepalive": "1",
                ]
            ),
            ("beacon-open", try example("beacon-open"), record.merging(["starling.discovery.mode": "0x00"]) { $1 }),
            (
                "overlay-address-check", try example("overlay-address-check"),
                [
                    "starling.overlay.mode": "0x00", "starling.overlay.swarm_tag": "dd59d31c0467ca55",
                    "starling.overlay.protocol": "0x04", "starling.address_check.kind": "0x01",
                    "starling.address_check.nonce": "000102030405060708090a0b0c0d0e0f",
                ]
            ),
            (
                "overlay-open", try example("overlay-open"),
                [
                    "starling.overlay.protocol": "0x01", "starling.membership.kind": "0x04",
                    "starling.membership.sequence": "7", "starling.membership.sender_id": peerA,
                ]
            ),
            (
                "membership-ping", try overlay(1, "membership-ping"),
                [
                    "starling.membership.kind": "0x01", "starling.membership.target_id": peerB,
                    "starling.membership.sender_id": peerA, "starling.membership.digest": "0x0011223344556677",
                    "starling.membership.update.state": "0x00", "starling.membership.update.incarnation": "1",
                    "starling.membership.update.member": peerA, "starling.address.port": "4000",
                ]
            ),
            (
                "membership-ack", try overlay(1, "membership-ack"),
                [
                    "starling.membership.kind": "0x03", "starling.membership.sender_id": peerB,
                    "starling.membership.update.state": "0x01", "starling.membership.update.incarnation": "2",
                    "starling.membership.update.accuser": peerB, "starling.address.ipv4": "10.0.0.3",
                ]
            ),
            ("routing-prove", try overlay(2, "routing-prove"), ["starling.routing.kind": "0x0b"]),
            (
                "name-chain",
                [0x01, 0x09, 0x00] + swarmTag + [2, 0x0f] + [UInt8](repeating: 0, count: 40)
                    + (try example("name-chain")),
                [
                    "starling.routing.kind": "0x0f", "starling.name.count": "2", "starling.name.label": "lab,printer",
                    "starling.name.kind": "0x01,0x02", "starling.name.ttl": "300,300",
                ]
            ),
            ("spreading-gossip", try overlay(3, "spreading-gossip"), ["starling.spreading.kind": "0x01"]),
            (
                "index-register", try overlay(5, "index-register"),
                [
                    "starling.index.kind": "0x01", "starling.index.request_id": "0x00000001",
                    "starling.index.lifetime": "30", "starling.peer": peerAText,
                ]
            ),
            (
                "super-peer-advert", try overlay(6, "super-peer-advert"),
                [
                    "starling.super_peer.kind": "0x01", "starling.super_peer.score": "16909060,64",
                    "starling.super_peer.age": "0,125", "starling.address.ipv4": "10.0.0.1,10.0.0.2",
                ]
            ),
            (
                "group-data", try overlay(7, "group-data"),
                [
                    "starling.group.kind": "0x05", "starling.group.sequence": "1800000000000000",
                    "starling.group.hops": "2", "starling.group.sender_id": peerA, "starling.group.origin_id": peerB,
                ]
            ),
        ]
    }

    @Test func documentExamples_decodeToTheirValues() async throws {
        let cases = try Self.cases()
        let fields = Array(Set(cases.flatMap { $0.expected.keys })).sorted() + ["starling.type"]
        let decoded = try await decode(cases.map { (50_000, $0.datagram) }, Array(Set(fields)))
        for (index, example) in cases.enumerated() {
            let values = try #require(decoded[index], "\(example.name) not claimed as Starling")
            #expect(values["starling.version"] == "0x01", "\(example.name)")
            for (field, expected) in example.expected {
                #expect(values[field] == expected, "\(example.name): \(field)")
            }
        }
    }

    @Test func everyTruncation_isMarkedMalformed_andForeignPayloadsAreLeftAlone() async throws {
        let cases = try Self.cases()
        var payloads: [(port: UInt16, bytes: [UInt8])] = []
        var wellFormed: [Bool] = []
        for example in cases {
            // A group message's ciphertext is the rest of it: cut short by the 2 bytes of
            // "hi", it is a sealed empty payload, as well-formed as the whole.
            let shortest = example.datagram.count - (example.name == "group-data" ? 2 : 0)
            for length in 2...example.datagram.count {
                payloads.append((Self.discoveryPort, Array(example.datagram.prefix(length))))
                wellFormed.append(length >= shortest)
            }
        }
        // Not Starling's: another version, unknown types and kinds, too short for the type.
        let foreign: [[UInt8]] = [
            [0x02, 0x05] + [UInt8](repeating: 0, count: 40),
            [0x01, 0x0b] + [UInt8](repeating: 0, count: 40),
            [0x01, 0x02, 0x07] + [UInt8](repeating: 0, count: 80),
            [0x01, 0x05] + [UInt8](repeating: 0, count: 20),
            [0x01, 0x09, 0x02] + [UInt8](repeating: 0, count: 40),
            [0x01, 0x0a] + [UInt8](repeating: 0, count: 61),
            Array("GET / HTTP/1.1\r\n\r\n".utf8),
        ]
        let foreignStart = payloads.count
        payloads += foreign.map { (50_000, $0) }

        let decoded = try await decode(payloads, ["_ws.col.Info"])
        for (index, payload) in payloads.enumerated().prefix(foreignStart) {
            let values = try #require(decoded[index], "payload \(index) not claimed on port 47077")
            let info = values["_ws.col.Info"] ?? ""
            #expect(!info.contains("undecodable"), "a Lua error: \(info)")
            #expect(info.contains("Malformed") == !wellFormed[index], "\(payload.bytes.count) bytes: \(info)")
        }
        for index in foreignStart..<payloads.count {
            #expect(decoded[index] == nil, "claimed a foreign payload: \(payloads[index].bytes)")
        }
    }
}
