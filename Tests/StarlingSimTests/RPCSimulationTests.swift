import StarlingCore
import Testing

@testable import StarlingSim

/// Request/response between whole ``PeerCore``s over the virtual network: loss,
/// duplication, reordering, at-most-once handlers, and determinism.
@Suite struct RPCSimulationTests {
    /// What one run produced.
    struct Outcome {
        /// Every request made, by requesting node: its ID and the answer expected.
        var issued: [SimNodeID: [RequestID: [UInt8]]] = [:]
        /// Every `response` event, by requesting node, in order.
        var responses: [SimNodeID: [(id: RequestID, result: Result<[UInt8], RPCError>)]] = [:]
        /// `request` events per answering node and incoming request.
        var handled: [SimNodeID: [IncomingRequestID: Int]] = [:]
        /// When the last response arrived, or `nil` if some never did.
        var finishedAt: Instant?
        /// Deliveries and timers carried out.
        var steps = 0

        var issuedCount: Int { issued.values.map(\.count).reduce(0, +) }
        var responseCount: Int { responses.values.map(\.count).reduce(0, +) }
    }

    /// Virtual time between two requests of one node, and between two looks at the events.
    static let slice: Duration = .milliseconds(10)

    /// A network of `count` peer cores that all serve `echo`.
    static func network(seed: UInt64, count: Int, link: LinkConditions) throws -> SimNetwork<PeerCore> {
        var network = SimNetwork<PeerCore>(seed: seed, defaultLink: link)
        for index in 0..<count {
            var keys = network.makeGenerator()
            let endpoint = try SessionEndpoint(
                identity: .generate(using: &keys), configuration: .simulation, random: network.makeGenerator())
            var core = PeerCore(endpoint: endpoint, random: network.makeGenerator())
            try core.serve("echo")
            _ = network.makeNode(name: "peer\(index)", core: core)
        }
        return network
    }

    /// Every node asks the next one in the ring `perPeer` times, one request every two
    /// slices, giving the address so that the first request makes the session. Every
    /// node answers what it is asked with the payload reversed: at the next slice, or
    /// 400 ms later for every third request, so that copies also arrive while a handler
    /// runs. Runs until every request has a response or `limit` of virtual time passes,
    /// and at most `maximumSteps` deliveries and timers.
    static func run(
        _ network: inout SimNetwork<PeerCore>, perPeer: Int, limit: Duration, maximumSteps: Int = 2_000_000
    ) throws -> Outcome {
        var outcome = Outcome()
        let nodes = network.nodeIDs
        let start = network.now
        var answers: [(due: Instant, node: SimNodeID, request: IncomingRequest)] = []
        var handledCount = 0
        let slices = Int(limit / slice)
        for tick in 0..<slices {
            let now = network.now
            if tick % 2 == 0 && tick / 2 < perPeer {
                for (index, node) in nodes.enumerated() {
                    let target = nodes[(index + 1) % nodes.count]
                    let peer = network[core: target].identity.peerID
                    let address = network.address(of: target)
                    let payload = [UInt8(index), UInt8(tick / 2), 0xEE]
                    let id = try network.command(node) { core, now in
                        try core.request("echo", payload, to: peer, address: address, timeout: .seconds(90), now: now)
                    }
                    outcome.issued[node, default: [:]][id] = payload.reversed()
                }
            }
            let due = answers.filter { $0.due <= now }
            answers.removeAll { $0.due <= now }
            for answer in due {
                try network.command(answer.node) { core, now in
                    try core.respond(to: answer.request.id, payload: answer.request.payload.reversed(), now: now)
                }
            }

            let end = start + slice * (tick + 1)
            while let next = network.nextEventTime(), next <= end {
                guard outcome.steps < maximumSteps else {
                    Issue.record("more than \(maximumSteps) deliveries and timers")
                    return outcome
                }
                network.step()
                outcome.steps += 1
            }
            network.run(until: end)

            for node in nodes {
                for event in network.drainEvents(of: node) {
                    switch event {
                    case .request(let request):
                        outcome.handled[node, default: [:]][request.id, default: 0] += 1
                        handledCount += 1
                        let delay: Duration = handledCount % 3 == 0 ? .milliseconds(400) : .zero
                        answers.append((network.now + delay, node, request))
                    case .response(let id, let result):
                        outcome.responses[node, default: []].append((id, result))
                    default:
                        break
                    }
                }
            }
            if outcome.responseCount == nodes.count * perPeer {
                outcome.finishedAt = network.now
                break
            }
        }
        return outcome
    }

    /// Checks that every request got exactly one response, the right one, and that
    /// every handler ran exactly once.
    static func expectEveryRequestAnsweredOnce(_ outcome: Outcome, network: SimNetwork<PeerCore>, perPeer: Int) {
        let nodes = network.nodeIDs
        #expect(outcome.finishedAt != nil, "only \(outcome.responseCount) of \(outcome.issuedCount) completed")
        #expect(outcome.issuedCount == nodes.count * perPeer)
        for node in nodes {
            let issued = outcome.issued[node] ?? [:]
            let responses = outcome.responses[node] ?? []
            #expect(responses.count == issued.count, "\(node)")
            #expect(Set(responses.map(\.id)).count == responses.count, "\(node): a request reported twice")
            for response in responses {
                #expect(response.result == issued[response.id].map { .success($0) }, "\(node) \(response.id)")
            }
            #expect(network[core: node].pendingRequestCount == 0)
            #expect(network[core: node].droppedMessages == 0)
            // Each node answers its predecessor in the ring, once per request.
            let handled = outcome.handled[node] ?? [:]
            #expect(handled.count == perPeer, "\(node)")
            #expect(handled.values.allSatisfy { $0 == 1 }, "\(node): a handler ran twice")
        }
    }

    @Test func rpc_thirtyPercentLossEachWay_everyRequestCompletesOnce() throws {
        // Each copy of a request and its answer both cross with probability 0.49, and
        // a request sends up to 12 copies; the seed fixes the run, so the result is exact.
        let lossy = LinkConditions(latency: .milliseconds(5), jitter: .milliseconds(3), lossProbability: 0.3)
        var network = try Self.network(seed: 2024, count: 4, link: lossy)
        network.recordsTrace = false
        let outcome = try Self.run(&network, perPeer: 50, limit: .seconds(150))
        Self.expectEveryRequestAnsweredOnce(outcome, network: network, perPeer: 50)
        #expect(network.trace.statistics.dropped(.loss) > 0)
    }

    /// Held-back datagrams (up to 600 ms) arrive after the request's next copy, so
    /// handlers see copies while running and after answering, and requesters get
    /// answers twice.
    static let messy = LinkConditions(
        latency: .milliseconds(2), jitter: .milliseconds(1), duplicationProbability: 0.4,
        reorderProbability: 0.3, reorderDelay: .milliseconds(600))

    /// Makes the ring's sessions over clean links, then gives every link `link`.
    static func connectRing(_ network: inout SimNetwork<PeerCore>, then link: LinkConditions) throws {
        let nodes = network.nodeIDs
        for (index, node) in nodes.enumerated() {
            let target = nodes[(index + 1) % nodes.count]
            let peer = network[core: target].identity.peerID
            let address = network.address(of: target)
            network.command(node) { core, now in core.connect(to: address, expecting: peer, now: now) }
        }
        let end = network.now + .seconds(1)
        for _ in 0..<10_000 {
            guard let next = network.nextEventTime(), next <= end else { break }
            network.step()
        }
        for (index, node) in nodes.enumerated() {
            let target = nodes[(index + 1) % nodes.count]
            try #require(network[core: node].isEstablished(with: network[core: target].identity.peerID))
            network.setLinks(between: node, and: target, link)
        }
        for node in nodes { _ = network.drainEvents(of: node) }
    }

    @Test func rpc_duplicationAndReordering_everyRequestCompletesOnce() throws {
        // The sessions are made over clean links first, so this tests the RPC layer alone.
        var network = try Self.network(seed: 1, count: 4, link: LinkConditions(latency: .milliseconds(2)))
        network.recordsTrace = false
        try Self.connectRing(&network, then: Self.messy)
        let outcome = try Self.run(&network, perPeer: 50, limit: .seconds(150))
        Self.expectEveryRequestAnsweredOnce(outcome, network: network, perPeer: 50)
        #expect(network.trace.statistics.duplicated > 0)
        let replayed = network.nodeIDs.map { network[core: $0].sessionDrops[.replayed] }.reduce(0, +)
        #expect(replayed > 0)
        // Held-back copies that arrive after a later request's floor passed them are
        // dropped unrun; the handler counts above show none ran twice.
        let stale = network.nodeIDs.map { network[core: $0].staleRequests }.reduce(0, +)
        #expect(stale > 0)
    }

    @Test func rpc_duplicationAndReordering_fromTheHandshakeOn_everyRequestCompletesOnce() throws {
        // Duplicated and held-back handshake messages too: a responder must not answer a
        // copy of an IK initiation with new keys, or the initiator's first packets would
        // be on keys the responder no longer has.
        var network = try Self.network(seed: 1, count: 4, link: Self.messy)
        network.recordsTrace = false
        let outcome = try Self.run(&network, perPeer: 50, limit: .seconds(150))
        Self.expectEveryRequestAnsweredOnce(outcome, network: network, perPeer: 50)
    }

    @Test func rpc_sameSeed_sameTrace() throws {
        func trace(seed: UInt64) throws -> [String] {
            let lossy = LinkConditions(latency: .milliseconds(4), jitter: .milliseconds(4), lossProbability: 0.3)
            var network = try Self.network(seed: seed, count: 3, link: lossy)
            let outcome = try Self.run(&network, perPeer: 10, limit: .seconds(120))
            Self.expectEveryRequestAnsweredOnce(outcome, network: network, perPeer: 10)
            return network.trace.entries.map(\.description)
        }
        let first = try trace(seed: 5)
        #expect(!first.isEmpty)
        #expect(try trace(seed: 5) == first)
        #expect(try trace(seed: 6) != first)
    }
}
