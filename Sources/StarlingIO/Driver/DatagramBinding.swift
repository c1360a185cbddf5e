public import NIOCore
import NIOPosix
public import StarlingCore

/// Socket settings for a peer's UDP channel.
///
/// Every field states what it costs; ``standard`` suits a peer on a LAN or loopback.
public struct DatagramOptions: Sendable {
    /// Datagrams read per system call (`recvmmsg`). Higher means fewer system calls under
    /// load; each slot holds a 2 KiB receive buffer (64 KiB with ``receiveOffload``, which
    /// caps the count at 8), so memory grows with it.
    public var vectorReadCount: Int
    /// Receive and send socket buffer sizes in bytes (`SO_RCVBUF`, `SO_SNDBUF`). Larger
    /// absorbs bursts without drops; the kernel caps them (here at 4 MiB).
    public var socketBufferSize: Int
    /// Use UDP generic segmentation offload for runs of equal-size datagrams to one
    /// destination (Linux only; checked against `System.supportsUDPSegmentationOffload`).
    public var segmentationOffload: Bool
    /// Let the kernel join consecutive datagrams from one sender (UDP GRO) and split them
    /// here; needs 64 KiB receive buffers (Linux only, checked at bind).
    public var receiveOffload: Bool

    /// Defaults: 64-datagram vector reads, 4 MiB buffers, no offload.
    public static let standard = DatagramOptions(
        vectorReadCount: 64, socketBufferSize: 4 * 1024 * 1024, segmentationOffload: false, receiveOffload: false)

    /// Bulk transfer: as ``standard`` with GSO and GRO where the kernel supports them.
    public static let bulk: DatagramOptions = {
        var options = standard
        options.segmentationOffload = true
        options.receiveOffload = true
        return options
    }()

    /// Creates options.
    public init(vectorReadCount: Int, socketBufferSize: Int, segmentationOffload: Bool, receiveOffload: Bool) {
        self.vectorReadCount = vectorReadCount
        self.socketBufferSize = socketBufferSize
        self.segmentationOffload = segmentationOffload
        self.receiveOffload = receiveOffload
    }
}

/// Binds UDP channels that run a ``CoreDriver``.
public enum DatagramBinding {
    /// Binds a UDP socket at `address` on one event loop of `group` and installs a driver
    /// for `core` on it.
    ///
    /// - Parameters:
    ///   - core: the protocol core the channel runs.
    ///   - address: the local address (port 0 for an ephemeral port).
    ///   - group: the event loop group; the channel is pinned to one of its loops.
    ///   - options: socket settings.
    ///   - onEvent: receives the core's events on the channel's event loop.
    /// - Returns: the bound channel and its driver (touch the driver only on
    ///   `channel.eventLoop`).
    /// - Throws: NIO's errors when the bind fails (for example the address is in use).
    public static func bind<Core: ProtocolCore & Sendable>(
        core: Core, to address: SocketAddress, group: any EventLoopGroup, options: DatagramOptions = .standard,
        onEvent: @escaping @Sendable (Core.Event) -> Void
    ) async throws -> (channel: any Channel, driver: NIOLoopBound<CoreDriver<Core>>) {
        let gso = options.segmentationOffload && System.supportsUDPSegmentationOffload
        let gro = options.receiveOffload && System.supportsUDPReceiveOffload
        // NIO's vector read splits one receive buffer evenly between the messages, so
        // the buffer must hold a whole datagram (or a whole GRO batch) per message.
        let perMessage = gro ? 65_536 : 2_048
        let messages = max(1, gro ? min(options.vectorReadCount, 8) : options.vectorReadCount)
        var bootstrap = DatagramBootstrap(group: group)
            .channelOption(.datagramVectorReadMessageCount, value: messages)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: perMessage * messages))
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(options.socketBufferSize))
            .channelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(options.socketBufferSize))
        if gro {
            bootstrap =
                bootstrap
                .channelOption(.datagramReceiveOffload, value: true)
                .channelOption(.datagramReceiveSegmentSize, value: true)
        }
        let channel = try await bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let driver = CoreDriver(core: core, useSegmentationOffload: gso, onEvent: onEvent)
                try channel.pipeline.syncOperations.addHandler(driver)
            }
        }.bind(to: address).get()
        let driver = try await channel.pipeline.handler(type: CoreDriver<Core>.self).map {
            NIOLoopBound($0, eventLoop: channel.eventLoop)
        }.get()
        return (channel, driver)
    }
}
