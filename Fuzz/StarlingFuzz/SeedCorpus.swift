import StarlingCore

/// The seed corpus: real messages from the encoders and from two cores talking, so that
/// the fuzzer starts past the checks random bytes never pass. Made by
/// `starling-fuzz make-corpus`; it follows the wire format as it changes.
enum SeedCorpus {
    /// Every target's seeds.
    static func make() -> [(FuzzTarget, [[UInt8]])] {
        let traffic = capturedTraffic()
        let messages = overlayMessages(traffic)
        return FuzzTarget.allCases.map { target in
            let seeds: [[UInt8]]
            switch target {
            case .header: seeds = firstOfEachType(traffic)
            case .overlay:
                seeds = Array(traffic.filter { $0.count > 1 && $0[1] == MessageType.overlay.rawValue }.prefix(48))
            case .membership: seeds = messages[.membership] ?? []
            case .routing: seeds = routingMessages() + (messages[.routing] ?? [])
            case .spreading: seeds = spreadingMessages() + (messages[.spreading] ?? [])
            case .index: seeds = indexMessages()
            case .superPeer: seeds = superPeerMessages()
            case .group: seeds = groupMessages()
            case .rpc: seeds = rpcMessages()
            case .session: seeds = Array(traffic.filter { $0.count > 1 && (2...5).contains($0[1]) }.prefix(32))
            case .record: seeds = [signedRecord.encoded, signedRecord.datagram]
            case .discovery: seeds = discoveryDatagrams()
            case .framers: seeds = framedStreams()
            case .stream: seeds = streamOpenings()
            case .streamPair: seeds = streamScripts
            case .keyfile:
                seeds = [
                    KeyFileFormat.encode(FuzzIdentities.victim), Array(FuzzIdentities.victim.peerID.description.utf8),
                    Array("10.0.0.1:7946".utf8), Array("[2001:db8::9]:1".utf8),
                ]
            case .mdns, .mdnsCore: seeds = mdnsMessages()
            case .sessionCore, .peerCore, .membershipCore, .nodeCore: seeds = scripts
            }
            return (target, seeds)
        }
    }

    /// A stable file name for `seed`: its FNV-1a hash.
    static func name(of seed: [UInt8]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in seed { hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01B3 }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Scripts for ``CorePair``: the partner connects, joins or asks, the two talk for a
    /// while (every datagram delivered both ways), time passes, and they talk again.
    static let scripts: [[UInt8]] = {
        let talk = [UInt8]([1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2])
        let wait: [UInt8] = [5, 50, 1, 2, 1, 2, 0x0D, 30, 1, 2, 1, 2]
        var result: [[UInt8]] = []
        for swarm: UInt8 in [0, 1] {
            for operand: UInt8 in [0, 0x80, 1, 3, 4, 5, 13] {
                result.append([swarm, 6, operand] + talk + wait + [6, 1, 6, 4, 6, 3] + talk + [0x0D, 200] + talk)
            }
            // The victim starts, then a replay, a mutation and a cut-short datagram.
            result.append([swarm, 0x0E, 0] + talk + [6, 1, 1, 4, 0, 3, 7, 0x40, 7, 20] + talk)
            // A stranger's bytes between the partner's.
            result.append([swarm, 6, 0, 1, 0x10, 4, 1, 9, 0, 0, 2] + talk)
        }
        return result
    }()

    /// Scripts for ``StreamPair``: the handshake both ways, messages of several sizes
    /// each way delivered in chunks, and a close.
    static let streamScripts: [[UInt8]] = {
        let handshake: [UInt8] = [0, 255, 1, 0, 255, 1]
        let messages: [UInt8] = [2, 0, 2, 3, 0, 40, 0, 255, 0, 255, 3, 9, 1, 2, 200, 0, 255, 0, 255, 0, 255, 0, 255]
        return [0, 1, 2, 3].map { swarm in [swarm] + handshake + handshake + messages + [6, 0, 255, 1, 0, 255] }
    }()

    /// The datagrams two whole peers exchange (open swarm, then private) while joining,
    /// connecting, looking up and broadcasting.
    static func capturedTraffic() -> [[UInt8]] {
        var traffic: [[UInt8]] = []
        for script in scripts {
            script.withUnsafeBytes { traffic += CoreTargets.nodeCore($0, capture: true) }
        }
        for script in scripts.prefix(4) {
            script.withUnsafeBytes { traffic += CoreTargets.sessionEndpoint($0, capture: true) }
        }
        var seen = Set<[UInt8]>()
        return traffic.filter { seen.insert($0).inserted }
    }

    /// Up to four datagrams of each type byte.
    static func firstOfEachType(_ traffic: [[UInt8]]) -> [[UInt8]] {
        var counts: [UInt8: Int] = [:]
        return traffic.filter { datagram in
            guard datagram.count > 1 else { return false }
            counts[datagram[1], default: 0] += 1
            return counts[datagram[1]]! <= 4
        }
    }

    /// The messages inside the open overlay datagrams, by protocol (at most 48 each).
    static func overlayMessages(_ traffic: [[UInt8]]) -> [OverlayProtocol: [[UInt8]]] {
        var messages: [OverlayProtocol: [[UInt8]]] = [:]
        for datagram in traffic {
            guard
                let opened = datagram.withUnsafeBytes({
                    try? DecoderTargets.openOverlay.decode($0, now: DecoderTargets.wallClock)
                }), messages[opened.protocolKind, default: []].count < 48
            else { continue }
            messages[opened.protocolKind, default: []].append(Array(opened.message))
        }
        return messages
    }

    static let signedRecord: SignedPeerRecord = {
        let record = PeerRecord(
            peerID: FuzzIdentities.victim.peerID, sequence: 7, expiresAt: DecoderTargets.wallClock + .seconds(3600),
            addresses: [FuzzIdentities.victimAddress, FuzzIdentities.sources[3]], services: ["chat", "files-v1"])
        return try! record.sign(with: FuzzIdentities.victim)
    }()

    /// One routing message of each kind.
    static func routingMessages() -> [[UInt8]] {
        let sender = FuzzIdentities.partner.peerID
        let contacts = [RoutingContact(peerID: FuzzIdentities.victim.peerID, address: FuzzIdentities.victimAddress)]
        let bodies: [RoutingMessage.Body] = [
            .ping, .pong, .findNode(target: RoutingKey(peer: sender)), .nodes(contacts), .findValue(target: sender),
            .value(record: signedRecord, closer: contacts), .getProviders(service: "chat"),
            .providers(records: [signedRecord], closer: contacts), .addProvider(service: "chat", record: signedRecord),
            .addProviderAck(stored: true), .findName(target: RoutingKey(nameZone: sender, path: "printer.lab")),
            .name(chain: nameChain, closer: contacts), .name(chain: nil, closer: contacts),
            .storeName(chain: nameChain), .storeNameAck(stored: false),
        ]
        return bodies.compactMap { try? RoutingMessage(requestID: 11, sender: sender, body: $0).encode() }
    }

    /// A delegation of `lab` by the partner to the victim, and the victim's record of
    /// `printer` under it.
    static let nameChain: NameChain = {
        let expiry = DecoderTargets.wallClock + .seconds(3600)
        let lab = try! NameRecord(
            zone: FuzzIdentities.partner.peerID, label: "lab", sequence: 1, expiresAt: expiry, ttl: 60,
            content: .delegation(FuzzIdentities.victim.peerID)
        ).sign(with: FuzzIdentities.partner)
        let printer = try! NameRecord(
            zone: FuzzIdentities.victim.peerID, label: "printer", sequence: 2, expiresAt: expiry, ttl: 60,
            content: .data(
                NameData(
                    peer: FuzzIdentities.victim.peerID, addresses: [FuzzIdentities.victimAddress], services: ["chat"],
                    text: [NameText(key: "k", value: "v")]))
        ).sign(with: FuzzIdentities.victim)
        return NameChain(records: [lab, printer])
    }()

    /// One spreading message of each kind, the signed ones signed for the public swarm.
    static func spreadingMessages() -> [[UInt8]] {
        let id = SpreadingID(high: 1, low: 2)
        let origin = FuzzIdentities.partner.peerID
        let other = FuzzIdentities.victim.peerID
        let swarm = [UInt8](repeating: 0, count: 32)
        let messages: [SpreadingMessage] = [
            .signedGossip(id: id, hops: 1, payload: [1, 2], swarmID: swarm, by: FuzzIdentities.partner),
            .signedQuery(
                id: id, ttl: 4, hops: 0, wantsNotices: true, payload: [3], swarmID: swarm, by: FuzzIdentities.partner),
            .signedQueryHit(
                id: id, queryOrigin: origin, hops: 2, payload: [4], swarmID: swarm, by: FuzzIdentities.victim),
            .echoRequest(identifier: 5, timestamp: 6, sender: origin),
            .echoReply(identifier: 5, timestamp: 6, sender: other),
            .unreachable(id: id, subject: .query, target: other, reporter: origin),
            .ttlExceeded(id: id, origin: origin, reporter: other, hops: 3),
        ]
        return messages.compactMap { try? $0.encoded() }
    }

    /// One index message of each kind.
    static func indexMessages() -> [[UInt8]] {
        let messages: [IndexMessage] = [
            .register(request: 1, lifetime: 30, record: signedRecord),
            .registered(request: 1, status: .stored, lifetime: 30),
            .findPeer(request: 2, peer: FuzzIdentities.victim.peerID),
            .findService(request: 3, service: "chat"),
            .records(request: 2, records: [signedRecord]),
            .listIndexes(request: 4, fromIndex: true),
            .indexes(
                request: 4, members: 3,
                entries: [IndexEntry(id: FuzzIdentities.partner.peerID, address: .ipv4(10, 0, 0, 1, port: 7946))]),
            .handoff(request: 0, records: [HandedRecord(lifetime: 20, record: signedRecord)]),
        ]
        return messages.compactMap { try? $0.encoded() }
    }

    /// The group the group target's member has joined.
    static let fuzzGroup = GroupKey(name: "fuzz", swarmID: DecoderTargets.swarmID, swarmSecret: nil)

    /// One group message of each kind, the data message sealed under ``fuzzGroup``'s key.
    static func groupMessages() -> [[UInt8]] {
        let partner = FuzzIdentities.partner.peerID
        let group = fuzzGroup.id
        let entries = [GroupReportEntry(group: group, flags: GroupReportEntry.wantsMembers)]
        var sender = GroupsCore(
            localID: partner, localAddress: .ipv4(10, 0, 0, 2, port: 7946), wallClock: DecoderTargets.wallClock,
            seed: 9, now: .zero)
        try? sender.join(fuzzGroup, now: .zero)
        let victim = GroupMember(id: FuzzIdentities.victim.peerID, address: .ipv4(10, 0, 0, 1, port: 7946))
        sender.handleMessage(.link(sender: victim.id, group: group), from: victim, viaLAN: false, now: .zero)
        let id = try? sender.send([1, 2, 3], to: fuzzGroup, now: .zero)
        var buffer: [UInt8] = []
        var data: [UInt8] = []
        while sender.pollTransmit(now: .zero, into: &buffer) != nil {
            if buffer.first == GroupMessageKind.data.rawValue { data = buffer }
        }
        let messageID = id ?? GroupMessageID(origin: partner, sequence: 1)
        let messages: [GroupMessage] = [
            .report(sender: partner, entries: entries),
            .lanReport(sender: partner, entries: entries),
            .members(
                sender: partner,
                answers: [
                    GroupMembersAnswer(group: group, members: [victim]), GroupMembersAnswer(group: group, members: []),
                ]),
            .link(sender: partner, group: group),
            .unlink(sender: partner, group: group),
            .prune(sender: partner, group: group),
            .iHave(sender: partner, group: group, ids: [messageID]),
            .graft(sender: partner, group: group, id: messageID),
        ]
        return messages.compactMap { try? $0.encoded() } + (data.isEmpty ? [] : [data])
    }

    /// One super-peer message of each kind.
    static func superPeerMessages() -> [[UInt8]] {
        let partner = FuzzIdentities.partner.peerID
        let address = PeerAddress.ipv4(10, 0, 0, 2, port: 7946)
        let advert = SuperPeerAdvert(
            id: partner, address: address, score: 10, leafCount: 3, freeSlots: 7, superPeers: 2, roleEpoch: 1,
            sequence: 1, isSuperPeer: true)
        var filter = QueryRoutingFilter()
        filter.insert("chat")
        let messages: [SuperPeerMessage] = [
            .advert(sender: advert, others: []),
            .attach(record: signedRecord, filter: filter),
            .attachReply(sender: partner, refusal: .full, alternatives: []),
            .filterUpdate(leaf: partner, filter: filter),
            .detach(sender: partner, reason: .leaving),
            .handoverOffer(sender: partner),
            .keepalive(leaf: partner, recordSequence: 1, candidacy: 4),
            .relay(origin: partner, target: FuzzIdentities.victim.peerID, payload: [1, 2]),
            .superPeerFilter(sender: partner, filter: filter),
            .lookup(request: 1, asker: partner, target: .peer(FuzzIdentities.victim.peerID)),
            .lookup(request: 2, asker: partner, target: .service("chat")),
            .lookupReply(
                request: 1, records: [signedRecord], referrals: [SuperPeerAlternative(id: partner, address: address)]),
        ]
        return messages.compactMap { try? $0.encoded() }
    }

    static func rpcMessages() -> [[UInt8]] {
        let request = RPCRequest(id: 9, floor: 4, incarnation: 3, method: "echo", payload: [1, 2, 3])
        let outcomes: [RPCResponse.Outcome] = [
            .ok([4, 5]), .rejected("busy"), .tooLarge(size: 70_000, maximum: 1200), .noHandler,
        ]
        return [try! request.encoded()] + outcomes.map { try! RPCResponse(id: 9, outcome: $0).encoded() }
    }

    static func discoveryDatagrams() -> [[UInt8]] {
        var random = FuzzRandom(seed: 5)
        let messages: [DiscoveryMessage] = [
            .beacon(signedRecord), .whoHas(wanted: FuzzIdentities.partner.peerID, asker: signedRecord),
            .iHave(signedRecord),
        ]
        return [DecoderTargets.openDiscovery, DecoderTargets.sealedDiscovery].flatMap { envelope in
            messages.map { envelope.encode($0, sentAt: DecoderTargets.wallClock, using: &random) }
        }
    }

    /// mDNS messages: a probe, a query with known answers, a compressed response with
    /// every record type, and a legacy unicast query.
    static func mdnsMessages() -> [[UInt8]] {
        let host = try! DNSName("fuzz-host.local")
        let type = try! DNSName("_starling._udp.local")
        let instance = try! DNSName(label: "Fuzz Peer", parent: type)
        let srv = DNSRecord(name: instance, data: .srv(priority: 0, weight: 0, port: 7946, target: host), ttl: 120)
        let txt = DNSRecord(name: instance, data: .txt([Array("v=1".utf8)]), ttl: 4500)
        let ptr = DNSRecord(name: type, data: .ptr(instance), ttl: 4500)
        let address = DNSRecord(name: host, data: .a(0x0A00_0001), ttl: 120, cacheFlush: true)
        let messages = [
            DNSMessage(
                questions: [DNSQuestion(name: instance, type: .any, unicastResponse: true)], authorities: [srv, txt]),
            DNSMessage(questions: [DNSQuestion(name: type, type: .ptr)], answers: [ptr]),
            DNSMessage(
                flags: DNSMessage.responseFlags, answers: [ptr],
                additionals: [
                    srv, txt, address, DNSRecord(name: host, data: .aaaa(high: 0xFE80 << 48, low: 1), ttl: 120),
                    DNSRecord(name: host, data: .nsec(next: host, types: [.a, .aaaa]), ttl: 120),
                    DNSRecord(name: host, data: .unknown(type: .opt, bytes: [0, 1]), ttl: 0),
                ]),
            DNSMessage(id: 0x1234, questions: [DNSQuestion(name: host, type: .a)]),
        ]
        return messages.map { try! $0.encoded() }
    }

    /// Framer inputs: choice byte (framer and limit), chunk size, then framed data.
    static func framedStreams() -> [[UInt8]] {
        [
            [0x40, 3, 0, 2, 0x61, 0x62, 0, 0, 0, 1, 0x63],
            [0x44, 0, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0],
            [0x41, 1] + Array("one\ntwo\nthree\n".utf8),
            [0x45, 4] + Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            [0x0A, 2] + [UInt8](repeating: 7, count: 20),
            [0x43, 9] + [UInt8](repeating: 0x55, count: 40),
        ]
    }

    /// What a stream's responder reads: a real initiator's opening bytes (its header and
    /// handshake frame), open and private, whole and in small chunks.
    static func streamOpenings() -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        for secret in [nil, DecoderTargets.swarmSecret] {
            var random = FuzzRandom(seed: 6)
            var configuration = SessionConfiguration.lan
            configuration.swarmSecret = secret
            guard
                var initiator = try? StreamSession(
                    role: .initiator(expecting: nil), identity: FuzzIdentities.partner, configuration: configuration,
                    maximumMessageSize: 1 << 16, wallClock: DecoderTargets.wallClock, random: &random)
            else { continue }
            try? initiator.send([1, 2, 3])
            var output: [UInt8] = []
            while initiator.pollTransmit(appendingTo: &output) > 0 {}
            let choice: UInt8 = secret == nil ? 0 : 2
            seeds += [[choice, 255] + output, [choice, 6] + output]
        }
        return seeds
    }
}
