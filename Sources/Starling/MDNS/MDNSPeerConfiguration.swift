/// How a ``Peer`` uses mDNS/DNS-SD (``PeerConfiguration/mdns``): advertise itself as
/// `_starling._udp.local` and join the peers of its swarm it finds there.
///
/// ### Purpose
/// The peer advertises an instance (SRV with its UDP port, TXT `id=`, `swarm=`, `v=1`,
/// the host's A/AAAA on each interface) and browses `_starling._udp`; every resolved
/// instance whose TXT names the peer's own swarm ID (and another peer ID) is joined into
/// the overlay through its addresses of the listen address's family (IPv6 link-local
/// ones left out: they need a scope). Nothing is multicast unless this is set, on the
/// interfaces it names.
///
/// ### Usage
/// ```swift
/// var configuration = PeerConfiguration()
/// configuration.overlay = .lan
/// configuration.mdns = MDNSPeerConfiguration(interfaces: ["enp3s0"])
/// let peer = try await Peer.start(configuration)
/// ```
public struct MDNSPeerConfiguration: Sendable {
    /// The interfaces, families and host name mDNS runs with.
    public var discovery: MDNSDiscoveryConfiguration
    /// Whether to advertise this peer. Off, the peer only finds others (and others find
    /// it only if it joins them).
    public var advertise = true
    /// Whether to browse `_starling._udp` and join the peers of this swarm. Off, the peer
    /// is only found.
    public var join = true
    /// The advertised instance name; `nil` takes ``MDNSStarlingPeer/defaultInstance(for:)``.
    /// Renamed `Name (2)` on a conflict.
    public var instance: String?

    /// Creates a configuration for `interfaces`, advertising and joining.
    ///
    /// - Parameter interfaces: the network interfaces' names.
    public init(interfaces: [String]) {
        discovery = MDNSDiscoveryConfiguration(interfaces: interfaces)
    }
}
