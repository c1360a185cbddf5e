public import NIOCore
public import NIOPosix
import StarlingCore
import Synchronization

/// Many peers of one overlay in one process, sharing one event loop group.
///
/// ```swift
/// let swarm = try await Swarm.launch(Swarm.Configuration(peers: 50))
/// let record = try await swarm.peers[3].lookup(swarm.peers[41].id)
/// await swarm.shutdown()
/// ```
///
/// ### Launching
/// ``launch(_:on:progress:)`` first raises the soft open-file limit as far as the hard
/// limit allows, and refuses (``SwarmError/openFileLimit(needed:limit:maximum:)``) a
/// swarm that would still not fit, before opening anything. The first peer starts
/// alone (or joins ``Configuration/seeds``); the rest start with bounded concurrency
/// and join through it. A hybrid swarm (``Configuration/Shape/hybrid(indexServers:)``)
/// starts its index servers before its clients, which are given their addresses and
/// join through them in turn. Every peer runs the overlay and, unless
/// ``Configuration/acceptsStreams`` is set, no TCP listener.
///
/// The swarm reads every peer's events itself and keeps the counts in ``counters``;
/// use the peers' methods for everything else.
public final class Swarm: Sendable {
    /// Open files kept in reserve beyond the peers' own: the event loops' epoll and
    /// event descriptors, standard streams, and files the application opens.
    public static let descriptorReserve = 64

    /// The peers, in launch order; the first is the others' seed.
    public let peers: [Peer]
    /// Counts of the events every peer reported.
    public let counters: SwarmCounters
    private let readers: [Task<Void, Never>]
    /// Runs ``shutdown()`` once; ``run()`` waits on it.
    let gate = ShutdownGate()

    private init(peers: [Peer], counters: SwarmCounters, readers: [Task<Void, Never>]) {
        self.peers = peers
        self.counters = counters
        self.readers = readers
    }

    /// Launches a swarm.
    ///
    /// - Parameters:
    ///   - configuration: how many peers, where, and which overlay.
    ///   - group: the event loop group every peer runs on; default the singleton.
    ///   - progress: called with (peers started, peers requested) as peers start.
    /// - Returns: the running swarm, every peer started (joins may still be under way).
    /// - Throws: ``SwarmError``; nothing stays open after a failure.
    public static func launch(
        _ configuration: Configuration, on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws(SwarmError) -> Swarm {
        try configuration.validate()
        let limit = OpenFileLimit.raiseToMaximum()
        guard configuration.descriptorsNeeded <= limit.current else {
            throw .openFileLimit(needed: configuration.descriptorsNeeded, limit: limit.current, maximum: limit.maximum)
        }
        let counters = SwarmCounters(peers: configuration.peers)
        var readers: [Task<Void, Never>] = []
        func watch(_ peer: Peer, _ index: Int) {
            // On the peer's own loop: each event then wakes its reader without a thread switch.
            readers.append(
                Task(executorPreference: peer.taskExecutor) {
                    for await event in peer.events { counters.count(event, at: index) }
                })
        }
        let first: Peer
        do {
            first = try await Peer.start(configuration.peer(0, seeds: configuration.seeds), on: group)
        } catch {
            throw .launchFailed(index: 0, error)
        }
        watch(first, 0)
        progress(1, configuration.peers)
        let seeds = configuration.seeds.isEmpty ? [first.address] : configuration.seeds
        var peers: [Peer?] = [first] + Array(repeating: nil, count: configuration.peers - 1)
        var failure: SwarmError?
        var started = 1
        // Starts the peers of `range`, `launchConcurrency` at a time, given index servers at `indexes`.
        func launch(_ range: Range<Int>, indexes: [PeerAddress]) async {
            var next = range.lowerBound
            await withTaskGroup(of: (Int, Result<Peer, PeerError>).self) { tasks in
                func startNext(_ tasks: inout TaskGroup<(Int, Result<Peer, PeerError>)>) {
                    guard next < range.upperBound, failure == nil else { return }
                    let index = next
                    next += 1
                    let peerConfiguration = configuration.peer(index, seeds: seeds, indexes: indexes)
                    tasks.addTask { (index, await startPeer(peerConfiguration, on: group)) }
                }
                for _ in 0..<configuration.launchConcurrency { startNext(&tasks) }
                while let (index, result) = await tasks.next() {
                    switch result {
                    case .success(let peer):
                        peers[index] = peer
                        watch(peer, index)
                        started += 1
                        progress(started, configuration.peers)
                    case .failure(let error):
                        if failure == nil { failure = .launchFailed(index: index, error) }
                    }
                    startNext(&tasks)
                }
            }
        }
        // Hybrid: the index servers first (finding the first one), so that every client
        // starts with all their addresses.
        let indexServers = configuration.indexServerCount
        await launch(1..<max(1, indexServers), indexes: [first.address])
        await launch(
            max(1, indexServers)..<configuration.peers,
            indexes: failure == nil ? peers[0..<indexServers].compactMap { $0?.address } : [])
        let launched = peers.compactMap { $0 }
        if let failure {
            await shutDown(launched, concurrency: configuration.launchConcurrency)
            for reader in readers { await reader.value }
            throw failure
        }
        return Swarm(peers: launched, counters: counters, readers: readers)
    }

    /// Starts one peer, with its failure as a value.
    private static func startPeer(_ configuration: PeerConfiguration, on group: any EventLoopGroup) async -> Result<
        Peer, PeerError
    > {
        do {
            return .success(try await Peer.start(configuration, on: group))
        } catch {
            return .failure(error)
        }
    }

    /// Every peer's overlay status, in peer order; a peer that is shut down reports nil.
    ///
    /// Visits each event loop once for all of its peers, so that reading a thousand
    /// peers on a busy machine costs two waits for the loops, not a thousand.
    public func statuses() async -> [OverlayStatus?] {
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, indices: [Int])] = [:]
        for (index, peer) in peers.enumerated() {
            byLoop[ObjectIdentifier(peer.eventLoop), default: (peer.eventLoop, [])].indices.append(index)
        }
        let peers = self.peers
        var statuses = [OverlayStatus?](repeating: nil, count: peers.count)
        await withTaskGroup(of: [(Int, OverlayStatus?)].self) { group in
            for (loop, indices) in byLoop.values {
                group.addTask {
                    let batch = try? await loop.submit {
                        indices.map { index in (index, try? peers[index].overlayStatusOnLoop()) }
                    }.get()
                    return batch ?? []
                }
            }
            for await batch in group {
                for (index, status) in batch { statuses[index] = status }
            }
        }
        return statuses
    }

    /// Shuts every peer down (each leaves the overlay gracefully first), with bounded
    /// concurrency, and waits for their event readers. A second call does nothing but
    /// wait until the first has finished.
    public func shutdown() async {
        await gate.close {
            await Self.shutDown(peers, concurrency: 32)
            for reader in readers { await reader.value }
            counters.releaseWaiters()
        }
    }

    private static func shutDown(_ peers: [Peer], concurrency: Int) async {
        await withTaskGroup(of: Void.self) { tasks in
            var next = 0
            for _ in 0..<concurrency where next < peers.count {
                let peer = peers[next]
                next += 1
                tasks.addTask { await peer.shutdown() }
            }
            for await _ in tasks where next < peers.count {
                let peer = peers[next]
                next += 1
                tasks.addTask { await peer.shutdown() }
            }
        }
    }
}

/// Counts of the events a ``Swarm``'s peers reported, and each peer's view of the
/// membership built from them; safe to use from any thread.
public final class SwarmCounters: Sendable {
    private struct State {
        var counts: Counts
        /// The members each peer believes alive.
        var alive: [Set<PeerID>]
        var waiters: [(condition: @Sendable (Counts) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state: Mutex<State>

    /// The counts at one moment.
    public struct Counts: Sendable, Equatable {
        /// Membership events, by kind: `joined`, `suspected`, `failed`, `left`,
        /// `aliveAgain`, `addressChanged`.
        public var membership: [String: Int] = [:]
        /// How many members each peer believes alive, in peer order.
        public private(set) var aliveViews: [Int] = []
        /// The smallest of ``aliveViews`` (0 when there are none), kept up to date as
        /// events arrive so that ``isConverged(members:)`` costs O(1): it is asked after
        /// every event while someone waits for convergence.
        public private(set) var smallestAliveView = 0
        /// How many peers have the smallest view.
        private var peersAtSmallestView = 0
        /// Broadcast messages delivered, over all peers.
        public var broadcastsDelivered = 0
        /// Queries received, over all peers.
        public var queries = 0
        /// Query hits received, over all peers.
        public var queryHits = 0
        /// Sessions that came up, over all peers (each session counts at both ends).
        public var sessionsUp = 0
        /// Sessions that went down, over all peers.
        public var sessionsDown = 0

        /// The share of all (peer, other member) pairs in which the peer believes the
        /// member alive, for a swarm of `members` in all: 1 when every peer sees every other.
        public func convergence(members: Int) -> Double {
            guard members > 1, !aliveViews.isEmpty else { return 1 }
            let seen = aliveViews.reduce(0) { $0 + min($1, members - 1) }
            return Double(seen) / Double(aliveViews.count * (members - 1))
        }

        /// Whether every peer believes all `members - 1` others alive.
        public func isConverged(members: Int) -> Bool {
            aliveViews.isEmpty || smallestAliveView >= members - 1
        }

        /// Counts for `peers` peers that see nobody yet.
        init(peers: Int) {
            aliveViews = Array(repeating: 0, count: peers)
            peersAtSmallestView = peers
        }

        /// Sets peer `index`'s view to `count`, keeping ``smallestAliveView`` without a
        /// scan unless the last peer at the smallest view moved up.
        mutating func setAliveView(_ count: Int, at index: Int) {
            let old = aliveViews[index]
            guard old != count else { return }
            aliveViews[index] = count
            if count < smallestAliveView {
                (smallestAliveView, peersAtSmallestView) = (count, 1)
                return
            }
            if count == smallestAliveView { peersAtSmallestView += 1 }
            if old == smallestAliveView {
                peersAtSmallestView -= 1
                if peersAtSmallestView == 0 {
                    smallestAliveView = aliveViews.min() ?? 0
                    peersAtSmallestView = aliveViews.count { $0 == smallestAliveView }
                }
            }
        }
    }

    init(peers: Int) {
        state = Mutex(State(counts: Counts(peers: peers), alive: Array(repeating: [], count: peers)))
    }

    /// The counts now.
    public var counts: Counts { state.withLock { $0.counts } }

    /// Waits until `condition` holds for the counts (checked at once, then after every
    /// event). Bound the wait from outside (a task group with a deadline) if needed.
    public func wait(until condition: @escaping @Sendable (Counts) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if condition(state.counts) { return true }
                state.waiters.append((condition, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Wakes every waiter, whatever its condition: for a caller that stops waiting (its
    /// deadline passed), and at shutdown.
    public func releaseWaiters() {
        let waiters = state.withLock { state in
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    func count(_ event: Peer.Event, at index: Int) {
        let ready: [CheckedContinuation<Void, Never>] = state.withLock { state in
            switch event {
            case .membership(let event):
                state.counts.membership[event.kind, default: 0] += 1
                let member = event.member
                if member.state == .alive {
                    state.alive[index].insert(member.id)
                } else {
                    state.alive[index].remove(member.id)
                }
                state.counts.setAliveView(state.alive[index].count, at: index)
            case .broadcast: state.counts.broadcastsDelivered += 1
            case .query: state.counts.queries += 1
            case .queryHit: state.counts.queryHits += 1
            case .sessionUp: state.counts.sessionsUp += 1
            case .sessionDown: state.counts.sessionsDown += 1
            case .handshakeFailed, .datagram, .message, .notice, .topology, .groupJoined, .groupMessage,
                .groupSendFailed:
                break
            }
            guard !state.waiters.isEmpty else { return [] }
            let counts = state.counts
            var ready: [CheckedContinuation<Void, Never>] = []
            state.waiters.removeAll { waiter in
                guard waiter.condition(counts) else { return false }
                ready.append(waiter.continuation)
                return true
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }
}

extension MembershipEvent {
    /// The event's name, for counting.
    var kind: String {
        switch self {
        case .joined: "joined"
        case .suspected: "suspected"
        case .failed: "failed"
        case .left: "left"
        case .aliveAgain: "aliveAgain"
        case .addressChanged: "addressChanged"
        case .forgotten: "forgotten"
        }
    }
}
