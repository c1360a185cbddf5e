public import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a socket's receive queue from the kernel: how many bytes wait in it unread, and
/// how many datagrams it dropped because it was full.
///
/// Linux hands both out with the socket's memory information
/// (`getsockopt(SOL_SOCKET, SO_MEMINFO)`): the first 32-bit word (`SK_MEMINFO_RMEM_ALLOC`)
/// is the memory the queued datagrams take, the ninth (`SK_MEMINFO_DROPS`) the drop count
/// that `/proc/net/udp` shows in its `drops` column. Elsewhere ``read(from:)`` returns `nil`.
public enum KernelReceiveQueue {
    /// What the kernel said about one socket's receive queue.
    public struct Reading: Equatable, Sendable {
        /// Memory taken by datagrams waiting to be read (0 when the queue is empty).
        public var queuedBytes: Int
        /// Datagrams dropped so far because the queue was full (wraps at 2³²).
        public var drops: UInt32
    }

    /// `SO_MEMINFO` (Linux `asm-generic/socket.h`).
    static var memoryInformationOption: Int32 { 55 }

    /// The socket's receive queue now, or `nil` when the system cannot tell. Call on the
    /// channel's event loop, where it is one plain system call.
    public static func read(from provider: any SocketOptionProvider) -> Reading? {
        #if os(Linux)
            typealias MemoryInformation = (
                UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32
            )
            var reading: Reading?
            let future: EventLoopFuture<MemoryInformation> = provider.unsafeGetSocketOption(
                level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(memoryInformationOption))
            future.assumeIsolated().whenSuccess { reading = Reading(queuedBytes: Int($0.0), drops: $0.8) }
            return reading
        #else
            return nil
        #endif
    }
}
