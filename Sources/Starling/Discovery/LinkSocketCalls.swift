import NIOCore
import StarlingCore
import StarlingIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The system calls the link sockets share (LAN discovery, group LAN, mDNS), made with
/// plain calls so that they can run on a thread inside another network namespace. Each
/// takes `failure`, which makes the caller's own error of an operation and its reason.
enum LinkSocketCalls {
    /// The interface called `name` in this thread's namespace.
    /// - Parameter notFound: the caller's error for a name no interface has, with the
    ///   names there are.
    static func interface<Failure: Error>(
        named name: String, notFound: (_ name: String, _ available: [String]) -> Failure,
        failure: (_ operation: String, _ reason: String) -> Failure
    ) throws(Failure) -> NetworkInterface {
        do {
            return try InterfaceSelection.interface(named: name)
        } catch let error as UDPError {
            if case .interfaceNotFound(let name, let available) = error { throw notFound(name, available) }
            throw failure("listing the interfaces", error.description)
        } catch {
            throw failure("listing the interfaces", "\(error)")
        }
    }

    /// Sets one socket option to `value`.
    static func setOption<Value, Failure: Error>(
        _ socket: Int32, _ level: Int32, _ name: Int32, _ value: Value, _ label: String,
        failure: (_ operation: String, _ reason: String) -> Failure
    ) throws(Failure) {
        var value = value
        let status = withUnsafePointer(to: &value) {
            setsockopt(socket, level, name, $0, socklen_t(MemoryLayout<Value>.size))
        }
        guard status == 0 else { throw lastError("setsockopt(\(label))", failure) }
    }

    /// Binds `socket` to `address` (a wildcard address, or a group's).
    static func bind<Failure: Error>(
        _ socket: Int32, to address: PeerAddress, failure: (_ operation: String, _ reason: String) -> Failure
    ) throws(Failure) {
        let status = SocketAddress(address).withSockAddr { Glibc.bind(socket, $0, socklen_t($1)) }
        guard status == 0 else { throw lastError("bind to \(address)", failure) }
    }

    /// The wildcard address of a family (`0.0.0.0` or `[::]`) at `port`.
    static func wildcard(ipv6: Bool, port: UInt16) -> PeerAddress {
        PeerAddress(host: ipv6 ? .ipv6(high: 0, low: 0) : .ipv4(0), port: port)
    }

    /// Makes `socket` non-blocking.
    static func setNonBlocking<Failure: Error>(
        _ socket: Int32, failure: (_ operation: String, _ reason: String) -> Failure
    ) throws(Failure) {
        guard fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK) != -1 else {
            throw lastError("fcntl(O_NONBLOCK)", failure)
        }
    }

    /// The caller's error for the system call `operation` that just failed, with
    /// `errno`'s text.
    static func lastError<Failure: Error>(
        _ operation: String, _ failure: (_ operation: String, _ reason: String) -> Failure
    ) -> Failure {
        failure(operation, String(cString: strerror(errno)))
    }
}
