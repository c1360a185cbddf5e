import Starling
import StarlingCore
import StarlingTestSupport
import Testing

/// ``PeerConfiguration/mdns`` between the hosts of a ``NamespaceLab``: each peer (socket
/// and mDNS inside its host's namespace) advertises itself as `_starling._udp` and joins
/// the peers of its swarm it resolves, so peers started with no seeds form one overlay.
@Suite(.requiresNetworkNamespaces, .serialized)
struct MDNSPeerLabTests {
    /// Bounds a hang only; the outcome is asserted, not the time.
    static let deadline = Duration.seconds(30)
    static let port: UInt16 = 47_410

    @Test func peerMDNS_twoPeersWithoutSeeds_joinEachOthersOverlay() async throws {
        try await NamespaceLab.with(hosts: 3) { lab in
            var peers: [Peer] = []
            do {
                // Host 2 runs a peer of another swarm, which must not be joined.
                for host in lab.hosts {
                    var configuration = PeerConfiguration()
                    configuration.networkNamespace = host.name
                    configuration.acceptsStreams = false
                    configuration.listenAddress = try PeerAddress("\(host.address):\(Self.port)")
                    configuration.overlay = .local
                    configuration.swarmID = [UInt8](repeating: host.index == 2 ? 0x02 : 0x01, count: 32)
                    var mdns = MDNSPeerConfiguration(interfaces: [host.interface])
                    mdns.discovery.hostName = "lab-\(host.index)"
                    configuration.mdns = mdns
                    peers.append(try await Peer.start(configuration))
                }
                let clock = ContinuousClock()
                let started = clock.now
                let recorders = peers.prefix(2).map { EventRecorder($0) }
                for (index, recorder) in recorders.enumerated() {
                    let id = peers[1 - index].id
                    let joined = await recorder.first(within: Self.deadline) { event in
                        if case .membership(.joined(let member)) = event { member.id == id } else { false }
                    }
                    try #require(joined != nil, "peer \(index) never saw peer \(1 - index) join")
                    print("mdns peer lab: peer \(index) saw peer \(1 - index) join after \(clock.now - started)")
                }
                // The other swarm's peer is on the link too: a browser beside peer 0
                // resolves it (peer 0's own browser heard the same answers) before the
                // check that neither peer joined it.
                var watching = MDNSDiscoveryConfiguration(interfaces: [lab.hosts[0].interface])
                watching.networkNamespace = lab.hosts[0].name
                watching.hostName = "lab-watch"
                let watcher = try MDNSDiscovery(configuration: watching)
                try await watcher.start()
                let seen = try? await BrowseRecorder(try await watcher.browse(MDNSStarlingPeer.serviceType))
                    .waitForService(within: Self.deadline) { MDNSStarlingPeer($0)?.peerID == peers[2].id }
                await watcher.shutdown()
                try #require(seen != nil, "the other swarm's peer was never seen on the link")
                for index in 0..<2 {
                    let members = try await peers[index].members().map(\.id)
                    #expect(members.contains(peers[1 - index].id))
                    #expect(!members.contains(peers[2].id), "the other swarm's peer was joined")
                }
            } catch {
                for peer in peers { await peer.shutdown() }
                throw error
            }
            for peer in peers { await peer.shutdown() }
        }
    }

    @Test func peerMDNS_badConfiguration_isRefused() async {
        var configuration = PeerConfiguration()
        configuration.mdns = MDNSPeerConfiguration(interfaces: ["eth0"])
        await #expect(throws: PeerError.invalidConfiguration("mdns needs an overlay")) {
            _ = try await Peer.start(configuration)
        }
        configuration.overlay = .local
        configuration.listenAddress = try! PeerAddress("0.0.0.0:0")
        configuration.mdns = MDNSPeerConfiguration(interfaces: [])
        await #expect {
            _ = try await Peer.start(configuration)
        } throws: { error in
            guard case PeerError.invalidConfiguration(let reason) = error else { return false }
            return reason.contains("no network interface chosen")
        }
    }
}
