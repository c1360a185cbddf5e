#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs blocking socket set-up on a thread of its own that has entered a network
/// namespace, so that the sockets it opens live there (and nothing else is moved): the
/// LAN discovery, group LAN and mDNS sockets, the mDNS interface lookup, and a peer's
/// own socket.
enum NamespaceThread {
    /// Runs `body` in `namespace` (a name under `/var/run/netns`) on a fresh thread, or
    /// here when `namespace` is nil.
    /// - Parameter failure: makes the caller's error of an operation and its reason,
    ///   when the thread cannot be made or the namespace cannot be entered.
    /// - Throws: what `body` throws, or what `failure` makes.
    static func run<Value: Sendable, Failure: Error>(
        in namespace: String?, failure: @escaping @Sendable (_ operation: String, _ reason: String) -> Failure,
        _ body: @escaping @Sendable () throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        guard let namespace else { return try body() }
        let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
            let started = DetachedThread.run {
                continuation.resume(
                    returning: Result { () throws(Failure) in
                        try enter(namespace, failure: failure)
                        return try body()
                    })
            }
            if !started { continuation.resume(returning: .failure(failure("pthread_create", "no thread"))) }
        }
        return try result.get()
    }

    /// Moves the calling thread into the network namespace `/var/run/netns/<name>`.
    static func enter<Failure: Error>(
        _ name: String, failure: (_ operation: String, _ reason: String) -> Failure
    ) throws(Failure) {
        typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "setns") else {
            throw failure("entering namespace \(name)", "setns is not available")
        }
        let setNamespace = unsafeBitCast(symbol, to: SetNamespace.self)
        let descriptor = Glibc.open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw LinkSocketCalls.lastError("opening namespace \(name)", failure) }
        defer { close(descriptor) }
        let cloneNewNet: Int32 = 0x4000_0000
        guard setNamespace(descriptor, cloneNewNet) == 0 else {
            throw LinkSocketCalls.lastError("setns(\(name))", failure)
        }
    }
}

/// Runs a closure on a fresh, detached POSIX thread: a thread of its own, so that entering
/// a namespace affects nothing else (NIO's and Swift's threads are shared and reused).
enum DetachedThread {
    /// The closure, boxed to cross the C thread entry point.
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new thread and returns at once.
    /// - Returns: false when no thread could be created (then `body` never runs).
    static func run(_ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread, nil,
            { raw in
                Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
                return nil
            }, box)
        guard status == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            return false
        }
        pthread_detach(thread)
        return true
    }
}
