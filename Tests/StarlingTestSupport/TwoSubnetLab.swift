import Foundation

/// Two subnets joined by a router namespace that does not forward between them, or
/// forwards only unicast between them.
///
/// ### Purpose
/// Peers that cannot reach each other directly must still find and reach each other
/// through the peers that reach both (super-peers relaying for their leaves). The lab
/// builds exactly that, inside namespaces it creates:
///
/// ```
///  a0 (192.0.2.10/24)    ─ veth ─┐                    ┌─ veth ─ b0 (198.51.100.10/24)
///  a1 (192.0.2.11/24)    ─ veth ─┤ br-a  router  br-b ├─ veth ─ b1 (198.51.100.11/24)
///  …                             │ 192.0.2.1          │         …
///                                └ 198.51.100.1, forwarding off ┘
/// ```
///
/// Each host's default route points at the router, so every host reaches the router's
/// two addresses (the router delivers them locally, which needs no forwarding), while a
/// datagram from one subnet to the other is dropped at the router. Addresses come from
/// TEST-NET-1 and TEST-NET-2 (RFC 5737) and exist only inside the lab; the lab sends no
/// multicast or broadcast of its own. Everything is deleted when the body returns or
/// throws.
///
/// With `forwardsUnicast`, the router forwards IPv4 unicast between the subnets
/// (`net.ipv4.ip_forward=1` in its namespace), so every host reaches every other, while
/// IP multicast still stays on the subnet it was sent on: Linux routes multicast only
/// when a multicast routing daemon has installed routes (`MRT_INIT`, as `smcroute` or
/// `pimd` do), and the lab runs none. The bridges do no IGMP snooping, so a multicast
/// datagram reaches every host of its own subnet, as on a plain switch; TTL 1 (the
/// sender's choice) would keep it there even behind a multicast router.
public struct TwoSubnetLab: Sendable {
    /// One host of a subnet.
    public struct Host: Sendable {
        /// The namespace that is the host.
        public let namespace: NetworkNamespace
        /// Its IPv4 address, for example `192.0.2.10`.
        public let address: String

        /// The host namespace's name.
        public var name: String { namespace.name }
    }

    /// The most hosts per subnet (addresses .10 to .254).
    public static let maximumHostsPerSubnet = 245

    /// The router: it holds both subnets' gateway addresses, and forwards nothing or
    /// (``with(hostsPerSubnet:forwardsUnicast:isolation:_:)``) IPv4 unicast only.
    public let router: NetworkNamespace
    /// The router's address on subnet A.
    public let routerAddressA = "192.0.2.1"
    /// The router's address on subnet B.
    public let routerAddressB = "198.51.100.1"
    /// The hosts of subnet A (192.0.2.0/24), in order.
    public let subnetA: [Host]
    /// The hosts of subnet B (198.51.100.0/24), in order.
    public let subnetB: [Host]
    /// Whether the router forwards IPv4 unicast between the subnets.
    public let forwardsUnicast: Bool

    /// Builds a lab with `count` hosts on each subnet, runs `body`, and removes the lab
    /// even when `body` throws.
    ///
    /// - Parameters:
    ///   - count: hosts per subnet, 1 to ``maximumHostsPerSubnet``.
    ///   - forwardsUnicast: whether the router forwards IPv4 unicast between the subnets
    ///     (never multicast); default false, the subnets cannot reach each other.
    ///   - body: the test code.
    /// - Throws: ``NamespaceError`` when the lab cannot be built, or what `body` throws.
    @discardableResult
    public static func with<Result>(
        hostsPerSubnet count: Int,
        forwardsUnicast: Bool = false,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (TwoSubnetLab) async throws -> Result
    ) async throws -> Result {
        guard (1...maximumHostsPerSubnet).contains(count) else { throw NamespaceError.badHostCount(count) }
        var created: [NetworkNamespace] = []
        defer { for namespace in created.reversed() { namespace.destroy() } }

        let router = try NetworkNamespace.create(role: "rt")
        created.append(router)
        try router.setUpLoopback(multicast: false)
        // A new namespace may inherit forwarding from the machine's own: set it either way.
        // (`sh`, not `sysctl`: procps may be missing on a minimal machine.) Multicast is
        // never forwarded: that needs a multicast routing daemon, which the lab lacks.
        try SystemTool.ip.run([
            "netns", "exec", router.name, "/bin/sh", "-c",
            "echo \(forwardsUnicast ? 1 : 0) > /proc/sys/net/ipv4/ip_forward",
        ])
        var subnets: [[Host]] = []
        for (bridge, prefix, gateway) in [("br-a", "192.0.2", "192.0.2.1"), ("br-b", "198.51.100", "198.51.100.1")] {
            // No IGMP snooping: multicast floods the subnet, as on a plain switch.
            try router.ip(["link", "add", bridge, "type", "bridge", "mcast_snooping", "0"])
            try router.ip(["addr", "add", "\(gateway)/24", "dev", bridge])
            try router.ip(["link", "set", bridge, "up"])
            var hosts: [Host] = []
            for index in 0..<count {
                let namespace = try NetworkNamespace.create(role: "\(bridge.last!)\(index)")
                created.append(namespace)
                let host = Host(namespace: namespace, address: "\(prefix).\(10 + index)")
                try namespace.setUpLoopback(multicast: false)
                try router.plug(namespace, as: "eth0", intoBridge: bridge, port: "\(bridge.last!)\(index)")
                try namespace.ip(["addr", "add", "\(host.address)/24", "dev", "eth0"])
                try namespace.ip(["link", "set", "eth0", "up"])
                try namespace.ip(["route", "add", "default", "via", gateway])
                hosts.append(host)
            }
            subnets.append(hosts)
        }
        return try await body(
            TwoSubnetLab(router: router, subnetA: subnets[0], subnetB: subnets[1], forwardsUnicast: forwardsUnicast))
    }
}
