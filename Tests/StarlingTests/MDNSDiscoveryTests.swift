import StarlingTestSupport
import Testing

@testable import Starling
@testable import StarlingCore

/// ``MDNSDiscovery``'s checks and the Starling peer's DNS-SD form; no network.
@Suite struct MDNSDiscoveryTests {
    /// Lines of `/proc/net/if_inet6`: tentative (0x40) and failed (0x08) addresses are
    /// not announced; permanent (0x80) and plain ones are; malformed lines are skipped.
    @Test func mdnsLinkLookup_leavesOutAddressesInDuplicateAddressDetection() {
        let address = "20010db8000000000000000000000001"
        let host = PeerAddress.Host.ipv6(high: 0x2001_0db8_0000_0000, low: 1)
        #expect(MDNSLinkLookup.unusableAddress(inLine: "\(address) 02 40 00 40     eth0\n") == host)
        #expect(MDNSLinkLookup.unusableAddress(inLine: "\(address) 02 40 00 08     eth0\n") == host)
        #expect(MDNSLinkLookup.unusableAddress(inLine: "\(address) 02 40 00 80     eth0\n") == nil)
        #expect(MDNSLinkLookup.unusableAddress(inLine: "\(address) 02 40 20 00 lo") == nil)
        #expect(MDNSLinkLookup.unusableAddress(inLine: "2001 02 40 00 40 eth0") == nil)
        #expect(MDNSLinkLookup.unusableAddress(inLine: "") == nil)
    }

    @Test func mdnsDiscoveryConfiguration_badSettings_areRefusedWithTypedErrors() {
        #expect(throws: MDNSDiscoveryError.noInterface) {
            try MDNSDiscoveryConfiguration(interfaces: []).validate()
        }
        #expect(throws: MDNSDiscoveryError.noInterface) {
            try MDNSDiscoveryConfiguration(interfaces: [""]).validate()
        }
        #expect(throws: MDNSDiscoveryError.duplicateInterface("eth0")) {
            try MDNSDiscoveryConfiguration(interfaces: ["eth0", "eth0"]).validate()
        }
        var configuration = MDNSDiscoveryConfiguration(interfaces: ["eth0"])
        configuration.families = []
        #expect(throws: MDNSDiscoveryError.noFamily) { try configuration.validate() }
        configuration = MDNSDiscoveryConfiguration(interfaces: ["eth0"])
        configuration.hostName = "a.b"
        #expect(throws: MDNSDiscoveryError.invalidHostName("a.b")) { try configuration.validate() }
        configuration.hostName = String(repeating: "h", count: 64)
        #expect(throws: MDNSDiscoveryError.invalidHostName(String(repeating: "h", count: 64))) {
            try configuration.validate()
        }
        configuration.hostName = "ok"
        configuration.announceCount = 1
        #expect(throws: MDNSDiscoveryError.self) { try configuration.validate() }
        configuration.announceCount = 2
        configuration.interfaceCheckInterval = .milliseconds(1)
        #expect(throws: MDNSDiscoveryError.self) { try configuration.validate() }
        configuration.interfaceCheckInterval = nil
        #expect(throws: Never.self) { try configuration.validate() }
        #expect(throws: MDNSDiscoveryError.noInterface) {
            _ = try MDNSDiscovery(configuration: MDNSDiscoveryConfiguration(interfaces: []))
        }
    }

    /// Before ``MDNSDiscovery/start()`` nothing is open: commands fail with `notRunning`,
    /// and an unknown interface fails the start before any socket exists.
    @Test func mdnsDiscovery_beforeStartAndUnknownInterface_failClearly() async throws {
        let discovery = try MDNSDiscovery(configuration: MDNSDiscoveryConfiguration(interfaces: ["starling-none0"]))
        await #expect(throws: MDNSDiscoveryError.notRunning) {
            _ = try await discovery.advertise(MDNSService(instance: "x", type: "_x._udp", port: 1))
        }
        await #expect(throws: MDNSDiscoveryError.notRunning) { _ = try await discovery.browse("_x._udp") }
        await #expect(throws: MDNSDiscoveryError.invalidServiceType("x")) { _ = try await discovery.browse("x") }
        await #expect(throws: MDNSDiscoveryError.invalidService(.invalidInstance(""))) {
            _ = try await discovery.advertise(MDNSService(instance: "", type: "_x._udp", port: 1))
        }
        await #expect {
            try await discovery.start()
        } throws: { error in
            guard case MDNSDiscoveryError.interfaceNotFound(let name, _) = error else { return false }
            return name == "starling-none0"
        }
        #expect(!discovery.isRunning)
        await discovery.shutdown()
        await #expect(throws: MDNSDiscoveryError.notRunning) { try await discovery.start() }
    }

    @Test(arguments: ["_ipp._tcp", "_ipp._tcp.local", "_ipp._tcp.local.", "_IPP._tcp.LOCAL"])
    func mdnsDiscovery_typeName_acceptsTheUsualForms(_ text: String) throws {
        #expect(try MDNSDiscovery.typeName(text) == DNSName("_ipp._tcp.local"))
    }

    @Test(arguments: ["ipp", "_ipp", "_ipp._sctp", "_this-is-too-long._tcp", "_ipp._tcp.example"])
    func mdnsDiscovery_typeName_refusesOtherForms(_ text: String) {
        #expect(throws: MDNSDiscoveryError.invalidServiceType(text)) { try MDNSDiscovery.typeName(text) }
    }

    @Test func mdnsStarlingPeer_serviceRoundTripsThroughAResolvedInstance() throws {
        var random = TestRandom(seed: 3)
        let key = IdentityKeyPair.generate(using: &random)
        let swarm = (0..<32).map { UInt8($0 * 7 & 0xFF) }
        let service = MDNSStarlingPeer.service(
            instance: MDNSStarlingPeer.defaultInstance(for: key.peerID), peerID: key.peerID, swarmID: swarm, port: 4100)
        try service.validate()
        #expect(service.type == "_starling._udp")
        let texts = service.txt.map { String(decoding: $0, as: UTF8.self) }
        #expect(texts == ["id=\(key.peerID)", "swarm=" + MDNSStarlingPeer.hex(swarm), "v=1"])
        let resolved = MDNSResolvedService(
            name: try service.instanceName(), type: try service.typeName(), host: try DNSName("lab-a.local"),
            port: 4100, addresses: [.ipv4(0xC000_020A), .ipv6(high: 0xFE80_0000_0000_0000, low: 0x10)],
            txt: service.txt)
        let peer = try #require(MDNSStarlingPeer(resolved))
        #expect(peer.peerID == key.peerID)
        #expect(peer.swarmID == swarm)
        #expect(peer.addresses.map(\.description) == ["192.0.2.10:4100", "[fe80::10]:4100"])

        // Missing or wrong fields, or another type, are not a Starling peer.
        var other = resolved
        other.txt = service.txt.filter { $0 != Array("v=1".utf8) }
        #expect(MDNSStarlingPeer(other) == nil)
        other.txt = service.txt.map { $0 == Array("v=1".utf8) ? Array("v=2".utf8) : $0 }
        #expect(MDNSStarlingPeer(other) == nil)
        other.txt = service.txt.map { $0.starts(with: Array("swarm=".utf8)) ? Array("swarm=zz".utf8) : $0 }
        #expect(MDNSStarlingPeer(other) == nil)
        other.txt = service.txt.map { $0.starts(with: Array("id=".utf8)) ? Array("id=nope".utf8) : $0 }
        #expect(MDNSStarlingPeer(other) == nil)
        other = resolved
        other.type = try DNSName("_other._udp.local")
        #expect(MDNSStarlingPeer(other) == nil)
    }

    @Test func mdnsStarlingPeer_hex_roundTripsAndRefusesBadDigits() {
        let bytes: [UInt8] = [0x00, 0x0F, 0xA5, 0xFF]
        #expect(MDNSStarlingPeer.hex(bytes) == "000fa5ff")
        #expect(MDNSStarlingPeer.bytes(hex: Array("000FA5ff".utf8)) == bytes)
        #expect(MDNSStarlingPeer.bytes(hex: Array("abc".utf8)) == nil)
        #expect(MDNSStarlingPeer.bytes(hex: Array("zz".utf8)) == nil)
    }

    /// A peer joins only addresses its socket's family can reach, never an IPv6 link-local one.
    @Test func peerMDNS_joinable_keepsTheListenFamilyWithoutLinkLocal() throws {
        let candidates = try ["192.0.2.10:4100", "[fe80::10]:4100", "[2001:db8::10]:4100"].map { try PeerAddress($0) }
        #expect(
            Peer.joinable(candidates, from: try PeerAddress("0.0.0.0:1")).map(\.description) == ["192.0.2.10:4100"])
        #expect(
            Peer.joinable(candidates, from: try PeerAddress("[::]:1")).map(\.description) == ["[2001:db8::10]:4100"])
    }
}
