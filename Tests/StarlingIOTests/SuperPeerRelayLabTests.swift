import Foundation
import StarlingCore
import StarlingIO
import StarlingTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The super-peer topology across two subnets that cannot reach each other
/// (``TwoSubnetLab``): two super-peers in the router namespace reach both, three leaves
/// sit on each subnet. Every peer is a whole ``NodeCore`` (sessions, requests and the
/// overlay) over a UDP socket of its own namespace, driven from one thread.
///
/// Leaves of the two subnets must all see each other alive (membership's ping requests
/// go to the super-peers), and a request from each leaf to a leaf of the other subnet
/// must be answered through a super-peer's relay, while one within a subnet goes direct.
@Suite(.requiresNetworkNamespaces)
struct SuperPeerRelayLabTests {
    static let port: UInt16 = 47_100
    /// Generous for a slow, busy machine; the test waits for outcomes, not for time.
    static let deadline = Duration.seconds(90)

    /// One peer of the lab.
    struct Peer: Sendable {
        let name: String
        let socket: Int32
        let address: PeerAddress
        var core: NodeCore
        var failuresReported = 0

        var id: PeerID { core.peer.identity.peerID }
        var overlay: OverlayCore { core.overlay! }
    }

    @Test func superPeerRelayLab_leavesOnTwoSubnets_answerEachOtherThroughASuperPeer() async throws {
        try await TwoSubnetLab.with(hostsPerSubnet: 3) { lab in
            var sockets: [(name: String, socket: Int32, address: PeerAddress)] = []
            defer { for entry in sockets { close(entry.socket) } }
            for index in 0..<2 {
                let port = Self.port + 1 + UInt16(index)
                let socket = try LabSockets.open(namespace: lab.router.name, host: lab.routerAddressA, port: port)
                sockets.append(("super-peer \(index)", socket, try PeerAddress("\(lab.routerAddressA):\(port)")))
            }
            for host in lab.subnetA + lab.subnetB {
                let socket = try LabSockets.open(namespace: host.name, host: host.address, port: Self.port)
                sockets.append((host.address, socket, try PeerAddress("\(host.address):\(Self.port)")))
            }
            let opened = sockets
            let outcome = try await LabSockets.runOnThread { try Self.run(opened) }
            try #require(outcome.converged, "not every peer saw every other alive: \(outcome.summary)")
            #expect(outcome.failuresReported == 0, "members were declared failed: \(outcome.summary)")
            for pair in outcome.pairs {
                #expect(pair.answer == .success(pair.payload + pair.payload), "\(pair.description)")
                if pair.across {
                    #expect(pair.relay != nil, "\(pair.description) went without a relay")
                } else {
                    #expect(pair.relay == nil, "\(pair.description) was relayed within its subnet")
                }
            }
            #expect(outcome.relaysForwarded > 0)
        }
    }

    /// A request from one leaf to another and what came of it.
    struct Pair: Sendable, CustomStringConvertible {
        let from: String
        let to: String
        let across: Bool
        let payload: [UInt8]
        var id: RequestID?
        var answer: Result<[UInt8], RPCError>?
        var relay: PeerID?

        var description: String {
            "\(from) → \(to): \(answer.map { "\($0)" } ?? "no answer"), relay \(relay?.shortDescription ?? "none")"
        }
    }

    /// What a run ends with.
    struct Outcome: Sendable {
        let converged: Bool
        let failuresReported: Int
        let pairs: [Pair]
        let relaysForwarded: Int
        let summary: String
    }

    /// Builds the peers (the first two super-peers, then the leaves of A, then of B),
    /// joins them through the first, waits for membership to converge, then sends the
    /// requests and waits for their answers.
    static func run(_ sockets: [(name: String, socket: Int32, address: PeerAddress)]) throws -> Outcome {
        var random = TestRandom(seed: 97)
        var peers: [Peer] = []
        for (index, entry) in sockets.enumerated() {
            var superPeer = SuperPeerConfiguration.local
            superPeer.rolePolicy = index < 2 ? .alwaysSuperPeer : .neverSuperPeer
            var overlay = OverlayConfiguration.local
            overlay.topology = .superPeer(superPeer)
            let identity = IdentityKeyPair.generate(using: &random)
            let endpoint = try SessionEndpoint(
                identity: identity, configuration: .local, random: TestRandom(seed: random.next()))
            let overlayCore = try OverlayCore(
                identity: identity, address: entry.address, configuration: overlay,
                wallClockAtZero: wallClockAtZero(), random: TestRandom(seed: random.next()),
                now: LabSockets.monotonicNow())
            var core = NodeCore(
                peer: PeerCore(endpoint: endpoint, random: TestRandom(seed: random.next())), overlay: overlayCore)
            try core.peer.serve("double")
            peers.append(Peer(name: entry.name, socket: entry.socket, address: entry.address, core: core))
        }
        let seed = peers[0].address
        for index in peers.indices.dropFirst() {
            _ = peers[index].core.withOverlay { $0.join([seed], now: LabSockets.monotonicNow()) }
        }

        let everyone = peers.map(\.id)
        func converged() -> Bool {
            peers.allSatisfy { peer in
                everyone.allSatisfy { $0 == peer.id || peer.overlay.membership.member($0)?.state == .alive }
            }
        }
        let start = LabSockets.monotonicNow()
        while !converged(), LabSockets.monotonicNow() - start < deadline { step(&peers) }
        guard converged() else {
            return Outcome(
                converged: false, failuresReported: peers.map(\.failuresReported).reduce(0, +), pairs: [],
                relaysForwarded: 0, summary: summary(peers))
        }

        // Leaves: 2...4 on A, 5...7 on B. Each leaf of A asks one of B and one of A; each
        // of B asks one of A.
        let a = [2, 3, 4]
        let b = [5, 6, 7]
        var requests: [(from: Int, to: Int, across: Bool)] = []
        for (offset, leaf) in a.enumerated() {
            requests.append((leaf, b[offset], true))
            requests.append((leaf, a[(offset + 1) % a.count], false))
        }
        for (offset, leaf) in b.enumerated() { requests.append((leaf, a[(offset + 2) % a.count], true)) }
        var pairs: [Pair] = []
        for (number, request) in requests.enumerated() {
            let target = peers[request.to]
            var pair = Pair(
                from: peers[request.from].name, to: target.name, across: request.across,
                payload: [UInt8(number), 0x5A])
            pair.id = try? peers[request.from].core.peer.request(
                "double", pair.payload, to: target.id, address: target.address, timeout: deadline,
                now: LabSockets.monotonicNow())
            pairs.append(pair)
        }
        var answers: [RequestID: Result<[UInt8], RPCError>] = [:]
        let asked = LabSockets.monotonicNow()
        while answers.count < pairs.count, LabSockets.monotonicNow() - asked < deadline + .seconds(5) {
            step(&peers) { answers[$0] = $1 }
        }
        for (index, request) in requests.enumerated() {
            pairs[index].answer = pairs[index].id.flatMap { answers[$0] }
            pairs[index].relay = peers[request.from].overlay.relay(toPeer: peers[request.to].id)
        }
        let forwarded = peers.prefix(2).reduce(0) { $0 + ($1.overlay.superPeer?.statistics.relaysForwarded ?? 0) }
        return Outcome(
            converged: true, failuresReported: peers.map(\.failuresReported).reduce(0, +), pairs: pairs,
            relaysForwarded: forwarded, summary: summary(peers))
    }

    /// One round: timers, transmits, up to 20 ms of receiving, then events (requests are
    /// answered at once; responses go to `answered`).
    static func step(
        _ peers: inout [Peer], answered: (RequestID, Result<[UInt8], RPCError>) -> Void = { _, _ in }
    ) {
        let now = LabSockets.monotonicNow()
        for index in peers.indices {
            if let deadline = peers[index].core.pollTimeout(), deadline <= now {
                peers[index].core.handleTimeout(now: now)
            }
            var buffer: [UInt8] = []
            while let destination = peers[index].core.pollTransmit(now: now, into: &buffer) {
                try? LabSockets.send(buffer, from: peers[index].socket, to: destination)
            }
        }
        var descriptors = peers.map { pollfd(fd: $0.socket, events: Int16(POLLIN), revents: 0) }
        _ = poll(&descriptors, nfds_t(descriptors.count), 20)
        for index in peers.indices {
            if descriptors[index].revents & Int16(POLLIN) != 0 {
                while let (bytes, source) = LabSockets.receive(from: peers[index].socket) {
                    bytes.withUnsafeBytes {
                        peers[index].core.handleDatagram($0, from: source, now: LabSockets.monotonicNow())
                    }
                }
            }
            while let event = peers[index].core.pollEvent() {
                switch event {
                case .peer(.request(let request)):
                    try? peers[index].core.peer.respond(
                        to: request.id, payload: request.payload + request.payload, now: LabSockets.monotonicNow())
                case .peer(.response(let id, let result)):
                    answered(id, result)
                case .overlay(.membership(.failed)):
                    peers[index].failuresReported += 1
                default:
                    break
                }
            }
        }
    }

    /// Each peer's alive members and role, for a failure message.
    static func summary(_ peers: [Peer]) -> String {
        peers.map { peer in
            "\(peer.name) \(peer.overlay.role): \(peer.overlay.membership.aliveCount) alive"
        }.joined(separator: "; ")
    }

    /// The wall-clock time at ``Instant/zero`` of ``LabSockets/monotonicNow()``.
    static func wallClockAtZero() -> UnixTime {
        let elapsed = LabSockets.monotonicNow() - .zero
        return UnixTime(seconds: SystemClock.wallNow().seconds - UInt64(elapsed.components.seconds))
    }
}
