public import Logging
public import StarlingCore

/// How a ``LANDiscovery`` finds peers on one local network: the interface, the
/// transports, the port, and the discovery core's settings.
///
/// ### Purpose
/// LAN discovery is off unless a caller builds one of these: there is no default
/// interface, because a multicast join or a broadcast on the wrong interface sends
/// traffic onto a network the user did not mean. The interface is named explicitly, and
/// at least one transport must be chosen.
///
/// ### Usage
/// ```swift
/// var configuration = LANDiscoveryConfiguration(interface: "enp3s0", transports: [.ipv4Multicast, .broadcast])
/// configuration.core.swarmSecret = secret
/// ```
public struct LANDiscoveryConfiguration: Sendable {
    /// One way beacons travel on the LAN.
    public enum Transport: String, Hashable, Sendable, CaseIterable {
        /// To ``LANDiscoveryConfiguration/ipv4Group``, joined on the interface (IGMP).
        case ipv4Multicast
        /// To ``LANDiscoveryConfiguration/ipv6Group``, joined on the interface (MLD).
        case ipv6Multicast
        /// To the directed broadcast address of the interface's first IPv4 subnet
        /// (for example `192.168.1.255`); for networks whose switches drop multicast.
        case broadcast
        /// To the limited broadcast `255.255.255.255`, with the socket bound to the named
        /// interface (`SO_BINDTODEVICE`) so that it goes out on that link only; for links
        /// whose hosts have no common subnet yet.
        case limitedBroadcast
    }

    /// The name of the network interface to discover on, for example `enp3s0`. Required:
    /// Starling never picks one itself.
    public var interface: String

    /// The transports to use; each costs one datagram per beacon. Must not be empty.
    public var transports: Set<Transport>

    /// The UDP port beacons are sent to and received on, on every transport. Every peer of
    /// one LAN must use the same port.
    public var port: UInt16 = DiscoveryConstants.defaultPort

    /// The IPv4 group for ``Transport/ipv4Multicast``; organisation-local scope by default,
    /// so routers at the site's edge never forward it.
    public var ipv4Group: PeerAddress.Host = DiscoveryConstants.defaultIPv4Group.host

    /// The IPv6 group for ``Transport/ipv6Multicast``; link-local scope (`ff02::`) by
    /// default, so it never leaves the link whatever the hop limit.
    public var ipv6Group: PeerAddress.Host = DiscoveryConstants.defaultIPv6Group.host

    /// How many routers a multicast beacon may cross (IPv4 TTL, IPv6 hop limit). The
    /// default, 1, keeps beacons on the local link; higher reaches further subnets where
    /// routers forward multicast, and more hosts that did not ask for it.
    public var multicastHopLimit: UInt8 = 1

    /// Whether multicast beacons come back to this host's own sockets. On (the kernel's
    /// default), several processes on one host find each other; each process then reads
    /// and drops its own beacons.
    public var multicastLoopback = true

    /// Sets `SO_REUSEADDR`, so several processes on one host can bind the discovery port.
    /// Off makes a second process on the port fail to start instead.
    public var reuseAddress = true

    /// The discovery core's settings: swarm ID and secret, beacon interval, rate limits and
    /// table sizes. Its `DiscoveryConfiguration.destinations` are ignored:
    /// ``LANDiscovery`` derives them from ``transports``.
    public var core: DiscoveryConfiguration = .lan

    /// Lifetime of the records ``LANDiscovery`` signs for an identity. Shorter makes a
    /// vanished peer's record expire sooner in other peers' tables; each renewal (at half
    /// the lifetime) costs one signature and one extra beacon.
    public var recordLifetime: Duration = .seconds(3_600)

    /// Where discovery logs: its start at `info`; peers discovered and expired, and the
    /// datagrams it drops (by reason, once a second), at `debug`. A ``Peer`` running
    /// discovery uses its own ``PeerConfiguration/logger`` instead. Default: discards
    /// everything.
    public var logger = Logger.discarding

    /// The network namespace (a name under `/var/run/netns`) to look the interface up and
    /// open the sockets in, instead of the caller's; Linux only, needs `CAP_SYS_ADMIN`.
    /// For tests that run several hosts in one process.
    package var networkNamespace: String?

    /// Creates a configuration for `interface` with `transports`.
    ///
    /// - Parameters:
    ///   - interface: the network interface's name.
    ///   - transports: how beacons travel.
    public init(interface: String, transports: Set<Transport>) {
        self.interface = interface
        self.transports = transports
    }

    /// Checks what can be checked without the network: an interface name, a transport,
    /// groups of the right kind, and the core's settings.
    /// - Throws: ``LANDiscoveryError``.
    public func validate() throws(LANDiscoveryError) {
        guard !interface.isEmpty else { throw .noInterface }
        guard !transports.isEmpty else { throw .noTransport }
        guard case .ipv4(let v4) = ipv4Group, v4 >> 28 == 0xE else {
            throw .invalidGroup("\(ipv4Group) is not an IPv4 multicast group (224.0.0.0/4)")
        }
        guard case .ipv6(let high, _) = ipv6Group, high >> 56 == 0xFF else {
            throw .invalidGroup("\(ipv6Group) is not an IPv6 multicast group (ff00::/8)")
        }
        guard port != 0 else { throw .invalidConfiguration("the port must not be 0") }
        guard recordLifetime > .seconds(1), recordLifetime <= RecordConstants.maximumLifetime else {
            throw .invalidConfiguration("recordLifetime must be over 1 s and at most 30 days")
        }
        do {
            try core.validate()
        } catch {
            throw .invalidConfiguration(error.description)
        }
    }
}
