import Foundation
import StarlingTestSupport
import Testing

/// `starling swarm` as a user runs it: on loopback only, in one process or several.
@Suite struct SwarmCommandTests {
    func swarm(_ arguments: [String]) async throws -> (ProcessResult, [String: Any]) {
        let result = try await Subprocess.run(try StarlingBinary.path(), ["swarm"] + arguments)
        let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return (result, object)
    }

    @Test func aSmallSwarmConvergesLooksUpAndReportsJSON() async throws {
        let directory = NSTemporaryDirectory() + "starling-swarm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let graph = directory + "/swarm.svg"
        let (result, object) = try await swarm([
            "--peers", "12", "--duration", "3", "--json", "--graph", graph, "--seed", "5",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(object["peers"] as? Int == 12)
        #expect(object["converged_after_s"] is Double)
        #expect(object["lookups_total"] as? Int == 36)
        #expect(object["lookups_ok"] as? Int == 36)
        #expect((object["rss_bytes"] as? Int ?? 0) > 0)
        let svg = try String(contentsOfFile: graph, encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") || svg.hasPrefix("<svg"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 12)
    }

    @Test func aSwarmSpreadOverTwoProcessesFormsOneOverlay() async throws {
        let (result, object) = try await swarm(["--peers", "10", "--processes", "2", "--duration", "4", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(object["peers"] as? Int == 10)
        #expect(object["processes"] as? Int == 2)
        // Convergence means every peer of this process saw all 10, 5 of them in the child.
        #expect(object["converged_after_s"] is Double)
    }

    /// A hybrid swarm: the index servers answer every lookup after convergence.
    @Test func aHybridSwarmReportsItsRolesAndAnswersEveryLookup() async throws {
        let (result, object) = try await swarm([
            "--topology", "hybrid", "--peers", "30", "--duration", "5", "--json", "--seed", "7",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(object["topology"] as? String == "hybrid")
        #expect(object["roles"] as? [String: Int] == ["index": 3, "client": 27])
        #expect(object["peers"] as? Int == 30)
        #expect(object["lookups_total"] as? Int == 90)
        #expect(object["lookups_ok"] as? Int == 90)
        #expect(object["succeeded"] as? Bool == true)
    }

    /// A super-peer swarm: every peer is a leaf or a super-peer (how many are elected in a
    /// few seconds is the simulator's to test), and every lookup is answered.
    @Test func aSuperPeerSwarmReportsItsRolesAndAnswersEveryLookup() async throws {
        let (result, object) = try await swarm([
            "--topology", "super-peer", "--peers", "30", "--duration", "5", "--json", "--seed", "7",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(object["topology"] as? String == "super-peer")
        let roles = try #require(object["roles"] as? [String: Int])
        #expect(Set(roles.keys).isSubset(of: ["leaf", "super-peer"]))
        #expect(roles.values.reduce(0, +) == 30)
        #expect(object["lookups_ok"] as? Int == object["lookups_total"] as? Int)
        #expect(object["succeeded"] as? Bool == true)
    }

    @Test func aPureSwarmReportsOneRole() async throws {
        let (result, object) = try await swarm(["--peers", "4", "--duration", "1", "--json", "--seed", "9"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(object["topology"] as? String == "pure")
        #expect(object["roles"] as? [String: Int] == ["peer": 4])
    }

    @Test(arguments: [
        (["--topology", "mesh"], "--topology must be pure, hybrid or super-peer, not 'mesh'"),
        (["--indexes", "2"], "--indexes is only used with --topology hybrid"),
        (["--topology", "pure", "--indexes", "2"], "--indexes is only used with --topology hybrid"),
        (["--topology", "hybrid", "--peers", "3"], "--indexes must be 1 to 16 and fewer than --peers (3), not 3"),
        (
            ["--topology", "hybrid", "--peers", "5", "--indexes", "5"],
            "--indexes must be 1 to 16 and fewer than --peers"
        ),
        (["--topology", "hybrid", "--indexes", "0"], "--indexes must be 1 to 16"),
        (["--topology", "hybrid", "--indexes", "17"], "--indexes must be 1 to 16"),
        (["--topology", "hybrid", "--processes", "2"], "--topology hybrid runs in one process"),
        (["--topology", "super-peer", "--processes", "2"], "--topology super-peer runs in one process"),
        (["--topology", "super-peer", "--indexes", "2"], "--indexes is only used with --topology hybrid"),
        (["--peers", "0"], "--peers must be 1 to 20,000"),
        (["--loss", "0.9"], "--loss must be from 0 to 0.5"),
        (["--duration", "0"], "--duration must be 1 to 3,600 seconds"),
        (["--processes", "3", "--peers", "2"], "--processes must be 1 to 32 and at most --peers"),
        (["--graph", "out.png"], "--graph must name an .svg file"),
    ])
    func badArguments_failClearly(arguments: [String], message: String) async throws {
        let result = try await Subprocess.run(try StarlingBinary.path(), ["swarm"] + arguments)
        #expect(result.status != 0)
        #expect(!result.uncaughtSignal)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
