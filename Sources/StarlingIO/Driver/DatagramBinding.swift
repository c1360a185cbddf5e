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
    /// Vector reads one wake-up of the event loop may make before it goes back to waiting.
    /// 1 means a lone datagram costs one `recvmmsg`; with more, every wake-up that finds
    /// little pays for a further call that returns nothing (NIO's own default is 4). A
    /// busy socket loses nothing at 1: it is still readable, so the next wait returns at
    /// once.
    public var readBatchesPerWakeup: Int
    /// Receive and send socket buffer sizes in bytes (`SO_RCVBUF`, `SO_SNDBUF`). Larger
    /// absorbs bursts without drops; the kernel caps them (here at 4 MiB).
    public var socketBufferSize: Int
    /// Use UDP generic segmentation offload for runs of equal-size datagrams to one
    /// destination (Linux only; checked against `System.supportsUDPSegmentationOffload`):
    /// the kernel takes the run through its stack once, which on loopback lifted 64-byte
    /// datagrams from 0.55x to 0.92x of raw `sendmmsg` (docs/BENCHMARKS.md). Receivers
    /// need nothing: the datagrams on the wire are ordinary. A lone datagram goes out as
    /// it would without. A device that cannot offload checksums refuses GSO with EIO;
    /// the driver then loses that run and stops using GSO.
    public var segmentationOffload: Bool
    /// Let the kernel join consecutive datagrams from one sender (UDP GRO) and split them
    /// here. Saves the receiver a pass through the stack per datagram, but needs 64 KiB
    /// receive buffers and caps ``vectorReadCount`` at 8, so small datagrams from many
    /// senders cost more system calls (Linux only, checked at bind).
    public var receiveOffload: Bool
    /// Received datagrams dropped on purpose before the core sees them, to test
    /// protocols under loss on a machine without `netem`; `nil` (the default) drops none.
    public var injectedLoss: InjectedLoss?

    /// Defaults: 64-datagram vector reads, one per wake-up, 4 MiB buffers, GSO where the
    /// kernel has it, no GRO.
    public static let standard = DatagramOptions(
        vectorReadCount: 64, socketBufferSize: 4 * 1024 * 1024, segmentationOffload: true, receiveOffload: false,
        readBatchesPerWakeup: 1)

    /// Bulk transfer: as ``standard`` with GRO too where the kernel supports it.
    public static let bulk: DatagramOptions = {
        var options = standard
        options.segmentationOffload = true
        options.receiveOffload = true
        return options
    }()

    /// Creates options.
    public init(
        vectorReadCount: Int, socketBufferSize: Int, segmentationOffload: Bool, receiveOffload: Bool,
        readBatchesPerWakeup: Int = 1
    ) {
        self.vectorReadCount = vectorReadCount
        self.readBatchesPerWakeup = readBatchesPerWakeup
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
        let channel = try await bootstrap(core: core, group: group, options: options, onEvent: onEvent)
            .bind(to: address).get()
        return (channel, try await driver(of: channel))
    }

    /// Runs a driver for `core` on a UDP socket that is already bound (opened, for
    /// example, in another network namespace), on one event loop of `group`.
    ///
    /// - Parameters:
    ///   - core: the protocol core the channel runs.
    ///   - descriptor: the bound, non-blocking UDP socket; NIO owns it from now on.
    ///   - group: the event loop group; the channel is pinned to one of its loops.
    ///   - options: socket settings.
    ///   - onEvent: receives the core's events on the channel's event loop.
    /// - Returns: the channel and its driver (touch the driver only on `channel.eventLoop`).
    /// - Throws: NIO's errors when the socket cannot be registered.
    public static func bind<Core: ProtocolCore & Sendable>(
        core: Core, adopting descriptor: NIOBSDSocket.Handle, group: any EventLoopGroup,
        options: DatagramOptions = .standard, onEvent: @escaping @Sendable (Core.Event) -> Void
    ) async throws -> (channel: any Channel, driver: NIOLoopBound<CoreDriver<Core>>) {
        let channel = try await bootstrap(core: core, group: group, options: options, onEvent: onEvent)
            .withBoundSocket(descriptor).get()
        return (channel, try await driver(of: channel))
    }

    /// The bootstrap of a driven channel: read sizes, buffers, offloads, the driver.
    private static func bootstrap<Core: ProtocolCore & Sendable>(
        core: Core, group: any EventLoopGroup, options: DatagramOptions,
        onEvent: @escaping @Sendable (Core.Event) -> Void
    ) -> DatagramBootstrap {
        let gso = options.segmentationOffload && System.supportsUDPSegmentationOffload
        let gro = options.receiveOffload && System.supportsUDPReceiveOffload
        // NIO's vector read splits one receive buffer evenly between the messages, so
        // the buffer must hold a whole datagram (or a whole GRO batch) per message.
        let perMessage = gro ? 65_536 : 2_048
        let messages = max(1, gro ? min(options.vectorReadCount, 8) : options.vectorReadCount)
        var bootstrap = DatagramBootstrap(group: group)
            .channelOption(.datagramVectorReadMessageCount, value: messages)
            .channelOption(.maxMessagesPerRead, value: UInt(max(1, options.readBatchesPerWakeup)))
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: perMessage * messages))
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(options.socketBufferSize))
            .channelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(options.socketBufferSize))
        if gro {
            bootstrap =
                bootstrap
                .channelOption(.datagramReceiveOffload, value: true)
                .channelOption(.datagramReceiveSegmentSize, value: true)
        }
        return bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let driver = CoreDriver(
                    core: core, useSegmentationOffload: gso, injectedLoss: options.injectedLoss, onEvent: onEvent)
                try channel.pipeline.syncOperations.addHandler(driver)
            }
        }
    }

    /// The driver installed on `channel`.
    private static func driver<Core: ProtocolCore & Sendable>(
        of channel: any Channel
    ) async throws -> NIOLoopBound<CoreDriver<Core>> {
        try await channel.pipeline.handler(type: CoreDriver<Core>.self).map {
            NIOLoopBound($0, eventLoop: channel.eventLoop)
        }.get()
    }
}
