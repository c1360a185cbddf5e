import NIOCore
import StarlingIO
import StarlingTestSupport
import Testing

/// The address checks behind source-specific joins, and `GroupSocket`'s refusals of a bad
/// source-specific join before any system call.
///
/// Nothing here should join a group or send multicast (the namespace lab tests of
/// `starling mcast`, McastCommandTests, do that). The socket test still runs inside a
/// namespace of its own, so that a refusal that regressed into a real join would stay
/// there.
struct McastSourceSpecificTests {
    static let loopback = try! SocketAddress(ipAddress: "127.0.0.1", port: 0)

    static func address(_ text: String) -> SocketAddress {
        try! SocketAddress(ipAddress: text, port: 0)
    }

    @Test(arguments: [
        ("232.0.0.0", true), ("232.1.2.3", true), ("232.255.255.255", true),
        ("231.255.255.255", false), ("233.0.0.1", false), ("239.255.77.1", false), ("224.0.0.1", false),
        ("ff3e::8000:1", true), ("ff32::1", true), ("ff35::4d", true),
        ("ff3e:1::1", false), ("ff02::77", false), ("ff1e::1", false), ("ff7e::1", false),
        ("10.0.0.1", false), ("fe80::1", false),
    ])
    func socketAddress_isSourceSpecificMulticast_matchesRFC4607(_ text: String, _ expected: Bool) {
        #expect(Self.address(text).isSourceSpecificMulticast == expected)
    }

    @Test(arguments: [
        ("192.0.2.10", true), ("127.0.0.1", true), ("fe80::10", true), ("2001:db8::1", true),
        ("0.0.0.0", false), ("255.255.255.255", false), ("239.1.1.1", false), ("::", false), ("ff02::1", false),
    ])
    func socketAddress_isUnicastHost_refusesWhatNoSenderHas(_ text: String, _ expected: Bool) {
        #expect(Self.address(text).isUnicastHost == expected)
    }

    @Test(.requiresNetworkNamespaces)
    func groupSocket_joinSource_refusesBadAddressesBeforeAnySystemCall() async throws {
        try await NetworkNamespace.withFresh { namespace in
            let loop = try LabSockets.eventLoopGroup(in: namespace.name)
            do {
                // Looked up on the loop's thread: the namespace's own `lo`.
                let lo = try await loop.next().submit { try InterfaceSelection.interface(named: "lo") }.get()
                try await Self.checkRefusals(on: lo, eventLoopGroup: loop)
            } catch {
                try? await loop.shutdownGracefully()
                throw error
            }
            try await loop.shutdownGracefully()
        }
    }

    /// Binds a socket on `eventLoopGroup` and checks each bad source-specific join and
    /// leave is refused with its error.
    static func checkRefusals(on lo: NetworkInterface, eventLoopGroup: any EventLoopGroup) async throws {
        let group = Self.address("232.1.1.1")
        try await GroupSocket.withBound(to: Self.loopback, eventLoopGroup: eventLoopGroup) { socket in
            let unicastGroup = Self.address("192.0.2.1")
            await #expect(throws: UDPError.notMulticastAddress(unicastGroup)) {
                try await socket.join(unicastGroup, source: Self.address("192.0.2.10"), on: lo)
            }
            let ipv6Group = Self.address("ff3e::1")
            await #expect(throws: UDPError.addressFamilyMismatch(socket: socket.localAddress, other: ipv6Group)) {
                try await socket.join(ipv6Group, source: Self.address("fe80::10"), on: lo)
            }
            let ipv6Source = Self.address("fe80::10")
            await #expect(throws: UDPError.addressFamilyMismatch(socket: socket.localAddress, other: ipv6Source)) {
                try await socket.join(group, source: ipv6Source, on: lo)
            }
            let groupAsSource = Self.address("239.1.1.1")
            await #expect(throws: UDPError.notUnicastSource(groupAsSource)) {
                try await socket.join(group, source: groupAsSource, on: lo)
            }
            await #expect(throws: UDPError.notUnicastSource(Self.address("0.0.0.0"))) {
                try await socket.leave(group, source: Self.address("0.0.0.0"), on: lo)
            }
        }
    }

    @Test func udpError_notUnicastSource_saysWhatToGive() {
        let text = UDPError.notUnicastSource(Self.address("239.1.1.1")).description
        #expect(text.contains("239.1.1.1 cannot be a multicast source"))
    }
}
