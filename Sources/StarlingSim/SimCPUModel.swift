/// What each piece of work costs a ``SimHost``'s cores, in virtual CPU time.
///
/// ### Purpose
/// A real peer spends CPU on every datagram it reads, decodes and answers, and on every
/// timer it handles. When many peers share a few event-loop threads, that cost makes them
/// late. The simulator charges these costs to the host's cores, so that a swarm can fall
/// behind (and show what falling behind does to a protocol) reproducibly from a seed.
///
/// ### The cost of one work item
/// - a received datagram of `b` bytes: ``datagramCost`` + `b` × ``costPerByte``;
/// - a timer firing: ``timerCost``;
/// - plus, for each datagram the core sends in reply, of `s` bytes:
///   ``sentDatagramCost`` + `s` × ``costPerByte``.
///
/// The defaults are a plausible optimised build on one modern core: a few syscalls and a
/// decode per datagram. A debug build is ten or more times slower; scale the costs to
/// model it.
public struct SimCPUModel: Equatable, Sendable {
    /// The fixed CPU time of reading and handling one received datagram (the `recvmsg`
    /// call, the decode, the core's bookkeeping).
    ///
    /// Raising it lowers how many datagrams per second a host can take before its
    /// receive queues fill; one core handles at most 1 s / `datagramCost` datagrams.
    public var datagramCost: Duration
    /// The CPU time per byte of each datagram received or sent (copying, hashing,
    /// decryption).
    ///
    /// Raising it makes large datagrams (full membership lists) dearer than small ones.
    public var costPerByte: Duration
    /// The fixed CPU time of sending one datagram (the `sendmsg` call and the encode).
    ///
    /// Raising it makes chatty replies (gossip fan-out) dearer; zero makes sending free.
    public var sentDatagramCost: Duration
    /// The CPU time of one timer firing, before the datagrams it sends.
    ///
    /// Raising it makes periodic work (probe rounds, gossip rounds) dearer.
    public var timerCost: Duration

    /// Creates a cost model.
    ///
    /// - Parameters:
    ///   - datagramCost: per received datagram; 20 µs by default.
    ///   - costPerByte: per byte received or sent; 5 ns by default.
    ///   - sentDatagramCost: per sent datagram; 5 µs by default.
    ///   - timerCost: per timer firing; 10 µs by default.
    public init(
        datagramCost: Duration = .microseconds(20),
        costPerByte: Duration = .nanoseconds(5),
        sentDatagramCost: Duration = .microseconds(5),
        timerCost: Duration = .microseconds(10)
    ) {
        self.datagramCost = datagramCost
        self.costPerByte = costPerByte
        self.sentDatagramCost = sentDatagramCost
        self.timerCost = timerCost
    }

    /// Everything free: hosted nodes still queue, but service takes no time.
    public static let free = SimCPUModel(
        datagramCost: .zero, costPerByte: .zero, sentDatagramCost: .zero, timerCost: .zero)

    /// The CPU time of handling one received datagram of `bytes` bytes, before replies.
    public func receiveCost(bytes: Int) -> Duration {
        datagramCost + costPerByte * bytes
    }

    /// The CPU time of sending one datagram of `bytes` bytes.
    public func sendCost(bytes: Int) -> Duration {
        sentDatagramCost + costPerByte * bytes
    }

    /// How long a core takes, in virtual time, to do `cost` of CPU work when a
    /// `busyFraction` of its time goes to something else.
    ///
    /// Formula: `cost / (1 − busyFraction)`, rounded to the nanosecond; so 0.5 doubles
    /// every service time (a 2× overload of the same work).
    ///
    /// - Parameters:
    ///   - cost: the CPU time the work needs.
    ///   - busyFraction: from 0 (the core is ours) up to, not including, 1.
    /// - Returns: the service time, never negative.
    public static func serviceTime(of cost: Duration, busyFraction: Double) -> Duration {
        let nanoseconds = max(0, cost.nanosecondsClamped)
        guard busyFraction > 0, nanoseconds > 0 else { return .nanoseconds(nanoseconds) }
        let stretched = (Double(nanoseconds) / (1 - busyFraction)).rounded()
        return .nanoseconds(Int64(exactly: stretched) ?? .max)
    }
}
