public import Logging
public import StarlingCore

/// Where and how an ``MDNSDiscovery`` runs mDNS and DNS-SD: the interfaces, the
/// address families, the host name, and the cores' settings.
///
/// ### Purpose
/// mDNS is off unless a caller builds one of these: there is no default interface,
/// because answering and querying on the wrong interface reaches a network the user
/// did not mean. Every interface is named explicitly; each runs its own responder and
/// browser.
///
/// ### Usage
/// ```swift
/// var configuration = MDNSDiscoveryConfiguration(interfaces: ["enp3s0"])
/// configuration.hostName = "kitchen-pi"
/// let discovery = try MDNSDiscovery(configuration: configuration)
/// ```
public struct MDNSDiscoveryConfiguration: Sendable {
    /// The names of the interfaces to run mDNS on, for example `["enp3s0"]`. Each must
    /// exist, have the MULTICAST flag and an address of a chosen family; each costs one
    /// socket per family and one responder and browser. Must not be empty or name an
    /// interface twice.
    public var interfaces: [String]

    /// The address families to use. An interface without an address of one of them runs
    /// on the others only (its records and queries are trimmed to the families it has);
    /// an interface with none of them is refused. Default: IPv4 and IPv6.
    public var families: Set<MDNSFamily> = [.ipv4, .ipv6]

    /// The host label to own as `<hostName>.local` (the target of every advertised SRV
    /// record, with the interface's A/AAAA records). `nil` takes the system's host name
    /// (its first label). A conflict on the link renames it `host-2`, `host-3`…
    public var hostName: String?

    /// The browser's settings (cache sizes, query interval); its
    /// `MDNSBrowserConfiguration.destinations` are ignored: each interface
    /// queries the groups of the families it has.
    public var browser = MDNSBrowserConfiguration()

    /// Unsolicited announcements after winning a name, 1 s apart (RFC 6762 §8.3: 2 to
    /// 8). More reach browsers through loss, at the cost of traffic. Default 2.
    public var announceCount = 2

    /// Whether this host's own multicast comes back to its mDNS sockets. On, as RFC 6762
    /// needs: other responders on this host (avahi-daemon) must hear this one's probes,
    /// and a browser of this process finds the services this process advertises.
    public var multicastLoopback = true

    /// How often the interfaces' addresses are read again, to publish changed A/AAAA
    /// records (DHCP renewals, new IPv6 addresses) and to notice an interface that went
    /// away or came back. Shorter follows changes sooner at the cost of one interface
    /// listing per period; `nil` never checks (call ``MDNSDiscovery/refreshInterfaces()``).
    /// Default 5 s.
    public var interfaceCheckInterval: Duration? = .seconds(5)

    /// Where mDNS logs: names won and renamed at `info`; withdrawals, services found and
    /// lost, and every class of dropped packet (by reason, as they happen) at `debug`.
    /// A ``Peer`` running mDNS uses its own ``PeerConfiguration/logger`` instead.
    /// Default: discards everything.
    public var logger = Logger.discarding

    /// The network namespace (a name under `/var/run/netns`) to look the interfaces up
    /// and open the sockets in, instead of the caller's; Linux only, needs
    /// `CAP_SYS_ADMIN`. For tests that run several hosts in one process.
    package var networkNamespace: String?

    /// Creates a configuration for `interfaces`, both address families.
    ///
    /// - Parameter interfaces: the network interfaces' names.
    public init(interfaces: [String]) {
        self.interfaces = interfaces
    }

    /// Checks what can be checked without the network.
    /// - Throws: ``MDNSDiscoveryError/noInterface``,
    ///   ``MDNSDiscoveryError/duplicateInterface(_:)``, ``MDNSDiscoveryError/noFamily``,
    ///   ``MDNSDiscoveryError/invalidHostName(_:)`` or
    ///   ``MDNSDiscoveryError/invalidConfiguration(_:)``.
    public func validate() throws(MDNSDiscoveryError) {
        guard !interfaces.isEmpty, !interfaces.contains("") else { throw .noInterface }
        var seen: Set<String> = []
        for name in interfaces where !seen.insert(name).inserted {
            throw .duplicateInterface(name)
        }
        guard !families.isEmpty else { throw .noFamily }
        if let hostName {
            do throws(MDNSResponderConfiguration.ValidationError) {
                try MDNSResponderConfiguration(hostName: hostName, addresses: []).validate()
            } catch {
                throw .invalidHostName(hostName)
            }
        }
        var responder = MDNSResponderConfiguration(hostName: "check", addresses: [])
        responder.announceCount = announceCount
        do throws(MDNSResponderConfiguration.ValidationError) {
            try responder.validate()
        } catch {
            throw .invalidConfiguration("announceCount must be 2 to 8, not \(announceCount)")
        }
        do throws(MDNSBrowserConfiguration.ValidationError) {
            try browser.validate()
        } catch {
            throw .invalidConfiguration("browser: \(error)")
        }
        if let interfaceCheckInterval, interfaceCheckInterval < .milliseconds(100) {
            throw .invalidConfiguration("interfaceCheckInterval must be at least 100 ms")
        }
    }
}
