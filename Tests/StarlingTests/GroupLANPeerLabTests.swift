import Starling
import StarlingCore
import StarlingIO
import StarlingTestSupport
import Testing

/// ``PeerConfiguration/groupLAN`` between three ``Peer``s on the hosts of a
/// ``NamespaceLab``: each peer opens its socket and the LAN group channel's socket
/// inside its host's namespace (``PeerConfiguration/networkNamespace``), so every
/// multicast datagram below leaves through a lab interface and never reaches the
/// machine's network.
@Suite(.requiresNetworkNamespaces, .serialized)
struct GroupLANPeerLabTests {
    static let channel = PeerAddress.ipv4(239, 255, 83, 1, port: 47_383)
    static let port: UInt16 = 47_300
    static let group = "lab"
    /// Messages sent at most while waiting for LAN-mates to learn of each other.
    static let attempts = 10
    /// Bounds a hang only; the test waits for events, not for time.
    static let deadline = Duration.seconds(30)
    /// Bounds the wait for one message that may have gone nowhere (sent before the mesh
    /// formed), before the next is sent; not a timing check.
    static let attemptDeadline = Duration.seconds(3)

    @Test func peerGroupLAN_threeHostsOfOneLAN_messageArrivesOnceViaLAN() async throws {
        try await NamespaceLab.with(hosts: 3) { lab in
            var peers: [Peer] = []
            do {
                for host in lab.hosts {
                    var configuration = PeerConfiguration()
                    configuration.networkNamespace = host.name
                    configuration.acceptsStreams = false
                    configuration.listenAddress = try PeerAddress("\(host.address):\(Self.port)")
                    configuration.overlay = .local
                    configuration.seeds = peers.first.map { [$0.address] } ?? []
                    var lan = GroupLANConfiguration(interface: host.interface, channel: Self.channel)
                    lan.loopback = false
                    configuration.groupLAN = lan
                    peers.append(try await Peer.start(configuration))
                }
                let recorders = peers.map { EventRecorder($0) }
                // Membership first: a LAN report counts only from a known member.
                for (index, recorder) in recorders.enumerated() {
                    for other in peers.indices where other != index {
                        let id = peers[other].id
                        let joined = await recorder.first(within: Self.deadline) { event in
                            if case .membership(.joined(let member)) = event { member.id == id } else { false }
                        }
                        try #require(joined != nil, "peer \(index) never saw peer \(other) join")
                    }
                }
                try await lab.waitForGroupMembers("239.255.83.1", lab.hosts)
                for peer in peers { try await peer.join(group: Self.group) }
                for (index, recorder) in recorders.enumerated() {
                    let joined = await recorder.first(within: Self.deadline) { event in
                        if case .groupJoined(Self.group) = event { true } else { false }
                    }
                    try #require(joined != nil, "peer \(index) never joined the group")
                }

                // A member reports the group joined once a rendezvous peer answered; with
                // three peers each is a rendezvous peer itself, so the first answer may
                // be its own (nobody else yet) while the mesh links and the LAN reports
                // are still on their way: a message sent then reaches nobody. Send until
                // one reaches both others from the LAN channel, bounded by count; each
                // wait bounds a lost message only.
                var sequences: [UInt64] = []
                var arrivedViaLAN: UInt64?
                for attempt in 0..<Self.attempts where arrivedViaLAN == nil {
                    let id = try await peers[0].send(toGroup: Self.group, [UInt8(attempt), 0x4C])
                    sequences.append(id.sequence)
                    var deliveries: [Peer.GroupDelivery] = []
                    for recorder in recorders.dropFirst() {
                        let event = await recorder.first(within: Self.attemptDeadline) { event in
                            if case .groupMessage(let delivery) = event {
                                delivery.sequence == id.sequence
                            } else {
                                false
                            }
                        }
                        if case .groupMessage(let delivery) = event { deliveries.append(delivery) }
                    }
                    if deliveries.count == 2, deliveries.allSatisfy(\.viaLAN) { arrivedViaLAN = id.sequence }
                }
                let viaLAN = try #require(arrivedViaLAN, "no message reached both others from the LAN channel")
                for (index, recorder) in recorders.enumerated() {
                    let received = await recorder.events.compactMap { event -> Peer.GroupDelivery? in
                        guard case .groupMessage(let delivery) = event, delivery.origin == peers[0].id else {
                            return nil
                        }
                        return delivery
                    }
                    if index == 0 {
                        #expect(received.isEmpty, "the origin delivered its own message")
                    } else {
                        // The LAN message once, from the channel; no message twice.
                        #expect(received.filter { $0.sequence == viaLAN }.map(\.viaLAN) == [true], "peer \(index)")
                        #expect(Set(received.map(\.sequence)).count == received.count, "peer \(index): \(received)")
                    }
                }
            } catch {
                for peer in peers { await peer.shutdown() }
                throw error
            }
            for peer in peers { await peer.shutdown() }
        }
    }
}

/// ``GroupLANConfiguration`` mistakes, refused before or at start; needs no namespace.
@Suite struct GroupLANConfigurationTests {
    static func configuration(_ lan: GroupLANConfiguration) -> PeerConfiguration {
        var configuration = PeerConfiguration()
        configuration.listenAddress = .ipv4(192, 0, 2, 10, port: 0)
        configuration.overlay = .local
        configuration.groupLAN = lan
        return configuration
    }

    @Test func groupLANConfiguration_unicastChannel_isRefused() async {
        let lan = GroupLANConfiguration(interface: "lan0", channel: .ipv4(192, 0, 2, 1, port: 7_947))
        let expected = PeerError.invalidConfiguration(
            "groupLAN: the channel 192.0.2.1:7947 is not a multicast group (224.0.0.0/4 or ff00::/8)")
        #expect(throws: expected) { try lan.validate() }
        await #expect(throws: expected) { _ = try await Peer.start(Self.configuration(lan)) }
    }

    @Test func groupLANConfiguration_withoutInterfaceOrOverlay_isRefused() async {
        await #expect(
            throws: PeerError.invalidConfiguration(
                "groupLAN: no network interface chosen: name the interface to multicast on")
        ) {
            _ = try await Peer.start(Self.configuration(GroupLANConfiguration(interface: "")))
        }
        var configuration = Self.configuration(GroupLANConfiguration(interface: "lan0"))
        configuration.overlay = nil
        await #expect(throws: PeerError.invalidConfiguration("groupLAN needs an overlay")) {
            _ = try await Peer.start(configuration)
        }
        configuration.overlay = .local
        configuration.listenAddress = .ipv4(127, 0, 0, 1, port: 0)
        await #expect {
            _ = try await Peer.start(configuration)
        } throws: { error in
            guard case .invalidConfiguration(let reason) = error as? PeerError else { return false }
            return reason.contains("must be an address on lan0")
        }
    }

    /// An unknown interface fails at start, at the lookup (before any socket is bound),
    /// naming it.
    @Test func peerGroupLAN_missingInterface_failsToStart() async {
        await #expect {
            _ = try await Peer.start(Self.configuration(GroupLANConfiguration(interface: "starling-none0")))
        } throws: { error in
            guard case .invalidConfiguration(let reason) = error as? PeerError else { return false }
            return reason.hasPrefix("groupLAN: no network interface named 'starling-none0' (available: ")
        }
    }

    /// An interface without the MULTICAST flag (the host's `lo`), or one the listen
    /// address is not on, is refused at start, naming the interface.
    @Test func peerGroupLAN_unsuitableInterface_failsToStart() async {
        await #expect {
            _ = try await Peer.start(Self.configuration(GroupLANConfiguration(interface: "lo")))
        } throws: { error in
            guard case .invalidConfiguration(let reason) = error as? PeerError else { return false }
            return reason.contains("interface 'lo'")
                && (reason.contains("no MULTICAST flag") || reason.contains("192.0.2.10 is not an address"))
        }
    }
}
