public import NIOCore
public import NIOPosix
public import StarlingCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Advertises and browses DNS-SD services over multicast DNS (RFC 6762, RFC 6763) on the
/// interfaces the user names.
///
/// ### Purpose
/// `MDNSDiscovery` runs StarlingCore's sans-I/O `MDNSResponder` and
/// `MDNSBrowser` on real port-5353 sockets (``MDNSSockets``), one of each per
/// named interface, on one SwiftNIO event loop. The responder of an interface publishes
/// the host name (`<host>.local`) with that interface's addresses only, and every
/// advertised service (SRV, TXT, PTR); it probes, renames on a conflict, answers and
/// says goodbye. The browser queries, resolves and caches. There is no default
/// interface: nothing is sent until ``start()`` opens the named ones.
///
/// ### Usage
/// ```swift
/// let discovery = try MDNSDiscovery(configuration: MDNSDiscoveryConfiguration(interfaces: ["enp3s0"]))
/// try await discovery.start()
/// let printer = try await discovery.advertise(MDNSService(instance: "Printer", type: "_ipp._tcp", port: 631))
/// for await event in try await discovery.browse("_ipp._tcp") {
///     if case .added(let service, let interface) = event { print(service.name, service.addresses, interface) }
/// }
/// await discovery.shutdown()  // goodbyes, then the sockets close
/// ```
/// A Starling peer advertises itself with ``MDNSStarlingPeer/service(instance:peerID:swarmID:port:)``
/// and reads other peers with ``MDNSStarlingPeer/init(_:)``.
///
/// ### Interfaces
/// The addresses of the interfaces are read again every
/// ``MDNSDiscoveryConfiguration/interfaceCheckInterval`` (or on ``refreshInterfaces()``):
/// changed addresses are published anew (goodbyes for the withdrawn ones), and an
/// interface that disappears or goes down (no `IFF_UP` or `IFF_RUNNING`) pauses its
/// responder and browser until it is back up, when everything is probed and announced
/// again (``interfaceStates()`` tells which are up). An interface that is re-created (a
/// new index) or gains its first address of a chosen family gets new sockets and new
/// cores, which probe the same names and advertise and browse everything again.
///
/// - Warning: multicast leaves the machine onto the named interfaces' networks.
public final class MDNSDiscovery: Sendable {
    /// The settings this discovery was created with.
    public let configuration: MDNSDiscoveryConfiguration
    /// What happens to the advertised names, in order; ends at ``shutdown()``. Iterate it once.
    public let events: AsyncStream<Event>
    /// The event loop the sockets and cores run on.
    public let eventLoop: any EventLoop

    private let continuation: AsyncStream<Event>.Continuation
    private let state: Mutex<State>

    private enum Phase {
        case idle, starting, running, shutDown
    }

    private struct Subscriber {
        let type: DNSName
        let continuation: AsyncStream<BrowseEvent>.Continuation
    }

    private struct State: ~Copyable {
        var phase = Phase.idle
        var engine: NIOLoopBound<MDNSEngine>?
        var sockets: [MDNSSockets] = []
        var hostName: String?
        var nextAdvertisement = 0
        var nextSubscriber = 0
        var subscribers: [Int: Subscriber] = [:]
        var checker: Task<Void, Never>?
    }

    /// Creates a discovery; nothing is opened or sent until ``start()``.
    ///
    /// - Parameters:
    ///   - configuration: the interfaces and settings; checked here.
    ///   - group: the event loop group; everything runs on one of its loops.
    /// - Throws: ``MDNSDiscoveryError`` for a bad configuration.
    public init(
        configuration: MDNSDiscoveryConfiguration, on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(MDNSDiscoveryError) {
        try configuration.validate()
        self.configuration = configuration
        self.eventLoop = group.next()
        (events, continuation) = AsyncStream.makeStream()
        state = Mutex(State())
    }

    deinit {
        continuation.finish()
    }

    // MARK: Getters

    /// Whether discovery is running: started and not shut down.
    public var isRunning: Bool {
        state.withLock { $0.phase == .running }
    }

    /// The host label in use (before any rename), once started.
    public var hostName: String? {
        state.withLock { $0.hostName }
    }

    /// The current name of an advertisement on each interface (names may differ per
    /// interface after conflicts).
    ///
    /// - Parameter advertisement: what ``advertise(_:)`` returned.
    /// - Returns: interface name → full instance name; empty when not running.
    public func names(of advertisement: Advertisement) async -> [String: DNSName] {
        guard let engine = state.withLock({ $0.engine }) else { return [:] }
        return (try? await eventLoop.submit { engine.value.names(of: advertisement.rawValue) }.get()) ?? [:]
    }

    /// Whether each interface was up (with a carrier) at the last check; mDNS is
    /// paused on one that is not.
    ///
    /// - Returns: interface name → up; empty when not running.
    public func interfaceStates() async -> [String: Bool] {
        guard let engine = state.withLock({ $0.engine }) else { return [:] }
        let states = try? await eventLoop.submit {
            Dictionary(uniqueKeysWithValues: engine.value.links.map { ($0.info.name, $0.isUp) })
        }.get()
        return states ?? [:]
    }

    /// The instances of `type` resolved now, on every interface.
    ///
    /// - Parameter type: a service type being browsed, for example `_ipp._tcp`.
    /// - Returns: each service with the interface it was found on.
    /// - Throws: ``MDNSDiscoveryError/invalidServiceType(_:)``.
    public func services(of type: String) async throws(MDNSDiscoveryError) -> [(
        service: MDNSResolvedService, interface: String
    )] {
        let name = try Self.typeName(type)
        guard let engine = state.withLock({ $0.engine }) else { return [] }
        let found = try? await eventLoop.submit {
            engine.value.services(of: name).map { MDNSFoundService(service: $0.0, interface: $0.1) }
        }.get()
        return (found ?? []).map { ($0.service, $0.interface) }
    }

    // MARK: Commands

    /// Looks the interfaces up, opens their sockets and starts the responders (probing the
    /// host name) and browsers.
    ///
    /// - Throws: ``MDNSDiscoveryError/alreadyStarted``, ``MDNSDiscoveryError/notRunning`` after
    ///   ``shutdown()``, ``MDNSDiscoveryError/interfaceNotFound(name:available:)``,
    ///   ``MDNSDiscoveryError/interfaceUnsuitable(interface:reason:)`` or
    ///   ``MDNSDiscoveryError/socket(operation:reason:)``. Nothing stays open when it throws.
    public func start() async throws(MDNSDiscoveryError) {
        try state.withLock { state throws(MDNSDiscoveryError) in
            switch state.phase {
            case .idle: state.phase = .starting
            case .starting, .running: throw .alreadyStarted
            case .shutDown: throw .notRunning
            }
        }
        do throws(MDNSDiscoveryError) {
            try await open()
        } catch {
            state.withLock { if $0.phase == .starting { $0.phase = .idle } }
            throw error
        }
    }

    /// Advertises `service` on every interface: probes its name, renames it on a conflict
    /// (reported through ``events``), then announces and answers for it.
    ///
    /// - Parameter service: the instance, type, port and TXT strings.
    /// - Returns: the advertisement, for ``withdraw(_:)``, ``updateTXT(_:of:)`` and ``names(of:)``.
    /// - Throws: ``MDNSDiscoveryError/invalidService(_:)`` or ``MDNSDiscoveryError/notRunning``.
    public func advertise(_ service: MDNSService) async throws(MDNSDiscoveryError) -> Advertisement {
        do throws(MDNSService.ValidationError) {
            try service.validate()
        } catch {
            throw .invalidService(error)
        }
        let (engine, id) = try state.withLock { state throws(MDNSDiscoveryError) in
            guard state.phase == .running, let engine = state.engine else { throw .notRunning }
            state.nextAdvertisement += 1
            return (engine, state.nextAdvertisement)
        }
        do {
            try await eventLoop.submit { try engine.value.advertise(service, id: id) }.get()
        } catch let error as MDNSService.ValidationError {
            throw .invalidService(error)
        } catch {
            throw .notRunning
        }
        return Advertisement(rawValue: id)
    }

    /// Withdraws an advertisement on every interface, sending goodbyes (TTL 0).
    ///
    /// - Parameter advertisement: what ``advertise(_:)`` returned.
    /// - Throws: ``MDNSDiscoveryError/unknownAdvertisement`` or ``MDNSDiscoveryError/notRunning``.
    public func withdraw(_ advertisement: Advertisement) async throws(MDNSDiscoveryError) {
        let engine = try runningEngine()
        let found = try? await eventLoop.submit { engine.value.withdraw(advertisement.rawValue) }.get()
        guard found == true else { throw .unknownAdvertisement }
    }

    /// Replaces an advertisement's TXT strings and announces them (RFC 6762 §8.4).
    ///
    /// - Parameters:
    ///   - txt: the new strings, each at most 255 bytes.
    ///   - advertisement: what ``advertise(_:)`` returned.
    /// - Throws: ``MDNSDiscoveryError/invalidService(_:)``,
    ///   ``MDNSDiscoveryError/unknownAdvertisement`` or ``MDNSDiscoveryError/notRunning``.
    public func updateTXT(_ txt: [[UInt8]], of advertisement: Advertisement) async throws(MDNSDiscoveryError) {
        if let long = txt.first(where: { $0.count > 255 }) { throw .invalidService(.txtStringTooLong(long.count)) }
        let engine = try runningEngine()
        let found = try? await eventLoop.submit { engine.value.updateTXT(txt, of: advertisement.rawValue) }.get()
        guard found == true else { throw .unknownAdvertisement }
    }

    /// Browses a service type on every interface: the stream first reports the instances
    /// already resolved, then every instance resolved (``BrowseEvent/added(_:interface:)``),
    /// changed and removed. Querying continues until the stream is dropped or cancelled
    /// (and no other stream browses the type), or ``shutdown()`` ends it.
    ///
    /// - Parameter type: `_name._udp` or `_name._tcp`, optionally followed by `.local`.
    /// - Returns: the events of this type.
    /// - Throws: ``MDNSDiscoveryError/invalidServiceType(_:)`` or ``MDNSDiscoveryError/notRunning``.
    public func browse(_ type: String) async throws(MDNSDiscoveryError) -> AsyncStream<BrowseEvent> {
        try await subscribe(to: try Self.typeName(type))
    }

    /// Enumerates the service types on the links (RFC 6763 §9): the stream reports
    /// ``BrowseEvent/serviceTypeAdded(_:interface:)`` and
    /// ``BrowseEvent/serviceTypeRemoved(_:interface:)``.
    ///
    /// - Returns: the events.
    /// - Throws: ``MDNSDiscoveryError/notRunning``.
    public func browseServiceTypes() async throws(MDNSDiscoveryError) -> AsyncStream<BrowseEvent> {
        try await subscribe(to: MDNSConstants.servicesName)
    }

    /// Reads the interfaces' addresses now and applies changes (see the type's
    /// "Interfaces" section); also runs every ``MDNSDiscoveryConfiguration/interfaceCheckInterval``.
    public func refreshInterfaces() async {
        guard let engine = state.withLock({ $0.phase == .running ? $0.engine : nil }) else { return }
        var readings: [String: MDNSLinkInfo?] = [:]
        for name in configuration.interfaces {
            let found = try? await MDNSLinkLookup.lookUp(
                [name], families: configuration.families, namespace: configuration.networkNamespace)
            readings[name] = .some(found?.first)
        }
        let reading = readings
        let reopen =
            (try? await eventLoop.submit { () -> [MDNSLinkInfo] in
                let changed = reading.values.compactMap { $0 }.filter { engine.value.needsReopening($0) }
                engine.value.update(reading)
                return changed
            }.get()) ?? []
        for info in reopen { await self.reopen(info, engine: engine) }
    }

    /// Opens new sockets for an interface that was re-created or gained an address
    /// family, hands them to the engine with new cores, and closes the old ones. On
    /// failure the old ones stay (and the next check tries again).
    private func reopen(_ info: MDNSLinkInfo, engine: NIOLoopBound<MDNSEngine>) async {
        var settings = MDNSSocketsConfiguration(interfaces: [info.name])
        settings.families = info.families
        settings.multicastLoopback = configuration.multicastLoopback
        settings.networkNamespace = configuration.networkNamespace
        guard
            let sockets = try? await MDNSSockets.open(
                settings, on: eventLoop, onReadComplete: { engine.value.readComplete() },
                onDatagram: { engine.value.receive($0) })
        else { return }
        let result = try? await eventLoop.submit { engine.value.reopen(info, with: sockets) }.get()
        guard let result, result.taken else {
            await sockets.close()
            return
        }
        let kept = state.withLock { state -> Bool in
            guard state.phase == .running else { return false }
            state.sockets.removeAll { $0 === result.old }
            state.sockets.append(sockets)
            return true
        }
        if let old = result.old { await old.close() }
        // Shut down meanwhile: the shutdown did not see these sockets.
        if !kept { await sockets.close() }
    }

    /// Sends goodbyes for every advertised record, closes the sockets (leaving the
    /// groups) and ends ``events`` and every browse stream. Calling it again, or before
    /// ``start()``, does no harm.
    public func shutdown() async {
        let (engine, sockets, subscribers, checker) = state.withLock { state in
            state.phase = .shutDown
            defer {
                state.engine = nil
                state.sockets = []
                state.subscribers = [:]
                state.checker = nil
            }
            return (state.engine, state.sockets, Array(state.subscribers.values), state.checker)
        }
        checker?.cancel()
        if let engine {
            let goodbyes = (try? await eventLoop.submit { engine.value.shutdown() }.get()) ?? []
            for sent in goodbyes { try? await sent.get() }
        }
        for socket in sockets { await socket.close() }
        for subscriber in subscribers { subscriber.continuation.finish() }
        continuation.finish()
    }

    // MARK: Internals

    /// Opens every interface's sockets and attaches them to a new engine.
    private func open() async throws(MDNSDiscoveryError) {
        let infos = try await MDNSLinkLookup.lookUp(
            configuration.interfaces, families: configuration.families, namespace: configuration.networkNamespace)
        let hostName = configuration.hostName ?? Self.systemHostName()
        let configuration = configuration
        let loop = eventLoop
        let engine: NIOLoopBound<MDNSEngine>
        do {
            engine = try await eventLoop.submit { [weak self] in
                let engine = try MDNSEngine(
                    eventLoop: loop, links: infos, hostName: hostName, configuration: configuration,
                    onEvent: { self?.deliver($0) }, onBrowseEvent: { self?.deliver($0) })
                return NIOLoopBound(engine, eventLoop: loop)
            }.get()
        } catch let error as MDNSDiscoveryError {
            throw error
        } catch {
            throw .invalidConfiguration("\(error)")
        }
        var opened: [MDNSSockets] = []
        do throws(MDNSSocketsError) {
            for info in infos {
                var settings = MDNSSocketsConfiguration(interfaces: [info.name])
                settings.families = info.families
                settings.multicastLoopback = configuration.multicastLoopback
                settings.networkNamespace = configuration.networkNamespace
                let sockets = try await MDNSSockets.open(
                    settings, on: eventLoop, onReadComplete: { engine.value.readComplete() },
                    onDatagram: { engine.value.receive($0) })
                opened.append(sockets)
            }
        } catch {
            for sockets in opened { await sockets.close() }
            _ = try? await eventLoop.submit { engine.value.shutdown() }.get()
            throw MDNSDiscoveryError(error)
        }
        let running = state.withLock { state in
            guard state.phase == .starting else { return false }
            state.phase = .running
            state.engine = engine
            state.sockets = opened
            state.hostName = hostName
            return true
        }
        guard running else {
            _ = try? await eventLoop.submit { engine.value.shutdown() }.get()
            for sockets in opened { await sockets.close() }
            throw .notRunning
        }
        let attached = zip(infos.map(\.name), opened).map { ($0, $1) }
        try? await eventLoop.submit {
            for (name, sockets) in attached { engine.value.attach(sockets, to: name) }
        }.get()
        if let interval = configuration.interfaceCheckInterval {
            let checker = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard let self, !Task.isCancelled else { return }
                    await self.refreshInterfaces()
                }
            }
            state.withLock { $0.checker = checker }
        }
    }

    private func runningEngine() throws(MDNSDiscoveryError) -> NIOLoopBound<MDNSEngine> {
        try state.withLock { state throws(MDNSDiscoveryError) in
            guard state.phase == .running, let engine = state.engine else { throw .notRunning }
            return engine
        }
    }

    /// Adds a browse stream of `type`; on the event loop, so that the replay of what is
    /// already resolved and the later events neither overlap nor miss anything.
    private func subscribe(to type: DNSName) async throws(MDNSDiscoveryError) -> AsyncStream<BrowseEvent> {
        let engine = try runningEngine()
        let (stream, continuation) = AsyncStream<BrowseEvent>.makeStream()
        let subscribed = try? await eventLoop.submit { [self] () -> Bool in
            let id: Int? = state.withLock { state in
                guard state.phase == .running else { return nil }
                state.nextSubscriber += 1
                state.subscribers[state.nextSubscriber] = Subscriber(type: type, continuation: continuation)
                return state.nextSubscriber
            }
            guard let id else { return false }
            for event in engine.value.browse(type) { continuation.yield(event) }
            continuation.onTermination = { [weak self] _ in self?.unsubscribe(id, type: type) }
            return true
        }.get()
        guard subscribed == true else {
            continuation.finish()
            throw .notRunning
        }
        return stream
    }

    /// A browse stream ended: forget it, and stop querying its type if it was the last.
    private func unsubscribe(_ id: Int, type: DNSName) {
        let engine: NIOLoopBound<MDNSEngine>? = state.withLock { state in
            guard state.subscribers.removeValue(forKey: id) != nil else { return nil }
            return state.engine
        }
        guard let engine else { return }
        eventLoop.execute { engine.value.stopBrowsing(type) }
    }

    /// Reports an advertisement event; on the event loop.
    private func deliver(_ event: Event) {
        continuation.yield(event)
    }

    /// Routes a browse event to the streams of its type; on the event loop.
    private func deliver(_ event: BrowseEvent) {
        let type: DNSName
        switch event {
        case .added(let service, _), .updated(let service, _): type = service.type
        case .removed(let name, _): type = name.parent
        case .serviceTypeAdded, .serviceTypeRemoved: type = MDNSConstants.servicesName
        }
        let targets = state.withLock { state in
            state.subscribers.values.filter { $0.type == type }.map(\.continuation)
        }
        for target in targets { target.yield(event) }
    }

    /// `type` (`_name._udp`, `_name._tcp`, optionally `.local` and a final dot) as a name.
    static func typeName(_ type: String) throws(MDNSDiscoveryError) -> DNSName {
        var text = type.hasSuffix(".") ? String(type.dropLast()) : type
        if text.lowercased().hasSuffix(".local") { text = String(text.dropLast(".local".count)) }
        do throws(MDNSService.ValidationError) {
            return try MDNSService(instance: "x", type: text, port: 0).typeName()
        } catch {
            throw .invalidServiceType(type)
        }
    }

    /// The system's host name, first label only; `starling` when it is unusable.
    static func systemHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "starling" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let label = String(name.prefix { $0 != "." })
        guard !label.isEmpty, label.utf8.count <= MDNSConstants.maximumLabelLength else { return "starling" }
        return label
    }
}

/// A resolved service and its interface, to cross the event loop.
private struct MDNSFoundService: Sendable {
    let service: MDNSResolvedService
    let interface: String
}
