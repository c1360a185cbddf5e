import Foundation
import NIOPosix
import StarlingCore

#if canImport(Glibc)
    import Glibc
#endif

/// IPv4 UDP sockets inside a lab's namespaces, and the plain calls that drive protocol
/// cores over them from one thread.
///
/// A socket is created on a short-lived thread that has entered the namespace
/// (`setns`), and keeps that namespace for life, so every datagram it sends leaves
/// through the lab's interfaces and never reaches the machine's network.
enum LabSockets {
    /// A failed socket call, with errno.
    struct SocketError: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
    }

    /// Opens a non-blocking IPv4 UDP socket inside the namespace `namespace`, lets
    /// `configure` set its options, and binds it to `host:port` (SO_REUSEADDR set).
    ///
    /// - Parameter configure: sets options before the bind; it throws ``SocketError``
    ///   (``check(_:_:)``), and the socket is then closed.
    static func open(
        namespace: String, host: String = "0.0.0.0", port: UInt16,
        configure: @escaping @Sendable (Int32) throws -> Void = { _ in }
    ) throws -> Int32 {
        let result = LockedResult()
        let thread = Thread {
            result.value = Result {
                try openHere(namespace: namespace, host: host, port: port, configure: configure)
            }
            result.done.signal()
        }
        thread.start()
        result.done.wait()
        return try result.value!.get()
    }

    /// Throws ``SocketError`` naming `call` when `status` is not 0.
    static func check(_ status: Int32, _ call: String) throws {
        if status != 0 { throw SocketError(call: call, code: errno) }
    }

    /// An event loop group of one thread that lives in the namespace `namespace`: NIO
    /// sockets made on it are the namespace's, so whatever they send stays in the lab.
    /// The thread is started by a short-lived thread that entered the namespace, and
    /// Linux gives a new thread its creator's network namespace. Shut it down after use.
    static func eventLoopGroup(in namespace: String) throws -> MultiThreadedEventLoopGroup {
        let made = LockedGroup()
        let thread = Thread {
            made.value = Result {
                try enter(namespace: namespace)
                return MultiThreadedEventLoopGroup(numberOfThreads: 1)
            }
            made.done.signal()
        }
        thread.start()
        made.done.wait()
        return try made.value!.get()
    }

    /// The result of the event loop group's thread.
    private final class LockedGroup: @unchecked Sendable {
        // @unchecked: as ``LockedResult``.
        var value: Result<MultiThreadedEventLoopGroup, any Error>?
        let done = DispatchSemaphore(value: 0)
    }

    /// Moves the calling thread (a dedicated, short-lived one) into the namespace.
    private static func enter(namespace: String) throws {
        typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "setns") else { throw SocketError(call: "dlsym(setns)", code: ENOSYS) }
        let setNamespace = unsafeBitCast(symbol, to: SetNamespace.self)
        let namespaceFD = Glibc.open("/var/run/netns/\(namespace)", O_RDONLY)
        guard namespaceFD >= 0 else { throw SocketError(call: "open netns", code: errno) }
        defer { close(namespaceFD) }
        guard setNamespace(namespaceFD, 0x4000_0000 /* CLONE_NEWNET */) == 0 else {
            throw SocketError(call: "setns", code: errno)
        }
    }

    /// The result of the socket thread.
    private final class LockedResult: @unchecked Sendable {
        // @unchecked: `value` is written by the thread before `done` is signalled and
        // read only after waiting on it.
        var value: Result<Int32, any Error>?
        let done = DispatchSemaphore(value: 0)
    }

    /// Enters the namespace on the calling (dedicated, short-lived) thread and opens the socket.
    private static func openHere(
        namespace: String, host: String, port: UInt16, configure: (Int32) throws -> Void
    ) throws -> Int32 {
        try enter(namespace: namespace)

        let socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard socket >= 0 else { throw SocketError(call: "socket", code: errno) }
        do {
            var one: Int32 = 1
            try check(setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &one, 4), "SO_REUSEADDR")
            try configure(socket)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            try check(bound, "bind")
            try check(fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK) == -1 ? -1 : 0, "O_NONBLOCK")
        } catch {
            close(socket)
            throw error
        }
        return socket
    }

    /// Makes IPv4 multicast sent from `socket` leave through the interface that holds
    /// `interface` (an IPv4 address), crossing at most `ttl` routers, and (unless
    /// `loopback`) not come back to this host's own sockets.
    static func setMulticastSender(_ socket: Int32, interface: String, ttl: UInt8, loopback: Bool) throws {
        var request = ip_mreqn()
        inet_pton(AF_INET, interface, &request.imr_address)
        try check(
            setsockopt(socket, Int32(IPPROTO_IP), IP_MULTICAST_IF, &request, socklen_t(MemoryLayout<ip_mreqn>.size)),
            "IP_MULTICAST_IF")
        var hops = Int32(ttl)
        try check(setsockopt(socket, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &hops, 4), "IP_MULTICAST_TTL")
        var loop = Int32(loopback ? 1 : 0)
        try check(setsockopt(socket, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &loop, 4), "IP_MULTICAST_LOOP")
    }

    /// Joins `socket` to the IPv4 multicast `group` on the interface that holds
    /// `interface` (an IPv4 address): `IP_ADD_MEMBERSHIP`, which also sends the IGMP report.
    static func joinMulticast(_ socket: Int32, group: String, interface: String) throws {
        var request = ip_mreqn()
        inet_pton(AF_INET, group, &request.imr_multiaddr)
        inet_pton(AF_INET, interface, &request.imr_address)
        try check(
            setsockopt(socket, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &request, socklen_t(MemoryLayout<ip_mreqn>.size)),
            "IP_ADD_MEMBERSHIP")
    }

    /// Sends `bytes` from `socket` to an IPv4 `destination`.
    static func send(_ bytes: [UInt8], from socket: Int32, to destination: PeerAddress) throws {
        guard case .ipv4(let host) = destination.host else { return }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = destination.port.bigEndian
        address.sin_addr.s_addr = host.bigEndian
        let sent = bytes.withUnsafeBytes { payload in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socket, payload.baseAddress, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if sent < 0 { throw SocketError(call: "sendto", code: errno) }
    }

    /// One datagram waiting on the non-blocking `socket`, if any, with its source.
    static func receive(from socket: Int32) -> ([UInt8], PeerAddress)? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { storage in
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(socket, storage.baseAddress, storage.count, 0, $0, &length)
                }
            }
        }
        guard count >= 0 else { return nil }
        let source = PeerAddress(
            host: .ipv4(UInt32(bigEndian: address.sin_addr.s_addr)), port: UInt16(bigEndian: address.sin_port))
        return (Array(buffer[0..<count]), source)
    }

    /// The monotonic clock as an ``Instant``.
    static func monotonicNow() -> Instant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Instant(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
    }

    /// Runs the blocking `body` on a thread of its own, off the test's cooperative pool.
    static func runOnThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
