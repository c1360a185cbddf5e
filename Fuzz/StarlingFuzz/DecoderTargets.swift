import StarlingCore

/// The decoder targets: each is a thin call to a public decode entry point, so that it
/// follows the wire format as it changes. Results are discarded; only a trap, a
/// sanitizer report or a hang is a finding.
enum DecoderTargets {
    /// The swarm every decoder target assumes.
    static let swarmID = [UInt8](repeating: 0x5A, count: 32)
    /// The secret of the private swarm the sealed variants assume.
    static let swarmSecret = [UInt8](repeating: 0xA5, count: 32)
    /// The receiver's wall clock for replay windows and record expiry.
    static let wallClock = UnixTime(seconds: 1_800_000_000)

    static let openOverlay = OverlayEnvelope(swarmID: swarmID, swarmSecret: nil)
    static let sealedOverlay = OverlayEnvelope(swarmID: swarmID, swarmSecret: swarmSecret)
    static let openDiscovery = DiscoveryEnvelope(swarmID: swarmID, swarmSecret: nil)
    static let sealedDiscovery = DiscoveryEnvelope(swarmID: swarmID, swarmSecret: swarmSecret)

    /// `version ‖ type` of any datagram.
    static func header(_ bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        _ = try? DatagramHeader.decode(from: &reader)
    }

    /// A whole overlay datagram, open or sealed by its mode byte, then its message.
    static func overlay(_ bytes: [UInt8]) {
        let envelope = bytes.count > 2 && bytes[2] == 0x01 ? sealedOverlay : openOverlay
        let opened = bytes.withUnsafeBytes { try? envelope.decode($0, now: wallClock) }
        guard let opened else { return }
        switch opened.protocolKind {
        case .membership: membership(Array(opened.message))
        case .routing: routing(Array(opened.message))
        case .spreading: spreading(Array(opened.message))
        case .addressCheck: _ = try? AddressCheckMessage.decode(opened.message)
        case .index: index(Array(opened.message))
        case .superPeer: superPeer(Array(opened.message))
        case .group: group(Array(opened.message))
        }
    }

    /// A membership message (pings, acks, push-pull, with their member updates), and
    /// the same bytes as a run of bare member updates.
    static func membership(_ bytes: [UInt8]) {
        _ = try? MembershipMessage.decode(bytes[...])
        var reader = ByteReader(bytes)
        while !reader.isAtEnd, (try? MemberUpdate.decode(from: &reader)) != nil {}
    }

    /// A routing (Kademlia) message; a name chain it carries is verified, as a storer or
    /// resolver would.
    static func routing(_ bytes: [UInt8]) {
        guard let message = try? RoutingMessage.decode(bytes[...]) else { return }
        switch message.body {
        case .storeName(let chain), .name(let chain?, _): try? chain.verify(now: wallClock)
        default: break
        }
    }

    /// An index message, decoded, then handed to an index server as a request (or to
    /// its client side as an answer nobody waits for).
    static func index(_ bytes: [UInt8]) {
        _ = try? IndexMessage.decode(bytes[...])
        var server = HybridCore(
            configuration: .index(), record: SeedCorpus.signedRecord, address: .ipv4(10, 0, 0, 1, port: 7946),
            wallClockAtZero: wallClock, seed: 1)
        server.start(now: .zero)
        server.handleMessage(bytes[...], from: .ipv4(10, 0, 0, 2, port: 7946), now: .zero + .seconds(1))
        var buffer: [UInt8] = []
        while server.pollTransmit(now: .zero, into: &buffer) != nil {}
        while server.pollEvent() != nil {}
    }

    /// A group message, decoded, then handed to a member of a group (as if from a live
    /// member, on the LAN channel and off it).
    static func group(_ bytes: [UInt8]) {
        guard let message = try? GroupMessage.decode(bytes[...]) else { return }
        var core = GroupsCore(
            localID: FuzzIdentities.victim.peerID, localAddress: .ipv4(10, 0, 0, 1, port: 7946),
            wallClock: wallClock, seed: 5, now: .zero)
        try? core.join(SeedCorpus.fuzzGroup, now: .zero)
        core.setLANChannel(.ipv4(239, 255, 0, 9, port: 7947), now: .zero)
        let sender = GroupMember(id: message.sender, address: .ipv4(10, 0, 0, 2, port: 7946))
        for viaLAN in [false, true] {
            core.handleMessage(message, from: sender, viaLAN: viaLAN, now: .zero + .seconds(1))
        }
        core.handleTimeout(now: .zero + .seconds(3))
        var buffer: [UInt8] = []
        while core.pollTransmit(now: .zero, into: &buffer) != nil {}
        while core.pollEvent() != nil {}
    }

    /// A super-peer message, decoded, then handed to a super-peer core that holds leaves
    /// (and to a leaf's, for answers).
    static func superPeer(_ bytes: [UInt8]) {
        _ = try? SuperPeerMessage.decode(bytes[...])
        for policy in [SuperPeerRolePolicy.alwaysSuperPeer, .neverSuperPeer] {
            var configuration = SuperPeerConfiguration.simulation
            configuration.rolePolicy = policy
            guard
                var core = try? SuperPeerCore(
                    record: SeedCorpus.signedRecord, address: .ipv4(10, 0, 0, 1, port: 7946),
                    configuration: configuration, wallClockAtZero: wallClock, random: FuzzRandom(seed: 3))
            else { return }
            let source = PeerAddress.ipv4(10, 0, 0, 2, port: 7946)
            core.memberAlive(id: FuzzIdentities.partner.peerID, address: source, now: .zero)
            core.handleTimeout(now: .zero + .seconds(1))
            core.handleMessage(bytes[...], from: source, now: .zero + .seconds(1))
            var buffer: [UInt8] = []
            while core.pollTransmit(now: .zero + .seconds(1), into: &buffer) != nil {}
            while core.pollEvent() != nil {}
        }
    }

    /// A spreading (gossip) message.
    static func spreading(_ bytes: [UInt8]) {
        _ = try? SpreadingMessage.decode(bytes[...])
    }

    /// An RPC request or response, at the datagram limit and at a stream's.
    static func rpc(_ bytes: [UInt8]) {
        _ = try? RPCRequest.decode(bytes[...])
        _ = try? RPCResponse.decode(bytes[...])
        _ = try? RPCRequest.decode(bytes[...], maximumSize: Int(UInt32.max))
        _ = try? RPCResponse.decode(bytes[...], maximumSize: Int(UInt32.max))
    }

    /// A session datagram: a handshake message by its type byte, or a transport header.
    static func session(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { TransportHeader.parse($0) }
        var reader = ByteReader(bytes)
        guard let header = try? DatagramHeader.decode(from: &reader) else { return }
        switch header.type {
        case .handshakeInitiation: _ = try? HandshakeInitiation.decode(body: &reader)
        case .handshakeResponse: _ = try? HandshakeResponse.decode(body: &reader)
        case .handshakeCompletion: _ = try? HandshakeCompletion.decode(body: &reader)
        default: break
        }
    }

    /// A signed peer record, bare and as a datagram, then its signature and expiry.
    static func record(_ bytes: [UInt8]) {
        if let signed = try? SignedPeerRecord.decode(bytes[...]) {
            _ = try? signed.verify(now: wallClock)
        }
        if let signed = try? SignedPeerRecord.decodeDatagram(bytes) {
            _ = try? signed.verify(now: wallClock)
        }
    }

    /// A LAN discovery datagram, open or sealed.
    static func discovery(_ bytes: [UInt8]) {
        _ = try? openDiscovery.decode(bytes)
        _ = try? sealedDiscovery.decode(bytes)
    }

    /// An mDNS message; when it decodes, its re-encoding must decode to the same message.
    static func mdns(_ bytes: [UInt8]) {
        guard let message = try? DNSMessage.decode(bytes) else { return }
        for record in message.allRecords { _ = record.data.canonicalBytes }
        // An NSEC outside mDNS's restricted form is kept raw, with any compression
        // pointers in it: moved elsewhere they may no longer decode.
        let keptRaw = message.allRecords.contains { $0.type == .nsec && $0.data.isUnknown }
        guard !keptRaw, let encoded = try? message.encoded() else { return }
        let again = try? DNSMessage.decode(encoded)
        precondition(again == message, "mDNS re-encoding changed the message")
    }

    /// A responder that owns its host name and one service, ready for hostile datagrams.
    static let mdnsResponder: MDNSResponder = {
        var configuration = MDNSResponderConfiguration(hostName: "fuzz-host", addresses: [.ipv4(0x0A00_0001)])
        configuration.destinations = [MDNSConstants.ipv4Group]
        var responder = try! MDNSResponder(configuration: configuration, seed: 7, now: .zero)
        _ = try! responder.register(
            MDNSService(instance: "Fuzz Peer", type: "_starling._udp", port: 7946, txt: [Array("v=1".utf8)]), now: .zero
        )
        drive(&responder, until: .zero + .seconds(5))
        // A second service still probing when the input arrives.
        _ = try! responder.register(
            MDNSService(instance: "Probing", type: "_other._tcp", port: 1), now: .zero + .seconds(5))
        return responder
    }()

    /// A browser of `_starling._udp.local` and of service types.
    static let mdnsBrowser: MDNSBrowser = {
        var browser = try! MDNSBrowser(seed: 7)
        browser.browse(try! DNSName("_starling._udp.local"), now: .zero)
        browser.browseServiceTypes(now: .zero)
        drive(&browser, until: .zero + .seconds(5))
        return browser
    }()

    /// Runs a core's timers up to `end`, draining it after each step.
    static func drive<Core: ProtocolCore>(_ core: inout Core, until end: Instant) {
        var buffer: [UInt8] = []
        while let due = core.pollTimeout(), due <= end {
            core.handleTimeout(now: due)
            while core.pollTransmit(now: due, into: &buffer) != nil {}
            while core.pollEvent() != nil {}
        }
    }

    /// The bytes as a datagram to an established responder and to a browser, from the
    /// mDNS port and from a legacy port, then ten seconds of their timers.
    static func mdnsCore(_ bytes: [UInt8]) {
        let start = Instant.zero + .seconds(5)
        var responder = mdnsResponder
        var browser = mdnsBrowser
        for source in [PeerAddress.ipv4(10, 0, 0, 2, port: 5353), .ipv4(10, 0, 0, 2, port: 40000)] {
            bytes.withUnsafeBytes { raw in
                responder.handleDatagram(raw, from: source, now: start)
                browser.handleDatagram(raw, from: source, now: start)
            }
        }
        drive(&responder, until: start + .seconds(10))
        drive(&browser, until: start + .seconds(10))
    }

    /// The identity key file, and the text forms a user types: peer ID, base32, address.
    static func keyFile(_ bytes: [UInt8]) {
        _ = try? KeyFileFormat.decode(bytes)
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        _ = try? PeerID(text)
        _ = try? Base32.decode(text)
        _ = try? PeerAddress(text)
    }

    /// The four stream framers: the first byte picks one and its limit, the second the
    /// size of the chunks the rest arrives in; every frame is drained after each chunk.
    static func framers(_ bytes: [UInt8]) {
        var input = bytes[...]
        let choice = input.popFirst() ?? 0
        let chunk = Int(input.popFirst() ?? 0) + 1
        let maximum = 1 + Int(choice >> 2) * 64
        switch choice & 0x03 {
        case 0:
            let width: LengthPrefixFramer.Width = choice & 0x04 == 0 ? .u16 : .u32
            if let framer = try? LengthPrefixFramer(width: width, maximum: maximum) {
                drain(framer, input, chunk: chunk)
            }
        case 1:
            let delimiter: [UInt8] = choice & 0x04 == 0 ? [0x0A] : [0x0D, 0x0A]
            if let framer = try? DelimiterFramer(delimiter: delimiter, maximum: maximum) {
                drain(framer, input, chunk: chunk)
            }
        case 2:
            if let framer = try? FixedLengthFramer(frameLength: maximum) { drain(framer, input, chunk: chunk) }
        default:
            if let framer = try? ReadUntilCloseFramer(maximum: maximum) { drain(framer, input, chunk: chunk) }
        }
    }

    private static func drain(_ framer: some FrameDecoder, _ bytes: ArraySlice<UInt8>, chunk: Int) {
        var framer = framer
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = min(bytes.endIndex, start + chunk)
            framer.append(bytes[start..<end])
            start = end
            while case .frame? = try? framer.next() {}
        }
        _ = try? framer.finish()
    }

    /// A stream's bytes as its responder (or, by the first byte, its initiator) reads
    /// them: the stream header, handshake frames, records and chunks.
    static func stream(_ bytes: [UInt8]) {
        var input = bytes[...]
        let choice = input.popFirst() ?? 0
        var random = FuzzRandom(seed: UInt64(choice))
        let role: StreamSession.Role = choice & 0x01 == 0 ? .responder : .initiator(expecting: nil)
        var configuration = SessionConfiguration.lan
        if choice & 0x02 != 0 { configuration.swarmSecret = swarmSecret }
        guard
            var session = try? StreamSession(
                role: role, identity: FuzzIdentities.victim, configuration: configuration,
                maximumMessageSize: 1 << 16, wallClock: DecoderTargets.wallClock, random: &random)
        else { return }
        let chunk = Int(input.popFirst() ?? 0) + 1
        var output: [UInt8] = []
        var start = input.startIndex
        while start < input.endIndex, !session.isFinished {
            let end = min(input.endIndex, start + chunk)
            session.handleBytes(Array(input[start..<end]))
            start = end
            while session.pollEvent() != nil {}
            output.removeAll(keepingCapacity: true)
            while session.pollTransmit(appendingTo: &output) > 0 { output.removeAll(keepingCapacity: true) }
        }
        session.handleEndOfStream()
        while session.pollEvent() != nil {}
    }
}
