import Foundation
import StarlingCore
import StarlingTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// LAN discovery between the four hosts of a ``NamespaceLab``: each host runs a
/// ``DiscoveryCore`` over a UDP socket that belongs to its namespace.
///
/// The namespace tests of `starling udp` run the CLI inside namespaces; discovery has no
/// CLI mode, so this test stays in-process instead: each host's socket is created on a
/// short-lived thread that has entered the host's network namespace (`setns`), and a
/// socket keeps its namespace for life. Every multicast and broadcast datagram below
/// therefore leaves through a lab interface and never reaches the machine's network.
@Suite(.requiresNetworkNamespaces)
struct DiscoveryLabTests {
    static let port: UInt16 = 47077
    static let group = "239.255.77.77"
    static let secret = [UInt8](repeating: 0x33, count: 32)
    static let deadline = Duration.seconds(15)

    /// How beacons travel between the hosts.
    enum Transport: String, Sendable, CaseIterable {
        /// To the IPv4 group, joined on each host's lab interface.
        case multicast
        /// To the lab's directed broadcast address.
        case broadcast
    }

    /// One lab host's discovery peer.
    struct Peer: Sendable {
        let key: IdentityKeyPair
        let socket: Int32
        var core: DiscoveryCore
        var events: [DiscoveryEvent] = []
    }

    @Test(arguments: Transport.allCases)
    func discoveryLab_fourHosts_discoverEachOther_andIgnoreBadBeacons(_ transport: Transport) async throws {
        try await NamespaceLab.with(hosts: 4) { lab in
            let destination =
                transport == .multicast
                ? try PeerAddress("\(Self.group):\(Self.port)")
                : try PeerAddress("\(lab.broadcastAddress):\(Self.port)")
            var sockets: [Int32] = []
            defer { for socket in sockets { close(socket) } }
            for host in lab.hosts {
                sockets.append(
                    try Self.makeSocket(
                        namespace: host.name, hostAddress: host.address,
                        joining: transport == .multicast ? Self.group : nil))
            }
            if transport == .multicast { try await lab.waitForGroupMembers(Self.group, lab.hosts) }
            let opened = sockets
            let finished = try await LabSockets.runOnThread {
                try Self.drive(sockets: opened, destination: destination)
            }
            try #require(finished.allDiscovered, "not every host discovered every other: \(finished.summary)")
            for (index, peer) in finished.peers.enumerated() where index >= 1 {
                // Nothing from the spoofed or wrong-swarm keys was ever reported.
                let reported = Set(peer.events.compactMap(\.peer))
                #expect(!reported.contains(finished.spoofed), "host \(index) reported the spoofed peer")
                #expect(!reported.contains(finished.outsider), "host \(index) reported the wrong-swarm peer")
                #expect(peer.core.drops[.badRecord, default: 0] >= 1, "host \(index): \(peer.core.drops)")
                #expect(peer.core.drops[.unauthentic, default: 0] >= 1, "host \(index): \(peer.core.drops)")
                // The replayed beacon of host 1 (sequence 1) never replaced sequence 2.
                let held = finished.peers[1].key.peerID
                if index != 1 {
                    #expect(peer.core.record(for: held)?.record.sequence == 2)
                    #expect(
                        !peer.events.contains { event in
                            if case .updated(let record) = event { return record.record.sequence < 2 }
                            return false
                        })
                }
            }
        }
    }

    // MARK: The driver

    /// What a driver run ends with.
    struct Outcome: Sendable {
        /// Every host's final state.
        let peers: [Peer]
        /// Whether every host discovered every other before the injections.
        let allDiscovered: Bool
        /// The peer whose beacon carried a bad signature.
        let spoofed: PeerID
        /// The peer whose beacon was sealed for another swarm.
        let outsider: PeerID

        var summary: String {
            peers.map { "\($0.core.peerCount) peers, drops \($0.core.drops)" }.joined(separator: "; ")
        }
    }

    /// Runs one discovery core per socket until all discover each other, then injects a
    /// spoofed, a replayed and a wrong-swarm beacon from host 0 and runs a little longer.
    static func drive(sockets: [Int32], destination: PeerAddress) throws -> Outcome {
        var random = TestRandom(seed: 42)
        var configuration = DiscoveryConfiguration.lan
        configuration.destinations = [destination]
        configuration.swarmSecret = secret
        configuration.beaconInterval = .milliseconds(300)
        configuration.minimumBeaconInterval = .milliseconds(100)
        let start = LabSockets.monotonicNow()
        let wall = UnixTime(seconds: UInt64(time(nil)))
        var peers: [Peer] = []
        for (index, socket) in sockets.enumerated() {
            let key = IdentityKeyPair.generate(using: &random)
            let record = try makeRecord(key, sequence: 1, wall: wall, octet: UInt8(index + 1))
            let core = try DiscoveryCore(
                record: record, configuration: configuration, random: TestRandom(seed: UInt64(index)), now: start,
                wallClock: wall)
            peers.append(Peer(key: key, socket: socket, core: core))
        }
        // Host 1's first beacon, kept for replaying after it moves to sequence 2.
        var captured: [UInt8]?
        step(&peers, now: start) { index, bytes in if index == 1, captured == nil { captured = bytes } }
        try peers[1].core.updateRecord(try makeRecord(peers[1].key, sequence: 2, wall: wall, octet: 2), now: start)

        let everyone = Set(peers.map(\.key.peerID))
        func allDiscovered() -> Bool {
            peers.allSatisfy { peer in
                everyone.subtracting([peer.key.peerID]).allSatisfy {
                    peer.core.record(for: $0)?.record.sequence ?? 0 >= 1
                }
                    && (peer.key.peerID == peers[1].key.peerID
                        || peer.core.record(for: peers[1].key.peerID)?.record.sequence == 2)
            }
        }
        let discoveryDeadline = start + deadline
        while !allDiscovered() && LabSockets.monotonicNow() < discoveryDeadline {
            step(&peers, now: LabSockets.monotonicNow())
        }
        let discovered = allDiscovered()

        // The injections, all from host 0's socket to the beacon destination.
        let spoofKey = IdentityKeyPair.generate(using: &random)
        let spoofRecord = try makeRecord(spoofKey, sequence: 1, wall: wall, octet: 200)
        var badSignature = spoofRecord.signature
        badSignature[0] ^= 0x01
        let spoofed = try SignedPeerRecord.decode((spoofRecord.body + badSignature)[...])
        let swarm = DiscoveryEnvelope(swarmID: configuration.swarmID, swarmSecret: secret)
        let outsiderKey = IdentityKeyPair.generate(using: &random)
        let otherSwarm = DiscoveryEnvelope(
            swarmID: configuration.swarmID, swarmSecret: [UInt8](repeating: 9, count: 32))
        let injections = [
            swarm.encode(.beacon(spoofed), sentAt: wall, using: &random),
            captured ?? [],
            otherSwarm.encode(
                .beacon(try makeRecord(outsiderKey, sequence: 1, wall: wall, octet: 201)), sentAt: wall, using: &random),
        ]
        for bytes in injections { try LabSockets.send(bytes, from: peers[0].socket, to: destination) }
        let settle = LabSockets.monotonicNow() + .milliseconds(1500)
        while LabSockets.monotonicNow() < settle { step(&peers, now: LabSockets.monotonicNow()) }

        return Outcome(
            peers: peers,
            allDiscovered: discovered, spoofed: spoofKey.peerID, outsider: outsiderKey.peerID)
    }

    /// One round: timers, transmits, then up to 20 ms of receiving, then events.
    static func step(_ peers: inout [Peer], now: Instant, sent: (Int, [UInt8]) -> Void = { _, _ in }) {
        for index in peers.indices {
            if let deadline = peers[index].core.pollTimeout(), deadline <= now {
                peers[index].core.handleTimeout(now: now)
            }
            var buffer: [UInt8] = []
            while let destination = peers[index].core.pollTransmit(now: now, into: &buffer) {
                sent(index, buffer)
                try? LabSockets.send(buffer, from: peers[index].socket, to: destination)
            }
        }
        var descriptors = peers.map { pollfd(fd: $0.socket, events: Int16(POLLIN), revents: 0) }
        guard poll(&descriptors, nfds_t(descriptors.count), 20) > 0 else { return }
        for index in peers.indices where descriptors[index].revents & Int16(POLLIN) != 0 {
            while let (bytes, source) = LabSockets.receive(from: peers[index].socket) {
                bytes.withUnsafeBytes {
                    peers[index].core.handleDatagram($0, from: source, now: LabSockets.monotonicNow())
                }
            }
            while let event = peers[index].core.pollEvent() { peers[index].events.append(event) }
        }
    }

    // MARK: Sockets

    /// Creates a non-blocking IPv4 UDP socket inside the namespace `namespace`, bound to
    /// `0.0.0.0:port` with broadcast allowed and multicast leaving through `hostAddress`
    /// with TTL 1, joined to `group` on that interface when given.
    static func makeSocket(namespace: String, hostAddress: String, joining group: String?) throws -> Int32 {
        try LabSockets.open(namespace: namespace, port: port) { socket in
            var one: Int32 = 1
            var ttl: UInt8 = 1
            var local = in_addr()
            inet_pton(AF_INET, hostAddress, &local)
            try LabSockets.check(setsockopt(socket, SOL_SOCKET, SO_BROADCAST, &one, 4), "SO_BROADCAST")
            try LabSockets.check(
                setsockopt(socket, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &ttl, 1), "IP_MULTICAST_TTL")
            try LabSockets.check(
                setsockopt(socket, Int32(IPPROTO_IP), IP_MULTICAST_IF, &local, socklen_t(MemoryLayout<in_addr>.size)),
                "IP_MULTICAST_IF")
            guard let group else { return }
            var request = ip_mreq()
            inet_pton(AF_INET, group, &request.imr_multiaddr)
            request.imr_interface = local
            try LabSockets.check(
                setsockopt(
                    socket, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &request, socklen_t(MemoryLayout<ip_mreq>.size)),
                "IP_ADD_MEMBERSHIP")
        }
    }

    // MARK: Helpers

    /// A signed record of `key` reachable at `192.0.2.octet`.
    static func makeRecord(_ key: IdentityKeyPair, sequence: UInt64, wall: UnixTime, octet: UInt8) throws
        -> SignedPeerRecord
    {
        try PeerRecord(
            peerID: key.peerID, sequence: sequence, expiresAt: wall + .seconds(3600),
            addresses: [.ipv4(192, 0, 2, octet, port: port)], services: []
        ).sign(with: key)
    }
}

extension DiscoveryEvent {
    /// The peer the event is about.
    var peer: PeerID? {
        switch self {
        case .discovered(let record), .updated(let record), .answered(let record): record.record.peerID
        case .expired(let peer), .queryTimedOut(let peer): peer
        }
    }
}
