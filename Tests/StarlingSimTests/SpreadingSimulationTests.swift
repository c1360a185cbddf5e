import StarlingCore
import StarlingTestSupport
import Testing

@testable import StarlingSim

/// Gossip, flooded search and echoes over the virtual network: a random neighbour graph
/// of 500 peers, with and without loss, and determinism.
@Suite struct SpreadingSimulationTests {
    typealias Network = SimNetwork<SpreadingCore>

    /// A swarm on a random graph: each peer links to `links` others chosen at random,
    /// both ways, so every peer has at least `links` neighbours.
    struct Swarm {
        var network: Network
        var ids: [PeerID]
        var keys: [IdentityKeyPair]
        /// Each node's neighbours, by node index.
        var adjacency: [Set<Int>]

        init(
            seed: UInt64, count: Int, links: Int = 10, link: LinkConditions,
            configuration: SpreadingConfiguration = .simulation
        ) throws {
            network = Network(seed: seed, defaultLink: link)
            ids = []
            keys = []
            for index in 0..<count {
                var seeds = network.makeGenerator()
                let key = IdentityKeyPair.generate(using: &seeds)
                keys.append(key)
                ids.append(key.peerID)
                let address = PeerAddress.ipv4(10, 1, UInt8(index >> 8), UInt8(index & 0xFF), port: 7000)
                let core = try SpreadingCore(
                    identity: key, swarmID: SpreadingSimulationTests.swarmID, configuration: configuration,
                    random: network.makeGenerator())
                _ = network.makeNode(name: "s\(index)", address: address, core: core)
            }
            adjacency = Array(repeating: [], count: count)
            var graph = network.makeGenerator()
            for index in 0..<count {
                var added = 0
                for _ in 0..<(links * 20) where added < links {
                    let other = Int.random(in: 0..<count, using: &graph)
                    guard other != index, !adjacency[index].contains(other) else { continue }
                    adjacency[index].insert(other)
                    adjacency[other].insert(index)
                    added += 1
                }
            }
            for node in network.nodeIDs {
                let neighbours = Dictionary(
                    uniqueKeysWithValues: adjacency[node.rawValue].map {
                        (ids[$0], network.address(of: SimNodeID(rawValue: $0)))
                    })
                network.command(node) { core, _ in core.setNeighbours(neighbours) }
            }
        }

        /// Hop distances from `origin` by breadth-first search (bounded by the node count).
        func distances(from origin: Int) -> [Int?] {
            var distance = [Int?](repeating: nil, count: adjacency.count)
            distance[origin] = 0
            var frontier = [origin]
            var level = 0
            while !frontier.isEmpty, level < adjacency.count {
                level += 1
                var next: [Int] = []
                for node in frontier {
                    for other in adjacency[node].sorted() where distance[other] == nil {
                        distance[other] = level
                        next.append(other)
                    }
                }
                frontier = next
            }
            return distance
        }
    }

    static let peers = 500

    /// The swarm every simulated core is in.
    static let swarmID = [UInt8](repeating: 0x3C, count: 32)

    /// For each gossip ID, how many times each node delivered it.
    static func deliveryCounts(_ network: Network, ids: [SpreadingID]) -> [SpreadingID: [Int]] {
        var counts = Dictionary(
            uniqueKeysWithValues: ids.map { ($0, [Int](repeating: 0, count: network.nodeIDs.count)) })
        for node in network.nodeIDs {
            for event in network.events(of: node) {
                if case .delivered(let id, _, _, _) = event { counts[id]?[node.rawValue] += 1 }
            }
        }
        return counts
    }

    /// Broadcasts `messages` gossip messages from spread-out origins and checks that each
    /// reaches every other peer exactly once.
    static func gossipReachesEveryone(seed: UInt64, link: LinkConditions, messages: Int) throws {
        var swarm = try Swarm(seed: seed, count: peers, link: link)
        swarm.network.recordsTrace = false
        var sent: [(id: SpreadingID, origin: Int)] = []
        for message in 0..<messages {
            let origin = (message * 97) % peers
            let id = try swarm.network.command(SimNodeID(rawValue: origin)) { core, now in
                try core.broadcast([UInt8(message)], now: now)
            }
            sent.append((id, origin))
            swarm.network.run(for: .milliseconds(5))
        }
        swarm.network.run(for: .seconds(5))
        let counts = deliveryCounts(swarm.network, ids: sent.map(\.id))
        for (id, origin) in sent {
            let perNode = try #require(counts[id])
            let missed = perNode.indices.filter { $0 != origin && perNode[$0] == 0 }
            #expect(missed.isEmpty, "message from s\(origin) missed \(missed.count) peers")
            #expect(perNode.allSatisfy { $0 <= 1 }, "a peer delivered a message twice")
            #expect(perNode[origin] == 0)
        }
        let statistics = swarm.network.trace.statistics
        // Fanout 12 on about 20 neighbours: each peer forwards each message once.
        #expect(statistics.sent >= messages * (peers - 1) * 5, "sent \(statistics.sent)")
        if link.lossProbability > 0 { #expect(statistics.dropped(.loss) > statistics.sent / 40) }
    }

    @Test func spreading_gossip_500Peers_reachesEveryPeerOnce() async throws {
        try await offThePool {
            try Self.gossipReachesEveryone(seed: 1, link: .lan, messages: 5)
        }
    }

    @Test func spreading_gossip_500PeersFivePercentLoss_reachesEveryPeerOnce() async throws {
        try await offThePool {
            let lossy = LinkConditions(latency: .milliseconds(1), jitter: .microseconds(500), lossProbability: 0.05)
            try Self.gossipReachesEveryone(seed: 2, link: lossy, messages: 5)
        }
    }

    @Test func spreading_forgedBroadcast_500Peers_reachesNoOneAndCostsOneVerificationEach() async throws {
        try await offThePool {
            var swarm = try Swarm(seed: 4, count: Self.peers, link: .lan)
            swarm.network.recordsTrace = false
            // A member (s1) sends a broadcast claiming s0 as its origin, signed with its own
            // key, to 20 peers, 5 copies each (other hops, as a flood would bring them).
            let forgedID = SpreadingID(high: 0xBAD, low: 1)
            let claim = SpreadingSignature.gossipBytes(
                swarmID: Self.swarmID, id: forgedID, origin: swarm.ids[0], payload: [0xEE])
            let signature = swarm.keys[1].sign(claim)
            let victims = (0..<20).map { 2 + $0 * 23 }
            let sentBefore = swarm.network.nodeIDs.reduce(0) { $0 + swarm.network[core: $1].statistics.messagesSent }
            for victim in victims {
                for copy in 0..<5 {
                    let bytes = try SpreadingMessage.gossip(
                        id: forgedID, origin: swarm.ids[0], hops: UInt8(copy), payload: [0xEE], signature: signature
                    ).encoded()
                    let source = swarm.network.address(of: SimNodeID(rawValue: 1))
                    swarm.network.command(SimNodeID(rawValue: victim)) { core, now in
                        core.handleMessage(bytes[...], from: source, now: now)
                    }
                }
            }
            swarm.network.run(for: .seconds(2))
            let sentAfter = swarm.network.nodeIDs.reduce(0) { $0 + swarm.network[core: $1].statistics.messagesSent }
            #expect(sentAfter == sentBefore, "the forgery was forwarded")
            #expect(Self.deliveryCounts(swarm.network, ids: [forgedID])[forgedID]?.allSatisfy { $0 == 0 } == true)
            for node in swarm.network.nodeIDs {
                let statistics = swarm.network[core: node].statistics
                let victim = victims.contains(node.rawValue)
                #expect(statistics.signatureVerifications == (victim ? 1 : 0))
                #expect(statistics.forgedOrigin == (victim ? 5 : 0))
            }
            // A genuine broadcast from s0 still reaches every peer, once, one verification each.
            let id = try swarm.network.command(SimNodeID(rawValue: 0)) { core, now in try core.broadcast([1], now: now)
            }
            swarm.network.run(for: .seconds(2))
            let counts = try #require(Self.deliveryCounts(swarm.network, ids: [id])[id])
            #expect(counts.dropFirst().allSatisfy { $0 == 1 } && counts[0] == 0)
            for node in swarm.network.nodeIDs.dropFirst() {
                let victim = victims.contains(node.rawValue)
                #expect(swarm.network[core: node].statistics.signatureVerifications == (victim ? 2 : 1))
            }
        }
    }

    @Test func spreading_flood_stopsAtTTLAndHitsReachOriginator() async throws {
        try await offThePool {
            // Constant latency: the first copy of a query always comes along a shortest path.
            var swarm = try Swarm(
                seed: 3, count: Self.peers, links: 3, link: LinkConditions(latency: .milliseconds(1)))
            swarm.network.recordsTrace = false
            let origin = 17
            let ttl = 3
            let id = try swarm.network.command(SimNodeID(rawValue: origin)) { core, now in
                try core.query([0xAB], ttl: ttl, wantsNotices: true, now: now)
            }
            swarm.network.run(for: .seconds(1))
            let distance = swarm.distances(from: origin)
            var reached: [Int] = []
            for node in swarm.network.nodeIDs where node.rawValue != origin {
                let queries = swarm.network.events(of: node).compactMap { event -> Int? in
                    if case .query(let queryID, _, let hops, let payload) = event, queryID == id, payload == [0xAB] {
                        return hops
                    }
                    return nil
                }
                let within = distance[node.rawValue].map { $0 <= ttl } ?? false
                #expect(queries.count == (within ? 1 : 0), "s\(node.rawValue) at \(distance[node.rawValue] ?? -1)")
                if within {
                    #expect(queries == [distance[node.rawValue]!])
                    reached.append(node.rawValue)
                }
            }
            #expect(reached.count > 50 && reached.count < Self.peers - 1, "reached \(reached.count)")
            let expired = swarm.network.nodeIDs.reduce(0) { $0 + swarm.network[core: $1].statistics.queriesExpired }
            #expect(expired > 0)

            // Every fifth reached peer answers; each hit comes back along the reverse path.
            let responders = reached.enumerated().filter { $0.offset.isMultiple(of: 5) }.map(\.element)
            for responder in responders {
                try swarm.network.command(SimNodeID(rawValue: responder)) { core, now in
                    try core.answer(id, payload: [UInt8(responder & 0xFF)], now: now)
                }
            }
            swarm.network.run(for: .seconds(1))
            var hits: [Int: Int] = [:]
            var notices = 0
            for event in swarm.network.events(of: SimNodeID(rawValue: origin)) {
                switch event {
                case .queryHit(let hitID, let responder, let hops, _) where hitID == id:
                    if let index = swarm.ids.firstIndex(of: responder) { hits[index] = hops }
                case .notice(.ttlExceeded(let noticeID, _, let hops)) where noticeID == id:
                    notices += 1
                    #expect(hops == ttl)
                default: break
                }
            }
            #expect(Set(hits.keys) == Set(responders))
            #expect(hits.allSatisfy { distance[$0.key] == $0.value })
            #expect(notices == 1)
        }
    }

    @Test func spreading_sameSeed_sameTrace() async throws {
        try await offThePool {
            func trace(seed: UInt64) throws -> SimTrace {
                let lossy = LinkConditions(latency: .milliseconds(1), jitter: .milliseconds(1), lossProbability: 0.05)
                var swarm = try Swarm(seed: seed, count: 60, links: 4, link: lossy)
                let first = SimNodeID(rawValue: 0)
                try swarm.network.command(first) { core, now in try core.broadcast([1, 2], now: now) }
                let queryID = try swarm.network.command(SimNodeID(rawValue: 5)) { core, now in
                    try core.query([3], ttl: 2, wantsNotices: true, now: now)
                }
                let neighbour = swarm.ids[try #require(swarm.adjacency[0].min())]
                try swarm.network.command(first) { core, now in try core.sendEcho(to: neighbour, now: now) }
                swarm.network.run(for: .milliseconds(50))
                for node in swarm.network.nodeIDs {
                    let asked = swarm.network.events(of: node).contains {
                        if case .query(queryID, _, _, _) = $0 { true } else { false }
                    }
                    if asked {
                        try swarm.network.command(node) { core, now in try core.answer(queryID, payload: [4], now: now)
                        }
                    }
                }
                swarm.network.run(for: .seconds(70))
                let estimate = swarm.network[core: first].rtt(of: neighbour)
                #expect(
                    estimate == nil
                        || (estimate!.smoothed >= .milliseconds(2) && estimate!.smoothed <= .milliseconds(4)))
                // Caches and routes expire, so the swarm falls idle.
                #expect(swarm.network.nextEventTime() == nil)
                return swarm.network.trace
            }
            let first = try trace(seed: 9)
            #expect(first.statistics.delivered > 300)
            #expect(try trace(seed: 9) == first)
            #expect(try trace(seed: 10) != first)
        }
    }
}
