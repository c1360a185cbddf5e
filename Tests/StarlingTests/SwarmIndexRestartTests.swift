import Foundation
import Starling
import StarlingCore
import StarlingTestSupport
import Testing

/// A hybrid swarm on loopback whose only index server is a standalone `starling index`
/// process, killed (SIGKILL) and restarted with the same key at the same address: the
/// clients fall back to the Kademlia overlay while it is gone, keep finding each other,
/// and register with it again when it is back.
@Suite struct SwarmIndexRestartTests {
    /// A bound against hanging on a slow, loaded machine, not a timing check.
    static let wait: Duration = .seconds(180)
    static let clientCount = 8

    /// The clients' overlay: memberlist's LAN probe timing and a longer routing timeout,
    /// since these tests share two cores with other builds; otherwise the defaults.
    static func clientConfiguration(index: PeerAddress) -> PeerConfiguration {
        var overlay = OverlayConfiguration.local
        overlay.membership.probeInterval = .seconds(1)
        overlay.membership.probeTimeout = .milliseconds(500)
        overlay.routing.requestTimeout = .seconds(1)
        overlay.topology = .hybrid(.client(indexes: [index]))
        var configuration = PeerConfiguration()
        configuration.overlay = overlay
        configuration.seeds = [index]
        configuration.acceptsStreams = false
        return configuration
    }

    /// Starts `starling index` and waits for its first line.
    /// - Returns: the process, its peer ID and its overlay address.
    static func startIndex(listen: String, key: String) async throws -> (ChildProcess, String, PeerAddress) {
        let child = try ChildProcess(
            try StarlingBinary.path(), ["index", "--listen", listen, "--key", key, "--interval", "0.5"])
        let line = try await child.waitForLine(timeout: wait) { $0.hasPrefix("index ") }
        let words = line.split(separator: " ")
        try #require(words.count == 4 && words[2] == "listening", "unexpected first line: \(line)")
        return (child, String(words[1]), try PeerAddress(String(words[3])))
    }

    /// Polls `condition` until it holds; fails the test when `wait` passes first.
    static func eventually(_ what: String, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + wait
        while !(await condition()) {
            guard ContinuousClock.now < deadline else {
                Issue.record("gave up waiting for \(what) after \(wait)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Whether every client finds the next one's signed record.
    static func everyLookupSucceeds(_ clients: [Peer]) async -> Bool {
        for (position, client) in clients.enumerated() {
            let wanted = clients[(position + 1) % clients.count].id
            guard (try? await client.lookup(wanted))?.record.peerID == wanted else { return false }
        }
        return true
    }

    /// The registrations an index status line reports, if it is one.
    static func registrations(in line: String) -> Int? {
        guard line.hasPrefix("status registrations=") else { return nil }
        return line.dropFirst("status registrations=".count).split(separator: " ").first.flatMap { Int($0) }
    }

    @Test func indexProcessKilledAndRestarted_clientsFallBackThenRegisterAgain() async throws {
        let directory = NSTemporaryDirectory() + "starling-index-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = directory + "/index.key"
        let created = try await Subprocess.run(try StarlingBinary.path(), ["identity", "new", "--out", key])
        try #require(created.status == 0, "\(created.stderr)")

        var (index, indexID, address) = try await Self.startIndex(listen: "127.0.0.1:0", key: key)
        defer { index.kill() }
        var clients: [Peer] = []
        let outcome: Result<Void, any Error>
        do {
            for _ in 0..<Self.clientCount {
                clients.append(try await Peer.start(Self.clientConfiguration(index: address)))
            }
            try await Self.exercise(clients, index: &index, indexID: indexID, address: address, key: key)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        for client in clients { await client.shutdown() }
        try outcome.get()
    }

    /// The test proper: up, killed, restarted, stopped.
    static func exercise(
        _ clients: [Peer], index: inout ChildProcess, indexID: String, address: PeerAddress, key: String
    ) async throws {
        // Up: every client sees the index server and finds the others through it.
        try await eventually("every client to see the index server up") {
            await clients.asyncAll { client in
                guard let status = try? await client.overlayStatus() else { return false }
                return status.role == .client && status.indexServersUp >= 1 && !status.isFallbackActive
            }
        }
        try await eventually("every lookup through the index server") { await everyLookupSucceeds(clients) }

        // Killed: the clients fall back to Kademlia, where the lookups still succeed.
        index.kill()
        _ = try await index.waitForExit(timeout: wait)
        try await eventually("every client to fall back to Kademlia") {
            await clients.asyncAll { (try? await $0.overlayStatus())?.isFallbackActive ?? false }
        }
        try await eventually("every lookup in fallback") { await everyLookupSucceeds(clients) }

        // Restarted with the same key at the same address: the clients find it again and
        // register with it once more.
        let restartedID: String
        (index, restartedID, _) = try await startIndex(listen: address.description, key: key)
        #expect(restartedID == indexID)
        try await eventually("every client to see the restarted index server up") {
            await clients.asyncAll { client in
                guard let status = try? await client.overlayStatus() else { return false }
                return status.indexServersUp >= 1 && !status.isFallbackActive
            }
        }
        let clientCount = clients.count
        try await index.waitForLine(timeout: wait) { line in
            (registrations(in: line) ?? 0) >= clientCount
        }
        try await eventually("every lookup through the restarted index server") {
            await everyLookupSucceeds(clients)
        }

        index.terminate()
        let ended = try await index.waitForExit(timeout: wait)
        #expect(ended.status == 0, "\(ended.stderr)")
        #expect(ended.stdout.hasSuffix("stopped\n"))
    }
}

extension Array where Element == Peer {
    /// Whether `predicate` holds for every peer, asked one at a time.
    fileprivate func asyncAll(_ predicate: (Peer) async -> Bool) async -> Bool {
        for peer in self where !(await predicate(peer)) { return false }
        return true
    }
}
