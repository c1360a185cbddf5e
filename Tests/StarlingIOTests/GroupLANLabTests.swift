import Foundation
import StarlingCore
import StarlingIO
import StarlingTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Overlay multicast groups with LAN acceleration across two subnets
/// (``TwoSubnetLab`` with `forwardsUnicast`): the router forwards unicast between them
/// but no multicast, four hosts sit on each subnet, every host is one peer of a pure
/// overlay and a member of the group "lab". Every peer is a whole ``NodeCore`` over a UDP
/// socket of its own namespace bound to its host address, plus a second socket bound to
/// the LAN group channel (an administratively scoped IPv4 group, RFC 2365) and joined to
/// it on the host's lab interface; all of them are driven from one thread.
///
/// A message must reach every member once; the members that share a subnet with its
/// origin receive it through the one IP multicast datagram the origin sends, and those
/// of the other subnet through a multicast of a member there that got it by unicast.
@Suite(.requiresNetworkNamespaces)
struct GroupLANLabTests {
    static let port: UInt16 = 47_200
    /// The LAN group channel: organisation-local scope, kept on the subnet by TTL 1 and
    /// by a router that routes no multicast.
    static let channelGroup = "239.255.83.1"
    static let channelPort: UInt16 = 47_283
    static let hostsPerSubnet = 4
    static let group = "lab"
    /// Messages sent from each subnet in the measured batches.
    static let messages = 5
    /// Larger than any group message but `data` can be (a sample of 8 members, a report
    /// or announcements of a few messages), so that a group datagram this large is a
    /// data message (see ``step(_:channel:subnets:)``).
    static let payloadSize = 1_000
    /// Warm-up messages sent at most before giving up on LAN-mates learning of each other.
    static let warmUps = 10
    /// Generous for a slow, busy machine; the test waits for outcomes, not for time.
    static let deadline = Duration.seconds(90)

    /// One peer of the lab.
    struct Peer: Sendable {
        let name: String
        /// 0 for subnet A, 1 for subnet B.
        let subnet: Int
        let socket: Int32
        let channelSocket: Int32
        let address: PeerAddress
        var core: NodeCore
        var joined = false
        /// Each delivered message's `viaLAN`, once per delivery.
        var deliveries: [GroupMessageID: [Bool]] = [:]
        /// Data messages sent by unicast to a peer of the same subnet.
        var unicastDataToMates = 0

        var id: PeerID { core.peer.identity.peerID }
        var overlay: OverlayCore { core.overlay! }
        var statistics: GroupStatistics { core.overlay!.groups.statistics }
    }

    /// The sockets of one host.
    struct Sockets: Sendable {
        let name: String
        let subnet: Int
        let socket: Int32
        var channelSocket: Int32 = -1
        let address: PeerAddress
    }

    @Test func groupLANLab_twoSubnetsWithoutMulticastRouting_membersReceiveOnceAndLANMatesByOneMulticast()
        async throws
    {
        try await TwoSubnetLab.with(hostsPerSubnet: Self.hostsPerSubnet, forwardsUnicast: true) { lab in
            var sockets: [Sockets] = []
            defer {
                for entry in sockets {
                    close(entry.socket)
                    if entry.channelSocket >= 0 { close(entry.channelSocket) }
                }
            }
            for (subnet, hosts) in [lab.subnetA, lab.subnetB].enumerated() {
                for host in hosts {
                    let interface = host.address
                    let socket = try LabSockets.open(namespace: host.name, host: interface, port: Self.port) {
                        try LabSockets.setMulticastSender($0, interface: interface, ttl: 1, loopback: false)
                    }
                    sockets.append(
                        Sockets(
                            name: host.address, subnet: subnet, socket: socket,
                            address: try PeerAddress("\(host.address):\(Self.port)")))
                    sockets[sockets.count - 1].channelSocket = try LabSockets.open(
                        namespace: host.name, host: Self.channelGroup, port: Self.channelPort
                    ) {
                        try LabSockets.joinMulticast($0, group: Self.channelGroup, interface: interface)
                    }
                }
            }
            let opened = sockets
            let outcome = try await LabSockets.runOnThread { try Self.run(opened) }
            try #require(outcome.converged, "not every peer saw every other alive: \(outcome.summary)")
            try #require(outcome.joined, "not every peer joined the group: \(outcome.summary)")
            try #require(
                outcome.warmedUp, "LAN-mates never received a warm-up message by multicast: \(outcome.summary)")
            try #require(outcome.batches.count == 2, "a batch was not delivered everywhere: \(outcome.summary)")
            for batch in outcome.batches {
                // Every member but the origin delivered each message exactly once.
                for (name, deliveries) in batch.deliveries where name != batch.sender {
                    for id in batch.ids {
                        #expect(deliveries[id]?.count == 1, "\(name): \(batch.sender)'s \(id) \(deliveries[id] ?? [])")
                    }
                }
                // The origin multicast each message once, and its LAN-mates all got it from
                // that datagram: no unicast copy crossed its subnet.
                #expect(batch.multicastAtSender == Self.messages, "\(batch)")
                #expect(batch.viaLANOnSendersSubnet == (Self.hostsPerSubnet - 1) * Self.messages, "\(batch)")
                #expect(batch.unicastDataToMatesFromSender == 0, "\(batch)")
                // Multicast does not cross the router, so on the other subnet at least one
                // member got each message by unicast and multicast it there. How many did
                // (and so how many of the others got it from a multicast rather than by
                // unicast) depends on which copies arrive first: every member of the
                // origin's subnet pushes to its eager links across, and Plumtree prunes
                // those links only as duplicates come. Only the lower bound is certain;
                // the counts are in the batch's description.
                #expect(batch.multicastOnOtherSubnet >= Self.messages, "\(batch)")
            }
        }
    }

    /// One batch of messages from one origin and what came of it.
    struct Batch: Sendable, CustomStringConvertible {
        let sender: String
        let ids: [GroupMessageID]
        /// Per peer name: each message's deliveries (`viaLAN` of each).
        var deliveries: [String: [GroupMessageID: [Bool]]] = [:]
        var multicastAtSender = 0
        var pushedAtSender = 0
        var unicastDataToMatesFromSender = 0
        var unicastDataToMatesTotal = 0
        var viaLANOnSendersSubnet = 0
        var viaLANOnOtherSubnet = 0
        var multicastOnOtherSubnet = 0

        var description: String {
            "\(sender): multicast \(multicastAtSender), pushed \(pushedAtSender), unicast data to LAN-mates "
                + "\(unicastDataToMatesFromSender) (all peers \(unicastDataToMatesTotal)), via LAN on its subnet "
                + "\(viaLANOnSendersSubnet), on the other \(viaLANOnOtherSubnet), multicast on the other "
                + "\(multicastOnOtherSubnet)"
        }
    }

    /// What a run ends with.
    struct Outcome: Sendable {
        var converged = false
        var joined = false
        var warmedUp = false
        var batches: [Batch] = []
        var summary = ""
    }

    /// Builds the peers (A's hosts, then B's), turns the LAN channel on, joins them
    /// through the first, waits for membership, joins the group, warms up until
    /// LAN-mates know each other, then sends one batch from each subnet.
    static func run(_ sockets: [Sockets]) throws -> Outcome {
        var random = TestRandom(seed: 83)
        let channel = try PeerAddress("\(channelGroup):\(channelPort)")
        var peers: [Peer] = []
        for entry in sockets {
            let identity = IdentityKeyPair.generate(using: &random)
            let endpoint = try SessionEndpoint(
                identity: identity, configuration: .local, random: TestRandom(seed: random.next()))
            var overlayCore = try OverlayCore(
                identity: identity, address: entry.address, configuration: .local,
                wallClockAtZero: wallClockAtZero(), random: TestRandom(seed: random.next()),
                now: LabSockets.monotonicNow())
            overlayCore.setGroupLANChannel(channel, now: LabSockets.monotonicNow())
            let core = NodeCore(
                peer: PeerCore(endpoint: endpoint, random: TestRandom(seed: random.next())), overlay: overlayCore)
            peers.append(
                Peer(
                    name: entry.name, subnet: entry.subnet, socket: entry.socket, channelSocket: entry.channelSocket,
                    address: entry.address, core: core))
        }
        let subnets = Dictionary(uniqueKeysWithValues: peers.map { ($0.address, $0.subnet) })
        let seed = peers[0].address
        for index in peers.indices.dropFirst() {
            _ = peers[index].core.withOverlay { $0.join([seed], now: LabSockets.monotonicNow()) }
        }
        var outcome = Outcome()
        func wait(until done: () -> Bool) -> Bool {
            let start = LabSockets.monotonicNow()
            while !done(), LabSockets.monotonicNow() - start < deadline {
                step(&peers, channel: channel, subnets: subnets)
            }
            return done()
        }

        let everyone = peers.map(\.id)
        outcome.converged = wait {
            peers.allSatisfy { peer in
                everyone.allSatisfy { $0 == peer.id || peer.overlay.membership.member($0)?.state == .alive }
            }
        }
        guard outcome.converged else { return outcome.summarised(peers) }

        // Joined in one go: each member's LAN report reaches LAN-mates that have joined.
        for index in peers.indices {
            _ = try peers[index].core.withOverlay { try $0.joinGroup(group, now: LabSockets.monotonicNow()) }
        }
        outcome.joined = wait { peers.allSatisfy(\.joined) }
        guard outcome.joined else { return outcome.summarised(peers) }

        // One origin on each subnet, not the seed.
        let origins = [1, hostsPerSubnet + 1]
        // Warm-up: LAN reports travel on their own schedule; a message each origin
        // multicasts and all its LAN-mates receive from that datagram shows they know
        // each other. Bounded by count, each message waited for until delivered.
        var warm = Set<Int>()
        for number in 0..<warmUps where warm.count < origins.count {
            for origin in origins where !warm.contains(origin) {
                let id = try send(from: origin, number: number, &peers)
                guard wait(until: { delivered(id, everywhereBut: origin, peers) }) else {
                    return outcome.summarised(peers)
                }
                let mates = peers.indices.filter { $0 != origin && peers[$0].subnet == peers[origin].subnet }
                if mates.allSatisfy({ peers[$0].deliveries[id] == [true] }) { warm.insert(origin) }
            }
        }
        outcome.warmedUp = warm.count == origins.count
        guard outcome.warmedUp else { return outcome.summarised(peers) }

        for origin in origins {
            let before = peers.map(\.statistics)
            for index in peers.indices { peers[index].unicastDataToMates = 0 }
            var ids: [GroupMessageID] = []
            for number in 0..<messages { ids.append(try send(from: origin, number: 100 + number, &peers)) }
            guard wait(until: { ids.allSatisfy { delivered($0, everywhereBut: origin, peers) } }) else {
                return outcome.summarised(peers)
            }
            var batch = Batch(sender: peers[origin].name, ids: ids)
            for (index, peer) in peers.enumerated() {
                batch.deliveries[peer.name] = peer.deliveries.filter { ids.contains($0.key) }
                let viaLAN = ids.reduce(0) { $0 + (peer.deliveries[$1]?.count(where: { $0 }) ?? 0) }
                let multicast = peer.statistics.multicast - before[index].multicast
                batch.unicastDataToMatesTotal += peer.unicastDataToMates
                if index == origin {
                    batch.multicastAtSender = multicast
                    batch.pushedAtSender = peer.statistics.pushed - before[index].pushed
                    batch.unicastDataToMatesFromSender = peer.unicastDataToMates
                } else if peer.subnet == peers[origin].subnet {
                    batch.viaLANOnSendersSubnet += viaLAN
                } else {
                    batch.viaLANOnOtherSubnet += viaLAN
                    batch.multicastOnOtherSubnet += multicast
                }
            }
            outcome.batches.append(batch)
        }
        // The first batch's deliveries, looked at again after the second: no late copy
        // was delivered twice meanwhile.
        if let first = outcome.batches.first {
            for peer in peers {
                outcome.batches[0].deliveries[peer.name] = peer.deliveries.filter { first.ids.contains($0.key) }
            }
        }
        return outcome.summarised(peers)
    }

    /// Sends message `number` of `payloadSize` bytes to the group from `origin`.
    static func send(from origin: Int, number: Int, _ peers: inout [Peer]) throws -> GroupMessageID {
        var payload = [UInt8](repeating: UInt8(truncatingIfNeeded: number), count: payloadSize)
        payload[0] = UInt8(origin)
        return try peers[origin].core.withOverlay {
            try $0.sendToGroup(group, payload, now: LabSockets.monotonicNow())
        }!
    }

    /// Whether every peer but `origin` has delivered `id`.
    static func delivered(_ id: GroupMessageID, everywhereBut origin: Int, _ peers: [Peer]) -> Bool {
        peers.indices.allSatisfy { $0 == origin || peers[$0].deliveries[id] != nil }
    }

    /// One round: timers, transmits (to the channel as IP multicast from the peer's own
    /// socket), up to 20 ms of receiving on both sockets of every peer, then events.
    /// Counts the data messages each peer sends by unicast to a peer of its subnet: a
    /// group datagram (the overlay's `sent[.group]` grew) of at least ``payloadSize``
    /// bytes.
    static func step(_ peers: inout [Peer], channel: PeerAddress, subnets: [PeerAddress: Int]) {
        let now = LabSockets.monotonicNow()
        for index in peers.indices {
            if let deadline = peers[index].core.pollTimeout(), deadline <= now {
                peers[index].core.handleTimeout(now: now)
            }
            var buffer: [UInt8] = []
            var groupSent = peers[index].overlay.statistics.sent[.group] ?? 0
            while let destination = peers[index].core.pollTransmit(now: now, into: &buffer) {
                let sent = peers[index].overlay.statistics.sent[.group] ?? 0
                if sent > groupSent, destination != channel, buffer.count >= payloadSize,
                    subnets[destination] == peers[index].subnet
                {
                    peers[index].unicastDataToMates += 1
                }
                groupSent = sent
                try? LabSockets.send(buffer, from: peers[index].socket, to: destination)
            }
        }
        var descriptors = peers.flatMap {
            [
                pollfd(fd: $0.socket, events: Int16(POLLIN), revents: 0),
                pollfd(fd: $0.channelSocket, events: Int16(POLLIN), revents: 0),
            ]
        }
        _ = poll(&descriptors, nfds_t(descriptors.count), 20)
        for index in peers.indices {
            if descriptors[2 * index].revents & Int16(POLLIN) != 0 {
                while let (bytes, source) = LabSockets.receive(from: peers[index].socket) {
                    bytes.withUnsafeBytes {
                        peers[index].core.handleDatagram($0, from: source, now: LabSockets.monotonicNow())
                    }
                }
            }
            if descriptors[2 * index + 1].revents & Int16(POLLIN) != 0 {
                while let (bytes, source) = LabSockets.receive(from: peers[index].channelSocket) {
                    bytes.withUnsafeBytes { datagram in
                        _ = peers[index].core.withOverlay {
                            $0.handleGroupChannelDatagram(datagram, from: source, now: LabSockets.monotonicNow())
                        }
                    }
                }
            }
            while let event = peers[index].core.pollEvent() {
                switch event {
                case .overlay(.group(.joined)):
                    peers[index].joined = true
                case .overlay(.group(.message(_, let id, _, _, let viaLAN))):
                    peers[index].deliveries[id, default: []].append(viaLAN)
                default:
                    break
                }
            }
        }
    }

    /// The wall-clock time at ``Instant/zero`` of ``LabSockets/monotonicNow()``.
    static func wallClockAtZero() -> UnixTime {
        let elapsed = LabSockets.monotonicNow() - .zero
        return UnixTime(seconds: SystemClock.wallNow().seconds - UInt64(elapsed.components.seconds))
    }
}

extension GroupLANLabTests.Outcome {
    /// This outcome with each peer's alive members, join and group counters, for a
    /// failure message.
    func summarised(_ peers: [GroupLANLabTests.Peer]) -> Self {
        var outcome = self
        outcome.summary = peers.map { peer in
            let statistics = peer.statistics
            return "\(peer.name): \(peer.overlay.membership.aliveCount) alive, joined \(peer.joined), "
                + "delivered \(statistics.delivered) (\(statistics.deliveredViaLAN) via LAN), "
                + "multicast \(statistics.multicast), pushed \(statistics.pushed)"
        }.joined(separator: "; ")
        return outcome
    }
}
