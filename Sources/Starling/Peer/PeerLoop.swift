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
    var driver: CoreDriver<PeerCore>?
    var requests: [RequestID: CheckedContinuation<Result<[UInt8], PeerError>, Never>] = [:]
    var connects: [UInt64: ConnectWaiter] = [:]
    var handlers: [String: Handler] = [:]
    var nextToken: UInt64 = 0
    var isShutDown = false
    /// Brings the drop counters in swift-metrics up to date once a second.
    var metricsReporter: RepeatedTask?
    let events: AsyncStream<Peer.Event>.Continuation
    let backlog: EventBacklog
    let metrics: DropMetrics

    init(
        eventLoop: any EventLoop, events: AsyncStream<Peer.Event>.Continuation, backlog: EventBacklog,
        metrics: DropMetrics
    ) {
        self.eventLoop = eventLoop
        self.events = events
        self.backlog = backlog
        self.metrics = metrics
    }

    /// Runs `body` with the core and sends what it queued.
    /// - Throws: ``PeerError/shutDown`` after shutdown, or what `body` throws.
    func perform<Result>(_ body: (inout PeerCore, Instant) throws(PeerError) -> Result) throws(PeerError) -> Result {
        guard !isShutDown, let driver else { throw .shutDown }
        do {
            return try driver.perform { core, now in try body(&core, now) }
        } catch let error as PeerError {
            throw error
        } catch {
            preconditionFailure("body throws only PeerError")
        }
    }

    // MARK: Core events

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
            if backlog.admit() { events.yield(.datagram(peer: peer, payload: payload)) }
        case .request(let request):
            serve(request)
        case .response(let id, let result):
            requests.removeValue(forKey: id)?.resume(returning: result.mapError { .request($0) })
        }
    }

    // MARK: Connecting

    /// Registers a connect caller and starts the handshake.
    func connect(
        to address: PeerAddress, expecting expected: PeerID?, timeout: Duration,
        continuation: CheckedContinuation<Result<PeerID, PeerError>, Never>
    ) {
        if let expected, driver?.core.isEstablished(with: expected) == true {
            return continuation.resume(returning: .success(expected))
        }
        do {
            try perform { core, now in core.connect(to: address, expecting: expected, now: now) }
        } catch {
            return continuation.resume(returning: .failure(error))
        }
        let token = nextToken
        nextToken += 1
        let timer = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout.nanosecondsClamped)) {
            self.finishConnect(token, .failure(.connectTimedOut(address: address, after: timeout)))
        }
        connects[token] = ConnectWaiter(
            address: address, expected: expected, continuation: continuation, timeout: timer)
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

    /// Runs the handler of an incoming request in a task of its own, then answers.
    func serve(_ incoming: IncomingRequest) {
        guard let handler = handlers[incoming.method] else {
            try? perform { core, now in core.reject(incoming.id, reason: "no handler", now: now) }
            return
        }
        let request = Peer.Request(incoming)
        let loop = NIOLoopBound(self, eventLoop: eventLoop)
        Task {
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
        if let core = driver?.core { metrics.report(core) }
    }

    // MARK: Shutdown

    /// Closes every session, fails every waiting caller, and finishes the events.
    func shutDown() {
        guard !isShutDown else { return }
        // Waiting callers learn of the shutdown itself, not of its effects (closing a
        // session fails its requests as unreachable).
        for token in connects.keys { finishConnect(token, .failure(.shutDown)) }
        for (_, continuation) in requests { continuation.resume(returning: .failure(.shutDown)) }
        requests.removeAll()
        handlers.removeAll()
        driver?.perform { core, _ in
            for peer in core.establishedPeers { core.close(peer) }
        }
        metricsReporter?.cancel()
        reportMetrics()
        isShutDown = true
        events.finish()
    }
}
