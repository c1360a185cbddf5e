/// A host of a ``SimNetwork``, numbered from 0 in the order the hosts were added.
public struct SimHostID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The host's position in the network, from 0.
    public let rawValue: Int

    /// Wraps a position; only meaningful for the network that made it.
    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    public static func < (lhs: SimHostID, rhs: SimHostID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "h\(rawValue)" }
}

/// A simulated machine: a group of nodes that share a few event-loop threads, as the
/// peers of one process share a SwiftNIO event loop group.
///
/// ### Purpose
/// Without a host, a node handles every datagram and timer at the instant it is due and
/// never falls behind. A node on a host gets a bounded receive queue (its socket buffer),
/// and its datagrams and timers wait there until one of the host's ``cores`` is free;
/// each piece of work then keeps that core busy for the time ``cpu`` charges. Under load
/// the queues fill and drop datagrams, and timers fire late: the overload real peers on
/// a busy machine see.
///
/// ### Scheduling
/// Work is served first come, first served across the host's cores, in the order it
/// arrived (a datagram when it reached the receive queue, a timer when its deadline
/// passed). A node's work never runs on two cores at once, so each node sees its inputs
/// in order, one at a time. Handling starts when a core takes the work: the core's input
/// method gets that instant as `now`, and the datagrams it sends leave when the service
/// time has passed. Commands (``SimNetwork/command(_:_:)``) still run at once, as a
/// test's direct access to a core.
///
/// ### Usage
/// ```swift
/// var network = SimNetwork<MembershipCore>(seed: 1, defaultLink: .lan)
/// let machine = network.addHost(SimHost(cores: 2, busyFraction: 0.5))
/// let node = network.makeNode(name: "m0", core: core, host: machine)
/// ```
public struct SimHost: Equatable, Sendable {
    /// How many nodes' work the host can do at once: its event-loop threads.
    ///
    /// Raising it adds capacity linearly while the nodes are many; a single node's work
    /// never uses more than one core. At least 1.
    public var cores: Int
    /// The CPU time each datagram and timer costs.
    public var cpu: SimCPUModel
    /// The fraction, from 0 up to (not including) 1, of every core's time taken by
    /// something outside the simulation.
    ///
    /// Every service time is stretched by `1 / (1 − busyFraction)`
    /// (``SimCPUModel/serviceTime(of:busyFraction:)``): 0.5 halves the host's capacity,
    /// which turns a load of 100 % into a 2× overload.
    public var busyFraction: Double
    /// Each node's receive queue capacity, in bytes: its socket's receive buffer.
    ///
    /// A datagram that would take the queue past it is dropped. Raising it absorbs
    /// longer bursts but lets datagrams wait longer (stale by the time they are read);
    /// lowering it drops sooner. The default, 256 KiB, is the real swarm's sockets'.
    public var receiveBufferCapacity: Int
    /// Bytes charged against ``receiveBufferCapacity`` per queued datagram on top of its
    /// payload.
    ///
    /// Kernels charge buffer bookkeeping, not just payload (Linux charges each small
    /// datagram's buffer "truesize", several hundred bytes); raise it to model that, so
    /// that a burst of small datagrams fills the queue sooner. 0 by default.
    public var receiveBufferOverhead: Int

    /// Creates a host description.
    ///
    /// - Parameters:
    ///   - cores: event-loop threads, at least 1; 2 by default.
    ///   - cpu: the cost model; ``SimCPUModel/init(datagramCost:costPerByte:sentDatagramCost:timerCost:)``'s
    ///     defaults by default.
    ///   - busyFraction: background load, in `0..<1`; 0 by default.
    ///   - receiveBufferCapacity: bytes per node's receive queue, at least 1; 256 KiB by default.
    ///   - receiveBufferOverhead: bytes charged per queued datagram, 0 or more; 0 by default.
    public init(
        cores: Int = 2,
        cpu: SimCPUModel = SimCPUModel(),
        busyFraction: Double = 0,
        receiveBufferCapacity: Int = 262_144,
        receiveBufferOverhead: Int = 0
    ) {
        self.cores = cores
        self.cpu = cpu
        self.busyFraction = busyFraction
        self.receiveBufferCapacity = receiveBufferCapacity
        self.receiveBufferOverhead = receiveBufferOverhead
    }

    /// Checks the fields the simulator relies on.
    func checkValid() {
        precondition(cores >= 1, "a host needs at least one core")
        precondition((0..<1).contains(busyFraction), "busyFraction must be in 0..<1")
        precondition(receiveBufferCapacity >= 1, "receiveBufferCapacity must be positive")
        precondition(receiveBufferOverhead >= 0, "receiveBufferOverhead must not be negative")
    }
}

/// Counters of one ``SimHost`` over a run, read with ``SimNetwork/statistics(of:)``.
public struct SimHostStatistics: Equatable, Sendable {
    /// Datagrams handed to its nodes' protocol cores.
    public internal(set) var datagramsServed = 0
    /// Timer firings handed to its nodes' protocol cores.
    public internal(set) var timersServed = 0
    /// The virtual time its cores spent serving work, summed over cores (so up to
    /// `cores` × the run's length).
    public internal(set) var busyTime: Duration = .zero
    /// The longest any work waited for a core: from a datagram's arrival in its receive
    /// queue, or a timer's deadline, to the start of its service.
    public internal(set) var maxQueueingDelay: Duration = .zero
    /// Datagrams its nodes' full receive queues dropped.
    public internal(set) var receiveQueueDrops = 0
    /// Reports made to its nodes' cores through `noteLoad(_:now:)`.
    public internal(set) var loadReports = 0

    /// Creates zeroed counters.
    public init() {}

    /// Datagrams and timer firings served.
    public var workServed: Int { datagramsServed + timersServed }
}
