public import CoreMetrics
public import Logging
public import StarlingCore
public import StarlingIO

/// How a ``Peer`` is set up: where it listens, who it is, which swarm it joins.
///
/// The defaults make a peer that listens on 127.0.0.1 with a port the system picks, has
/// a fresh identity, and joins the open swarm (all-zero swarm ID, no secret): good for
/// peers on one machine. Set ``swarmSecret`` to make a private swarm: peers with a
/// different secret (or none) then complete no handshake with this one.
public struct PeerConfiguration: Sendable {
    /// The UDP address to bind. Port 0 lets the system pick one; read the result from
    /// ``Peer/address``. Default 127.0.0.1, port 0.
    public var listenAddress: PeerAddress = .ipv4(127, 0, 0, 1, port: 0)
    /// The peer's identity; `nil` (the default) makes a fresh one.
    public var identity: IdentityKeyPair?
    /// Session settings: swarm ID, swarm secret, handshake rate limits and table sizes.
    /// Default `SessionConfiguration.local`.
    public var session: SessionConfiguration = .local
    /// Socket settings: vector read size, socket buffers, GSO/GRO.
    public var datagrams: DatagramOptions = .standard
    /// How long ``Peer/connect(to:expecting:timeout:)`` waits by default, and how long
    /// a TCP stream to a peer may take to connect.
    public var connectTimeout: Duration = .seconds(10)
    /// The largest message, request or response carried over a TCP stream, in bytes
    /// (default 16 MiB). A peer refuses a larger one from the other side with a typed error.
    public var maximumMessageSize = StreamConstants.defaultMaximumMessageSize
    /// The TCP listener's accept backlog.
    public var streamBacklog: Int32 = 256
    /// How many events of each kind ``Peer/events`` holds for a slow reader before it
    /// drops (and counts) further ones of that kind; see ``Peer/EventLimits`` for the
    /// defaults and the policy of each kind.
    public var eventLimits = Peer.EventLimits()
    /// Datagram and broadcast events held for a slow reader of ``Peer/events`` before
    /// further ones are dropped (and counted): ``eventLimits``' `datagrams`, and setting
    /// it sets both its `datagrams` and `broadcasts`. Default 65,536.
    public var eventBufferSize: Int {
        get { eventLimits.datagrams }
        set {
            eventLimits.datagrams = newValue
            eventLimits.broadcasts = newValue
        }
    }
    /// Where drop counters are reported (every second, on ``Peer/drops()`` and at
    /// shutdown); `nil` (the default) uses the process-wide `MetricsSystem.factory`.
    public var metricsFactory: (any MetricsFactory)?
    /// Where the peer logs (swift-log), with its ID as `starling.peer` metadata and the
    /// other peer, where there is one, as `starling.remote`. At `info` a peer in steady
    /// state is quiet: it logs its start and shutdown, a member that failed, a change of
    /// role or of index servers. `debug` adds sessions, membership changes and every
    /// class of dropped datagram (by layer and reason, counted once a second). Its LAN
    /// discovery and mDNS log here too. Default: a logger that discards everything.
    public var logger = Logger.discarding

    /// The overlay this peer takes part in (membership, routing, gossip), or `nil` (the
    /// default) for none. Its swarm ID and secret are always the session's
    /// (``swarmID``, ``swarmSecret``): leave its own at their defaults (all-zero ID, no
    /// secret) or equal to those, since ``validate()`` refuses any other.
    public var overlay: OverlayConfiguration?
    /// The overlay's shape: `Topology.pure` (all peers equal),
    /// `Topology.hybrid(_:)` (index servers answer lookups) or `Topology.superPeer(_:)`
    /// (elected super-peers serve their leaves), the one switch between them; every call
    /// behaves the same in all three. It is ``overlay``'s
    /// `OverlayConfiguration.topology`; setting it without an overlay
    /// enables one with the `OverlayConfiguration.local` settings.
    public var topology: Topology {
        get { overlay?.topology ?? .pure }
        set {
            var configured = overlay ?? .local
            configured.topology = newValue
            overlay = configured
        }
    }
    /// Overlay members to join through at start (their addresses); empty to start a
    /// swarm, or to join later with ``Peer/join(_:)``. Ignored without ``overlay``.
    public var seeds: [PeerAddress] = []
    /// LAN discovery (multicast and/or broadcast beacons on one chosen interface), or
    /// `nil` (the default): nothing is multicast or broadcast unless set. Every peer it
    /// discovers is joined into the overlay, so it needs ``overlay``, and a
    /// ``listenAddress`` on that interface (the address the beacons advertise).
    public var lanDiscovery: LANDiscoveryConfiguration?
    /// mDNS/DNS-SD on the interfaces it names, or `nil` (the default): nothing is
    /// multicast unless set. Advertises this peer as `_starling._udp.local` and joins every
    /// peer of the same swarm found there into the overlay, so it needs ``overlay``, and a
    /// ``listenAddress`` other hosts can reach (not loopback; the unspecified address is
    /// fine: the advertised addresses are the interfaces').
    public var mdns: MDNSPeerConfiguration?
    /// LAN acceleration of overlay multicast groups (one IP multicast datagram per
    /// message for the members on this peer's LAN segment), or `nil` (the default):
    /// nothing is multicast unless set. Needs ``overlay``, and a ``listenAddress`` on
    /// the configuration's interface (the multicast's source, which receivers check).
    public var groupLAN: GroupLANConfiguration?
    /// The network namespace (a name under `/var/run/netns`) to open the UDP socket and
    /// the LAN group channel's socket in, instead of the caller's; Linux only, needs
    /// `CAP_SYS_ADMIN`, and ``acceptsStreams`` off (the TCP listener is not moved). For
    /// tests that run several hosts in one process.
    package var networkNamespace: String?
    /// Whether the peer opens its TCP listener at start (the default). Without it the
    /// peer uses one file descriptor, makes outgoing streams, and refuses incoming
    /// ones; a ``Swarm`` of thousands of peers turns it off to stay within the
    /// open-file limit.
    public var acceptsStreams = true

    /// A 32-byte shared secret that makes the swarm private (the Noise psk).
    public var swarmSecret: [UInt8]? {
        get { session.swarmSecret }
        set { session.swarmSecret = newValue }
    }

    /// The 32-byte swarm ID bound into every handshake.
    public var swarmID: [UInt8] {
        get { session.swarmID }
        set { session.swarmID = newValue }
    }

    /// The default configuration.
    public init() {}

    /// Checks every setting.
    ///
    /// A swarm ID or secret set in ``overlay`` that differs from the peer's own
    /// (``swarmID``, ``swarmSecret``) is refused rather than ignored: the overlay always
    /// runs in the peer's swarm.
    /// - Throws: ``PeerError/invalidConfiguration(_:)`` naming the first bad setting.
    public func validate() throws(PeerError) {
        do {
            try session.validate()
        } catch {
            throw .invalidConfiguration(error.description)
        }
        guard connectTimeout > .zero else { throw .invalidConfiguration("connectTimeout must be positive") }
        guard maximumMessageSize > RPCConstants.maximumMessageSize else {
            throw .invalidConfiguration(
                "maximumMessageSize must exceed one datagram (\(RPCConstants.maximumMessageSize))")
        }
        guard streamBacklog > 0 else { throw .invalidConfiguration("streamBacklog must be positive") }
        try eventLimits.validate()
        guard datagrams.vectorReadCount > 0 else {
            throw .invalidConfiguration("datagrams.vectorReadCount must be positive")
        }
        guard datagrams.socketBufferSize > 0 else {
            throw .invalidConfiguration("datagrams.socketBufferSize must be positive")
        }
        if let lanDiscovery {
            guard overlay != nil else { throw .invalidConfiguration("lanDiscovery needs an overlay") }
            guard !listenAddress.isLoopback, !listenAddress.isUnspecified else {
                throw .invalidConfiguration(
                    "lanDiscovery advertises the listen address, so it must be an address on \(lanDiscovery.interface), "
                        + "not \(listenAddress)")
            }
        }
        if let mdns {
            guard overlay != nil else { throw .invalidConfiguration("mdns needs an overlay") }
            guard !listenAddress.isLoopback else {
                throw .invalidConfiguration(
                    "mdns advertises the listen address's port on \(mdns.discovery.interfaces.joined(separator: ", ")), "
                        + "so it must not be a loopback address (\(listenAddress))")
            }
            do throws(MDNSDiscoveryError) {
                try mdns.discovery.validate()
            } catch {
                throw .invalidConfiguration("mdns: \(error)")
            }
        }
        if let groupLAN {
            try groupLAN.validate()
            guard overlay != nil else { throw .invalidConfiguration("groupLAN needs an overlay") }
            guard !listenAddress.isLoopback, !listenAddress.isUnspecified else {
                throw .invalidConfiguration(
                    "groupLAN multicasts from the listen address, so it must be an address on \(groupLAN.interface), "
                        + "not \(listenAddress)")
            }
            guard listenAddress.isIPv4 == groupLAN.channel.isIPv4 else {
                throw .invalidConfiguration(
                    "groupLAN: the channel \(groupLAN.channel) and the listen address \(listenAddress) "
                        + "must be of one address family")
            }
        }
        if networkNamespace != nil, acceptsStreams {
            throw .invalidConfiguration("networkNamespace needs acceptsStreams off")
        }
        if let overlay {
            try checkSwarm(of: overlay)
        }
        if let overlay = effectiveOverlay {
            do {
                try overlay.validate()
            } catch {
                throw .invalidConfiguration("overlay: \(error)")
            }
        }
    }
}

extension PeerConfiguration {
    /// Refuses a swarm ID or secret in `overlay` that is set (not its default) and
    /// differs from the peer's.
    /// - Throws: ``PeerError/invalidConfiguration(_:)`` saying which and where to set it.
    func checkSwarm(of overlay: OverlayConfiguration) throws(PeerError) {
        let unset = OverlayConfiguration()
        if overlay.swarmID != unset.swarmID && overlay.swarmID != swarmID {
            throw .invalidConfiguration(
                "overlay.swarmID differs from swarmID; set the swarm ID on PeerConfiguration only, "
                    + "the overlay always uses the peer's")
        }
        if overlay.swarmSecret != unset.swarmSecret && overlay.swarmSecret != swarmSecret {
            throw .invalidConfiguration(
                "overlay.swarmSecret differs from swarmSecret; set the swarm secret on PeerConfiguration only, "
                    + "the overlay always uses the peer's")
        }
    }

    /// ``overlay`` with the session's swarm ID and secret.
    var effectiveOverlay: OverlayConfiguration? {
        guard var overlay else { return nil }
        overlay.swarmID = swarmID
        overlay.swarmSecret = swarmSecret
        return overlay
    }

    /// The settings of the peer's TCP streams.
    var streams: StreamConfiguration {
        var streams = StreamConfiguration.local
        streams.session = session
        streams.maximumMessageSize = maximumMessageSize
        streams.connectTimeout = connectTimeout
        streams.backlog = streamBacklog
        return streams
    }
}
