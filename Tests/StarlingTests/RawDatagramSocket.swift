import NIOCore
import NIOPosix
import StarlingCore
import StarlingIO

/// A plain UDP socket on 127.0.0.1 that sends whatever bytes a test gives it: the
/// attacker in bad-input tests.
struct RawDatagramSocket {
    let channel: any Channel

    static func open() async throws -> RawDatagramSocket {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        return RawDatagramSocket(channel: channel)
    }

    /// Sends `bytes` to `address` and waits until the kernel has taken them.
    func send(_ bytes: [UInt8], to address: PeerAddress) async throws {
        let envelope = AddressedEnvelope(
            remoteAddress: SocketAddress(address), data: channel.allocator.buffer(bytes: bytes))
        try await channel.writeAndFlush(envelope).get()
    }

    func close() async {
        try? await channel.close()
    }
}
