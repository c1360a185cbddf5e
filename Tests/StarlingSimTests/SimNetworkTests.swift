import StarlingCore
import Testing

@testable import StarlingSim

private func ms(_ value: UInt64) -> Instant { Instant(nanoseconds: value * 1_000_000) }

/// Runs `network` until idle; `#expect` cannot call a mutating method itself.
private func idle<Core: ProtocolCore>(_ network: inout SimNetwork<Core>, maxEvents: Int = 1_000_000) -> Bool {
    network.runUntilIdle(maxEvents: maxEvents)
}

/// Four nodes in a ring, each pinging the next over a lossy, jittery, duplicating,
/// reordering network; returns the whole trace.
private func lossyRingTrace(seed: UInt64) -> SimTrace {
    let link = LinkConditions(
        latency: .milliseconds(5), jitter: .milliseconds(3), lossProbability: 0.3,
        duplicationProbability: 0.05, reorderProbability: 0.1, reorderDelay: .milliseconds(20))
    var network = SimNetwork<PingPongCore>(seed: seed, defaultLink: link)
    let nodes = (0..<4).map { network.makeNode(name: "p\($0)", core: PingPongCore(maxAttempts: 8)) }
    for (index, node) in nodes.enumerated() {
        let target = network.address(of: nodes[(index + 1) % nodes.count])
        network.command(node) { core, now in core.startPinging(target, count: 20, now: now) }
    }
    #expect(idle(&network, maxEvents: 100_000))
    return network.trace
}

/// An echo-less sink network of two nodes with `link` between them, `a → b`.
private func pair(_ link: LinkConditions, seed: UInt64 = 1) -> (SimNetwork<EchoCore>, SimNodeID, SimNodeID) {
    var network = SimNetwork<EchoCore>(seed: seed, defaultLink: link)
    let a = network.makeNode(name: "a", core: EchoCore())
    let b = network.makeNode(name: "b", core: EchoCore())
    return (network, a, b)
}

/// Has `from` send the payloads numbered `numbers` to `to`, all at the current time.
private func sendNumbered(
    _ network: inout SimNetwork<EchoCore>, from: SimNodeID, to: SimNodeID, _ numbers: Range<UInt32>, size: Int = 5
) {
    let target = network.address(of: to)
    network.command(from) { core, _ in
        for number in numbers { core.send(numberedPayload(number, size: size), to: target) }
    }
}

private func receivedNumbers(_ network: SimNetwork<EchoCore>, _ node: SimNodeID) -> [UInt32] {
    network.events(of: node).compactMap {
        if case .received(let bytes, _, _) = $0 { payloadNumber(bytes) } else { nil }
    }
}

@Suite struct SimNetworkTests {
    @Test func simNetwork_run_sameSeedGivesIdenticalTrace() {
        let first = lossyRingTrace(seed: 2024)
        let second = lossyRingTrace(seed: 2024)
        #expect(first == second)
        #expect(first.statistics.dropped(.loss) > 0)
        #expect(first.statistics.duplicated > 0)
    }

    @Test func simNetwork_run_differentSeedGivesDifferentTraceUnderLoss() {
        #expect(lossyRingTrace(seed: 1).entries != lossyRingTrace(seed: 2).entries)
    }

    @Test func simNetwork_deliver_latencyIsExactWithoutJitter() {
        var (network, a, b) = pair(LinkConditions(latency: .milliseconds(7)))
        sendNumbered(&network, from: a, to: b, 0..<1)
        network.run(until: ms(3))
        #expect(network.events(of: b).isEmpty)
        sendNumbered(&network, from: a, to: b, 1..<2)
        network.run(until: ms(100))
        let times = network.events(of: b).map { event -> Instant in
            if case .received(_, _, let at) = event { at } else { .zero }
        }
        #expect(times == [ms(7), ms(10)])
        let deliveries = network.trace.entries.filter {
            if case .delivered(from: a, size: 5) = $0.kind { true } else { false }
        }
        #expect(deliveries.map(\.time) == [ms(7), ms(10)])
        #expect(network.now == ms(100))
    }

    @Test func simNetwork_send_lossRateNearConfiguredProbability() {
        var (network, a, b) = pair(LinkConditions(latency: .milliseconds(1), lossProbability: 0.25), seed: 77)
        network.recordsTrace = false
        sendNumbered(&network, from: a, to: b, 0..<4_000)
        #expect(idle(&network))
        let statistics = network.trace.statistics
        // Expect 1,000 lost; the standard deviation is about 27, so ±200 is very generous.
        #expect((800...1_200).contains(statistics.dropped(.loss)))
        #expect(statistics.delivered + statistics.dropped(.loss) == 4_000)
        #expect(network.events(of: b).count == statistics.delivered)
        #expect(network.trace.entries.isEmpty)
    }

    @Test func simNetwork_send_duplicationDeliversTwice() {
        var (network, a, b) = pair(LinkConditions(latency: .milliseconds(2), duplicationProbability: 1))
        sendNumbered(&network, from: a, to: b, 0..<50)
        #expect(idle(&network))
        #expect(network.trace.statistics.duplicated == 50)
        #expect(network.trace.statistics.delivered == 100)
        let numbers = receivedNumbers(network, b)
        #expect(numbers.count == 100)
        #expect(Set(numbers).count == 50)
    }

    @Test func simNetwork_send_reorderingLetsLaterDatagramsOvertake() {
        let reordering = LinkConditions(
            latency: .milliseconds(10), reorderProbability: 0.3, reorderDelay: .milliseconds(50))
        var (network, a, b) = pair(reordering, seed: 5)
        sendNumbered(&network, from: a, to: b, 0..<200)
        #expect(idle(&network))
        let numbers = receivedNumbers(network, b)
        #expect(numbers.count == 200)
        #expect(numbers != numbers.sorted())
        #expect(numbers.sorted() == Array(0..<200))

        var (steady, c, d) = pair(LinkConditions(latency: .milliseconds(10)))
        sendNumbered(&steady, from: c, to: d, 0..<200)
        #expect(idle(&steady))
        #expect(receivedNumbers(steady, d) == Array(0..<200))
    }

    @Test func simNetwork_send_mtuDropsOversize() {
        var (network, a, b) = pair(LinkConditions(mtu: 1_200))
        sendNumbered(&network, from: a, to: b, 0..<1, size: 1_200)
        sendNumbered(&network, from: a, to: b, 1..<2, size: 1_201)
        #expect(idle(&network))
        #expect(receivedNumbers(network, b) == [0])
        #expect(network.trace.statistics.dropped(.oversize) == 1)
        let target = network.address(of: b)
        #expect(network.trace.entries.contains { $0.kind == .dropped(.oversize, to: target, size: 1_201) })
    }

    @Test func simNetwork_partition_blocksAndHealRestores() {
        var network = SimNetwork<EchoCore>(seed: 3, defaultLink: LinkConditions(latency: .milliseconds(10)))
        let a = network.makeNode(name: "a", core: EchoCore())
        let b = network.makeNode(name: "b", core: EchoCore())
        let c = network.makeNode(name: "c", core: EchoCore())
        network.partition([[a], [b, c]])
        sendNumbered(&network, from: a, to: b, 0..<1)
        sendNumbered(&network, from: b, to: c, 1..<2)
        #expect(idle(&network))
        #expect(network.events(of: b).isEmpty)
        #expect(receivedNumbers(network, c) == [1])
        #expect(network.trace.statistics.dropped(.partitioned) == 1)

        network.heal()
        sendNumbered(&network, from: a, to: b, 2..<3)
        #expect(idle(&network))
        #expect(receivedNumbers(network, b) == [2])

        // A cut made while a datagram is in flight drops it on arrival.
        sendNumbered(&network, from: a, to: b, 3..<4)
        network.run(for: .milliseconds(5))
        network.setLink(from: a, to: b, LinkConditions(latency: .milliseconds(10), partitioned: true))
        #expect(idle(&network))
        #expect(receivedNumbers(network, b) == [2])
        #expect(network.trace.statistics.dropped(.partitioned) == 2)
        network.heal()
        #expect(network.link(from: a, to: b).partitioned == false)
    }

    @Test func simNetwork_timer_firesAtDeadlineAndJumpsStraightThere() {
        var network = SimNetwork<PingPongCore>(seed: 9)
        let pinger = network.makeNode(
            name: "pinger", core: PingPongCore(retransmitAfter: .milliseconds(100), maxAttempts: 3))
        let nowhere = PeerAddress.ipv4(10, 9, 9, 9, port: 1)
        network.command(pinger) { core, now in core.startPinging(nowhere, count: 1, now: now) }
        let firstDeadline = network.nextEventTime()
        #expect(firstDeadline == ms(100))
        // Three timers in ten seconds of virtual time: three events, no stepping in between.
        let carriedOut = network.run(until: ms(10_000))
        #expect(carriedOut == 3)
        let timers = network.trace.entries.filter { $0.kind == .timer }.map(\.time)
        #expect(timers == [ms(100), ms(200), ms(300)])
        #expect(network.trace.statistics.dropped(.noRoute) == 3)
        #expect(network.events(of: pinger) == [.gaveUp(0)])
        #expect(network.now == ms(10_000))
    }

    @Test func simNetwork_timer_staleDeadlineIsIgnored() {
        var network = SimNetwork<PingPongCore>(seed: 4, defaultLink: LinkConditions(latency: .milliseconds(10)))
        let a = network.makeNode(name: "a", core: PingPongCore(retransmitAfter: .milliseconds(100)))
        let b = network.makeNode(name: "b", core: PingPongCore())
        let target = network.address(of: b)
        network.command(a) { core, now in core.startPinging(target, count: 2, now: now) }
        #expect(idle(&network))
        #expect(network.events(of: a) == [.pong(0, rtt: .milliseconds(20)), .pong(1, rtt: .milliseconds(20))])
        #expect(network.trace.statistics.timersFired == 0)
        #expect(network.now == ms(20))
        let drained = network.drainEvents(of: a)
        #expect(drained.count == 2)
        #expect(network.events(of: a).isEmpty)
    }

    @Test func simNetwork_runUntilIdle_isBounded() {
        var network = SimNetwork<PingPongCore>(seed: 6)
        let pinger = network.makeNode(name: "stubborn", core: PingPongCore(maxAttempts: .max))
        let nowhere = PeerAddress.ipv4(10, 0, 0, 1, port: 9)
        network.command(pinger) { core, now in core.startPinging(nowhere, count: 1, now: now) }
        #expect(idle(&network, maxEvents: 50) == false)
        #expect(network.trace.statistics.timersFired == 50)
        #expect(network.now == ms(5_000))
    }

    @Test func simNetwork_makeNode_assignsDistinctLoopbackAddresses() {
        var network = SimNetwork<EchoCore>(seed: 0)
        let fixed = PeerAddress.ipv4(127, 0, 0, 2, port: 4000)
        let a = network.makeNode(name: "a", core: EchoCore())
        let b = network.makeNode(name: "b", address: fixed, core: EchoCore())
        let c = network.makeNode(name: "c", core: EchoCore())
        #expect(network.address(of: a) == PeerAddress.ipv4(127, 0, 0, 1, port: 4000))
        #expect(network.address(of: c) == PeerAddress.ipv4(127, 0, 0, 3, port: 4000))
        #expect(network.node(at: fixed) == b)
        #expect(network.nodeIDs == [a, b, c])
        #expect(network.name(of: c) == "c")
        #expect(network.address(of: c).isLoopback)
    }

    @Test func simNetwork_run_echoRoundTrip() {
        var network = SimNetwork<EchoCore>(seed: 8, defaultLink: .lan)
        let client = network.makeNode(name: "client", core: EchoCore())
        let server = network.makeNode(name: "server", core: EchoCore(echoes: true))
        sendNumbered(&network, from: client, to: server, 0..<3)
        #expect(idle(&network))
        #expect(receivedNumbers(network, client).sorted() == [0, 1, 2])
        #expect(network.trace.statistics.delivered == 6)
        #expect(network.withCore(server) { $0.echoes })
        #expect(network.trace.entries.contains { if case .event = $0.kind { true } else { false } })
    }

    @Test func simNetwork_run_thousandNodesQuickly() {
        var network = SimNetwork<PingPongCore>(
            seed: 1_000, defaultLink: LinkConditions(latency: .milliseconds(1), jitter: .milliseconds(1)))
        network.recordsTrace = false
        let nodes = (0..<1_000).map { network.makeNode(name: "node\($0)", core: PingPongCore()) }
        for (index, node) in nodes.enumerated() {
            let target = network.address(of: nodes[(index + 1) % nodes.count])
            network.command(node) { core, now in core.startPinging(target, count: 3, now: now) }
        }
        #expect(idle(&network))
        #expect(network.trace.statistics.delivered == 6_000)
        #expect(nodes.allSatisfy { network[core: $0].pongs.count == 3 })
    }
}

@Suite struct SimEventQueueTests {
    @Test func simEventQueue_popNext_equalTimesKeepInsertionOrderAndSkipStaleTimers() {
        var queue = SimEventQueue()
        let node = SimNodeID(rawValue: 0)
        queue.addNode()
        queue.armTimer(for: node, at: ms(5), now: .zero)
        for number in 0..<3 as Range<UInt8> {
            queue.scheduleDelivery(at: ms(5), from: node, to: node, payload: [number])
        }
        queue.armTimer(for: node, at: ms(9), now: .zero)  // makes the 5 ms timer stale
        queue.armTimer(for: node, at: ms(9), now: .zero)  // same deadline: nothing new
        var order: [String] = []
        while let entry = queue.popNext() {
            switch entry.action {
            case .delivery(_, _, let payload): order.append("d\(payload[0])@\(entry.time)")
            case .timer: order.append("t@\(entry.time)")
            }
        }
        #expect(order == ["d0@\(ms(5))", "d1@\(ms(5))", "d2@\(ms(5))", "t@\(ms(9))"])
        #expect(queue.armedDeadline(of: node) == nil)
        #expect(queue.deliveriesInFlight == 0)
    }

    @Test func linkConditions_sampleDelay_perfectLinkDrawsNoRandomness() {
        var used = SeededGenerator(seed: 11)
        var untouched = SeededGenerator(seed: 11)
        #expect(LinkConditions(latency: .milliseconds(3)).sampleDelay(using: &used) == .milliseconds(3))
        #expect(used.next() == untouched.next())
        let jittery = LinkConditions(latency: .milliseconds(3), jitter: .milliseconds(2))
        for _ in 0..<100 {
            let delay = jittery.sampleDelay(using: &used)
            #expect(delay >= .milliseconds(3) && delay <= .milliseconds(5))
        }
    }
}
