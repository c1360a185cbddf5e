import StarlingCore
import Testing

@testable import StarlingSim

/// Many requests from one peer to another at one instant, as `Peer` users make them:
/// every copy, answer and floor crosses a messy link, and handlers answer in random
/// order and late.
@Suite struct RPCBurstSimulationTests {
    /// What one burst produced.
    struct Outcome {
        /// The answer expected for each request made.
        var issued: [RequestID: [UInt8]] = [:]
        /// Every `response` event of the requester, in order.
        var responses: [(id: RequestID, result: Result<[UInt8], RPCError>)] = []
        /// `request` events of the responder, per incoming request.
        var handled: [IncomingRequestID: Int] = [:]
    }

    /// Two peer cores, the second serving `double`, with a session made over a clean
    /// link; then the link both ways becomes `link`.
    static func pair(seed: UInt64, link: LinkConditions) throws -> (SimNetwork<PeerCore>, SimNodeID, SimNodeID) {
        var network = SimNetwork<PeerCore>(seed: seed, defaultLink: LinkConditions(latency: .microseconds(50)))
        network.recordsTrace = false
        var nodes: [SimNodeID] = []
        for name in ["requester", "responder"] {
            var keys = network.makeGenerator()
            let endpoint = try SessionEndpoint(
                identity: .generate(using: &keys), configuration: .simulation, random: network.makeGenerator())
            var core = PeerCore(endpoint: endpoint, random: network.makeGenerator())
            try core.serve("double")
            nodes.append(network.makeNode(name: name, core: core))
        }
        let (requester, responder) = (nodes[0], nodes[1])
        let address = network.address(of: responder)
        let peer = network[core: responder].identity.peerID
        network.command(requester) { core, now in core.connect(to: address, expecting: peer, now: now) }
        network.run(for: .seconds(1))
        try #require(network[core: requester].isEstablished(with: peer))
        try #require(network[core: responder].isEstablished(with: network[core: requester].identity.peerID))
        network.setLinks(between: requester, and: responder, link)
        _ = network.drainEvents(of: requester)
        _ = network.drainEvents(of: responder)
        return (network, requester, responder)
    }

    /// Sends `count` requests at one instant, then answers each one the responder
    /// reports after a random delay of up to `longestAnswer`, and runs until every
    /// request has its response or `limit` passes.
    static func burst(
        _ network: inout SimNetwork<PeerCore>, from requester: SimNodeID, to responder: SimNodeID, count: Int,
        perSlice: Int, longestAnswer: Duration, limit: Duration
    ) throws -> Outcome {
        var outcome = Outcome()
        var random = network.makeGenerator()
        let peer = network[core: responder].identity.peerID
        var answers: [(due: Instant, request: IncomingRequest)] = []
        let end = network.now + limit
        let slice: Duration = .milliseconds(5)
        var index = 0
        while network.now < end, outcome.responses.count < count {
            for _ in 0..<perSlice where index < count {
                let payload = [UInt8(index & 0xFF), UInt8(index >> 8)]
                let id = try network.command(requester) { core, now in
                    try core.request("double", payload, to: peer, timeout: .seconds(60), now: now)
                }
                outcome.issued[id] = payload + payload
                index += 1
            }
            for answer in answers where answer.due <= network.now {
                try network.command(responder) { core, now in
                    try core.respond(
                        to: answer.request.id, payload: answer.request.payload + answer.request.payload, now: now)
                }
            }
            answers.removeAll { $0.due <= network.now }
            network.run(for: slice)
            for event in network.drainEvents(of: responder) {
                guard case .request(let request) = event else { continue }
                outcome.handled[request.id, default: 0] += 1
                let delay = Duration.nanoseconds(
                    Int64.random(in: 0...longestAnswer.nanosecondsClamped, using: &random))
                answers.append((network.now + delay, request))
            }
            for event in network.drainEvents(of: requester) {
                guard case .response(let id, let result) = event else { continue }
                outcome.responses.append((id, result))
            }
        }
        return outcome
    }

    /// Checks that every request got exactly one response, its own, and that every
    /// handler ran exactly once.
    static func expectEachAnsweredOnce(_ outcome: Outcome, count: Int) {
        #expect(outcome.issued.count == count)
        #expect(outcome.responses.count == count, "only \(outcome.responses.count) of \(count) completed")
        #expect(Set(outcome.responses.map(\.id)).count == outcome.responses.count, "a request reported twice")
        for response in outcome.responses {
            #expect(response.result == outcome.issued[response.id].map { .success($0) }, "\(response.id)")
        }
        #expect(outcome.handled.count == count)
        #expect(outcome.handled.values.allSatisfy { $0 == 1 }, "a handler ran twice")
    }

    /// Copies duplicated and held back up to 600 ms, and one datagram in ten lost each
    /// way: answers and floors cross out of order, and handlers see copies while
    /// running and after answering.
    static let messy = LinkConditions(
        latency: .milliseconds(1), jitter: .milliseconds(1), lossProbability: 0.1, duplicationProbability: 0.3,
        reorderProbability: 0.3, reorderDelay: .milliseconds(600))

    @Test(arguments: [(seed: UInt64(9), perSlice: 200), (seed: 12, perSlice: 200), (seed: 3, perSlice: 10)])
    func requests_manyAtOnceOverMessyLink_eachAnsweredOnce(seed: UInt64, perSlice: Int) throws {
        // 200 requests in one instant (or 10 every 5 ms, so that floors rise while
        // others are in flight), answered after up to 2 s in random order. The timeout
        // outlasts the 30 s resend window: only a lost request or answer can fail one.
        var (network, requester, responder) = try Self.pair(seed: seed, link: Self.messy)
        let outcome = try Self.burst(
            &network, from: requester, to: responder, count: 200, perSlice: perSlice, longestAnswer: .seconds(2),
            limit: .seconds(70))
        Self.expectEachAnsweredOnce(outcome, count: 200)
        #expect(network[core: requester].pendingRequestCount == 0)
        #expect(network.trace.statistics.duplicated > 0)
    }
}
