public import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads how many datagrams the kernel dropped on one socket because its receive queue
/// was full.
///
/// Linux keeps the count per socket and hands it out with the socket's memory
/// information (`getsockopt(SOL_SOCKET, SO_MEMINFO)`, the ninth 32-bit word,
/// `SK_MEMINFO_DROPS`), the same number `/proc/net/udp` shows in its `drops` column.
/// Elsewhere there is no such count and ``read(from:)`` returns `nil`.
public enum KernelSocketDrops {
    /// `SO_MEMINFO` (Linux `asm-generic/socket.h`).
    static var memoryInformationOption: Int32 { 55 }

    /// The socket's drop count so far (it wraps at 2³²), or `nil` when the system
    /// cannot tell. Call on the channel's event loop, where it is a plain system call.
    public static func read(from provider: any SocketOptionProvider) -> UInt32? {
        #if os(Linux)
            typealias MemoryInformation = (
                UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32
            )
            var drops: UInt32?
            let future: EventLoopFuture<MemoryInformation> = provider.unsafeGetSocketOption(
                level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(memoryInformationOption))
            future.assumeIsolated().whenSuccess { drops = $0.8 }
            return drops
        #else
            return nil
        #endif
    }
}
