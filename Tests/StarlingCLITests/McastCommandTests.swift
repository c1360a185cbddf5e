import Foundation
import StarlingTestSupport
import Testing

/// `starling mcast listen|send|probe` as a user drives it: bad input refused before
/// anything is sent, and, inside a ``NamespaceLab``, listeners on some hosts and senders
/// on others.
///
/// Every datagram is sent inside namespaces the lab creates and removes. Waits are on
/// output lines and on the bridge's multicast database, each with a deadline; nothing
/// sleeps, and no figure is held to a timing threshold.
@Suite struct McastCommandTests {
    /// The bad inputs tried without a namespace: each fails in argument checking or in
    /// the interface lookup, before a socket exists, so nothing reaches any network.
    static let groupArguments = ["--group", "239.255.77.31", "--port", "47031"]
    static let missingInterface = ["--interface", "starling-none0"]

    @Test(arguments: [
        (["listen", "--group", "192.0.2.1", "--port", "47031"] + missingInterface, "is not a multicast group"),
        (
            ["send"] + groupArguments + missingInterface + ["--message", "x"],
            "no network interface named 'starling-none0'"
        ),
        (["probe"] + groupArguments + missingInterface, "no network interface named 'starling-none0'"),
        (["probe"] + groupArguments + missingInterface + ["--ttl", "300"], "--ttl must be from 0 to 255, not 300"),
        (["send"] + groupArguments + missingInterface + ["--ttl=-1", "--message", "x"], "--ttl must be from 0 to 255"),
        (
            ["listen"] + groupArguments + missingInterface + ["--source", "192.0.2.10"],
            "--source needs a source-specific group"
        ),
        (["listen", "--group", "232.1.1.1", "--port", "47031"] + missingInterface, "name the sender with --source"),
        (
            ["listen", "--group", "232.1.1.1", "--port", "47031", "--source", "fe80::10"] + missingInterface,
            "different address families"
        ),
        (
            ["listen", "--group", "ff3e::1", "--port", "47031", "--source", "ff02::1"] + missingInterface,
            "is not a unicast address"
        ),
        (["probe"] + groupArguments + missingInterface + ["--size", "39"], "--size must be from 40 to 65507"),
        (["probe"] + groupArguments + missingInterface + ["--size", "70000"], "--size must be from 40 to 65507"),
        (["probe"] + groupArguments + missingInterface + ["--rate", "0"], "--rate must be from 0.1"),
        (["probe"] + groupArguments + missingInterface + ["--count", "0"], "--count must be from 1"),
        (["send"] + groupArguments + ["--message", "x"], "Missing expected argument '--interface <name>'"),
        (["listen", "--group", "239.255.77.31", "--port", "0"] + missingInterface, "--port must be from 1 to 65535"),
        (["listen"] + groupArguments + missingInterface + ["--seconds", "0"], "--seconds must be from 0.1"),
        (["listen"] + groupArguments + missingInterface + ["--plot", "/starling-none/plot.svg"], "does not exist"),
    ])
    func mcast_badInput_failsWithOneClearLine(arguments: [String], expected: String) async throws {
        let result = try await Subprocess.run(try StarlingBinary.path(), ["mcast"] + arguments)
        #expect(result.status != 0)
        #expect(!result.uncaughtSignal)
        let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains(expected), "stderr was: \(result.stderr)")
        #expect(result.stdout.isEmpty, "nothing announced: \(result.stdout)")
    }
}

/// The namespace half of ``McastCommandTests``.
@Suite(.requiresNetworkNamespaces)
struct McastLabTests {
    /// A bound against hangs, not a timing check: long enough for a machine whose test
    /// threads are all busy with simulations for a minute or more.
    static let deadline = Duration.seconds(120)

    /// The `--json` lines of `starling mcast` that the tests read.
    struct Event: Decodable {
        struct Sender: Decodable {
            let sender: String
            let from: String
            let received: UInt64
            let expected: UInt64
            let lost: UInt64
            let duplicates: UInt64
            let runLength: UInt64
            let missingFromRun: UInt64
            let complete: Bool
            let highestSequence: UInt64?
            let latencyMeanMs: Double?
            let jitterMs: Double
        }
        let event: String
        let sender: String?
        let sent: UInt64?
        let received: UInt64?
        let text: String?
        let messages: Int?
        let foreign: Int?
        let stoppedBy: String?
        let senders: [Sender]?
    }

    /// The JSON events in `lines`, skipping any other line.
    static func events(_ lines: [String]) -> [Event] {
        lines.compactMap { try? JSONDecoder().decode(Event.self, from: Data($0.utf8)) }
    }

    /// One address family's group and how its senders appear.
    struct GroupCase: Sendable, CustomTestStringConvertible {
        let group: String
        let source: @Sendable (NamespaceLab.Host) -> String
        var testDescription: String { group }

        static let ipv4 = GroupCase(group: "239.255.77.41") { $0.address + ":" }
        static let ipv6 = GroupCase(group: "ff02::77:41") { "[\($0.ipv6LinkLocal)]:" }
    }

    /// Starts `starling mcast listen --json` on `host` and waits for its `joined` line.
    func listen(on host: NamespaceLab.Host, _ arguments: [String]) async throws -> ChildProcess {
        let listener = try host.namespace.spawn(
            try StarlingBinary.path(), ["mcast", "listen", "--interface", host.interface] + arguments)
        try await listener.waitForLine(timeout: Self.deadline) {
            $0.contains("\"event\":\"joined\"") || $0.hasPrefix("joined ")
        }
        return listener
    }

    /// Runs a `starling mcast` command on `host`, requires it to succeed, and returns its output.
    @discardableResult
    func run(on host: NamespaceLab.Host, _ arguments: [String]) async throws -> ProcessResult {
        let result = try await host.namespace.run(
            try StarlingBinary.path(), ["mcast"] + arguments + ["--interface", host.interface], timeout: Self.deadline)
        try #require(result.status == 0, "mcast \(arguments) on \(host.name) failed: \(result.stderr)")
        return result
    }

    /// Runs a probe run from `host` and returns its sender id.
    func probe(from host: NamespaceLab.Host, group: String, port: Int, count: Int) async throws -> String {
        let result = try await run(
            on: host,
            [
                "probe", "--group", group, "--port", "\(port)", "--count", "\(count)", "--rate", "200", "--size", "300",
                "--json",
            ])
        let event = try #require(Self.events(result.stdout.split(separator: "\n").map(String.init)).last)
        #expect(event.event == "probe")
        #expect(event.sent == UInt64(count))
        return try #require(event.sender)
    }

    /// Waits until `listener` has every probe of `sender`'s run, stops it with SIGTERM, and
    /// returns its final report.
    func report(of listener: ChildProcess, after sender: String) async throws -> Event {
        try await listener.waitForLine(timeout: Self.deadline) {
            $0.contains("\"event\":\"complete\"") && $0.contains(sender)
        }
        listener.terminate()
        let result = try await listener.waitForExit(timeout: Self.deadline)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(Self.events(result.stdout.split(separator: "\n").map(String.init)).last)
        #expect(report.event == "report")
        #expect(report.stoppedBy == "a signal")
        return report
    }

    @Test(arguments: [GroupCase.ipv4, GroupCase.ipv6])
    func mcast_probe_fromOneHost_reachesBothListeners_everySequenceOnce(_ groupCase: GroupCase) async throws {
        try await NamespaceLab.with(hosts: 3) { lab in
            let sender = lab.hosts[0]
            let members = [lab.hosts[1], lab.hosts[2]]
            let port = 47041
            let plot = NSTemporaryDirectory() + "starling-mcast-\(UUID().uuidString).svg"
            defer { try? FileManager.default.removeItem(atPath: plot) }
            var listeners: [ChildProcess] = []
            for (index, member) in members.enumerated() {
                let extra = index == 0 ? ["--plot", plot] : []
                listeners.append(
                    try await listen(on: member, ["--group", groupCase.group, "--port", "\(port)", "--json"] + extra))
            }
            try await lab.waitForGroupMembers(groupCase.group, members)

            let count = 40
            let id = try await probe(from: sender, group: groupCase.group, port: port, count: count)
            for listener in listeners {
                let report = try await report(of: listener, after: id)
                let figures = try #require(report.senders?.first)
                #expect(report.senders?.count == 1)
                #expect(figures.sender == id)
                #expect(figures.from.hasPrefix(groupCase.source(sender)), "\(figures.from)")
                #expect(figures.received == UInt64(count))
                #expect(figures.highestSequence == UInt64(count - 1), "every sequence number seen")
                #expect(figures.expected == UInt64(count))
                #expect(figures.lost == 0)
                #expect(figures.missingFromRun == 0)
                #expect(figures.duplicates == 0)
                #expect(figures.runLength == UInt64(count))
                #expect(figures.complete)
                #expect(figures.latencyMeanMs != nil)
                #expect(figures.jitterMs >= 0)
            }
            let svg = try String(contentsOfFile: plot, encoding: .utf8)
            #expect(svg.contains("<polyline"))
            #expect(svg.contains(id))
        }
    }

    @Test func mcast_sourceSpecificJoin_receivesOnlyItsSource() async throws {
        try await NamespaceLab.with(hosts: 4) { lab in
            let group = "232.1.1.41"
            let port = 47042
            let (first, second) = (lab.hosts[0], lab.hosts[3])
            let hearsFirst = try await listen(
                on: lab.hosts[1], ["--group", group, "--port", "\(port)", "--source", first.address, "--json"])
            let hearsSecond = try await listen(
                on: lab.hosts[2], ["--group", group, "--port", "\(port)", "--source", second.address, "--json"])
            try await lab.waitForGroupMembers(group, [lab.hosts[1], lab.hosts[2]])

            let firstID = try await probe(from: first, group: group, port: port, count: 20)
            let secondID = try await probe(from: second, group: group, port: port, count: 20)
            // Both runs are complete somewhere before either listener stops, so a datagram of
            // the other source would have been delivered by then if the filter let it in.
            try await hearsSecond.waitForLine(timeout: Self.deadline) {
                $0.contains("\"event\":\"complete\"") && $0.contains(secondID)
            }
            let firstReport = try await report(of: hearsFirst, after: firstID)
            let secondReport = try await report(of: hearsSecond, after: secondID)
            #expect(firstReport.senders?.map(\.sender) == [firstID])
            #expect(firstReport.senders?.first?.from.hasPrefix(first.address + ":") == true)
            #expect(firstReport.senders?.first?.received == 20)
            #expect(secondReport.senders?.map(\.sender) == [secondID])
            #expect(secondReport.senders?.first?.from.hasPrefix(second.address + ":") == true)
            #expect(secondReport.senders?.first?.received == 20)
        }
    }

    /// `--raw` carries plain UDP both ways: `starling udp`, an ordinary group receiver and
    /// sender, hears `mcast send --raw` and is heard by `mcast listen --raw`; a lab listener
    /// prints lab messages and counts the plain datagrams apart.
    @Test func mcast_raw_interoperatesWithPlainUDP_andLabMessagesStandApart() async throws {
        try await NamespaceLab.with(hosts: 4) { lab in
            let group = "239.255.77.43"
            let port = 47043
            let sender = lab.hosts[0]
            let binary = try StarlingBinary.path()
            let rawListener = try await listen(on: lab.hosts[1], ["--group", group, "--port", "\(port)", "--raw"])
            let plain = try lab.hosts[2].namespace.spawn(
                binary,
                [
                    "udp", "listen", "--port", "\(port)", "--join", group, "--interface", "eth0", "--count", "3",
                    "--timeout", "600",
                ])
            try await plain.waitForLine(timeout: Self.deadline) { $0 == "ready" }
            let labListener = try await listen(on: lab.hosts[3], ["--group", group, "--port", "\(port)", "--json"])
            try await lab.waitForGroupMembers(group, Array(lab.hosts[1...3]))

            // Two lines on standard input: two datagrams of bare text.
            let piped = try await sender.namespace.run(
                "/bin/sh",
                [
                    "-c",
                    "printf 'raw-one\\nraw-two\\n' | '\(binary)' mcast send --raw --group \(group) --port \(port) "
                        + "--interface \(sender.interface)",
                ],
                timeout: Self.deadline)
            try #require(piped.status == 0, "\(piped.stderr)")
            #expect(piped.stderr.contains("sent 2 datagrams"))
            let udp = try await sender.namespace.run(
                binary, ["udp", "send", "--to", "\(group):\(port)", "--message", "plain-hello", "--interface", "eth0"],
                timeout: Self.deadline)
            try #require(udp.status == 0, "\(udp.stderr)")
            try await run(on: sender, ["send", "--group", group, "--port", "\(port)", "--message", "lab-hello"])

            for text in ["raw-one", "raw-two", "plain-hello"] {
                try await rawListener.waitForLine(timeout: Self.deadline) { $0 == text }
            }
            let plainResult = try await plain.waitForExit(timeout: Self.deadline)
            for text in ["raw-one", "raw-two", "plain-hello"] {
                #expect(plainResult.stdout.contains("from \(sender.address):"), "\(plainResult.stdout)")
                #expect(plainResult.stdout.contains(" \(text)\n"), "\(plainResult.stdout)")
            }

            let message = try await labListener.waitForLine(timeout: Self.deadline) {
                $0.contains("\"event\":\"message\"")
            }
            let event = try #require(Self.events([message]).first)
            #expect(event.text == "lab-hello")
            labListener.terminate()
            let labResult = try await labListener.waitForExit(timeout: Self.deadline)
            let labReport = try #require(Self.events(labResult.stdout.split(separator: "\n").map(String.init)).last)
            #expect(labReport.messages == 1)
            // The bridge floods each datagram to every member port at once, so the three plain
            // datagrams the raw listener printed reached this listener too, before the message.
            #expect(labReport.foreign == 3, "\(labResult.stdout)")
            #expect(labReport.senders?.isEmpty == true)
            rawListener.terminate()
            let rawResult = try await rawListener.waitForExit(timeout: Self.deadline)
            #expect(rawResult.status == 0)
            #expect(rawResult.stdout.contains("stopped by a signal"), "\(rawResult.stdout)")
        }
    }

    @Test func mcast_interfaceWithoutMulticast_isRefused_andListenStopsAfterSeconds() async throws {
        try await NamespaceLab.with(hosts: 1) { lab in
            let host = lab.hosts[0]
            let binary = try StarlingBinary.path()
            // A lab host's `lo` has no MULTICAST flag.
            let refused = try await host.namespace.run(
                binary, ["mcast", "probe", "--group", "239.255.77.44", "--port", "47044", "--interface", "lo"],
                timeout: Self.deadline)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("interface 'lo' does not support multicast"), "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)

            let listened = try await host.namespace.run(
                binary,
                [
                    "mcast", "listen", "--group", "239.255.77.44", "--port", "47044", "--interface", "eth0",
                    "--seconds", "0.2",
                ],
                timeout: Self.deadline)
            #expect(listened.status == 0, "\(listened.stderr)")
            #expect(listened.stdout.hasPrefix("joined 239.255.77.44 on eth0\n"), "\(listened.stdout)")
            #expect(listened.stdout.contains("stopped by --seconds 0.2"), "\(listened.stdout)")
            #expect(listened.stdout.contains("no probes received"))
        }
    }
}
