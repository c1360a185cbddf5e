import ArgumentParser
import CoreMetrics
import Logging
import NIOCore
import NIOPosix
import NeighboursApp
import Prometheus
import StarlingCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `starling-neighbours`: an HTTP service that embeds a Starling peer and shows its
/// overlay neighbours.
@main
struct NeighboursCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "starling-neighbours",
        abstract: "An HTTP service that embeds a Starling peer and shows its overlay neighbours.",
        discussion: """
            Starts a peer (UDP, 127.0.0.1 unless --interface is given) and an HTTP server on one \
            event loop group, and prints two lines on standard output: `peer <ID> <address>`, then \
            `http <URL>` once the server accepts connections. A second instance joins the first \
            with --seed <address of the first>. Endpoints: GET / (HTML), /neighbours (JSON), \
            /health (JSON) and /metrics (Prometheus). SIGTERM or SIGINT stops it gracefully: \
            the HTTP server, then the peer, which leaves the overlay.
            """)

    @Option(help: ArgumentHelp("The HTTP server's port; 0 lets the system pick one.", valueName: "port"))
    var httpPort = 8080

    @Option(help: ArgumentHelp("The HTTP server's address.", valueName: "host"))
    var httpHost = "127.0.0.1"

    @Option(help: ArgumentHelp("The peer's UDP port; 0 lets the system pick one.", valueName: "port"))
    var port: UInt16 = 0

    @Option(
        name: .customLong("seed"),
        help: ArgumentHelp("An overlay member to join through (repeatable).", valueName: "host:port"))
    var seeds: [String] = []

    @Option(
        help: ArgumentHelp(
            "Discover peers on this network interface by IPv4 multicast (the peer then listens on its "
                + "IPv4 address). Off by default: nothing is multicast.",
            valueName: "name"))
    var interface: String?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel = "info"

    func validate() throws {
        guard (0...65_535).contains(httpPort) else { throw ValidationError("--http-port must be 0 to 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        if let interface, interface.isEmpty { throw ValidationError("--interface must name an interface") }
        for seed in seeds {
            do {
                _ = try PeerAddress(seed)
            } catch {
                throw ValidationError("--seed \(seed): \(error)")
            }
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "starling-neighbours")

        var options = NeighboursOptions()
        options.httpHost = httpHost
        options.httpPort = httpPort
        options.peerPort = port
        options.seeds = try seeds.map { try PeerAddress($0) }
        options.interface = interface

        // One event loop group for the peer and the HTTP server.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let app: NeighboursApp
        do {
            app = try await NeighboursApp.start(
                options, registry: registry, logger: logger, on: group,
                gracefulShutdownSignals: [.sigterm, .sigint]
            ) { url in
                Self.printLine("http \(url)")
            }
        } catch {
            logger.critical("\(error)")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        Self.printLine("peer \(app.peer.id) \(app.peer.address)")
        do {
            try await app.run()
        } catch {
            logger.error("stopped: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        try await group.shutdownGracefully()
    }

    /// Prints `line` and flushes standard output, so that a script or test reading a pipe
    /// sees it at once.
    private static func printLine(_ line: String) {
        print(line)
        fflush(nil)
    }
}
