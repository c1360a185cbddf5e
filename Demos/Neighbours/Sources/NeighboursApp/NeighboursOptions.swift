public import CoreMetrics
public import Logging
public import Starling
public import StarlingCore
import StarlingIO

/// What the neighbours app listens on and how its peer finds the overlay.
///
/// The defaults keep everything on 127.0.0.1: an HTTP server on port 8080 and a peer on a
/// UDP port the system picks, with no seeds (a swarm of one until another peer joins
/// through it). Nothing is multicast or broadcast unless ``interface`` is set.
public struct NeighboursOptions: Sendable {
    /// The HTTP server's host (default 127.0.0.1).
    public var httpHost = "127.0.0.1"
    /// The HTTP server's port; 0 lets the system pick one (default 8080).
    public var httpPort = 8080
    /// The peer's UDP port; 0 lets the system pick one (the default).
    public var peerPort: UInt16 = 0
    /// Overlay members to join through at start (their UDP addresses).
    public var seeds: [PeerAddress] = []
    /// The network interface to discover peers on by IPv4 multicast beacons, or `nil`
    /// (the default) for none. With it the peer listens on the interface's IPv4 address
    /// instead of 127.0.0.1.
    public var interface: String?

    /// The default options.
    public init() {}

    /// The peer's configuration: an overlay, the seeds, LAN discovery when
    /// ``interface`` is set, its metrics in `metrics` and its log in `logger`.
    /// - Throws: ``NeighboursError/interface(_:)`` when ``interface`` names no interface
    ///   with an IPv4 address.
    public func peerConfiguration(
        metrics: (any MetricsFactory)?, logger: Logger
    ) throws(NeighboursError) -> PeerConfiguration {
        var configuration = PeerConfiguration()
        configuration.metricsFactory = metrics
        configuration.logger = logger
        configuration.seeds = seeds
        if let interface {
            configuration.listenAddress = PeerAddress(host: try Self.ipv4Host(of: interface), port: peerPort)
            configuration.overlay = .lan
            configuration.lanDiscovery = LANDiscoveryConfiguration(interface: interface, transports: [.ipv4Multicast])
        } else {
            configuration.listenAddress = .ipv4(127, 0, 0, 1, port: peerPort)
            configuration.overlay = .local
        }
        return configuration
    }

    /// The first IPv4 address of the interface called `name`.
    private static func ipv4Host(of name: String) throws(NeighboursError) -> PeerAddress.Host {
        let found: NetworkInterface
        do {
            found = try InterfaceSelection.interface(named: name)
        } catch {
            throw .interface("\(error)")
        }
        guard let ipv4 = found.ipv4, let address = PeerAddress(ipv4.address) else {
            throw .interface("interface '\(name)' has no IPv4 address")
        }
        return address.host
    }
}

/// Why the neighbours app did not start.
public enum NeighboursError: Error, CustomStringConvertible {
    /// The LAN discovery interface is missing or has no IPv4 address.
    case interface(String)
    /// The peer did not start.
    case peer(PeerError)

    /// What went wrong.
    public var description: String {
        switch self {
        case .interface(let reason): "--interface: \(reason)"
        case .peer(let error): "the peer did not start: \(error)"
        }
    }
}
