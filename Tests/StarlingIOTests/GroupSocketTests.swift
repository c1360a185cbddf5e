import NIOCore
import StarlingIO
import Testing

/// `GroupSocket` in this process: unicast on 127.0.0.1, and the checks that
/// refuse a bad join before any system call.
///
/// Nothing here joins a group or sends multicast or broadcast: that happens
/// only inside the namespaces of `NetworkNamespace` and `NamespaceLab` (see
/// `NamespaceLabTests`).
struct GroupSocketTests {
    static let loopback = try! SocketAddress(ipAddress: "127.0.0.1", port: 0)

    /// The first datagram `socket` receives, or nil after `timeout`.
    static func firstDatagram(of socket: GroupSocket, within timeout: Duration) async throws -> ReceivedDatagram? {
        try await withThrowingTaskGroup(of: ReceivedDatagram?.self) { group in
            group.addTask {
                var iterator = socket.datagrams.makeAsyncIterator()
                return try await iterator.next()
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    @Test func groupSocket_send_unicastOnLoopback_arrivesWithItsSource() async throws {
        try await GroupSocket.withBound(to: Self.loopback) { receiver in
            let port = try #require(receiver.localAddress.port)
            #expect(port != 0, "bound to an ephemeral port, reported as the real one")
            try await GroupSocket.withBound(to: Self.loopback) { sender in
                try await sender.send(ByteBuffer(string: "hello"), to: receiver.localAddress)
                let datagram = try #require(try await Self.firstDatagram(of: receiver, within: .seconds(20)))
                #expect(String(buffer: datagram.payload) == "hello")
                #expect(datagram.source == sender.localAddress)
            }
        }
    }

    @Test func groupSocket_join_unicastAddress_isRefused() async throws {
        let lo = try InterfaceSelection.interface(named: "lo")
        let unicast = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
        try await GroupSocket.withBound(to: Self.loopback) { socket in
            await #expect(throws: UDPError.notMulticastAddress(unicast)) {
                try await socket.join(unicast, on: lo)
            }
        }
    }

    @Test func groupSocket_join_groupOfOtherFamily_isRefused() async throws {
        let lo = try InterfaceSelection.interface(named: "lo")
        let ipv6Group = try SocketAddress(ipAddress: "ff02::1", port: 0)
        try await GroupSocket.withBound(to: Self.loopback) { socket in
            await #expect(throws: UDPError.addressFamilyMismatch(socket: socket.localAddress, other: ipv6Group)) {
                try await socket.join(ipv6Group, on: lo)
            }
        }
    }
}
