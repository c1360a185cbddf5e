import Hummingbird
public import Logging
public import NIOCore
public import Prometheus
import ServiceLifecycle
public import Starling
public import UnixSignals

/// A Starling peer and an HTTP server that shows its overlay neighbours, on one event
/// loop group, run together as one service group.
///
/// ```swift
/// let app = try await NeighboursApp.start(options, registry: registry, logger: logger, on: group) { url in
///     print("http \(url)")
/// }
/// try await app.run()  // until SIGTERM/SIGINT, or triggerGracefulShutdown()
/// ```
///
/// The peer starts in ``start(_:registry:logger:on:gracefulShutdownSignals:onServerRunning:)``
/// (so its ID and address are known at once), the HTTP server in ``run()``. A graceful
/// shutdown stops the HTTP server first, then the peer, which leaves the overlay and
/// closes its sessions.
public struct NeighboursApp: Sendable {
    /// The app's peer.
    public let peer: Peer
    /// Where the peer's metrics are kept, and what `/metrics` reads.
    public let registry: PrometheusCollectorRegistry
    private let serviceGroup: ServiceGroup

    /// Starts the peer and makes the HTTP server, ready to ``run()``.
    ///
    /// - Parameters:
    ///   - options: where to listen and how to find the overlay.
    ///   - registry: the Prometheus registry the peer reports to and `/metrics` emits.
    ///   - logger: the logger of the peer, the HTTP server and the service group.
    ///   - group: the event loop group of both the peer and the HTTP server.
    ///   - gracefulShutdownSignals: the signals that stop the app gracefully; none by
    ///     default (an embedding process or a test calls ``triggerGracefulShutdown()``).
    ///   - onServerRunning: called with the HTTP server's URL (with the port it bound)
    ///     once it accepts connections.
    /// - Throws: ``NeighboursError``.
    public static func start(
        _ options: NeighboursOptions, registry: PrometheusCollectorRegistry, logger: Logger,
        on group: any EventLoopGroup, gracefulShutdownSignals: [UnixSignal] = [],
        onServerRunning: @escaping @Sendable (_ url: String) async -> Void = { _ in }
    ) async throws(NeighboursError) -> NeighboursApp {
        let configuration = try options.peerConfiguration(
            metrics: PrometheusMetricsFactory(registry: registry), logger: logger)
        let peer: Peer
        do {
            peer = try await Peer.start(configuration, on: group)
        } catch {
            throw .peer(error)
        }
        let host = options.httpHost
        let app = Application(
            router: NeighboursRoutes.router(peer: peer, registry: registry),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: options.httpPort), serverName: "starling-neighbours"),
            onServerRunning: { channel in
                await onServerRunning(Self.url(host: host, port: channel.localAddress?.port ?? 0))
            },
            eventLoopGroupProvider: .shared(group),
            logger: logger)
        // Services stop in the reverse of this order: the HTTP server, then the peer.
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: peer, successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: app, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: gracefulShutdownSignals, logger: logger))
        return NeighboursApp(peer: peer, registry: registry, serviceGroup: serviceGroup)
    }

    /// Runs the HTTP server and the peer until a graceful shutdown (a signal or
    /// ``triggerGracefulShutdown()``) or the calling task's cancellation, then stops both.
    public func run() async throws {
        try await serviceGroup.run()
    }

    /// Stops the app: the HTTP server, then the peer (leaving the overlay); ``run()`` returns.
    public func triggerGracefulShutdown() async {
        await serviceGroup.triggerGracefulShutdown()
    }

    /// `http://host:port`, with an IPv6 host in brackets.
    static func url(host: String, port: Int) -> String {
        host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }
}
