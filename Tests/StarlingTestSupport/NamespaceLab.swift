import Foundation

/// A LAN of several namespaced hosts joined by one IGMP-snooping bridge.
///
/// ### Purpose
/// Group tests need more than one host: a datagram sent to a multicast group
/// must reach the members and not the others. The lab builds that LAN on one
/// machine, entirely inside namespaces it creates:
///
/// ```
///  host 0 (eth0 192.0.2.10/24, fe80::10) ─ veth ─┐
///  host 1 (eth0 192.0.2.11/24, fe80::11) ─ veth ─┤ br0 (own namespace: IGMPv3 querier
///  …                                              │      + IGMP/MLD snooping)
///  host n (eth0 192.0.2.(10+n)/24, fe80::(10+n)) ─┘
/// ```
///
/// IPv4 addresses come from 192.0.2.0/24 (TEST-NET-1, RFC 5737) and exist only
/// inside the lab. Each host's IPv6 link-local address is fixed and usable at
/// once (no duplicate address detection), so IPv6 multicast tests need not wait
/// for one. Each host has `lo` up. Everything is deleted when the body
/// returns or throws; deleting a namespace removes the veth ends inside it.
///
/// ### Usage
/// ```swift
/// try await NamespaceLab.with(hosts: 4) { lab in
///     let listener = try lab.hosts[1].namespace.spawn(binary, ["udp", "listen", …])
///     try await lab.waitForGroupMembers("239.255.77.1", [lab.hosts[1]])
/// }
/// ```
///
/// - Warning: Snooping bridges learn joins from IGMP reports, which travel
///   asynchronously; before sending to a group, wait for the members with
///   ``waitForGroupMembers(_:_:timeout:)`` instead of sleeping.
public struct NamespaceLab: Sendable {
    /// One host of the lab.
    public struct Host: Sendable {
        /// Its position in ``NamespaceLab/hosts``.
        public let index: Int
        /// The namespace that is the host.
        public let namespace: NetworkNamespace
        /// Its IPv4 address on the lab LAN, for example `192.0.2.10`.
        public let address: String
        /// Its IPv6 link-local address on the lab LAN, for example `fe80::10`.
        public let ipv6LinkLocal: String
        /// Its LAN interface's name inside its namespace.
        public let interface: String
        /// The name of the bridge port (the veth end in the bridge namespace) it is plugged into.
        public let bridgePort: String

        /// The host namespace's name.
        public var name: String { namespace.name }
    }

    /// The most hosts a lab holds (addresses 192.0.2.10 to 192.0.2.254).
    public static let maximumHosts = 245

    /// The lab's subnet prefix length.
    public static let prefixLength = 24

    /// The subnet's directed broadcast address.
    public let broadcastAddress = "192.0.2.255"

    /// The bridge's name inside ``bridge``.
    public let bridgeName = "br0"

    /// The namespace holding the bridge.
    public let bridge: NetworkNamespace

    /// The hosts, in order.
    public let hosts: [Host]

    /// Builds a lab of `count` hosts, runs `body`, and removes the lab even when `body` throws.
    ///
    /// - Parameters:
    ///   - count: the number of hosts, 1 to ``maximumHosts``.
    ///   - body: the test code.
    /// - Returns: what `body` returns.
    /// - Throws: ``NamespaceError`` when the lab cannot be built, or what `body` throws.
    @discardableResult
    public static func with<Result>(
        hosts count: Int,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (NamespaceLab) async throws -> Result
    ) async throws -> Result {
        guard (1...maximumHosts).contains(count) else { throw NamespaceError.badHostCount(count) }
        // The `ip` commands block: off the cooperative pool, so other tests run meanwhile.
        let lab = try await onOwnThread { try build(hosts: count) }
        let result: Swift.Result<Result, any Error>
        do {
            result = .success(try await body(lab))
        } catch {
            result = .failure(error)
        }
        _ = try? await onOwnThread { lab.destroy() }
        return try result.get()
    }

    /// Builds the bridge and `count` hosts; on failure removes what it made.
    private static func build(hosts count: Int) throws -> NamespaceLab {
        var created: [NetworkNamespace] = []
        do {
            let bridge = try NetworkNamespace.create(role: "br")
            created.append(bridge)
            try bridge.setUpLoopback(multicast: false)
            try bridge.ip([
                "link", "add", "br0", "type", "bridge",
                "mcast_snooping", "1", "mcast_querier", "1", "mcast_igmp_version", "3",
                // Query every second (values in centiseconds): a host whose unsolicited
                // join report was lost, as happens on a busy machine, is learned from its
                // answer to the next query instead of after the default 125 s.
                "mcast_query_interval", "100", "mcast_query_response_interval", "50",
                "mcast_startup_query_interval", "50", "mcast_startup_query_count", "4",
            ])
            try bridge.ip(["link", "set", "br0", "up"])

            var hosts: [Host] = []
            for index in 0..<count {
                let namespace = try NetworkNamespace.create(role: "h\(index)")
                created.append(namespace)
                let host = Host(
                    index: index,
                    namespace: namespace,
                    address: "192.0.2.\(10 + index)",
                    ipv6LinkLocal: "fe80::\(10 + index)",
                    interface: "eth0",
                    bridgePort: "h\(index)"
                )
                try plug(host, into: bridge)
                hosts.append(host)
            }
            return NamespaceLab(bridge: bridge, hosts: hosts)
        } catch {
            for namespace in created.reversed() { namespace.destroy() }
            throw error
        }
    }

    /// Removes the hosts, then the bridge.
    private func destroy() {
        for host in hosts.reversed() { host.namespace.destroy() }
        bridge.destroy()
    }

    /// Creates the host's veth pair, enslaves the bridge end and addresses the host end.
    private static func plug(_ host: Host, into bridge: NetworkNamespace) throws {
        try host.namespace.setUpLoopback(multicast: false)
        try bridge.plug(host.namespace, as: host.interface, intoBridge: "br0", port: host.bridgePort)
        try host.namespace.ip([
            "addr", "add", "\(host.address)/\(prefixLength)", "brd", "+", "dev", host.interface,
        ])
        // A fixed link-local address instead of a generated one that waits for DAD.
        try host.namespace.ip(["link", "set", host.interface, "addrgenmode", "none"])
        try host.namespace.ip(["addr", "add", "\(host.ipv6LinkLocal)/64", "dev", host.interface, "nodad"])
        try host.namespace.ip(["link", "set", host.interface, "up"])
    }

    /// The bridge ports that the bridge currently forwards `group` to, from its multicast database.
    ///
    /// - Parameter group: a multicast group address, for example `239.255.77.1`.
    /// - Returns: the names of the member ports (see ``Host/bridgePort``).
    /// - Throws: when `bridge mdb show` fails or prints something unexpected.
    public func groupMemberPorts(_ group: String) throws -> Set<String> {
        let json = try SystemTool.bridge.run(["-netns", bridge.name, "-j", "mdb", "show"])
        let entries = try JSONDecoder().decode([MulticastDatabase].self, from: Data(json.utf8))
        return Set(entries.flatMap(\.mdb).filter { $0.grp == group }.map(\.port))
    }

    /// Waits until the bridge has learned that each of `members` joined `group`.
    ///
    /// Polls the bridge's multicast database (every 20 ms) until every member's
    /// port is listed, so that a datagram sent next is forwarded to all of them.
    /// - Parameters:
    ///   - group: the multicast group address.
    ///   - members: the hosts that joined.
    ///   - timeout: the deadline.
    /// - Throws: ``LabTimeout`` naming the missing ports when the deadline passes.
    public func waitForGroupMembers(
        _ group: String,
        _ members: [Host],
        timeout: Duration = .seconds(10)
    ) async throws {
        let wanted = Set(members.map(\.bridgePort))
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var learned: Set<String> = []
        while true {
            learned = try groupMemberPorts(group)
            if wanted.isSubset(of: learned) { return }
            // Checked after the poll: a task that slept past the deadline (the test
            // runner's threads may all be busy) still looks once more before failing.
            guard clock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw LabTimeout(
            description: "the bridge did not learn the members of \(group) within \(timeout): "
                + "wanted ports \(wanted.sorted()), learned \(learned.sorted())"
        )
    }

    /// A lab condition that did not come true before its deadline.
    public struct LabTimeout: Error, CustomStringConvertible {
        /// What was awaited and what was seen.
        public let description: String
    }

    /// One element of `bridge -j mdb show`.
    private struct MulticastDatabase: Decodable {
        struct Entry: Decodable {
            let port: String
            let grp: String
        }
        let mdb: [Entry]
    }
}
