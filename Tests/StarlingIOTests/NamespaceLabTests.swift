import Foundation
import StarlingTestSupport
import Testing

/// Multicast and broadcast between hosts of a ``NamespaceLab``, driven through `starling udp`.
///
/// Every datagram here is sent inside namespaces that `NamespaceLab` creates
/// and removes; nothing reaches the machine's own network. Waits are on
/// output lines and on the bridge's multicast database, each with a deadline.
@Suite(.requiresNetworkNamespaces)
struct NamespaceLabTests {
    /// A bound against hangs, not a timing check: long enough for a machine whose test
    /// threads are all busy with simulations for a minute or more.
    static let deadline = Duration.seconds(120)

    /// A multicast group of one address family, and how its datagrams look.
    struct GroupCase: Sendable, CustomTestStringConvertible {
        /// The group address.
        let group: String
        /// The wildcard address a listener of this family binds.
        let wildcard: String
        /// The group and `port` as a `--to` argument.
        let destination: @Sendable (_ port: Int) -> String
        /// The source `host`'s datagrams arrive from, as the listener prints it.
        let source: @Sendable (_ host: NamespaceLab.Host) -> String

        var testDescription: String { group }

        static let ipv4 = GroupCase(
            group: "239.255.77.1", wildcard: "0.0.0.0", destination: { "239.255.77.1:\($0)" }, source: { $0.address })
        static let ipv6 = GroupCase(
            group: "ff02::77", wildcard: "::", destination: { "[ff02::77]:\($0)" }, source: { "[\($0.ipv6LinkLocal)]" })
    }

    /// Starts `starling udp listen` on `host` and waits until it prints `ready`.
    func listen(on host: NamespaceLab.Host, port: Int, bind: String? = nil, joining group: String? = nil)
        async throws -> ChildProcess
    {
        var arguments = ["udp", "listen", "--port", "\(port)", "--timeout", "600"]
        if let bind { arguments += ["--bind", bind] }
        if let group { arguments += ["--join", group, "--interface", host.interface] }
        let listener = try host.namespace.spawn(try StarlingBinary.path(), arguments)
        try await listener.waitForLine(timeout: Self.deadline) { $0 == "ready" }
        return listener
    }

    /// Runs `starling udp send` on `host` and requires it to succeed.
    func send(from host: NamespaceLab.Host, _ arguments: [String]) async throws {
        let result = try await host.namespace.run(
            try StarlingBinary.path(), ["udp", "send"] + arguments, timeout: Self.deadline)
        try #require(result.status == 0, "send \(arguments) failed: \(result.stderr)")
    }

    /// Sends a unicast `stop` to `host`'s IPv4 address (an IPv6 listener, bound
    /// dual-stack, gets it too) and returns the listener's complete output once it exits.
    func stop(_ listener: ChildProcess, on host: NamespaceLab.Host, from sender: NamespaceLab.Host, port: Int)
        async throws -> ProcessResult
    {
        try await send(from: sender, ["--to", "\(host.address):\(port)", "--message", "stop"])
        let result = try await listener.waitForExit(timeout: Self.deadline)
        #expect(result.status == 0, "listener on \(host.name): \(result.stderr)")
        #expect(result.stdout.contains("stopped by a `stop` datagram"), "listener on \(host.name): \(result.stdout)")
        return result
    }

    @Test(arguments: [GroupCase.ipv4, GroupCase.ipv6])
    func namespaceLab_groupDatagram_reachesOnlyJoinedHosts(_ groupCase: GroupCase) async throws {
        try await NamespaceLab.with(hosts: 4) { lab in
            let sender = lab.hosts[0]
            let members = [lab.hosts[1], lab.hosts[2]]
            let outsider = lab.hosts[3]
            let group = groupCase.group
            let port = 47001
            var listeners: [ChildProcess] = []
            for member in members {
                listeners.append(try await listen(on: member, port: port, joining: group))
            }
            // Bound to the same family's wildcard, so only the missing join keeps the group away.
            let outsiderListener = try await listen(on: outsider, port: port, bind: groupCase.wildcard)

            // The bridge snoops IGMP and MLD: wait until it forwards the group to both members.
            try await lab.waitForGroupMembers(group, members)
            #expect(try !lab.groupMemberPorts(group).contains(outsider.bridgePort))

            try await send(
                from: sender,
                ["--to", groupCase.destination(port), "--message", "group-hello", "--interface", "eth0", "--ttl", "1"])
            let expected = "from \(groupCase.source(sender)):"
            for listener in listeners {
                let line = try await listener.waitForLine(timeout: Self.deadline) { $0.hasSuffix(" group-hello") }
                #expect(line.hasPrefix(expected))
            }

            // Both members have the datagram, so the bridge has forwarded it everywhere
            // it was going to; stopping the outsider now shows it never arrived there.
            let outsiderResult = try await stop(outsiderListener, on: outsider, from: sender, port: port)
            #expect(!outsiderResult.stdout.contains("group-hello"), "\(outsiderResult.stdout)")
            #expect(outsiderResult.stdout.contains("done: 1 datagram received"))
            for (listener, member) in zip(listeners, members) {
                let result = try await stop(listener, on: member, from: sender, port: port)
                #expect(result.stdout.contains("done: 2 datagrams received"), "\(result.stdout)")
            }
        }
    }

    /// Listens on every host but the first, runs each `starling udp send` of `sends`
    /// from the first, and checks that every listener received every message once.
    func expectEveryOtherHostReceives(
        _ sends: [(arguments: [String], message: String)], in lab: NamespaceLab, port: Int
    )
        async throws
    {
        let sender = lab.hosts[0]
        let receivers = Array(lab.hosts.dropFirst())
        var listeners: [ChildProcess] = []
        for receiver in receivers {
            listeners.append(try await listen(on: receiver, port: port))
        }
        for send in sends {
            try await self.send(from: sender, send.arguments + ["--message", send.message])
        }
        for (listener, receiver) in zip(listeners, receivers) {
            for send in sends {
                let line = try await listener.waitForLine(timeout: Self.deadline) { $0.hasSuffix(" " + send.message) }
                #expect(line.hasPrefix("from \(sender.address):"))
            }
            let result = try await stop(listener, on: receiver, from: sender, port: port)
            #expect(result.stdout.contains("done: \(sends.count + 1) datagrams received"), "\(result.stdout)")
        }
    }

    @Test func namespaceLab_directedBroadcast_reachesEveryOtherHost() async throws {
        try await NamespaceLab.with(hosts: 4) { lab in
            let port = 47002
            try await expectEveryOtherHostReceives(
                [
                    (["--to", "\(lab.broadcastAddress):\(port)", "--broadcast"], "broadcast-to"),
                    (["--broadcast-interface", lab.hosts[0].interface, "--port", "\(port)"], "broadcast-iface"),
                ],
                in: lab,
                port: port
            )
        }
    }

    @Test func namespaceLab_limitedBroadcast_onNamedInterface_reachesEveryOtherHost() async throws {
        try await NamespaceLab.with(hosts: 3) { lab in
            let port = 47004
            try await expectEveryOtherHostReceives(
                [(["--to", "255.255.255.255:\(port)", "--broadcast", "--interface", "eth0"], "broadcast-limited")],
                in: lab,
                port: port
            )
        }
    }

    @Test func namespaceLab_broadcastWithoutFlag_isRefusedClearly() async throws {
        try await NamespaceLab.with(hosts: 1) { lab in
            let host = lab.hosts[0]
            let result = try await host.namespace.run(
                try StarlingBinary.path(),
                ["udp", "send", "--to", "\(lab.broadcastAddress):47003", "--message", "x"],
                timeout: Self.deadline)
            #expect(result.status == 1)
            #expect(result.stderr.contains("add --broadcast"), "\(result.stderr)")
        }
    }

    @Test func namespaceLab_with_removesEveryNamespace() async throws {
        struct Planned: Error {}
        var names: [String] = []
        await #expect(throws: Planned.self) {
            try await NamespaceLab.with(hosts: 2) { lab in
                names = [lab.bridge.name] + lab.hosts.map(\.name)
                let listed = try NetworkNamespace.existingNames()
                #expect(names.allSatisfy(listed.contains))
                throw Planned()
            }
        }
        #expect(names.count == 3)
        let listed = try NetworkNamespace.existingNames()
        #expect(names.allSatisfy { !listed.contains($0) }, "left behind: \(listed)")
    }
}
