import StarlingCore
import Testing

@testable import StarlingSim

/// SWIM membership on one busy machine: 200 peers of the ``MembershipConfiguration/local``
/// profile share the 2 cores of one ``SimHost``, and join through one seed at once.
@Suite struct MembershipOverloadSimulationTests {
    typealias Network = SimNetwork<MembershipCore>

    /// Loopback links that carry the local profile's 8,000-byte messages.
    static let loopback = LinkConditions(latency: .microseconds(50), jitter: .microseconds(20), mtu: 65_507)

    /// Costs about 15× ``SimCPUModel``'s defaults, as a debug build on a slow machine:
    /// 300 µs per datagram read, 50 µs per datagram sent, 50 µs per timer, 20 ns per byte.
    static let heavy = SimCPUModel(
        datagramCost: .microseconds(300), costPerByte: .nanoseconds(20), sentDatagramCost: .microseconds(50),
        timerCost: .microseconds(50))

    /// `count` membership cores on one host described by `host`, at 10.0.x.y:7946, each
    /// asked to join through the first at time zero.
    static func joiningSwarm(seed: UInt64, count: Int, host description: SimHost) throws -> (Network, SimHostID) {
        var network = Network(seed: seed, defaultLink: loopback)
        network.recordsTrace = false
        let host = network.addHost(description)
        for index in 0..<count {
            var keys = network.makeGenerator()
            let bytes = (0..<4).flatMap { _ in
                let word = keys.next()
                return (0..<8).map { UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * $0)) }
            }
            let address = PeerAddress.ipv4(10, 0, UInt8(index >> 8), UInt8(index & 0xFF), port: 7946)
            let core = try MembershipCore(
                localID: PeerID(bytes: bytes), address: address, configuration: .local,
                random: network.makeGenerator())
            _ = network.makeNode(name: "m\(index)", address: address, core: core, host: host)
        }
        let seedAddress = [network.address(of: network.nodeIDs[0])]
        for node in network.nodeIDs.dropFirst() {
            network.command(node) { core, now in core.join(seedAddress, now: now) }
        }
        return (network, host)
    }

    /// How many `suspected` events the nodes reported.
    static func suspicions(_ network: Network) -> Int {
        network.nodeIDs.reduce(0) { total, node in
            total + network.events(of: node).count { if case .suspected = $0 { true } else { false } }
        }
    }

    /// With ``SimCPUModel``'s default costs the join burst keeps the two cores under half
    /// busy: the swarm converges within 1 s of virtual time, as it does without a host,
    /// with no receive queue drops and no false failures. (Seed 4, at this commit: all
    /// 200 see 199 alive after 0.6 s, against 0.2 s without a host; the cores were 40 %
    /// busy, work waited at most 12 ms for a core, and about a thousand late timers were
    /// reported, late by those few milliseconds when several peers' timers came due
    /// together.)
    @Test func membership_simultaneousJoinOnTwoCores_defaultCostsConvergeWithoutFalseFailures() throws {
        var (network, host) = try Self.joiningSwarm(seed: 4, count: 200, host: SimHost(cores: 2))
        let nodes = network.nodeIDs
        let converge = MembershipSimulationTests.run(&network, step: .milliseconds(10), limit: .seconds(1)) {
            MembershipSimulationTests.converged($0, among: nodes)
        }
        #expect(converge != nil, "not converged: min alive \(nodes.map { network[core: $0].aliveCount }.min() ?? 0)")
        #expect(MembershipSimulationTests.falseFailures(network, live: nodes) == 0)
        #expect(network.statistics(of: host).receiveQueueDrops == 0)
        print("light: converged \(String(describing: converge)), \(network.statistics(of: host))")
    }

    /// With ``heavy`` costs and 16 KiB receive buffers the same join burst overloads the
    /// host from the first milliseconds: both cores stay busy, work waits hundreds of
    /// milliseconds for a core (longer than the 100 ms probe timeout), receive queues
    /// overflow, and every node's timers fire late.
    ///
    /// What the protocol does with that is recorded here, not asserted, because
    /// ``MembershipCore`` is still learning to use ``DriverLoad``. Seed 4, at this
    /// commit (MembershipCore ignores `noteLoad`), after 3 s: about 700 datagrams dropped
    /// by full queues, a longest wait of 0.35 s, 21,000 `suspected` and 640 `failed`
    /// events, every one of them about a live peer, and the fewest alive seen by a node
    /// down to about 107 of 199 after peaking near 138 at 1.5 s. The swarm never
    /// converges: slowness turns into suspicions, suspicions into more gossip, and more
    /// gossip into more slowness. With the default 256 KiB buffers nothing is dropped in
    /// the first 5 s, but the same collapse follows from lateness alone.
    @Test func membership_simultaneousJoinOnTwoCores_heavyCostsOverloadTheHost() throws {
        let busy = SimHost(cores: 2, cpu: Self.heavy, receiveBufferCapacity: 16_384)
        var (network, host) = try Self.joiningSwarm(seed: 4, count: 200, host: busy)
        network.run(for: .seconds(3))
        let statistics = network.statistics(of: host)
        #expect(statistics.receiveQueueDrops > 0)
        #expect(network.trace.statistics.dropped(.receiveQueueFull) == statistics.receiveQueueDrops)
        #expect(statistics.maxQueueingDelay > MembershipConfiguration.local.probeTimeout)
        #expect(statistics.loadReports > 0)
        // Both cores were busy nearly all the time.
        #expect(statistics.busyTime > .milliseconds(5_500))
        let falseFailures = MembershipSimulationTests.falseFailures(network, live: network.nodeIDs)
        let suspicions = Self.suspicions(network)
        print("heavy: \(statistics), suspicions \(suspicions), false failures \(falseFailures)")
    }
}
