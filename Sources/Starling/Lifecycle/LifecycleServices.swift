public import ServiceLifecycle

extension Peer: Service {
    /// Runs the peer as a swift-service-lifecycle service: returns once the peer is shut
    /// down.
    ///
    /// The peer is already running when ``start(_:on:)`` returns; `run()` only ties its
    /// end to the service group. On graceful shutdown (the group's signals, such as
    /// SIGTERM) or when the task is cancelled, it calls ``shutdown(leavingOverlay:)``:
    /// the peer tells the overlay's members that it leaves, closes its sessions and its
    /// sockets, and `run()` returns. A peer shut down elsewhere ends `run()` too.
    ///
    /// ```swift
    /// let peer = try await Peer.start(configuration)
    /// let group = ServiceGroup(
    ///     configuration: .init(services: [peer], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    /// try await group.run()
    /// ```
    public func run() async {
        await ServiceRun.untilShutdown(waitingFor: { await self.gate.wait() }, shutdown: { await self.shutdown() })
    }
}

extension Swarm: Service {
    /// Runs the swarm as a swift-service-lifecycle service: returns once every peer is
    /// shut down.
    ///
    /// On graceful shutdown or cancellation it calls ``shutdown()``, which has each peer
    /// leave the overlay and close its sessions; a swarm shut down elsewhere ends `run()`
    /// too. See ``Peer/run()``.
    public func run() async {
        await ServiceRun.untilShutdown(waitingFor: { await self.gate.wait() }, shutdown: { await self.shutdown() })
    }
}

/// What ``Peer/run()`` and ``Swarm/run()`` share.
enum ServiceRun {
    /// Waits in `finished` until the service is shut down, starting `shutdown` on
    /// graceful shutdown or cancellation.
    static func untilShutdown(
        waitingFor finished: @escaping @Sendable () async -> Void, shutdown: @escaping @Sendable () async -> Void
    ) async {
        await withTaskCancellationOrGracefulShutdownHandler {
            await finished()
        } onCancelOrGracefulShutdown: {
            // The handler cannot wait; `finished` returns once this shutdown is over.
            Task { await shutdown() }
        }
    }
}
