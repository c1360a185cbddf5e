import StarlingCore
import StarlingIO
import Testing

/// The directed-broadcast arithmetic and interface lookup by name.
///
/// Only computation and `getifaddrs(3)` here: nothing is sent.
struct InterfaceSelectionTests {
    /// A dotted IPv4 address as a host-order integer.
    static func ipv4(_ text: String) -> UInt32 {
        guard case .ipv4(let value) = PeerAddress.Host(text) else { fatalError("not an IPv4 literal: \(text)") }
        return value
    }

    /// The netmask of a prefix length, 1 to 32.
    static func mask(prefix: Int) -> UInt32 {
        UInt32.max << (32 - prefix)
    }

    @Test(arguments: [
        ("192.0.2.10", 24, "192.0.2.255"),
        ("192.0.2.0", 24, "192.0.2.255"),
        ("10.1.2.3", 8, "10.255.255.255"),
        ("172.16.5.4", 12, "172.31.255.255"),
        ("172.20.5.4", 16, "172.20.255.255"),
        ("198.51.100.77", 25, "198.51.100.127"),
        ("198.51.100.200", 25, "198.51.100.255"),
        ("203.0.113.9", 30, "203.0.113.11"),
        ("127.0.0.1", 8, "127.255.255.255"),
        ("64.0.0.1", 2, "127.255.255.255"),
    ])
    func interfaceSelection_directedBroadcast_setsAllHostBits(address: String, prefix: Int, expected: String) {
        let broadcast = InterfaceSelection.directedBroadcast(
            address: Self.ipv4(address), netmask: Self.mask(prefix: prefix))
        #expect(broadcast == Self.ipv4(expected))
    }

    @Test(arguments: [
        (31, "RFC 3021 point-to-point link"),
        (32, "single host"),
    ])
    func interfaceSelection_directedBroadcast_noneForTinySubnets(prefix: Int, why: String) {
        #expect(
            InterfaceSelection.directedBroadcast(address: Self.ipv4("192.0.2.10"), netmask: Self.mask(prefix: prefix))
                == nil, "\(why)")
    }

    @Test(arguments: [UInt32(0), 0xFF00_FF00, 0x00FF_FFFF, 0xFFFF_FF01])
    func interfaceSelection_directedBroadcast_noneForBadMasks(netmask: UInt32) {
        #expect(InterfaceSelection.directedBroadcast(address: Self.ipv4("192.0.2.10"), netmask: netmask) == nil)
    }

    @Test func interfaceSelection_interfaceNamed_findsLoopbackWithItsAddress() throws {
        let lo = try InterfaceSelection.interface(named: "lo")
        #expect(lo.name == "lo")
        #expect(lo.index > 0)
        let ipv4 = try #require(lo.ipv4)
        #expect(PeerAddress(ipv4.address)?.host.description == "127.0.0.1")
        // Only computed, never sent to.
        #expect(PeerAddress(try lo.directedBroadcast(port: 9))?.description == "127.255.255.255:9")
    }

    @Test func interfaceSelection_interfaceNamed_unknownNameListsTheAvailable() {
        let error = #expect(throws: UDPError.self) {
            try InterfaceSelection.interface(named: "no-such-if0")
        }
        guard case .interfaceNotFound(let name, let available)? = error else {
            Issue.record("expected interfaceNotFound, got \(String(describing: error))")
            return
        }
        #expect(name == "no-such-if0")
        #expect(available.contains("lo"))
    }

    @Test func interfaceSelection_errors_sayWhatToChange() {
        let notFound = UDPError.interfaceNotFound(name: "eth9", available: ["lo", "eth0"])
        #expect(notFound.description == "no network interface named 'eth9' (available: lo, eth0)")
        #expect(UDPError.interfaceHasNoIPv4Address(interface: "wg0").description.contains("'wg0' has no IPv4 address"))
    }
}
