import Logging
public import NIOCore
public import NIOPosix
public import StarlingCore
import StarlingIO
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds peers on the local network by signed beacons: multicast (IPv4, IPv6) and/or
/// directed broadcast on one interface the user names.
///
/// ### Purpose
/// `LANDiscovery` runs StarlingCore's `DiscoveryCore` on real sockets, with
/// a `CoreDriver` on a SwiftNIO event loop: one IPv4 socket (IPv4 multicast and
/// broadcast) and one IPv6 socket (IPv6 multicast), each with its own core beaconing the
/// same record. It merges what the cores hear and reports each other peer's verified
/// `SignedPeerRecord` once through ``events`` (and the `onEvent` callback),
/// again when the peer re-signs it, and when it expires everywhere.
///
/// Discovery finds; it does not connect. To turn it into overlay membership, join every
/// discovered peer:
/// ```swift
/// let configuration = LANDiscoveryConfiguration(interface: "enp3s0", transports: [.ipv4Multicast])
/// let discovery = try LANDiscovery(configuration: configuration, identity: key, addresses: [peer.address])
/// try await discovery.start()
/// for await case .discovered(let record) in discovery.events {
///     try await peer.join(record.record.addresses)
/// }
/// ```
///
/// ### Records
/// Created with an identity, it signs its own record (sequence numbers from the wall
/// clock, so a restarted peer supersedes its old beacons), and each transport's
/// discovery core renews it at half of ``LANDiscoveryConfiguration/recordLifetime``
/// (`DiscoveryCore.renewRecord(signingWith:lifetime:now:)`), so the
/// simulator and the real network run the same renewal. Created with a record, the
/// caller keeps it fresh with ``updateRecord(_:)``.
///
/// - Warning: multicast and broadcast leave the machine onto the chosen interface's network.
public final class LANDiscovery: Sendable {
    /// What discovery reports.
    public enum Event: Hashable, Sendable {
        /// A verified record of a peer not known before.
        case discovered(SignedPeerRecord)
        /// A peer's newer record (a higher sequence number), verified.
        case updated(SignedPeerRecord)
        /// Every held record of the peer expired; it has not beaconed for a record lifetime.
        case expired(PeerID)

        /// The record a ``discovered(_:)`` or ``updated(_:)`` event carries.
        public var record: SignedPeerRecord? {
            switch self {
            case .discovered(let record), .updated(let record): record
            case .expired: nil
            }
        }
    }

    /// The settings this discovery was created with.
    public let configuration: LANDiscoveryConfiguration
    /// This peer's ID: the signer of the beaconed record.
    public let localPeer: PeerID
    /// The events, in order; the stream ends at ``shutdown()``. Iterate it once.
    public let events: AsyncStream<Event>
    /// The event loop the sockets and cores run on.
    public let eventLoop: any EventLoop

    private let continuation: AsyncStream<Event>.Continuation
    private let onEvent: (@Sendable (Event) -> Void)?
    private let signer: Signer?
    private let state: Mutex<State>

    /// What signs the local record when discovery owns it.
    private struct Signer: Sendable {
        let identity: IdentityKeyPair
        let addresses: [PeerAddress]
        let services: [String]
    }

    private enum Phase {
        case idle, starting, running, shutDown
    }

    /// A record held by at least one core, and which cores hold it.
    private struct Held {
        var record: SignedPeerRecord
        var holders: Set<Int>
    }

    private struct State: ~Copyable {
        var phase = Phase.idle
        var record: SignedPeerRecord
        var channels: [any Channel] = []
        var drivers: [NIOLoopBound<CoreDriver<DiscoveryCore>>] = []
        var held: [PeerID: Held] = [:]
        /// Logs the cores' drops once a second, when the logger shows `debug`.
        var dropReporter: RepeatedTask?
    }

    /// Creates a discovery that signs and renews its own record with `identity`.
    ///
    /// - Parameters:
    ///   - configuration: the interface, transports and core settings; checked here.
    ///   - identity: this peer's key; the record is signed with it.
    ///   - addresses: where this peer can be reached (for example its ``Peer/address``),
    ///     at most `RecordConstants.maximumAddresses`.
    ///   - services: service names to advertise in the record.
    ///   - group: the event loop group; the sockets run on one of its loops.
    ///   - onEvent: called with each event too (on the event loop), besides ``events``.
    /// - Throws: ``LANDiscoveryError`` for a bad configuration or a record that cannot be signed.
    public convenience init(
        configuration: LANDiscoveryConfiguration, identity: IdentityKeyPair, addresses: [PeerAddress],
        services: [String] = [], on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onEvent: (@Sendable (Event) -> Void)? = nil
    ) throws(LANDiscoveryError) {
        try configuration.validate()
        let signer = Signer(identity: identity, addresses: addresses, services: services)
        let record = try Self.sign(signer, lifetime: configuration.recordLifetime, after: 0)
        self.init(configuration: configuration, record: record, signer: signer, group: group, onEvent: onEvent)
    }

    /// Creates a discovery that beacons `record`, which the caller keeps fresh with
    /// ``updateRecord(_:)`` before it expires.
    ///
    /// - Parameters:
    ///   - configuration: the interface, transports and core settings; checked here.
    ///   - record: this peer's signed record.
    ///   - group: the event loop group; the sockets run on one of its loops.
    ///   - onEvent: called with each event too (on the event loop), besides ``events``.
    /// - Throws: ``LANDiscoveryError`` for a bad configuration.
    public convenience init(
        configuration: LANDiscoveryConfiguration, record: SignedPeerRecord,
        on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onEvent: (@Sendable (Event) -> Void)? = nil
    ) throws(LANDiscoveryError) {
        try configuration.validate()
        self.init(configuration: configuration, record: record, signer: nil, group: group, onEvent: onEvent)
    }

    private init(
        configuration: LANDiscoveryConfiguration, record: SignedPeerRecord, signer: Signer?,
        group: any EventLoopGroup, onEvent: (@Sendable (Event) -> Void)?
    ) {
        self.configuration = configuration
        self.localPeer = record.record.peerID
        self.signer = signer
        self.eventLoop = group.next()
        self.onEvent = onEvent
        (events, continuation) = AsyncStream.makeStream()
        self.state = Mutex(State(record: record))
    }

    deinit {
        continuation.finish()
    }

    // MARK: Getters

    /// The newest verified record of every other peer discovered and not expired.
    public func records() -> [SignedPeerRecord] {
        state.withLock { $0.held.values.map(\.record) }
    }

    /// The record this peer beacons now.
    public var localRecord: SignedPeerRecord {
        state.withLock { $0.record }
    }

    /// Whether discovery is running: started and not shut down.
    public var isRunning: Bool {
        state.withLock { $0.phase == .running }
    }

    // MARK: Commands

    /// Looks the interface up, opens and joins the sockets, and starts beaconing (the
    /// first beacon goes out at once).
    ///
    /// - Throws: ``LANDiscoveryError/alreadyStarted``, ``LANDiscoveryError/notRunning``
    ///   after ``shutdown()``, ``LANDiscoveryError/interfaceNotFound(name:available:)``,
    ///   ``LANDiscoveryError/interfaceUnsuitable(interface:reason:)`` or
    ///   ``LANDiscoveryError/socket(operation:reason:)``.
    public func start() async throws(LANDiscoveryError) {
        let record: SignedPeerRecord = try state.withLock { state throws(LANDiscoveryError) in
            switch state.phase {
            case .idle: state.phase = .starting
            case .starting, .running: throw .alreadyStarted
            case .shutDown: throw .notRunning
            }
            return state.record
        }
        let sockets: [LANSocket]
        do {
            sockets = try await LANSockets.open(configuration)
        } catch {
            state.withLock { if $0.phase == .starting { $0.phase = .idle } }
            throw error
        }
        var channels: [any Channel] = []
        var drivers: [NIOLoopBound<CoreDriver<DiscoveryCore>>] = []
        do {
            for (index, socket) in sockets.enumerated() {
                let (channel, driver) = try await adopt(socket, index: index, record: record)
                channels.append(channel)
                drivers.append(driver)
            }
        } catch {
            for socket in sockets.dropFirst(channels.count) { close(socket.descriptor) }
            for channel in channels { try? await channel.close() }
            state.withLock { if $0.phase == .starting { $0.phase = .idle } }
            throw error
        }
        let running = state.withLock { state in
            guard state.phase == .starting else { return false }
            state.phase = .running
            state.channels = channels
            state.drivers = drivers
            return true
        }
        guard running else {
            for channel in channels { try? await channel.close() }
            throw .notRunning
        }
        // Drive each core once: it sends its first beacon and arms its timer.
        let started = drivers
        let logger = configuration.logger
        try? await eventLoop.submit {
            for driver in started {
                driver.value.logger = logger
                driver.value.perform { _, _ in }
            }
        }.get()
        logger.info(
            "LAN discovery started",
            metadata: [
                "interface": "\(configuration.interface)",
                "transports": "\(configuration.transports.map { "\($0)" }.sorted().joined(separator: ","))",
            ])
        if logger.logLevel <= .debug { reportDrops(of: started) }
    }

    /// Logs what the cores drop, once a second, until shutdown.
    private func reportDrops(of drivers: [NIOLoopBound<CoreDriver<DiscoveryCore>>]) {
        let eventLoop = self.eventLoop
        let logs = NIOLoopBoundBox(
            drivers.map { _ in DropLog<DiscoveryDrop>("LAN discovery datagrams dropped", logger: configuration.logger)
            },
            eventLoop: eventLoop)
        let reporter = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            for (index, driver) in drivers.enumerated() { logs.value[index].update(driver.value.withCore(\.drops)) }
        }
        let kept = state.withLock { state in
            guard state.phase == .running else { return false }
            state.dropReporter = reporter
            return true
        }
        if !kept { reporter.cancel() }
    }

    /// Beacons `record` from now on (as soon as the minimum beacon interval allows).
    ///
    /// - Parameter record: this peer's new record, with a higher sequence number.
    /// - Throws: ``LANDiscoveryError/invalidRecord(_:)`` for another peer's record,
    ///   ``LANDiscoveryError/notRunning`` before ``start()`` or after ``shutdown()``.
    public func updateRecord(_ record: SignedPeerRecord) async throws(LANDiscoveryError) {
        guard record.record.peerID == localPeer else {
            throw .invalidRecord("it is \(record.record.peerID)'s, not \(localPeer)'s")
        }
        let drivers = try state.withLock { state throws(LANDiscoveryError) in
            guard state.phase == .running else { throw .notRunning }
            state.record = record
            return state.drivers
        }
        do {
            try await eventLoop.submit {
                for driver in drivers {
                    try driver.value.perform { core, now in try core.updateRecord(record, now: now) }
                }
            }.get()
        } catch {
            throw .invalidRecord("\(error)")
        }
    }

    /// Asks the LAN who holds `peer`'s record, as ARP asks for an address: `peer` itself
    /// or any peer holding its valid record answers, and the record arrives as
    /// ``Event/discovered(_:)`` (or ``Event/updated(_:)`` when it is newer than the one
    /// held). Useful for a peer whose beacons have not been heard yet.
    ///
    /// - Returns: whether a query is pending on at least one interface transport (false
    ///   when asking for this peer itself, or when too many queries are pending).
    /// - Throws: ``LANDiscoveryError/notRunning`` before ``start()`` or after ``shutdown()``.
    @discardableResult
    public func whoHas(_ peer: PeerID) async throws(LANDiscoveryError) -> Bool {
        let drivers = try state.withLock { state throws(LANDiscoveryError) in
            guard state.phase == .running else { throw .notRunning }
            return state.drivers
        }
        let pending = try? await eventLoop.submit {
            drivers.reduce(false) { pending, driver in
                driver.value.perform { core, now in core.whoHas(peer, now: now) } || pending
            }
        }.get()
        return pending ?? false
    }

    /// Stops beaconing and closes the sockets (leaving the groups); ends ``events``.
    /// Calling it again, or before ``start()``, does no harm.
    public func shutdown() async {
        let channels = state.withLock { state in
            state.phase = .shutDown
            state.dropReporter?.cancel()
            defer {
                state.channels = []
                state.drivers = []
                state.dropReporter = nil
            }
            return state.channels
        }
        for channel in channels { try? await channel.close() }
        continuation.finish()
    }

    // MARK: Internals

    /// Hands `socket` to NIO with a driver for a new discovery core beaconing `record`.
    private func adopt(
        _ socket: LANSocket, index: Int, record: SignedPeerRecord
    ) async throws(LANDiscoveryError) -> (any Channel, NIOLoopBound<CoreDriver<DiscoveryCore>>) {
        var settings = configuration.core
        settings.destinations = socket.destinations
        var core: DiscoveryCore
        let now = SystemClock.monotonicNow()
        do {
            core = try DiscoveryCore(
                record: record, configuration: settings, random: SecureRandom(), now: now,
                wallClock: SystemClock.wallNow())
        } catch {
            close(socket.descriptor)
            throw .invalidConfiguration(error.description)
        }
        if let signer {
            // The core re-signs the record at half its lifetime, for as long as it runs.
            do {
                try core.renewRecord(signingWith: signer.identity, lifetime: configuration.recordLifetime, now: now)
            } catch {
                close(socket.descriptor)
                throw .invalidRecord(error.description)
            }
        }
        let renewing = core
        do {
            let channel = try await DatagramBootstrap(group: eventLoop)
                .channelInitializer { [weak self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        let driver = CoreDriver(core: renewing) { event in self?.handle(event, from: index) }
                        try channel.pipeline.syncOperations.addHandler(driver)
                    }
                }
                .withBoundSocket(socket.descriptor).get()
            let driver = try await channel.pipeline.handler(type: CoreDriver<DiscoveryCore>.self).map {
                NIOLoopBound($0, eventLoop: channel.eventLoop)
            }.get()
            return (channel, driver)
        } catch {
            throw .socket(operation: "starting the event loop channel", reason: "\(error)")
        }
    }

    /// Merges an event of core `index` into the peers held by all cores and reports what
    /// is new to the user.
    private func handle(_ event: DiscoveryEvent, from index: Int) {
        let report: Event? = state.withLock { state in
            switch event {
            case .discovered(let record), .updated(let record), .answered(let record):
                let peer = record.record.peerID
                guard var held = state.held[peer] else {
                    state.held[peer] = Held(record: record, holders: [index])
                    return .discovered(record)
                }
                held.holders.insert(index)
                defer { state.held[peer] = held }
                guard record.record.supersedes(held.record.record) else { return nil }
                held.record = record
                return .updated(record)
            case .expired(let peer):
                guard var held = state.held[peer] else { return nil }
                held.holders.remove(index)
                guard held.holders.isEmpty else {
                    state.held[peer] = held
                    return nil
                }
                state.held[peer] = nil
                return .expired(peer)
            case .queryTimedOut:
                return nil
            }
        }
        guard let report else { return }
        switch report {
        case .discovered(let record):
            configuration.logger.debug(
                "peer discovered",
                metadata: [
                    "starling.remote": "\(record.record.peerID)",
                    "addresses": "\(record.record.addresses.map { "\($0)" }.joined(separator: ","))",
                ])
        case .updated(let record):
            configuration.logger.trace("peer record updated", metadata: ["starling.remote": "\(record.record.peerID)"])
        case .expired(let peer):
            configuration.logger.debug("peer expired", metadata: ["starling.remote": "\(peer)"])
        }
        continuation.yield(report)
        onEvent?(report)
    }

    /// Signs `signer`'s record with a sequence number above `previous`: the wall clock in
    /// milliseconds, so a restarted peer's record supersedes the ones it sent before.
    private static func sign(
        _ signer: Signer, lifetime: Duration, after previous: UInt64
    ) throws(LANDiscoveryError) -> SignedPeerRecord {
        let now = SystemClock.wallNow()
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        let milliseconds = UInt64(clamping: wall.tv_sec) &* 1_000 &+ UInt64(clamping: wall.tv_nsec / 1_000_000)
        let record = PeerRecord(
            peerID: signer.identity.peerID, sequence: max(previous + 1, milliseconds), expiresAt: now + lifetime,
            addresses: signer.addresses, services: signer.services)
        do {
            return try record.sign(with: signer.identity)
        } catch {
            throw .invalidRecord(error.description)
        }
    }
}
