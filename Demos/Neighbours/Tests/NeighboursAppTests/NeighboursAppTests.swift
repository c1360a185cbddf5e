import Foundation
import Logging
import NIOCore
import NIOPosix
import Prometheus
import Starling
import StarlingCore
import Testing

@testable import NeighboursApp

/// One app of a test, running in the test's task group.
private struct RunningApp {
    let app: NeighboursApp
    /// The HTTP server's URL, with the port it bound.
    let url: String
    var id: String { app.peer.id.description }
}

@Suite("Neighbours app")
struct NeighboursAppTests {
    /// How often and how long a test asks for something that comes with the overlay's
    /// messages: every 100 ms, at most 300 times and 60 s.
    static let pollInterval: Duration = .milliseconds(100)
    static let pollAttempts = 300
    static let pollLimit: Duration = .seconds(60)

    @Test(
        "two apps on 127.0.0.1, the second seeded by the first: each lists the other at /neighbours and /, /metrics has the peer's metrics, and a graceful stop leaves the overlay",
        .timeLimit(.minutes(3)))
    func twoAppsSeeEachOther() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                let first = try await Self.launch(seeds: [], on: group, in: &tasks)
                let second = try await Self.launch(seeds: [first.app.peer.address], on: group, in: &tasks)
                do {
                    try await Self.checkNeighbours(first, second, on: group)
                } catch {
                    await second.app.triggerGracefulShutdown()
                    await first.app.triggerGracefulShutdown()
                    throw error
                }
                // The second app stops: its peer leaves, and the first sees it leave.
                await second.app.triggerGracefulShutdown()
                let left = try await Self.poll("\(first.url)/neighbours lists the second peer as left") {
                    let neighbours = try await Self.neighbours(of: first, on: group)
                    return neighbours.first(where: { $0.id == second.id && $0.state == "left" })
                }
                #expect(left != nil)
                await first.app.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    @Test("by default the peer listens on 127.0.0.1 with an overlay and discovers nothing on a LAN")
    func defaultsStayOnLoopback() throws {
        var options = NeighboursOptions()
        #expect(options.httpHost == "127.0.0.1")
        options.seeds = [.ipv4(127, 0, 0, 1, port: 4000)]
        options.peerPort = 4001
        let configuration = try options.peerConfiguration(metrics: nil, logger: Logger(label: "neighbours-test"))
        #expect(configuration.listenAddress == .ipv4(127, 0, 0, 1, port: 4001))
        #expect(configuration.overlay != nil)
        #expect(configuration.seeds == [.ipv4(127, 0, 0, 1, port: 4000)])
        #expect(configuration.lanDiscovery == nil)
        #expect(configuration.mdns == nil)
    }

    @Test("an --interface that does not exist is refused before any socket is opened")
    func unknownInterfaceIsRefused() {
        var options = NeighboursOptions()
        options.interface = "starling-no-such-interface"
        #expect(throws: NeighboursError.self) {
            try options.peerConfiguration(metrics: nil, logger: Logger(label: "neighbours-test"))
        }
    }

    @Test("the HTML page escapes what it shows")
    func pageEscapes() {
        #expect(NeighboursPage.escape("<a href=\"x\">&'</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;")
    }

    // MARK: Checks

    /// Each app lists the other, alive, at `/neighbours` and `/`; `/health` and `/metrics` answer.
    private static func checkNeighbours(_ first: RunningApp, _ second: RunningApp, on group: any EventLoopGroup)
        async throws
    {
        for (app, other) in [(first, second), (second, first)] {
            let seen = try await poll("\(app.url)/neighbours lists \(other.id) alive") {
                try await neighbours(of: app, on: group).first(where: { $0.id == other.id && $0.state == "alive" })
            }
            #expect(seen?.address == other.app.peer.address.description)

            let page = try await HTTPClient.get("/", from: app.url, on: group)
            #expect(page.status == 200)
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(page.body.contains("<html"))
            #expect(page.body.contains(other.id))
            #expect(page.body.contains(app.id))

            let health = try await HTTPClient.get("/health", from: app.url, on: group)
            #expect(health.status == 200)
            let decoded = try JSONDecoder().decode(Health.self, from: Data(health.body.utf8))
            #expect(decoded.id == app.id)
            #expect(decoded.address == app.app.peer.address.description)
            #expect(decoded.liveNeighbours == 1)

            // The peer brings its gauges up to date once a second.
            let metrics = try await poll("\(app.url)/metrics counts one member alive") {
                let metrics = try await HTTPClient.get("/metrics", from: app.url, on: group)
                return metrics.body.contains("starling_members{state=\"alive\"} 1") ? metrics : nil
            }
            #expect(metrics?.status == 200)
            #expect(metrics?.headers["content-type"]?.hasPrefix("text/plain") == true)
            #expect(metrics?.body.contains("# TYPE starling_datagrams_received_total counter") == true)
            #expect(metrics?.body.contains("# TYPE starling_datagrams_dropped_total counter") == true)
        }
        let missing = try await HTTPClient.get("/no-such-page", from: first.url, on: group)
        #expect(missing.status == 404)
    }

    // MARK: Helpers

    /// Starts an app on 127.0.0.1 with a port the system picks for HTTP and for the peer,
    /// runs it in `tasks`, and returns once its HTTP server accepts connections.
    private static func launch(
        seeds: [PeerAddress], on group: any EventLoopGroup, in tasks: inout ThrowingTaskGroup<Void, any Error>
    ) async throws -> RunningApp {
        var options = NeighboursOptions()
        options.httpPort = 0
        options.seeds = seeds
        let (urls, continuation) = AsyncStream.makeStream(of: String.self)
        let app = try await NeighboursApp.start(
            options, registry: PrometheusCollectorRegistry(), logger: Logger(label: "neighbours-test"), on: group
        ) { url in
            continuation.yield(url)
        }
        tasks.addTask {
            defer { continuation.finish() }
            try await app.run()
        }
        var iterator = urls.makeAsyncIterator()
        guard let url = await iterator.next() else {
            throw HTTPClientError(description: "the app stopped before its HTTP server ran")
        }
        #expect(url.hasPrefix("http://127.0.0.1:"))
        return RunningApp(app: app, url: url)
    }

    /// The members `app` lists at `GET /neighbours`.
    private static func neighbours(of app: RunningApp, on group: any EventLoopGroup) async throws -> [Neighbour] {
        let response = try await HTTPClient.get("/neighbours", from: app.url, on: group)
        try #require(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("application/json") == true)
        return try JSONDecoder().decode([Neighbour].self, from: Data(response.body.utf8))
    }

    /// Asks `body` every ``pollInterval`` until it returns a value, at most
    /// ``pollAttempts`` times and for ``pollLimit``; records an issue naming `what`
    /// when it never does.
    static func poll<Value>(
        _ what: String, _ body: () async throws -> Value?
    ) async throws -> Value? {
        let clock = ContinuousClock()
        let deadline = clock.now + pollLimit
        for _ in 0..<pollAttempts {
            if let value = try await body() { return value }
            guard clock.now < deadline else { break }
            try await Task.sleep(for: pollInterval)
        }
        Issue.record("gave up waiting: \(what)")
        return nil
    }
}
