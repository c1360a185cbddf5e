import CoreMetrics
import Logging
import NIOCore
import StarlingCore
import StarlingIO

/// The part of a ``Peer`` that lives on its event loop: the driver and core, and the
/// callers waiting for the core's answers.
///
/// Every member is used only on `eventLoop`, so nothing here needs a lock. The core's
/// events arrive in ``handle(_:)``, which wakes the waiting callers and forwards the
/// rest to ``Peer/events``.
final class PeerLoop {
    typealias Handler = @Sendable (Peer.Request) async throws -> [UInt8]

    let eventLoop: any EventLoop
    /// Where request handlers run: on this peer's loop, not in Swift's shared pool.
    let handlerExecutor: EventLoopTaskExecutor
    var driver: CoreDriver<NodeCore>?
    var lookups: [LookupID: CheckedContinuation<Result<LookupResult, PeerError>, Never>] = [:]
    /// Results of lookups that finished while ``lookup(_:continuation:)`` was starting
    /// one, before any caller waited for them (a lookup with no one to ask finishes at
    /// once); `nil` outside that call.
    var lookupsFinishedEarly: [LookupID: LookupResult]?
    var echoes: [UInt32: CheckedContinuation<Result<Duration, PeerError>, Never>] = [:]
    /// Callers of ``Peer/requestNearest(_:_:service:timeout:)``, by anycast ID.
    var anycasts: [AnycastID: CheckedContinuation<Result<AnycastAnswer, PeerError>, Never>] = [:]
    /// Anycasts that ended during the call that started one, before its caller waited;
    /// `nil` outside that call.
    var anycastsFinishedEarly: [AnycastID: Result<AnycastAnswer, AnycastError>]?
    /// Callers of name resolutions and publications, by request.
    var nameRequests: [NameRequestID: CheckedContinuation<Result<NameEvent, PeerError>, Never>] = [:]
    /// Name requests that ended during the call that started one, before its caller
    /// waited (a cached name resolves at once); `nil` outside that call.
    var nameRequestsFinishedEarly: [NameRequestID: NameEvent]?
    var requests: [RequestID: CheckedContinuation<Result<[UInt8], PeerError>, Never>] = [:]
    /// Callers of stream requests, by the core's request ID (a numbering of its own).
    var streamRequests: [RequestID: CheckedContinuation<Result<[UInt8], PeerError>, Never>] = [:]
    /// Where the core's stream transmits go; set once the hub exists.
    var streams: StreamHub?
    /// Callers of ``Peer/connect(to:expecting:timeout:)``, by the core's connect ID.
    var connects: [ConnectID: CheckedContinuation<Result<PeerID, PeerError>, Never>] = [:]
    var handlers: [String: Handler] = [:]
    /// The names of the groups this peer joined or sent to, for their events.
    var groupNames: [GroupID: String] = [:]
    var isShutDown = false
    /// The role the topology last reported, for the log.
    var currentRole: TopologyRole?
    /// Brings the drop counters in swift-metrics up to date once a second.
    var metricsReporter: RepeatedTask?
    /// Where events go, each kind up to its bound (``Peer/EventLimits``).
    let events: EventSink
    /// The drops reported to metrics and explained in the log.
    let drops: DropReport
    /// Traffic, sessions and members reported to metrics.
    let traffic: TrafficMetrics
    /// The peer's logger, with its ID as metadata.
    let logger: Logger

    init(eventLoop: any EventLoop, events: EventSink, metricsFactory: (any MetricsFactory)?, logger: Logger) {
        self.eventLoop = eventLoop
        self.handlerExecutor = EventLoopTaskExecutor(eventLoop: eventLoop)
        self.events = events
        self.drops = DropReport(factory: metricsFactory, logger: logger)
        self.traffic = TrafficMetrics(factory: metricsFactory)
        self.logger = logger
    }

    /// How many callers wait for an answer: connects, requests (datagram and stream),
    /// lookups and echoes.
    var pendingCallCount: Int {
        connects.count + requests.count + streamRequests.count + lookups.count + echoes.count + anycasts.count
            + nameRequests.count
    }

    /// Runs `body` with the core and sends what it queued, on the socket and on streams.
    /// - Throws: ``PeerError/shutDown`` after shutdown, or what `body` throws.
    func perform<Result>(_ body: (inout PeerCore, Instant) throws(PeerError) -> Result) throws(PeerError) -> Result {
        guard !isShutDown, let driver else { throw .shutDown }
        do {
            return try driver.perform { core, now in
                defer {
                    while let transmit = core.peer.pollStreamTransmit() { streams?.enqueue(transmit) }
                    while let stream = core.peer.pollStreamToClose() {
                        if let streams { Task { await streams.refuse(stream) } }
                    }
                }
                return try body(&core.peer, now)
            }
        } catch let error as PeerError {
            throw error
        } catch {
            preconditionFailure("body throws only PeerError")
        }
    }

    /// Runs `body` with the core to read it; `nil` before the socket is bound.
    func withCore<Result>(_ body: (NodeCore) -> Result) -> Result? {
        driver?.withCore(body)
    }

    /// Runs `body` with the overlay and sends what it queued.
    /// - Throws: ``PeerError/shutDown`` after shutdown, ``PeerError/overlayDisabled``
    ///   without an overlay, or what `body` throws.
    func performOverlay<Result>(_ body: (inout OverlayCore, Instant) throws(PeerError) -> Result) throws(PeerError)
        -> Result
    {
        guard !isShutDown, let driver else { throw .shutDown }
        guard driver.withCore(\.hasOverlay) else { throw .overlayDisabled }
        do {
            return try driver.perform { core, now in try core.withOverlay { overlay in try body(&overlay, now) }! }
        } catch let error as PeerError {
            throw error
        } catch {
            preconditionFailure("body throws only PeerError")
        }
    }

    // MARK: Core events

    func handle(_ event: NodeCore.Event) {
        switch event {
        case .peer(let event): handle(event)
        case .overlay(let event): handle(event)
        case .anycast(.finished(let id, let result)):
            if let waiter = anycasts.removeValue(forKey: id) {
                waiter.resume(returning: result.mapError { .anycast($0) })
            } else {
                anycastsFinishedEarly?[id] = result
            }
        }
    }

    func handle(_ event: OverlayEvent) {
        switch event {
        case .membership(let event):
            log(event)
            events.yield(.membership(event))
        case .topology(let event):
            log(event)
            events.yield(.topology(event))
        case .routing(.lookupFinished(let id, let result)):
            if let waiter = lookups.removeValue(forKey: id) {
                waiter.resume(returning: .success(result))
            } else {
                lookupsFinishedEarly?[id] = result
            }
        case .spreading(.delivered(_, let origin, _, let payload)):
            events.yield(.broadcast(origin: origin, payload: payload))
        case .spreading(.query(let id, let origin, _, let payload)):
            events.yield(.query(id: id, origin: origin, payload: payload))
        case .spreading(.queryHit(let id, let responder, _, let payload)):
            events.yield(.queryHit(id: id, responder: responder, payload: payload))
        case .spreading(.echoReply(_, let identifier, let rtt)):
            echoes.removeValue(forKey: identifier)?.resume(returning: .success(rtt))
        case .spreading(.echoTimedOut(let peer, let identifier)):
            echoes.removeValue(forKey: identifier)?.resume(returning: .failure(.echoTimedOut(peer)))
        case .spreading(.notice(let notice)):
            events.yield(.notice(notice))
        case .group(let event):
            handle(event)
        case .name(let event):
            let id =
                switch event {
                case .resolved(let id, _), .published(let id, _): id
                }
            if let waiter = nameRequests.removeValue(forKey: id) {
                waiter.resume(returning: .success(event))
            } else {
                nameRequestsFinishedEarly?[id] = event
            }
        }
    }

    func handle(_ event: GroupEvent) {
        switch event {
        case .joined(let group):
            guard let name = groupNames[group] else { return }
            events.yield(.groupJoined(group: name))
        case .message(let group, let id, let hops, let payload, let viaLAN):
            guard let name = groupNames[group] else { return }
            events.yield(
                .groupMessage(
                    Peer.GroupDelivery(
                        group: name, origin: id.origin, sequence: id.sequence, payload: payload, viaLAN: viaLAN,
                        hops: hops)))
        case .sendFailed(let group, let messages, let reason):
            guard let name = groupNames[group] else { return }
            events.yield(.groupSendFailed(group: name, messages: messages, reason: reason))
        }
    }

    // MARK: Overlay calls

    /// One membership-claim verifier for every peer of the process (a ``Swarm`` runs
    /// hundreds): each claim's signature is then checked once, not once per peer.
    static let claimVerifier = ClaimVerifier()

    /// Installs the overlay, now that the socket's address is known, and joins `seeds`.
    func startOverlay(
        _ configuration: OverlayConfiguration, identity: IdentityKeyPair, at address: PeerAddress,
        seeds: [PeerAddress]
    ) throws(PeerError) {
        guard !isShutDown, let driver else { throw .shutDown }
        let wallNow = SystemClock.wallNow()
        let now = SystemClock.monotonicNow()
        let overlay: OverlayCore
        do {
            overlay = try OverlayCore(
                identity: identity, address: address, configuration: configuration,
                wallClockAtZero: UnixTime(seconds: wallNow.seconds &- UInt64((now - .zero).components.seconds)),
                random: SecureRandom(), claimVerifier: Self.claimVerifier, now: now)
        } catch {
            throw .invalidConfiguration("overlay: \(error)")
        }
        driver.perform { core, now in
            core.installOverlay(overlay)
            if !seeds.isEmpty { core.withOverlay { $0.join(seeds, now: now) } }
        }
    }

    /// Starts a lookup with `start` and registers its caller, or answers it at once when
    /// the lookup finished as it started.
    /// - Returns: the lookup's ID, or `nil` when the caller has its answer already.
    func lookup(
        _ start: (inout OverlayCore, Instant) throws(PeerError) -> LookupID,
        continuation: CheckedContinuation<Result<LookupResult, PeerError>, Never>
    ) -> LookupID? {
        lookupsFinishedEarly = [:]
        defer { lookupsFinishedEarly = nil }
        do {
            let id = try performOverlay(start)
            if let result = lookupsFinishedEarly?[id] {
                continuation.resume(returning: .success(result))
                return nil
            }
            lookups[id] = continuation
            return id
        } catch {
            continuation.resume(returning: .failure(error))
            return nil
        }
    }

    /// Gives up waiting for lookup `id` (its caller was cancelled); the core still runs
    /// it to its end, and its result is ignored.
    func cancelLookup(_ id: LookupID) {
        lookups.removeValue(forKey: id)?.resume(returning: .failure(.cancelled))
    }

    /// Sends an echo request to `peer` and registers its caller.
    /// - Returns: the echo's identifier, or `nil` when it could not be sent (the caller
    ///   has its error).
    func echo(_ peer: PeerID, continuation: CheckedContinuation<Result<Duration, PeerError>, Never>) -> UInt32? {
        do {
            let identifier = try performOverlay { overlay, now throws(PeerError) in
                do throws(SpreadingError) {
                    return try overlay.sendEcho(to: peer, now: now)
                } catch {
                    throw .spreading(error)
                }
            }
            echoes[identifier] = continuation
            return identifier
        } catch {
            continuation.resume(returning: .failure(error))
            return nil
        }
    }

    /// Gives up waiting for echo `identifier` (its caller was cancelled); a late reply
    /// or timeout is ignored.
    func cancelEcho(_ identifier: UInt32) {
        echoes.removeValue(forKey: identifier)?.resume(returning: .failure(.cancelled))
    }

    func handle(_ event: PeerEvent) {
        switch event {
        case .established(let peer, let address):
            logger.debug("session up", metadata: ["starling.remote": "\(peer)", "address": "\(address)"])
            events.yield(.sessionUp(peer: peer, address: address))
        case .closed(let peer, let reason):
            logger.debug("session down", metadata: ["starling.remote": "\(peer)", "reason": "\(reason)"])
            events.yield(.sessionDown(peer: peer, reason: reason))
        case .handshakeFailed(let address, let expected, let error):
            logger.debug(
                "handshake failed",
                metadata: [
                    "address": "\(address)", "starling.remote": "\(expected.map { "\($0)" } ?? "unknown")",
                    "error": "\(error)",
                ])
            events.yield(.handshakeFailed(address: address, expected: expected, error: error))
        case .datagram(let peer, let payload):
            events.yield(.datagram(peer: peer, payload: payload))
        case .request(let request):
            serve(request)
        case .response(let id, let result):
            requests.removeValue(forKey: id)?.resume(returning: result.mapError { .request($0) })
        case .connectFinished(let id, let outcome):
            connects.removeValue(forKey: id)?.resume(returning: Result(outcome))
        case .stream(.message(let peer, let payload)):
            events.yield(.message(peer: peer, payload: payload))
        case .stream(.request(let request)):
            serve(request)
        case .stream(.response(let id, let result)):
            streamRequests.removeValue(forKey: id)?.resume(returning: result.mapError { .request($0) })
        }
    }

    // MARK: Connecting

    /// Starts a connect in the core and registers its caller, who is answered when the
    /// core reports the connect finished (at once when the session is up already).
    /// - Returns: the connect's ID, or `nil` when the caller has its answer already (the
    ///   peer is shut down).
    func connect(
        to address: PeerAddress, expecting expected: PeerID?, timeout: Duration,
        continuation: CheckedContinuation<Result<PeerID, PeerError>, Never>
    ) -> ConnectID? {
        do {
            // Registered inside the command: the core may report the connect finished
            // (a session already up) in the events delivered as the command returns.
            return try perform { core, now in
                let id = core.connect(to: address, expecting: expected, timeout: timeout, now: now)
                connects[id] = continuation
                return id
            }
        } catch {
            continuation.resume(returning: .failure(error))
            return nil
        }
    }

    /// Gives up waiting for connect `id` (its caller was cancelled); the core forgets
    /// it, the handshake goes on, and a session it makes stays up.
    func cancelConnect(_ id: ConnectID) {
        guard let continuation = connects.removeValue(forKey: id) else { return }
        try? perform { core, _ in core.cancelConnect(id) }
        continuation.resume(returning: .failure(.cancelled))
    }

    // MARK: Requests

    /// Sends a request and registers its caller.
    func request(
        _ method: String, _ payload: [UInt8], to peer: PeerID, timeout: Duration,
        continuation: CheckedContinuation<Result<[UInt8], PeerError>, Never>
    ) -> RequestID? {
        start(continuation, waitingIn: \.requests) { core, now throws(RPCError) in
            try core.request(method, payload, to: peer, timeout: timeout, now: now)
        }
    }

    /// Starts a request with `body` and registers its caller in `table`, or answers the
    /// caller at once with the error that kept it from starting.
    private func start(
        _ continuation: CheckedContinuation<Result<[UInt8], PeerError>, Never>,
        waitingIn table: ReferenceWritableKeyPath<
            PeerLoop, [RequestID: CheckedContinuation<Result<[UInt8], PeerError>, Never>]
        >,
        _ body: (inout PeerCore, Instant) throws(RPCError) -> RequestID
    ) -> RequestID? {
        do {
            let id = try perform { core, now throws(PeerError) in
                do throws(RPCError) {
                    return try body(&core, now)
                } catch {
                    throw .request(error)
                }
            }
            self[keyPath: table][id] = continuation
            return id
        } catch {
            continuation.resume(returning: .failure(error))
            return nil
        }
    }

    /// Gives up waiting for request `id` (its caller was cancelled); the core still
    /// finishes it, and its response is ignored.
    /// Starts an anycast request and registers its caller, or answers the caller at once
    /// when it could not start or ended within the call.
    func requestNearest(
        _ method: String, _ payload: [UInt8], service: String, timeout: Duration,
        continuation: CheckedContinuation<Result<AnycastAnswer, PeerError>, Never>
    ) -> AnycastID? {
        guard !isShutDown, let driver else {
            continuation.resume(returning: .failure(.shutDown))
            return nil
        }
        anycastsFinishedEarly = [:]
        defer { anycastsFinishedEarly = nil }
        let started = driver.perform { core, now in
            Result { () throws(AnycastError) in
                try core.requestNearest(service: service, method: method, payload: payload, timeout: timeout, now: now)
            }
        }
        switch started {
        case .failure(let error):
            continuation.resume(returning: .failure(.anycast(error)))
            return nil
        case .success(let id):
            if let result = anycastsFinishedEarly?[id] {
                continuation.resume(returning: result.mapError { .anycast($0) })
                return nil
            }
            anycasts[id] = continuation
            return id
        }
    }

    /// Starts a name resolution or publication with `start` and registers its caller, or
    /// answers the caller at once when it ended within the call.
    func nameRequest(
        _ start: (inout OverlayCore, Instant) -> NameRequestID,
        continuation: CheckedContinuation<Result<NameEvent, PeerError>, Never>
    ) -> NameRequestID? {
        nameRequestsFinishedEarly = [:]
        defer { nameRequestsFinishedEarly = nil }
        do {
            let id = try performOverlay { overlay, now throws(PeerError) in start(&overlay, now) }
            if let event = nameRequestsFinishedEarly?[id] {
                continuation.resume(returning: .success(event))
                return nil
            }
            nameRequests[id] = continuation
            return id
        } catch {
            continuation.resume(returning: .failure(error))
            return nil
        }
    }

    /// Answers a name request's caller with ``PeerError/cancelled``; the request runs on.
    func cancelNameRequest(_ id: NameRequestID) {
        nameRequests.removeValue(forKey: id)?.resume(returning: .failure(.cancelled))
    }

    /// Answers an anycast's caller with ``PeerError/cancelled``; the request itself runs
    /// on until it ends, unheard.
    func cancelAnycast(_ id: AnycastID) {
        anycasts.removeValue(forKey: id)?.resume(returning: .failure(.cancelled))
    }

    func cancelRequest(_ id: RequestID) {
        requests.removeValue(forKey: id)?.resume(returning: .failure(.cancelled))
    }

    /// Runs the handler of an incoming request in a task of its own on this peer's
    /// event loop (see ``EventLoopTaskExecutor``), then answers.
    func serve(_ incoming: IncomingRequest) {
        guard let handler = handlers[incoming.method] else {
            try? perform { core, now in core.reject(incoming.id, reason: "no handler", now: now) }
            return
        }
        let id = incoming.id
        run(handler, for: Peer.Request(incoming)) { loop, outcome in loop.answer(id, outcome) }
    }

    /// Runs `handler` for `request` in a task of its own on this peer's event loop (see
    /// ``EventLoopTaskExecutor``), then hands its outcome to `finish` back on the loop.
    private func run(
        _ handler: @escaping Handler, for request: Peer.Request,
        then finish: @escaping @Sendable (PeerLoop, Result<[UInt8], any Error>) -> Void
    ) {
        let loop = NIOLoopBound(self, eventLoop: eventLoop)
        Task(executorPreference: handlerExecutor) {
            let outcome: Result<[UInt8], any Error>
            do {
                outcome = .success(try await handler(request))
            } catch {
                outcome = .failure(error)
            }
            loop.eventLoop.execute { finish(loop.value, outcome) }
        }
    }

    func answer(_ id: IncomingRequestID, _ outcome: Result<[UInt8], any Error>) {
        try? perform { core, now in
            switch outcome {
            case .success(let payload):
                // Too large: the core answers "too large" itself, so the caller does not wait.
                try? core.respond(to: id, payload: payload, now: now)
            case .failure(let error):
                core.reject(id, reason: String(describing: error), now: now)
            }
        }
    }

    // MARK: Streams

    /// Tells the core that the hub opened stream `id` with `peer`; closes it when the
    /// core refuses it (too many open).
    func streamOpened(_ id: StreamID, with peer: PeerID) {
        let accepted = (try? perform { core, now in core.streamOpened(id, with: peer, now: now) }) ?? false
        if !accepted, let streams { Task { await streams.refuse(id) } }
    }

    /// Hands the core a message that arrived on stream `id`.
    func streamMessage(_ message: [UInt8], on id: StreamID) {
        try? perform { core, _ in core.handleStreamMessage(message, on: id) }
    }

    /// Tells the core that `count` bytes of stream `id`'s transmits were written.
    func streamWritten(_ id: StreamID, count: Int) {
        try? perform { core, _ in core.streamWritten(id, count: count) }
    }

    /// Tells the core that stream `id` ended: its waiting requests fail as unreachable.
    func streamEnded(_ id: StreamID) {
        try? perform { core, _ in core.streamEnded(id) }
    }

    /// Sends a request on stream `id` and registers its caller.
    func streamRequest(
        _ method: String, _ payload: [UInt8], on id: StreamID, timeout: Duration,
        continuation: CheckedContinuation<Result<[UInt8], PeerError>, Never>
    ) -> RequestID? {
        start(continuation, waitingIn: \.streamRequests) { core, now throws(RPCError) in
            try core.streamRequest(method, payload, on: id, timeout: timeout, now: now)
        }
    }

    /// Gives up waiting for stream request `id` (its caller was cancelled); the core
    /// forgets it, and a late response is ignored.
    func cancelStreamRequest(_ id: RequestID) {
        guard let continuation = streamRequests.removeValue(forKey: id) else { return }
        try? perform { core, _ in core.cancelStreamRequest(id) }
        continuation.resume(returning: .failure(.cancelled))
    }

    /// Runs the handler of an incoming stream request in a task of its own on this
    /// peer's event loop, as for a datagram request, then answers on its stream.
    func serve(_ incoming: IncomingStreamRequest) {
        guard let handler = handlers[incoming.method] else {
            try? perform { core, _ in core.reject(onStream: incoming.id, reason: "no handler") }
            return
        }
        let id = incoming.id
        let request = Peer.Request(peer: incoming.peer, method: incoming.method, payload: incoming.payload)
        run(handler, for: request) { loop, outcome in loop.answer(id, outcome) }
    }

    func answer(_ id: IncomingStreamRequestID, _ outcome: Result<[UInt8], any Error>) {
        try? perform { core, _ in
            switch outcome {
            case .success(let payload):
                // Too large: the core answers "too large" itself.
                try? core.respond(toStream: id, payload: payload)
            case .failure(let error):
                core.reject(onStream: id, reason: String(describing: error))
            }
        }
    }

    // MARK: Metrics

    /// Starts reporting the core's drop counters to swift-metrics every `interval`.
    func startReportingMetrics(every interval: TimeAmount) {
        metricsReporter = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) {
            [loop = NIOLoopBound(self, eventLoop: eventLoop)] _ in
            loop.value.reportMetrics()
        }
    }

    /// Brings the metrics up to date, and explains in the log what the core dropped
    /// since the last report.
    func reportMetrics() {
        guard let driver else { return }
        driver.withCore { core in
            drops.report(core)
            traffic.report(core, driver: driver.statistics, eventsDropped: events.backlog.dropped.total)
        }
    }

    // MARK: Shutdown

    /// Closes every session, fails every waiting caller, and finishes the events.
    func shutDown(leavingOverlay: Bool = true) {
        guard !isShutDown else { return }
        // Waiting callers learn of the shutdown itself, not of its effects (closing a
        // session fails its requests as unreachable).
        let connectIDs = Array(connects.keys)
        for (_, continuation) in connects { continuation.resume(returning: .failure(.shutDown)) }
        connects.removeAll()
        for (_, continuation) in requests { continuation.resume(returning: .failure(.shutDown)) }
        requests.removeAll()
        for (_, continuation) in streamRequests { continuation.resume(returning: .failure(.shutDown)) }
        streamRequests.removeAll()
        for (_, continuation) in lookups { continuation.resume(returning: .failure(.shutDown)) }
        lookups.removeAll()
        for (_, continuation) in echoes { continuation.resume(returning: .failure(.shutDown)) }
        echoes.removeAll()
        for (_, continuation) in anycasts { continuation.resume(returning: .failure(.shutDown)) }
        anycasts.removeAll()
        for (_, continuation) in nameRequests { continuation.resume(returning: .failure(.shutDown)) }
        nameRequests.removeAll()
        handlers.removeAll()
        driver?.perform { core, now in
            // Members learn of a graceful leave at once instead of by failure detection.
            if leavingOverlay { core.withOverlay { $0.leave(now: now) } }
            for peer in core.peer.establishedPeers { core.peer.close(peer) }
            for id in connectIDs { core.peer.cancelConnect(id) }
        }
        metricsReporter?.cancel()
        reportMetrics()
        isShutDown = true
        events.finish()
        logger.info("peer shut down")
    }
}

extension Result<PeerID, PeerError> {
    /// The answer to a connect caller for the core's outcome of the connect.
    init(_ outcome: ConnectOutcome) {
        switch outcome {
        case .established(let peer): self = .success(peer)
        case .handshakeFailed(let error): self = .failure(.handshakeFailed(error))
        case .timedOut(let address, let after): self = .failure(.connectTimedOut(address: address, after: after))
        }
    }
}
