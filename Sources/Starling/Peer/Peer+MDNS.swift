import NIOCore
import StarlingCore

/// What a ``Peer`` runs for ``PeerConfiguration/mdns``: the discovery and the task that
/// joins the peers it finds.
struct PeerMDNS: Sendable {
    let discovery: MDNSDiscovery
    let joiner: Task<Void, Never>?

    /// Sends the goodbyes, closes the sockets and stops joining.
    func shutdown() async {
        await discovery.shutdown()
        joiner?.cancel()
        await joiner?.value
    }
}

extension Peer {
    /// Starts mDNS when configured: advertises this peer and joins every resolved
    /// `_starling._udp` peer of the same swarm into the overlay.
    static func startMDNS(
        _ configuration: PeerConfiguration, _ identity: IdentityKeyPair, _ address: PeerAddress,
        _ group: any EventLoopGroup, _ loop: NIOLoopBound<PeerLoop>
    ) async throws(PeerError) -> PeerMDNS? {
        guard let mdns = configuration.mdns else { return nil }
        var settings = mdns.discovery
        if settings.networkNamespace == nil { settings.networkNamespace = configuration.networkNamespace }
        settings.logger = configuration.logger
        let swarmID = configuration.swarmID
        let discovery: MDNSDiscovery
        do throws(MDNSDiscoveryError) {
            discovery = try MDNSDiscovery(configuration: settings, on: group)
            try await discovery.start()
        } catch {
            throw .invalidConfiguration("mDNS: \(error)")
        }
        do throws(MDNSDiscoveryError) {
            if mdns.advertise {
                let instance = mdns.instance ?? MDNSStarlingPeer.defaultInstance(for: identity.peerID)
                _ = try await discovery.advertise(
                    MDNSStarlingPeer.service(
                        instance: instance, peerID: identity.peerID, swarmID: swarmID, port: address.port))
            }
            guard mdns.join else { return PeerMDNS(discovery: discovery, joiner: nil) }
            let found = try await discovery.browse(MDNSStarlingPeer.serviceType)
            let eventLoop = loop.eventLoop
            let joiner = Task {
                for await event in found {
                    guard case .added(let service, _) = event, let peer = MDNSStarlingPeer(service),
                        peer.swarmID == swarmID, peer.peerID != identity.peerID
                    else { continue }
                    let addresses = Self.joinable(peer.addresses, from: address)
                    guard !addresses.isEmpty else { continue }
                    eventLoop.execute {
                        _ = try? loop.value.performOverlay { overlay, now throws(PeerError) in
                            overlay.join(addresses, now: now)
                        }
                    }
                }
            }
            return PeerMDNS(discovery: discovery, joiner: joiner)
        } catch {
            await discovery.shutdown()
            throw .invalidConfiguration("mDNS: \(error)")
        }
    }

    /// The addresses of `candidates` a socket bound to `local` can reach: its family, and
    /// no IPv6 link-local address (a peer address carries no scope).
    static func joinable(_ candidates: [PeerAddress], from local: PeerAddress) -> [PeerAddress] {
        candidates.filter { candidate in
            switch (candidate.host, local.host) {
            case (.ipv4, .ipv4): true
            case (.ipv6(let high, _), .ipv6): high & 0xFFC0_0000_0000_0000 != 0xFE80_0000_0000_0000
            default: false
            }
        }
    }
}
