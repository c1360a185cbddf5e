public import StarlingCore

/// A node of a ``SimNetwork``, numbered from 0 in the order the nodes were made.
public struct SimNodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The node's position in the network, from 0.
    public let rawValue: Int

    /// Wraps a position; only meaningful for the network that made it.
    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    public static func < (lhs: SimNodeID, rhs: SimNodeID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "n\(rawValue)" }
}

/// A virtual network and clock that drive any number of protocol cores with no sockets,
/// threads or wall clock, reproducibly from one seed.
///
/// ### Purpose
/// Tests build a swarm of cores, issue commands, and let the network carry their
/// datagrams under chosen ``LinkConditions``. Time moves only when the network moves it,
/// straight to the next scheduled delivery or timer, so an hour of protocol time costs
/// only the events in it. Every random choice comes from the seed, so two runs with the
/// same seed and the same commands produce equal ``trace``s.
///
/// ### Driving
/// After every input to a core (a delivered datagram, a timer, a ``command(_:_:)``, or
/// its creation in ``makeNode(name:address:core:host:)``), the network follows
/// ``ProtocolCore``'s order: it drains `pollTransmit` and schedules each datagram, re-arms
/// the node's one timer to `pollTimeout()`, then collects `pollEvent()` into the node's
/// ``events(of:)`` and the trace. Events at equal times run in the order they were
/// scheduled.
///
/// ### Hosts
/// A node made without a host handles every datagram and timer at the instant it is
/// due. A node on a ``SimHost`` (``addHost(_:)``) waits for one of its host's cores,
/// pays CPU time for each input, and can fall behind: see ``SimHost``.
///
/// ### Usage
/// ```swift
/// var network = SimNetwork<EchoCore>(seed: 1, defaultLink: .lan)
/// let a = network.makeNode(name: "a", core: EchoCore())
/// let b = network.makeNode(name: "b", core: EchoCore())
/// let target = network.address(of: b)
/// network.command(a) { core, now in core.send([1, 2, 3], to: target) }
/// network.run(for: .seconds(1))
/// ```
///
/// - Warning: the network is a value confined to one task; it is not thread-safe.
///   Copying it copies the whole simulation; with value-type cores the copy runs on
///   independently (a fork), while class-type cores would be shared.
public struct SimNetwork<Core: ProtocolCore> {
    /// One simulated host, but for its core (kept in ``cores``, so that reading a node's
    /// address or hosting never copies a core).
    struct Node {
        var name: String
        var address: PeerAddress
        /// Draws this node's link randomness (loss, delay, duplication).
        var generator: SeededGenerator
        var events: [Core.Event] = []
        /// The node's work state on its host; `nil` for a node that is never late.
        var hosting: SimHostedNode?
    }

    /// The port every automatically addressed node listens on.
    public static var defaultPort: UInt16 { 4000 }

    var nodes: [Node] = []
    /// Each node's core, by ``SimNodeID``.
    var cores: [Core] = []
    private var addressBook: [PeerAddress: SimNodeID] = [:]
    var queue = SimEventQueue()
    var links: SimLinkTable
    var clock = VirtualClock()
    /// Every host's run-time state, by ``SimHostID``.
    var hosts: [SimHostScheduler] = []
    /// The ends of services in progress on hosts.
    var services = SimServiceAgenda()
    private var nodeSeeds: SeededGenerator
    private var coreSeeds: SeededGenerator
    private var nextAutomaticAddress: UInt32 = 1
    /// Lent to every `pollTransmit`; keeps its capacity between datagrams.
    var transmitBuffer: [UInt8]
    /// What the driver does with each event as it collects it; see ``setReaction(_:)``.
    private var reaction: Reaction?

    /// Everything that has happened so far, and the counters.
    public internal(set) var trace = SimTrace()

    /// Creates an empty network at ``Instant/zero``.
    ///
    /// - Parameters:
    ///   - seed: fixes every random choice of the run.
    ///   - defaultLink: the conditions of every link not set with ``setLink(from:to:_:)``.
    public init(seed: UInt64, defaultLink: LinkConditions = .perfect) {
        var root = SeededGenerator(seed: seed)
        nodeSeeds = root.split()
        coreSeeds = root.split()
        links = SimLinkTable(defaultConditions: defaultLink)
        transmitBuffer = []
        transmitBuffer.reserveCapacity(65_536)
    }

    // MARK: Getters

    /// The current virtual time.
    public var now: Instant { clock.now }

    /// Every node, in the order made.
    public var nodeIDs: [SimNodeID] { nodes.indices.map(SimNodeID.init(rawValue:)) }

    /// The name given to `node`.
    public func name(of node: SimNodeID) -> String { nodes[node.rawValue].name }

    /// The address other cores send to to reach `node`.
    public func address(of node: SimNodeID) -> PeerAddress { nodes[node.rawValue].address }

    /// The node at `address`, if any.
    public func node(at address: PeerAddress) -> SimNodeID? { addressBook[address] }

    /// A read-only view of `node`'s core; change it through ``command(_:_:)``.
    public subscript(core node: SimNodeID) -> Core { cores[node.rawValue] }

    /// Calls `body` with `node`'s core, read-only.
    public func withCore<Result>(_ node: SimNodeID, _ body: (Core) throws -> Result) rethrows -> Result {
        try body(cores[node.rawValue])
    }

    /// The events `node`'s core has reported and nobody has drained yet, oldest first.
    public func events(of node: SimNodeID) -> [Core.Event] { nodes[node.rawValue].events }

    /// Datagrams on their links: scheduled and not yet delivered or dropped. Datagrams
    /// waiting in hosted nodes' receive queues are not counted; see
    /// ``receiveQueueLength(of:)``.
    public var deliveriesInFlight: Int { queue.deliveriesInFlight }

    /// Whether new ``trace`` entries are kept; statistics are counted either way.
    public var recordsTrace: Bool {
        get { trace.isRecording }
        set { trace.isRecording = newValue }
    }

    // MARK: Building and commanding

    /// Adds a node running `core`, then drives the core once so that any datagrams or
    /// timer it starts with take effect.
    ///
    /// - Parameters:
    ///   - name: a label for people; need not be unique.
    ///   - address: the node's address; by default the next free `127.x.y.z:4000`.
    ///     It never touches a real network.
    ///   - core: the protocol core, already configured.
    ///   - host: the host whose cores serve the node, from ``addHost(_:)``; `nil` (the
    ///     default) for a node that handles everything the instant it is due. The core's
    ///     start-up driving happens at once either way.
    /// - Returns: the new node.
    /// - Precondition: no other node has `address`.
    public mutating func makeNode(
        name: String, address: PeerAddress? = nil, core: Core, host: SimHostID? = nil
    ) -> SimNodeID {
        let id = SimNodeID(rawValue: nodes.count)
        let resolved = address ?? nextFreeAddress()
        precondition(addressBook[resolved] == nil, "\(resolved) already belongs to another node")
        addressBook[resolved] = id
        var node = Node(name: name, address: resolved, generator: nodeSeeds.split())
        if let host {
            node.hosting = SimHostedNode(host: host, configuration: hosts[host.rawValue].host)
        }
        nodes.append(node)
        cores.append(core)
        queue.addNode()
        drive(id)
        return id
    }

    /// A generator for a core's own randomness, from a stream separate from the links'.
    ///
    /// Pass it (or its output as a seed) into a core's configuration so that the core's
    /// choices, too, follow from the network's seed.
    public mutating func makeGenerator() -> SeededGenerator {
        coreSeeds.split()
    }

    /// Issues a command to `node`'s core at the current time, then drives the core.
    ///
    /// - Parameters:
    ///   - node: the node.
    ///   - body: receives the core and ``now``; call the core's command methods here.
    /// - Returns: what `body` returns.
    @discardableResult
    public mutating func command<Result>(
        _ node: SimNodeID, _ body: (inout Core, Instant) throws -> Result
    ) rethrows -> Result {
        defer { drive(node) }
        return try body(&cores[node.rawValue], clock.now)
    }

    /// What a driver does with an event as it collects it, as a peer's event loop
    /// does: it gets the node, its core (to issue commands with), the event and the time.
    public typealias Reaction = (SimNodeID, inout Core, Core.Event, Instant) -> Void

    /// Sets (or, with `nil`, removes) what the network does with every event a core
    /// reports, at the instant the event is collected: an application's handler, such as
    /// one that answers each incoming request.
    ///
    /// The reaction runs after the event has joined the node's ``events(of:)`` and the
    /// trace; what it makes the core send leaves at once, and the events it causes are
    /// collected (and reacted to) in turn. On a ``SimHost`` it runs when the service that
    /// reported the event ends, and costs no CPU time, as a ``command(_:_:)``.
    ///
    /// - Parameter reaction: the handler; it must not run forever by reacting to the
    ///   events it causes with more of the same.
    public mutating func setReaction(_ reaction: Reaction?) {
        self.reaction = reaction
    }

    /// Removes and returns the events `node`'s core has reported so far, oldest first.
    public mutating func drainEvents(of node: SimNodeID) -> [Core.Event] {
        var drained: [Core.Event] = []
        swap(&drained, &nodes[node.rawValue].events)
        return drained
    }

    /// Forgets the trace entries so far (not the statistics).
    public mutating func clearTrace() {
        trace.removeAllEntries()
    }

    // MARK: Running

    /// The time of the next delivery, timer or end of a host's service, if any.
    public mutating func nextEventTime() -> Instant? {
        switch (queue.nextKey(), services.nextKey) {
        case (let entry?, let service?): min(entry, service).time
        case (let entry?, nil): entry.time
        case (nil, let service?): service.time
        case (nil, nil): nil
        }
    }

    /// Jumps to the next delivery, timer or end of a host's service and carries it out.
    /// - Returns: `false` when nothing is scheduled (time does not move).
    @discardableResult
    public mutating func step() -> Bool {
        if let service = services.nextKey, queue.nextKey().map({ service < $0 }) ?? true {
            guard let ending = services.popNext() else { return false }
            moveClock(to: ending.key.time)
            finishService(of: ending.node)
            return true
        }
        guard let entry = queue.popNext() else { return false }
        carryOut(entry)
        return true
    }

    /// Carries out everything scheduled up to and including `deadline`, then sets the
    /// clock to `deadline` (it never moves backwards).
    /// - Returns: the number of deliveries, timers and ends of hosts' services carried out.
    @discardableResult
    public mutating func run(until deadline: Instant) -> Int {
        var count = 0
        while let next = nextEventTime(), next <= deadline, step() {
            count += 1
        }
        if deadline > clock.now { moveClock(to: deadline) }
        return count
    }

    /// Runs for `duration` of virtual time from ``now``.
    /// - Returns: the number of deliveries, timers and ends of hosts' services carried out.
    @discardableResult
    public mutating func run(for duration: Duration) -> Int {
        run(until: clock.now + duration)
    }

    /// Runs until nothing is scheduled, carrying out at most `maxEvents` deliveries,
    /// timers and ends of hosts' services, so that cores with periodic timers cannot run
    /// forever.
    /// - Returns: `true` when the network went idle, `false` when the bound stopped it.
    public mutating func runUntilIdle(maxEvents: Int = 1_000_000) -> Bool {
        var remaining = maxEvents
        while remaining > 0 {
            guard step() else { return true }
            remaining -= 1
        }
        return nextEventTime() == nil
    }

    // MARK: Internals

    private mutating func carryOut(_ entry: SimEventQueue.Entry) {
        moveClock(to: entry.time)
        switch entry.action {
        case .delivery(let from, let to, let payload):
            let link = links.conditions(from: from, to: to)
            let destination = nodes[to.rawValue].address
            if links.isCut(from: from, to: to, conditions: link) {
                trace.noteDropped(at: clock.now, node: from, reason: .partitioned, to: destination, size: payload.count)
                return
            }
            if nodes[to.rawValue].hosting != nil {
                enqueue(payload, from: from, to: to)
                return
            }
            trace.noteDelivered(at: clock.now, node: to, from: from, size: payload.count)
            let source = nodes[from.rawValue].address
            let now = clock.now
            payload.withUnsafeBytes { bytes in
                cores[to.rawValue].handleDatagram(bytes, from: source, now: now)
            }
            drive(to)
        case .timer(let node, _):
            if nodes[node.rawValue].hosting != nil {
                enqueueTimer(of: node)
                return
            }
            trace.noteTimer(at: clock.now, node: node)
            cores[node.rawValue].handleTimeout(now: clock.now)
            drive(node)
        }
    }

    /// Drains the core's transmits, re-arms its timer (unless a timer of its is waiting
    /// for a core), and collects its events.
    mutating func drive(_ node: SimNodeID) {
        let index = node.rawValue
        let now = clock.now
        var reacted = true
        while reacted {
            reacted = false
            while let destination = cores[index].pollTransmit(now: now, into: &transmitBuffer) {
                send(from: node, to: destination)
            }
            if nodes[index].hosting?.dueTimer == nil {
                queue.armTimer(for: node, at: deadline(ofCore: index), now: now)
            }
            while let event = cores[index].pollEvent() {
                trace.noteEvent(at: now, node: node, String(describing: event))
                nodes[index].events.append(event)
                if let reaction {
                    reaction(node, &cores[index], event, now)
                    reacted = true
                }
            }
        }
    }

    /// The next deadline of core `index`, read in place: a non-mutating method called on
    /// an array's element runs on a copy of it, and a core is large.
    mutating func deadline(ofCore index: Int) -> Instant? {
        Self.deadline(of: &cores[index])
    }

    private static func deadline(of core: inout Core) -> Instant? { core.pollTimeout() }

    /// Applies the link's conditions to the datagram in ``transmitBuffer`` and schedules it.
    private mutating func send(from node: SimNodeID, to destination: PeerAddress) {
        guard let route = route(from: node, to: destination, size: transmitBuffer.count) else { return }
        // The one copy: the buffer stays uniquely owned, with its capacity, for the next poll.
        let payload = transmitBuffer.withUnsafeBufferPointer { [UInt8]($0) }
        schedule(payload, from: node, along: route)
    }

    /// Applies the link's conditions to `payload` and schedules it.
    mutating func send(_ payload: [UInt8], from node: SimNodeID, to destination: PeerAddress) {
        guard let route = route(from: node, to: destination, size: payload.count) else { return }
        schedule(payload, from: node, along: route)
    }

    /// Where and when a datagram that survived its link arrives.
    private struct Route {
        var target: SimNodeID
        var delay: Duration
        var copyDelay: Duration?
    }

    /// Traces a datagram of `size` bytes sent now and decides its fate on its link.
    /// - Returns: its route, or `nil` when it was dropped (and traced as such).
    private mutating func route(from node: SimNodeID, to destination: PeerAddress, size: Int) -> Route? {
        let now = clock.now
        trace.noteSent(at: now, node: node, to: destination, size: size)
        guard let target = addressBook[destination] else {
            trace.noteDropped(at: now, node: node, reason: .noRoute, to: destination, size: size)
            return nil
        }
        switch links.route(from: node, to: target, size: size, using: &nodes[node.rawValue].generator) {
        case .drop(let reason):
            trace.noteDropped(at: now, node: node, reason: reason, to: destination, size: size)
            return nil
        case .deliver(let delay, let copyDelay):
            if copyDelay != nil { trace.noteDuplicated(at: now, node: node, to: destination) }
            return Route(target: target, delay: delay, copyDelay: copyDelay)
        }
    }

    /// Schedules the delivery of `payload`, and of its copy if the link made one.
    private mutating func schedule(_ payload: [UInt8], from node: SimNodeID, along route: Route) {
        let now = clock.now
        queue.scheduleDelivery(at: now + route.delay, from: node, to: route.target, payload: payload)
        if let copyDelay = route.copyDelay {
            queue.scheduleDelivery(at: now + copyDelay, from: node, to: route.target, payload: payload)
        }
    }

    mutating func moveClock(to instant: Instant) {
        do {
            try clock.advance(to: instant)
        } catch {
            preconditionFailure("simulator scheduled an event in the past: \(error)")
        }
    }

    private mutating func nextFreeAddress() -> PeerAddress {
        while true {
            let value = nextAutomaticAddress
            precondition(value < 1 << 24, "the simulator ran out of 127.x.y.z addresses")
            nextAutomaticAddress += 1
            let address = PeerAddress(host: .ipv4(127 << 24 | value), port: Self.defaultPort)
            if addressBook[address] == nil { return address }
        }
    }
}
