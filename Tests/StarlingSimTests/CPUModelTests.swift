import StarlingCore
import Testing

@testable import StarlingSim

private func ms(_ value: Double) -> Instant { Instant(nanoseconds: UInt64((value * 1_000_000).rounded())) }

/// A core that records every input it gets and, when given a `period`, keeps a timer
/// that comes due every `period` on a fixed schedule (the next deadline counts from the
/// previous deadline, not from when the timer fired).
private struct LoadRecordingCore: ProtocolCore {
    enum Event: Equatable, CustomStringConvertible {
        case received([UInt8], at: Instant)
        case fired(at: Instant)
        case load(DriverLoad, at: Instant)

        var description: String {
            switch self {
            case .received(let bytes, let at): "received \(bytes.count)B at \(at)"
            case .fired(let at): "fired at \(at)"
            case .load(let load, let at): "load \(load) at \(at)"
            }
        }
    }

    var period: Duration?
    private var deadline: Instant?
    private var outbox: [(PeerAddress, [UInt8])] = []
    private var events: [Event] = []

    init(period: Duration? = nil) {
        self.period = period
        deadline = period.map { .zero + $0 }
    }

    /// Command: queue `bytes` for `destination`.
    mutating func send(_ bytes: [UInt8], to destination: PeerAddress) {
        outbox.append((destination, bytes))
    }

    /// Command: move the timer's next deadline to `deadline`.
    mutating func postpone(to deadline: Instant) {
        self.deadline = deadline
    }

    mutating func handleDatagram(_ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant) {
        events.append(.received([UInt8](datagram), at: now))
    }

    mutating func handleTimeout(now: Instant) {
        guard let current = deadline, current <= now, let period else { return }
        events.append(.fired(at: now))
        deadline = current + period
    }

    mutating func noteLoad(_ load: DriverLoad, now: Instant) {
        events.append(.load(load, at: now))
    }

    mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        guard !outbox.isEmpty else { return nil }
        let (destination, bytes) = outbox.removeFirst()
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: bytes)
        return destination
    }

    func pollTimeout() -> Instant? { deadline }

    mutating func pollEvent() -> Event? {
        events.isEmpty ? nil : events.removeFirst()
    }
}

/// Runs `network` until idle; `#expect` cannot call a mutating method itself.
private func settle<Core: ProtocolCore>(_ network: inout SimNetwork<Core>, maxEvents: Int = 1_000_000) -> Bool {
    network.runUntilIdle(maxEvents: maxEvents)
}

/// The times at which `node`'s echo core was handed each datagram.
private func receiveTimes(_ network: SimNetwork<EchoCore>, _ node: SimNodeID) -> [Instant] {
    network.events(of: node).map { event -> Instant in
        if case .received(_, _, let at) = event { at } else { .zero }
    }
}

/// A cost model where only received datagrams cost, `perDatagram` each.
private func receiveOnly(_ perDatagram: Duration) -> SimCPUModel {
    SimCPUModel(datagramCost: perDatagram, costPerByte: .zero, sentDatagramCost: .zero, timerCost: .zero)
}

/// Four ping-pong nodes in a lossy, jittery ring; `hosted` puts them all on one busy
/// single-core host with small receive queues. Returns the whole trace.
private func ringTrace(seed: UInt64, hosted: Bool, addIdleHost: Bool = false) -> SimTrace {
    let link = LinkConditions(
        latency: .milliseconds(1), jitter: .microseconds(500), lossProbability: 0.1, duplicationProbability: 0.05)
    var network = SimNetwork<PingPongCore>(seed: seed, defaultLink: link)
    let busy = SimHost(
        cores: 1, cpu: SimCPUModel(datagramCost: .microseconds(300), timerCost: .microseconds(100)),
        busyFraction: 0.25, receiveBufferCapacity: 40)
    let host = hosted || addIdleHost ? network.addHost(busy) : nil
    let nodes = (0..<4).map {
        network.makeNode(name: "p\($0)", core: PingPongCore(maxAttempts: 8), host: hosted ? host : nil)
    }
    for (index, node) in nodes.enumerated() {
        let target = network.address(of: nodes[(index + 1) % nodes.count])
        network.command(node) { core, now in core.startPinging(target, count: 20, now: now) }
    }
    #expect(settle(&network, maxEvents: 100_000))
    return network.trace
}

/// The host's CPU model: exact service delays, FIFO order across cores, bounded receive
/// queues, late timers reported through `noteLoad`, and determinism.
@Suite struct CPUModelTests {
    @Test(arguments: [
        (Duration.microseconds(20), 0.0, Duration.microseconds(20)),
        (.microseconds(20), 0.5, .microseconds(40)),
        (.microseconds(10), 0.75, .microseconds(40)),
        (.nanoseconds(3), 0.5, .nanoseconds(6)),
        (.zero, 0.9, .zero),
    ])
    func simCPUModel_serviceTime_stretchesByBusyFraction(cost: Duration, busy: Double, expected: Duration) {
        #expect(SimCPUModel.serviceTime(of: cost, busyFraction: busy) == expected)
    }

    @Test func simCPUModel_costs_addPerByteCosts() {
        let cpu = SimCPUModel()
        #expect(cpu.receiveCost(bytes: 1_000) == .microseconds(25))
        #expect(cpu.sendCost(bytes: 200) == .microseconds(6))
        #expect(SimCPUModel.free.receiveCost(bytes: 8_000) == .zero)
    }

    @Test func simHost_serve_oneCoreServesBackToBackAndRepliesLeaveWhenServiceEnds() {
        var network = SimNetwork<EchoCore>(seed: 1, defaultLink: LinkConditions(latency: .milliseconds(1)))
        let cpu = SimCPUModel(
            datagramCost: .microseconds(100), costPerByte: .zero, sentDatagramCost: .microseconds(50), timerCost: .zero)
        let host = network.addHost(SimHost(cores: 1, cpu: cpu))
        let a = network.makeNode(name: "a", core: EchoCore())
        let b = network.makeNode(name: "b", core: EchoCore(echoes: true), host: host)
        let target = network.address(of: b)
        network.command(a) { core, _ in
            for number in 0..<3 as Range<UInt32> { core.send(numberedPayload(number), to: target) }
        }
        #expect(settle(&network))
        // Each service: 100 µs to read plus 50 µs to send the echo.
        #expect(receiveTimes(network, b) == [ms(1), ms(1.15), ms(1.3)])
        #expect(receiveTimes(network, a) == [ms(2.15), ms(2.3), ms(2.45)])
        let sent = network.trace.entries(of: b).compactMap { if case .sent = $0.kind { $0.time } else { nil } }
        #expect(sent == [ms(1.15), ms(1.3), ms(1.45)])
        let statistics = network.statistics(of: host)
        #expect(statistics.datagramsServed == 3)
        #expect(statistics.busyTime == .microseconds(450))
        #expect(statistics.maxQueueingDelay == .microseconds(300))
        #expect(statistics.receiveQueueDrops == 0)
        #expect(network.trace.statistics.workServed == 3)
        #expect(network.trace.statistics.busyTime == .microseconds(450))
    }

    @Test(arguments: [1, 2])
    func simHost_serve_firstComeFirstServedAndANodeNeverOnTwoCores(cores: Int) {
        var network = SimNetwork<EchoCore>(seed: 1, defaultLink: LinkConditions(latency: .milliseconds(1)))
        let host = network.addHost(SimHost(cores: cores, cpu: receiveOnly(.microseconds(100))))
        let a = network.makeNode(name: "a", core: EchoCore())
        let b = network.makeNode(name: "b", core: EchoCore(), host: host)
        let c = network.makeNode(name: "c", core: EchoCore(), host: host)
        let (toB, toC) = (network.address(of: b), network.address(of: c))
        network.command(a) { core, _ in
            core.send(numberedPayload(0), to: toB)
            core.send(numberedPayload(1), to: toB)
            core.send(numberedPayload(2), to: toC)
        }
        #expect(settle(&network))
        if cores == 1 {
            #expect(receiveTimes(network, b) == [ms(1), ms(1.1)])
            #expect(receiveTimes(network, c) == [ms(1.2)])
        } else {
            // The second core skips b (busy on the first) and serves c at once.
            #expect(receiveTimes(network, b) == [ms(1), ms(1.1)])
            #expect(receiveTimes(network, c) == [ms(1)])
        }
        #expect(network.statistics(of: host).busyTime == .microseconds(300))
    }

    @Test func simHost_receiveQueue_fullQueueDropsCountsAndReportsBeforeNextDatagram() {
        var network = SimNetwork<LoadRecordingCore>(seed: 1, defaultLink: LinkConditions(latency: .milliseconds(1)))
        let host = network.addHost(SimHost(cores: 1, cpu: receiveOnly(.microseconds(100)), receiveBufferCapacity: 100))
        let a = network.makeNode(name: "a", core: LoadRecordingCore())
        let b = network.makeNode(name: "b", core: LoadRecordingCore(), host: host)
        let target = network.address(of: b)
        network.command(a) { core, _ in
            for number in 0..<5 as Range<UInt32> { core.send(numberedPayload(number, size: 40), to: target) }
        }
        network.run(until: ms(1))
        // The first is already being read; the next two fill 80 of the 100 bytes.
        #expect(network.receiveQueueLength(of: b) == 2)
        #expect(network.receiveQueueBytes(of: b) == 80)
        #expect(settle(&network))
        #expect(network.receiveQueueDrops(of: b) == 2)
        #expect(network.receiveQueueDrops(of: a) == 0)
        #expect(network.statistics(of: host).receiveQueueDrops == 2)
        #expect(network.trace.statistics.dropped(.receiveQueueFull) == 2)
        #expect(
            network.trace.entries.contains {
                $0.node == a && $0.kind == .dropped(.receiveQueueFull, to: target, size: 40)
            })
        let numbers = network.events(of: b).compactMap {
            if case .received(let bytes, _) = $0 { payloadNumber(bytes) } else { nil }
        }
        #expect(numbers == [0, 1, 2])
        #expect(
            network.events(of: b) == [
                .received(numberedPayload(0, size: 40), at: ms(1)),
                .load(DriverLoad(receiveDrops: 2), at: ms(1.1)),
                .received(numberedPayload(1, size: 40), at: ms(1.1)),
                .received(numberedPayload(2, size: 40), at: ms(1.2)),
            ])
        #expect(network.statistics(of: host).loadReports == 1)
        #expect(network.trace.statistics.loadReports == 1)
    }

    @Test func simHost_timer_firesLateBehindQueuedWorkAndCoreIsToldTheLag() {
        var network = SimNetwork<LoadRecordingCore>(seed: 1, defaultLink: LinkConditions(latency: .microseconds(9_500)))
        let host = network.addHost(SimHost(cores: 1, cpu: receiveOnly(.milliseconds(1))))
        let a = network.makeNode(name: "a", core: LoadRecordingCore())
        let b = network.makeNode(name: "b", core: LoadRecordingCore(period: .milliseconds(10)), host: host)
        let target = network.address(of: b)
        network.command(a) { core, _ in
            for number in 0..<3 as Range<UInt32> { core.send(numberedPayload(number), to: target) }
        }
        network.run(until: ms(25))
        // Three datagrams arrive at 9.5 ms and keep the core busy until 12.5 ms; the
        // timer, due at 10 ms, waits behind them and fires 2.5 ms late. The next, due at
        // 20 ms, finds the core free and fires on time with no report.
        let timeline = network.events(of: b).filter { if case .received = $0 { false } else { true } }
        #expect(
            timeline == [
                .load(DriverLoad(timerLag: .microseconds(2_500)), at: ms(12.5)), .fired(at: ms(12.5)),
                .fired(at: ms(20)),
            ])
        let statistics = network.statistics(of: host)
        #expect(statistics.timersServed == 2)
        #expect(statistics.datagramsServed == 3)
        #expect(statistics.maxQueueingDelay == .microseconds(2_500))
        #expect(
            network.trace.entries(of: b).contains {
                $0.kind == .loadReported(DriverLoad(timerLag: .microseconds(2_500)))
            })
    }

    @Test func simHost_timer_postponedWhileWaitingIsNotFiredButReArmed() {
        var network = SimNetwork<LoadRecordingCore>(
            seed: 1, defaultLink: LinkConditions(latency: .microseconds(9_500)))
        let host = network.addHost(SimHost(cores: 1, cpu: receiveOnly(.milliseconds(1))))
        let a = network.makeNode(name: "a", core: LoadRecordingCore())
        let b = network.makeNode(name: "b", core: LoadRecordingCore(period: .milliseconds(10)), host: host)
        let target = network.address(of: b)
        network.command(a) { core, _ in
            for number in 0..<3 as Range<UInt32> { core.send(numberedPayload(number), to: target) }
        }
        // At 11 ms the timer due at 10 ms is still waiting behind the datagrams.
        network.run(until: ms(11))
        network.command(b) { core, _ in core.postpone(to: ms(30)) }
        network.run(until: ms(35))
        let timeline = network.events(of: b).filter { if case .received = $0 { false } else { true } }
        #expect(timeline == [.fired(at: ms(30))])
        #expect(network.statistics(of: host).timersServed == 1)
        #expect(network.statistics(of: host).loadReports == 0)
    }

    @Test func simHost_busyFraction_halfTheCoreDoublesServiceTimes() {
        var network = SimNetwork<EchoCore>(seed: 1, defaultLink: LinkConditions(latency: .milliseconds(1)))
        let host = network.addHost(SimHost(cores: 1, cpu: receiveOnly(.microseconds(100)), busyFraction: 0.5))
        let a = network.makeNode(name: "a", core: EchoCore())
        let b = network.makeNode(name: "b", core: EchoCore(), host: host)
        let target = network.address(of: b)
        network.command(a) { core, _ in
            for number in 0..<3 as Range<UInt32> { core.send(numberedPayload(number), to: target) }
        }
        #expect(settle(&network))
        #expect(receiveTimes(network, b) == [ms(1), ms(1.2), ms(1.4)])
        network.setBusyFraction(0, of: host)
        network.command(a) { core, _ in
            for number in 3..<5 as Range<UInt32> { core.send(numberedPayload(number), to: target) }
        }
        #expect(settle(&network))
        #expect(receiveTimes(network, b).suffix(2) == [ms(2.6), ms(2.7)])
    }

    @Test func simNetwork_withoutHosts_traceUnchangedByAnIdleHost() {
        let plain = ringTrace(seed: 7, hosted: false)
        #expect(ringTrace(seed: 7, hosted: false, addIdleHost: true) == plain)
        #expect(plain.statistics.workServed == 0)
        #expect(plain.statistics.dropped(.receiveQueueFull) == 0)
        #expect(!plain.entries.contains { if case .loadReported = $0.kind { true } else { false } })
    }

    @Test func simHost_run_sameSeedGivesIdenticalTrace() {
        let first = ringTrace(seed: 2024, hosted: true)
        #expect(ringTrace(seed: 2024, hosted: true) == first)
        #expect(ringTrace(seed: 2025, hosted: true).entries != first.entries)
        #expect(first.statistics.dropped(.receiveQueueFull) > 0)
        #expect(first.statistics.loadReports > 0)
        #expect(first.statistics.workServed > 0)
        #expect(first != ringTrace(seed: 2024, hosted: false))
    }
}
