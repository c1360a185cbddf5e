import Starling
import StarlingCore
import StarlingIO
import StarlingTestSupport
import Testing

/// ``LANDiscovery`` between the four hosts of a ``NamespaceLab``: one instance per host,
/// each opening its sockets inside the host's namespace
/// (``LANDiscoveryConfiguration/networkNamespace``, a short-lived thread that enters it
/// with `setns`), so every multicast and broadcast datagram below leaves through a lab
/// interface and never reaches the machine's network.
@Suite(.requiresNetworkNamespaces, .serialized)
struct LANDiscoveryLabTests {
    static let secret = [UInt8](repeating: 0x5A, count: 32)
    /// Bounds a hang only; discovery normally completes within the first beacons.
    static let deadline = Duration.seconds(20)

    @Test(arguments: [
        LANDiscoveryConfiguration.Transport.ipv4Multicast, .broadcast, .limitedBroadcast, .ipv6Multicast,
    ])
    func lanDiscoveryLab_fourHosts_discoverEachOther(_ transport: LANDiscoveryConfiguration.Transport) async throws {
        try await NamespaceLab.with(hosts: 4) { lab in
            var random = TestRandom(seed: 7)
            var discoveries: [LANDiscovery] = []
            var advertised: [PeerID: PeerAddress] = [:]
            do {
                for host in lab.hosts {
                    var configuration = LANDiscoveryConfiguration(interface: host.interface, transports: [transport])
                    configuration.networkNamespace = host.name
                    configuration.core.swarmSecret = Self.secret
                    configuration.core.beaconInterval = .milliseconds(300)
                    configuration.core.minimumBeaconInterval = .milliseconds(100)
                    let key = IdentityKeyPair.generate(using: &random)
                    let address = try PeerAddress("\(host.address):4\(host.index)00")
                    advertised[key.peerID] = address
                    let discovery = try LANDiscovery(configuration: configuration, identity: key, addresses: [address])
                    discoveries.append(discovery)
                    try await discovery.start()
                }
                switch transport {
                case .ipv4Multicast: try await lab.waitForGroupMembers("239.255.77.77", lab.hosts)
                case .ipv6Multicast: try await lab.waitForGroupMembers("ff02::7777", lab.hosts)
                case .broadcast, .limitedBroadcast: break
                }
                let everyone = Set(advertised.keys)
                let found = await withTaskGroup(of: (Int, [PeerID: SignedPeerRecord]).self) { group in
                    for (index, discovery) in discoveries.enumerated() {
                        let wanted = everyone.subtracting([discovery.localPeer])
                        group.addTask { (index, await Self.collect(discovery, wanted: wanted, within: Self.deadline)) }
                    }
                    var found: [Int: [PeerID: SignedPeerRecord]] = [:]
                    for await (index, records) in group { found[index] = records }
                    return found
                }
                for (index, discovery) in discoveries.enumerated() {
                    let records = found[index] ?? [:]
                    let wanted = everyone.subtracting([discovery.localPeer])
                    #expect(Set(records.keys) == wanted, "host \(index) found \(records.count) of \(wanted.count)")
                    for (peer, record) in records {
                        // Each record is the other peer's own, signed and carrying what it advertised.
                        #expect(record.record.peerID == peer)
                        #expect(record.record.addresses == [advertised[peer]!])
                        #expect((try? record.verify(now: SystemClock.wallNow())) != nil)
                    }
                    #expect(Set(discovery.records().map(\.record.peerID)) == Set(records.keys))
                }
            } catch {
                for discovery in discoveries { await discovery.shutdown() }
                throw error
            }
            for discovery in discoveries { await discovery.shutdown() }
            for discovery in discoveries { #expect(!discovery.isRunning) }
        }
    }

    /// The discovered records of `discovery` once it holds one of every `wanted` peer, or
    /// what it held when `limit` passed (the limit only bounds a hang).
    static func collect(
        _ discovery: LANDiscovery, wanted: Set<PeerID>, within limit: Duration
    ) async -> [PeerID: SignedPeerRecord] {
        await withTaskGroup(of: [PeerID: SignedPeerRecord]?.self) { group in
            group.addTask {
                var records: [PeerID: SignedPeerRecord] = [:]
                for await event in discovery.events {
                    if let record = event.record { records[record.record.peerID] = record }
                    if wanted.isSubset(of: Set(records.keys)) { break }
                }
                return records
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? Dictionary(uniqueKeysWithValues: discovery.records().map { ($0.record.peerID, $0) })
        }
    }
}

/// Configuration mistakes, refused before any socket exists; needs no namespace.
@Suite struct LANDiscoveryConfigurationTests {
    static let key: IdentityKeyPair = {
        var random = TestRandom(seed: 11)
        return IdentityKeyPair.generate(using: &random)
    }()

    @Test func lanDiscoveryConfiguration_withoutInterface_isRefused() {
        let configuration = LANDiscoveryConfiguration(interface: "", transports: [.ipv4Multicast])
        #expect(throws: LANDiscoveryError.noInterface) { try configuration.validate() }
        #expect(throws: LANDiscoveryError.noInterface) {
            _ = try LANDiscovery(configuration: configuration, identity: Self.key, addresses: [])
        }
    }

    @Test func lanDiscoveryConfiguration_withoutTransport_isRefused() {
        let configuration = LANDiscoveryConfiguration(interface: "lo", transports: [])
        #expect(throws: LANDiscoveryError.noTransport) { try configuration.validate() }
    }

    @Test func lanDiscoveryConfiguration_withUnicastGroup_isRefused() {
        var configuration = LANDiscoveryConfiguration(interface: "lo", transports: [.ipv4Multicast])
        configuration.ipv4Group = .ipv4(0xC000_020A)
        #expect {
            try configuration.validate()
        } throws: { error in
            if case LANDiscoveryError.invalidGroup = error { true } else { false }
        }
    }

    @Test func lanDiscoveryConfiguration_badCoreSettings_areRefused() {
        var configuration = LANDiscoveryConfiguration(interface: "lo", transports: [.broadcast])
        configuration.core.swarmSecret = [1, 2, 3]
        #expect {
            try configuration.validate()
        } throws: { error in
            if case LANDiscoveryError.invalidConfiguration = error { true } else { false }
        }
    }

    /// An unknown interface fails at the lookup, before any socket is opened.
    @Test func lanDiscovery_unknownInterface_failsToStart() async throws {
        let configuration = LANDiscoveryConfiguration(interface: "starling-none0", transports: [.ipv4Multicast])
        let discovery = try LANDiscovery(
            configuration: configuration, identity: Self.key, addresses: [.ipv4(127, 0, 0, 1, port: 4000)])
        await #expect {
            try await discovery.start()
        } throws: { error in
            if case LANDiscoveryError.interfaceNotFound(let name, _) = error { name == "starling-none0" } else { false }
        }
        #expect(!discovery.isRunning)
        await discovery.shutdown()
    }

    @Test func lanDiscovery_recordOfAnotherPeer_isRefused() async throws {
        var random = TestRandom(seed: 3)
        let other = IdentityKeyPair.generate(using: &random)
        let configuration = LANDiscoveryConfiguration(interface: "lo", transports: [.ipv4Multicast])
        let discovery = try LANDiscovery(
            configuration: configuration, identity: Self.key, addresses: [.ipv4(127, 0, 0, 1, port: 4000)])
        let foreign = try PeerRecord(
            peerID: other.peerID, sequence: 1, expiresAt: UnixTime(seconds: 4_000_000_000),
            addresses: [], services: []
        ).sign(with: other)
        await #expect {
            try await discovery.updateRecord(foreign)
        } throws: { error in
            if case LANDiscoveryError.invalidRecord = error { true } else { false }
        }
    }

    @Test func peerWithLANDiscovery_needsAnOverlayAndAnAddressOnTheInterface() async {
        var configuration = PeerConfiguration()
        configuration.lanDiscovery = LANDiscoveryConfiguration(interface: "lan0", transports: [.ipv4Multicast])
        configuration.listenAddress = .ipv4(192, 0, 2, 10, port: 0)
        await #expect(throws: PeerError.invalidConfiguration("lanDiscovery needs an overlay")) {
            _ = try await Peer.start(configuration)
        }
        configuration.overlay = .lan
        for address in [PeerAddress.ipv4(127, 0, 0, 1, port: 0), .ipv4(0, 0, 0, 0, port: 0)] {
            configuration.listenAddress = address
            await #expect {
                _ = try await Peer.start(configuration)
            } throws: { error in
                guard case .invalidConfiguration(let reason) = error as? PeerError else { return false }
                return reason.contains("must be an address on lan0")
            }
        }
    }
}
