import Foundation
import StarlingTestSupport
import Testing

/// A single fresh ``NetworkNamespace``: its loopback set-up, its removal, and
/// multicast looped back on `lo` entirely inside it.
@Suite(.requiresNetworkNamespaces)
struct NetworkNamespaceTests {
    /// One entry of `ip -j link show`.
    struct Link: Decodable {
        let ifname: String
        let flags: [String]
    }

    /// One entry of `ip -j route show`.
    struct Route: Decodable {
        let dst: String
        let dev: String?
    }

    @Test func networkNamespace_withFresh_loopbackIsUpWithMulticastRoute() async throws {
        try await NetworkNamespace.withFresh { ns in
            let links = try JSONDecoder().decode([Link].self, from: Data(try ns.ip(["-j", "link", "show"]).utf8))
            #expect(links.map(\.ifname) == ["lo"], "a fresh namespace holds only lo")
            let lo = try #require(links.first)
            #expect(lo.flags.contains("UP"))
            #expect(lo.flags.contains("MULTICAST"))

            let routes = try JSONDecoder().decode([Route].self, from: Data(try ns.ip(["-j", "route", "show"]).utf8))
            #expect(routes.contains { $0.dst == "224.0.0.0/4" && $0.dev == "lo" }, "\(routes)")
        }
    }

    @Test func networkNamespace_withFresh_removesNamespaceEvenWhenBodyThrows() async throws {
        struct Planned: Error {}
        var name = ""
        await #expect(throws: Planned.self) {
            try await NetworkNamespace.withFresh { ns in
                name = ns.name
                #expect(try NetworkNamespace.existingNames().contains(ns.name))
                throw Planned()
            }
        }
        #expect(name.hasPrefix("stl-"))
        #expect(try !NetworkNamespace.existingNames().contains(name))
    }

    @Test func networkNamespace_spawn_runsInsideTheNamespace() async throws {
        try await NetworkNamespace.withFresh { ns in
            // `ip` run through spawn sees the namespace's interfaces, not the machine's.
            let ip = try #require(
                ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first {
                    FileManager.default.isExecutableFile(atPath: $0)
                })
            let result = try await ns.run(ip, ["-o", "link", "show"], timeout: .seconds(120))
            #expect(result.status == 0)
            let names = result.stdout.split(separator: "\n").map {
                $0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)
            }
            #expect(names == ["lo"])
        }
    }

    @Test func networkNamespace_loopbackMulticast_reachesJoinedListener() async throws {
        try await NetworkNamespace.withFresh { ns in
            let starling = try StarlingBinary.path()
            let group = "239.255.77.2"
            let listener = try ns.spawn(
                starling,
                [
                    "udp", "listen", "--port", "47010", "--join", group, "--interface", "lo", "--count", "1",
                    "--timeout", "600",
                ])
            try await listener.waitForLine(timeout: .seconds(120)) { $0 == "ready" }

            let sent = try await ns.run(
                starling,
                ["udp", "send", "--to", "\(group):47010", "--message", "looped", "--interface", "lo"],
                timeout: .seconds(120))
            #expect(sent.status == 0, "\(sent.stderr)")

            let result = try await listener.waitForExit(timeout: .seconds(120))
            #expect(result.status == 0)
            #expect(result.stdout.contains(" looped\n"), "\(result.stdout)")
            #expect(result.stdout.contains("reached --count 1"))
        }
    }
}
