import Foundation
import StarlingTestSupport
import Testing

/// `starling mdns advertise|browse` as a user drives it: bad input refused with one
/// line before anything is sent, and, inside a ``NamespaceLab``, an advertiser on one
/// host found by a browser on another.
@Suite struct MDNSCommandTests {
    static let missingInterface = ["--interface", "starling-none0"]

    @Test(arguments: [
        (["advertise"], "name an interface with --interface"),
        (["advertise"] + missingInterface, "no network interface named 'starling-none0'"),
        (["browse", "_starling._udp"] + missingInterface, "no network interface named 'starling-none0'"),
        (["browse", "starling"] + missingInterface, "is not a service type"),
        (["advertise", "--type", "_x._tcp", "--port", "1"] + missingInterface, "--type needs --name"),
        (["advertise", "--type", "_x._tcp", "--name", "n"] + missingInterface, "--type needs --port"),
        (["advertise", "--txt", "k=v"] + missingInterface, "--txt needs --type"),
        (["advertise", "--swarm", "12"] + missingInterface, "--swarm must be 64 hex digits"),
        (["advertise", "--type", "bad", "--name", "n", "--port", "1"] + missingInterface, "invalid service"),
        (["browse", "_x._udp", "--seconds", "0"] + missingInterface, "--seconds must be from 0.1"),
        (["advertise", "--host-name", "a.b"] + missingInterface, "invalid host name"),
        (["advertise", "--key", "/starling-none/key"] + missingInterface, "--key:"),
        (
            ["advertise", "--type", "_x._tcp", "--name", "n", "--port", "1", "--key", "k"] + missingInterface,
            "not with --type"
        ),
    ])
    func mdns_badInput_failsWithOneClearLine(arguments: [String], expected: String) async throws {
        let result = try await Subprocess.run(try StarlingBinary.path(), ["mdns"] + arguments)
        #expect(result.status != 0)
        #expect(!result.uncaughtSignal)
        let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains(expected), "stderr was: \(result.stderr)")
        #expect(result.stdout.isEmpty, "nothing announced: \(result.stdout)")
    }
}

/// The namespace half of ``MDNSCommandTests``.
@Suite(.requiresNetworkNamespaces, .serialized)
struct MDNSCommandLabTests {
    /// A bound against hangs, not a timing check.
    static let deadline = Duration.seconds(60)

    @Test func mdns_advertiseOnOneHost_isBrowsedOnAnother() async throws {
        try await NamespaceLab.with(hosts: 2) { lab in
            let binary = try StarlingBinary.path()
            let a = lab.hosts[0]
            let b = lab.hosts[1]
            let advertiser = try a.namespace.spawn(
                binary,
                [
                    "mdns", "advertise", "--interface", a.interface, "--host-name", "lab-a", "--type", "_demo._udp",
                    "--name", "Demo One", "--port", "4242", "--txt", "k=v",
                ])
            try await advertiser.waitForLine(timeout: Self.deadline) { $0 == "advertised Demo One" }
            let browser = try b.namespace.spawn(
                binary, ["mdns", "browse", "_demo._udp", "--interface", b.interface, "--host-name", "lab-b"])
            let line = try await browser.waitForLine(timeout: Self.deadline) {
                $0.hasPrefix("+ Demo\\032One ") && $0.contains("\(a.address)") && $0.contains(a.ipv6LinkLocal)
            }
            let fields = line.split(separator: " ").map(String.init)
            #expect(fields.count == 7, "line: \(line)")
            #expect(fields[2] == "_demo._udp")
            #expect(fields[3] == "lab-a.local")
            #expect(fields[4] == "4242")
            #expect(fields[6] == "k=v")

            // A second advertiser with the same name is renamed.
            let twin = try b.namespace.spawn(
                binary,
                [
                    "mdns", "advertise", "--interface", b.interface, "--host-name", "lab-b", "--type", "_demo._udp",
                    "--name", "Demo One", "--port", "4243", "--seconds", "30",
                ])
            try await twin.waitForLine(timeout: Self.deadline) { $0 == "renamed Demo One -> Demo One (2)" }
            try await twin.waitForLine(timeout: Self.deadline) { $0 == "advertised Demo One (2)" }

            // The advertiser's goodbye removes it at the browser.
            advertiser.terminate()
            let exit = try await advertiser.waitForExit(timeout: Self.deadline)
            #expect(exit.status == 0)
            try await browser.waitForLine(timeout: Self.deadline) { $0 == "- Demo\\032One" }
            browser.terminate()
            twin.terminate()
            _ = try await browser.waitForExit(timeout: Self.deadline)
            _ = try await twin.waitForExit(timeout: Self.deadline)
        }
    }

    @Test func mdns_browseJSON_reportsAStarlingPeer() async throws {
        try await NamespaceLab.with(hosts: 2) { lab in
            let binary = try StarlingBinary.path()
            let a = lab.hosts[0]
            let b = lab.hosts[1]
            let advertiser = try a.namespace.spawn(
                binary, ["mdns", "advertise", "--interface", a.interface, "--host-name", "lab-a", "--port", "4100"])
            let browser = try b.namespace.spawn(
                binary,
                ["mdns", "browse", "_starling._udp", "--interface", b.interface, "--host-name", "lab-b", "--json"])
            let line = try await browser.waitForLine(timeout: Self.deadline) { $0.contains("\"event\":\"added\"") }
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "line: \(line)")
            #expect(object["type"] as? String == "_starling._udp")
            #expect(object["host"] as? String == "lab-a.local")
            #expect(object["port"] as? Int == 4100)
            let txt = object["txt"] as? [String] ?? []
            #expect(txt.contains("v=1"))
            #expect(txt.contains { $0.hasPrefix("id=") && $0.count == 55 })
            #expect(txt.contains("swarm=" + String(repeating: "0", count: 64)))
            advertiser.terminate()
            browser.terminate()
            _ = try await advertiser.waitForExit(timeout: Self.deadline)
            _ = try await browser.waitForExit(timeout: Self.deadline)
        }
    }
}
