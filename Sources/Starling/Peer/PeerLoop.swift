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

    /// A caller of ``Peer/connect(to:expecting:timeout:)`` waiting for its session.
    struct ConnectWaiter {
        let address: PeerAddress
        let expected: PeerID?
        let continuation: CheckedContinuation<Result<PeerID, PeerError>, Never>
        let timeout: Scheduled<Void>?
    }

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
    var requests: [RequestID: CheckedContinuation<Result<[UInt8], PeerError>, Never>] = [:]
    var connects: [UInt64: ConnectWaiter] = [:]
    var handlers: [String: Handler] = [:]
    var nextToken: UInt64 = 0
    var isShutDown = false
    /// Brings the drop counters in swift-metrics up to date once a second.
    var metricsReporter: RepeatedTask?
    /// Where events go, each kind up to its bound (``Peer/EventLimits``).
    let events: EventSink
    let metrics: DropMetrics

    init(eventLoop: any EventLoop, events: EventSink, metrics: DropMetrics) {
        self.eventLoop = eventLoop
        self.handlerExecutor = EventLoopTaskExecutor(eventLoop: eventLoop)
        self.events = events
        self.metrics = metrics
    }

    /// How many callers wait for an answer: connects, requests, lookups and echoes.
    var pendingCallCount: Int { connects.count + requests.count + lookups.count + echoes.count }

    /// Runs `body` with the core and sends what it queued.
    /// - Throws: ``PeerError/shutDown`` after shutdown, or what `body` throws.
    func perform<Result>(_ body: (inout PeerCore, Instant) throws(PeerError) -> Result) throws(PeerError) -> Result {
        guard !isShutDown, let driver else { throw .shutDown }
        do {
            return try driver.perform { core, now in try body(&core.peer, now) }
        } catch let error as PeerError {
            throw error
        } catch {
            preconditionFailure("body throws only PeerError")
        }
    }

    /// Runs `body` with the overlay and sends what it queued.
    /// - Throws: ``PeerError/shutDown`` after shutdown, ``PeerError/overlayDisabled``
    ///   without an overlay, or what `body` throws.
    func performOverlay<Result>(_ body: (inout OverlayCore, Instant) throws(PeerError) -> Result) throws(PeerError)
        -> Result
    {
        guard !isShutDown, let driver else { throw .shutDown }
        guard driver.core.hasOverlay else { throw .overlayDisabled }
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
        }
    }

    func handle(_ event: OverlayEvent) {
        switch event {
        case .membership(let event):
            events.yield(.membership(event))
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
        }
    }

    // MARK: Overlay calls

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
                random: SecureRandom(), now: now)
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
            for (token, waiter) in connects
            where waiter.expected == peer || (waiter.expected == nil && waiter.address == address) {
                finishConnect(token, .success(peer))
            }
            events.yield(.sessionUp(peer: peer, address: address))
        case .closed(let peer, let reason):
            events.yield(.sessionDown(peer: peer, reason: reason))
        case .handshakeFailed(let address, let expected, let error):
            for (token, waiter) in connects where waiter.address == address && waiter.expected == expected {
                finishConnect(token, .failure(.handshakeFailed(error)))
            }
            events.yield(.handshakeFailed(address: address, expected: expected, error: error))
        case .datagram(let peer, let payload):
            events.yield(.datagram(peer: peer, payload: payload))
        case .request(let request):
            serve(request)
        case .response(let id, let result):
            requests.removeValue(forKey: id)?.resume(returning: result.mapError { .request($0) })
        }
    }

    // MARK: Connecting

    /// Registers a connect caller and starts the handshake.
    /// - Returns: the caller's token, or `nil` when it was answered at once (a session
    ///   was up already, or the handshake could not start).
    func connect(
        to address: PeerAddress, expecting expected: PeerID?, timeout: Duration,
        continuation: CheckedContinuation<Result<PeerID, PeerError>, Never>
    ) -> UInt64? {
        if let expected, driver?.core.peer.isEstablished(with: expected) == true {
            continuation.resume(returning: .success(expected))
            return nil
        }
        do {
            try perform { core, now in core.connect(to: address, expecting: expected, now: now) }
        } catch {
            continuation.resume(returning: .failure(error))
            return nil
        }
        let token = nextToken
        nextToken += 1
        let timer = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout.nanosecondsClamped)) {
            self.finishConnect(token, .failure(.connectTimedOut(address: address, after: timeout)))
        }
        connects[token] = ConnectWaiter(
            address: address, expected: expected, continuation: continuation, timeout: timer)
        return token
    }

    /// Gives up waiting for connect caller `token` (its caller was cancelled); the
    /// handshake goes on, and a session it makes stays up.
    func cancelConnect(_ token: UInt64) {
        finishConnect(token, .failure(.cancelled))
    }

    func finishConnect(_ token: UInt64, _ result: Result<PeerID, PeerError>) {
        guard let waiter = connects.removeValue(forKey: token) else { return }
        waiter.timeout?.cancel()
        waiter.continuation.resume(returning: result)
    }

    // MARK: Requests

    /// Sends a request and registers its caller.
    func request(
        _ method: String, _ payload: [UInt8], to peer: PeerID, timeout: Duration,
        continuation: CheckedContinuation<Result<[UInt8], PeerError>, Never>
    ) -> RequestID? {
        do {
            let id = try perform { core, now throws(PeerError) in
                do throws(RPCError) {
                    return try core.request(method, payload, to: peer, timeout: timeout, now: now)
                } catch {
                    throw .request(error)
                }
            }
            requests[id] = continuation
            return id
        } catch {
            continuation.resume(returning: .failure(error))
            return nil
        }
    }

    /// Gives up waiting for request `id` (its caller was cancelled); the core still
    /// finishes it, and its response is ignored.
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
        let request = Peer.Request(incoming)
        let loop = NIOLoopBound(self, eventLoop: eventLoop)
        Task(executorPreference: handlerExecutor) {
            let outcome: Result<[UInt8], any Error>
            do {
                outcome = .success(try await handler(request))
            } catch {
                outcome = .failure(error)
            }
            loop.eventLoop.execute { loop.value.answer(incoming.id, outcome) }
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

    // MARK: Metrics

    /// Starts reporting the core's drop counters to swift-metrics every `interval`.
    func startReportingMetrics(every interval: TimeAmount) {
        metricsReporter = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) {
            [loop = NIOLoopBound(self, eventLoop: eventLoop)] _ in
            loop.value.reportMetrics()
        }
    }

    /// Adds what the core dropped since the last report to the metrics.
    func reportMetrics() {
        if let core = driver?.core { metrics.report(core.peer) }
    }

    // MARK: Shutdown

    /// Closes every session, fails every waiting caller, and finishes the events.
    func shutDown(leavingOverlay: Bool = true) {
        guard !isShutDown else { return }
        // Waiting callers learn of the shutdown itself, not of its effects (closing a
        // session fails its requests as unreachable).
        for token in connects.keys { finishConnect(token, .failure(.shutDown)) }
        for (_, continuation) in requests { continuation.resume(returning: .failure(.shutDown)) }
        requests.removeAll()
        for (_, continuation) in lookups { continuation.resume(returning: .failure(.shutDown)) }
        lookups.removeAll()
        for (_, continuation) in echoes { continuation.resume(returning: .failure(.shutDown)) }
        echoes.removeAll()
        handlers.removeAll()
        driver?.perform { core, now in
            // Members learn of a graceful leave at once instead of by failure detection.
            if leavingOverlay { core.withOverlay { $0.leave(now: now) } }
            for peer in core.peer.establishedPeers { core.peer.close(peer) }
        }
        metricsReporter?.cancel()
        reportMetrics()
        isShutDown = true
        events.finish()
    }
}
