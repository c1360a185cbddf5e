/// Which interfaces and address families ``MDNSSockets`` runs mDNS on.
///
/// ### Purpose
/// mDNS is off unless a caller builds one of these: there is no default interface,
/// because joining `224.0.0.251` or `ff02::fb` on the wrong interface answers and
/// queries on a network the user did not mean. Every interface is named explicitly.
///
/// ### Usage
/// ```swift
/// let configuration = MDNSSocketsConfiguration(interfaces: ["enp3s0", "wlp2s0"])
/// let sockets = try await MDNSSockets.open(configuration) { datagram in … }
/// ```
public struct MDNSSocketsConfiguration: Sendable {
    /// The names of the interfaces to run mDNS on, for example `["enp3s0"]`. Each must
    /// exist and have the MULTICAST flag; each costs one socket per family. Must not be
    /// empty or name an interface twice.
    public var interfaces: [String]

    /// The address families to open on every interface. Each interface needs an address
    /// of each family chosen (IPv4 for `224.0.0.251`, any IPv6 address, link-local
    /// included, for `ff02::fb`); drop a family for interfaces that lack it.
    public var families: Set<MDNSFamily> = [.ipv4, .ipv6]

    /// Whether multicast this host sends comes back to its own mDNS sockets (this process's
    /// and every other responder's on the host, such as avahi-daemon). On, as RFC 6762
    /// needs: local responders must see each other's probes and answers; the core then
    /// recognises and drops its own. Off hides this host's other responders.
    public var multicastLoopback = true

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

    /// Checks what can be checked without the network: at least one interface, none
    /// twice, at least one family.
    /// - Throws: ``MDNSSocketsError/noInterface``, ``MDNSSocketsError/duplicateInterface(_:)``
    ///   or ``MDNSSocketsError/noFamily``.
    public func validate() throws(MDNSSocketsError) {
        guard !interfaces.isEmpty, !interfaces.contains("") else { throw .noInterface }
        var seen: Set<String> = []
        for name in interfaces where !seen.insert(name).inserted {
            throw .duplicateInterface(name)
        }
        guard !families.isEmpty else { throw .noFamily }
    }
}
