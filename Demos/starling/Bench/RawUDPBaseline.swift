import Dispatch
import Foundation
import Glibc
import StarlingIO
import Synchronization

/// Raw-socket baselines for the UDP bench cases: plain Glibc calls on 127.0.0.1, no Starling
/// and no NIO, so that a Starling case can be printed next to what the kernel alone manages.
///
/// Every socket is bound to 127.0.0.1 and connected to the other one, so no datagram can
/// leave the machine. Each run is bounded three ways: a deadline taken from `ContinuousClock`,
/// a maximum number of loop iterations, and a receive timeout (`SO_RCVTIMEO`) so that no
/// thread ever blocks for good. The measured loops do not allocate: buffers, `iovec` and
/// `mmsghdr` arrays and the sample array are allocated once before the clock starts.
///
/// ```swift
/// let small = try RawUDPBaseline.datagramRate(payloadSize: 64, seconds: 2)
/// print(small.datagramsPerSecond)        // 64-byte datagrams received per second
/// let bulk = try RawUDPBaseline.datagramRate(payloadSize: 1200, seconds: 2)
/// print(bulk.megabytesPerSecond)         // payload MB (10^6 bytes) received per second
/// let rtt = try RawUDPBaseline.pingPong(payloadSize: 64, seconds: 2)
/// print(rtt.p50, rtt.p99)                // round-trip times in microseconds
/// ```
enum RawUDPBaseline {
    /// The largest payload of one IPv4 UDP datagram.
    static let maximumPayloadSize = 65_507
    /// The largest batch for one `sendmmsg` or `recvmmsg` call (the kernel's `UIO_MAXIOV`).
    static let maximumBatch = 1_024
    /// The socket buffer size asked for on every socket. Linux caps it at
    /// `net.core.rmem_max` / `wmem_max` and then doubles it; the sizes in effect are read back.
    static let requestedBufferBytes: Int32 = 4 << 20

    // MARK: - Datagram rate (the `datagrams` and `bulk` baselines)

    /// How many datagrams, and how many payload bytes, one socket received per second.
    struct DatagramRate: Sendable, CustomStringConvertible {
        /// The payload size of every datagram, in bytes.
        let payloadSize: Int
        /// Datagrams per `sendmmsg` and at most per `recvmmsg` call.
        let batch: Int
        /// The sender's credit: the most datagrams sent but not yet seen by the receiver.
        let window: Int
        /// The receive buffer in effect (`SO_RCVBUF` as read back), in bytes.
        let receiveBufferBytes: Int
        /// Datagrams the receiver took before its deadline.
        let datagramsReceived: Int
        /// Payload bytes the receiver took before its deadline.
        let bytesReceived: Int
        /// Datagrams the sender handed to the kernel.
        let datagramsSent: Int
        /// Times the sender found no progress for 20 ms with its window full and wrote the
        /// window off as lost. Zero when the receive buffer holds the whole window.
        let stalls: Int
        /// The receiver's measured time, from its start to its last call, in seconds.
        let seconds: Double

        /// Datagrams received per second.
        var datagramsPerSecond: Double { seconds > 0 ? Double(datagramsReceived) / seconds : 0 }
        /// Payload bytes received per second.
        var bytesPerSecond: Double { seconds > 0 ? Double(bytesReceived) / seconds : 0 }
        /// Payload megabytes (10^6 bytes) received per second.
        var megabytesPerSecond: Double { bytesPerSecond / 1e6 }

        var description: String {
            let rate = String(format: "%.0f datagrams/s, %.1f MB/s", datagramsPerSecond, megabytesPerSecond)
            return "\(rate) (\(payloadSize)-byte payloads, batch \(batch), window \(window), "
                + "SO_RCVBUF \(receiveBufferBytes), \(datagramsReceived) received of \(datagramsSent) sent "
                + "in \(String(format: "%.3f", seconds)) s, \(stalls) stalls)"
        }
    }

    /// Measures datagrams received per second between two UDP sockets on 127.0.0.1.
    ///
    /// One thread sends `batch` datagrams per `sendmmsg` call; another takes up to `batch`
    /// per `recvmmsg` call (`MSG_WAITFORONE`: it returns as soon as one has arrived). Both
    /// run until the receiver's `seconds` are up; only datagrams the receiver took count, and
    /// the rate divides them by the receiver's own measured time.
    ///
    /// Flow control: the sender keeps a credit window. It sends a batch only while at most
    /// `window − batch` datagrams are in flight (sent but not yet counted by the receiver,
    /// which publishes its count after every call). The window is sized to fit in half the
    /// receive buffer in effect (estimating the kernel's per-datagram cost as
    /// `max(1024, 2 × payloadSize + 512)` bytes), from 1 to 4096; when it is smaller than a
    /// batch, the sender sends window-sized batches. So the sender cannot outrun the
    /// receiver and the kernel drops nothing. Should datagrams be
    /// dropped anyway (a small `net.core.rmem_max`), the sender, after 20 ms without
    /// progress, writes the window off and goes on; ``DatagramRate/stalls`` counts those.
    ///
    /// ```swift
    /// let rate = try RawUDPBaseline.datagramRate(payloadSize: 64, seconds: 2, batch: 64)
    /// print("\(rate.datagramsPerSecond) datagrams/s, \(rate.megabytesPerSecond) MB/s")
    /// ```
    ///
    /// - Parameters:
    ///   - payloadSize: Bytes per datagram, 1 to 65 507 (64 for `datagrams`, 1200 for `bulk`).
    ///   - seconds: How long to measure, 0.01 to 600.
    ///   - batch: Datagrams per system call, 1 to 1024.
    static func datagramRate(
        payloadSize: Int, seconds: Double, batch: Int = 64
    ) throws(RawUDPBaselineError) -> DatagramRate {
        try validate(payloadSize: payloadSize, seconds: seconds)
        guard (1...maximumBatch).contains(batch) else {
            throw .invalidArgument("batch must be from 1 to \(maximumBatch), not \(batch)")
        }
        let calls = try MultipleMessageCalls.resolve()
        let pair = try SocketPair.open(receiveTimeout: .milliseconds(50))
        var closeSockets = true
        defer { if closeSockets { pair.close() } }

        let receiveBuffer = pair.receiveBufferBytes
        let costPerDatagram = max(1_024, 2 * payloadSize + 512)
        let window = min(max(receiveBuffer / costPerDatagram / 2, 1), 4_096)
        let shared = RateShared()
        let duration = Duration.nanoseconds(Int64(seconds * 1e9))
        let receiver = pair.first
        let sender = pair.second
        let finished = runThreads(
            [
                { receiveLoop(shared, calls, fd: receiver, payloadSize: payloadSize, batch: batch, for: duration) },
                {
                    // The sender runs until the receiver stops (its own deadline is only a
                    // backstop), so the receiver never waits idle at the end of its window.
                    sendLoop(
                        shared, calls, fd: sender, payloadSize: payloadSize, batch: batch, window: window,
                        for: duration + .seconds(5))
                },
            ],
            within: duration + .seconds(10)
        )
        guard finished else {
            // A thread may still be using the sockets: leave them open rather than close under it.
            closeSockets = false
            throw .threadsDidNotFinish
        }
        if let failure = shared.failure.withLock({ $0 }) { throw failure }
        return DatagramRate(
            payloadSize: payloadSize, batch: batch, window: window, receiveBufferBytes: receiveBuffer,
            datagramsReceived: shared.received.load(ordering: .acquiring),
            bytesReceived: shared.bytesReceived.load(ordering: .acquiring),
            datagramsSent: shared.sent.load(ordering: .acquiring),
            stalls: shared.stalls.load(ordering: .acquiring),
            seconds: Double(shared.elapsedNanoseconds.load(ordering: .acquiring)) / 1e9
        )
    }

    /// State the two threads of ``datagramRate(payloadSize:seconds:batch:)`` share.
    private final class RateShared: Sendable {
        let barrier = StartBarrier(parties: 2)
        let received = Atomic<Int>(0)
        let bytesReceived = Atomic<Int>(0)
        let sent = Atomic<Int>(0)
        let stalls = Atomic<Int>(0)
        let elapsedNanoseconds = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let failure = Mutex<RawUDPBaselineError?>(nil)

        func fail(_ error: RawUDPBaselineError) {
            failure.withLock { if $0 == nil { $0 = error } }
            stop.store(true, ordering: .releasing)
        }
    }

    private static func receiveLoop(
        _ shared: RateShared, _ calls: MultipleMessageCalls, fd: Int32, payloadSize: Int, batch: Int,
        for duration: Duration
    ) {
        let vector = MessageVector(count: batch)
        defer { vector.deallocate() }
        let buffers = UnsafeMutableRawPointer.allocate(byteCount: batch * payloadSize, alignment: 16)
        defer { buffers.deallocate() }
        for index in 0..<batch {
            vector.setBuffer(buffers + index * payloadSize, length: payloadSize, at: index)
        }
        guard shared.barrier.arriveAndWait(within: .seconds(5)) else {
            return shared.fail(.threadsDidNotStart)
        }

        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + duration
        // Each call returns at least one datagram or times out after 50 ms, so this bound is
        // far above anything the deadline allows.
        let maximumCalls = Int(duration / .microseconds(1)) + 1_000
        var received = 0
        var bytes = 0
        var callsMade = 0
        while callsMade < maximumCalls, clock.now < deadline, !shared.stop.load(ordering: .relaxed) {
            callsMade += 1
            let count = calls.receive(fd, vector.headers, UInt32(batch), Int32(MSG_WAITFORONE), nil)
            if count < 0 {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { continue }
                return shared.fail(.systemCall("recvmmsg", errno: code))
            }
            for index in 0..<Int(count) { bytes += vector.length(at: index) }
            received += Int(count)
            shared.received.store(received, ordering: .releasing)
        }
        let elapsed = clock.now - start
        shared.bytesReceived.store(bytes, ordering: .releasing)
        shared.elapsedNanoseconds.store(Int(nanoseconds(elapsed)), ordering: .releasing)
        shared.stop.store(true, ordering: .releasing)
    }

    private static func sendLoop(
        _ shared: RateShared, _ calls: MultipleMessageCalls, fd: Int32, payloadSize: Int, batch: Int,
        window: Int, for duration: Duration
    ) {
        let vector = MessageVector(count: batch)
        defer { vector.deallocate() }
        let payload = UnsafeMutableRawPointer.allocate(byteCount: payloadSize, alignment: 16)
        defer { payload.deallocate() }
        payload.initializeMemory(as: UInt8.self, repeating: 0xA5, count: payloadSize)
        for index in 0..<batch { vector.setBuffer(payload, length: payloadSize, at: index) }
        guard shared.barrier.arriveAndWait(within: .seconds(5)) else {
            return shared.fail(.threadsDidNotStart)
        }

        // Until the receiver sets `stop`; `duration` is only a backstop.
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        let stallLimit = Duration.milliseconds(20)
        // An iteration sends a batch, waits for credit or sees the deadline; even one per
        // 10 ns would stay under this bound.
        let maximumIterations = Int(duration / .nanoseconds(10)) + 1_000
        var sent = 0
        var writtenOff = 0
        var stalls = 0
        var waitingSince: ContinuousClock.Instant? = nil
        var receivedWhenWaitStarted = 0
        var iterations = 0
        while iterations < maximumIterations, !shared.stop.load(ordering: .relaxed) {
            iterations += 1
            let now = clock.now
            if now >= deadline { break }
            let received = shared.received.load(ordering: .acquiring)
            let inFlight = sent - received - writtenOff
            let credit = window - inFlight
            // Full batches while the window allows them; smaller ones only when the window
            // itself is smaller than a batch.
            if credit < min(batch, window) {
                if let since = waitingSince, received == receivedWhenWaitStarted {
                    if now - since > stallLimit {
                        writtenOff += inFlight
                        stalls += 1
                        waitingSince = nil
                    }
                } else {
                    waitingSince = now
                    receivedWhenWaitStarted = received
                }
                sched_yield()
                continue
            }
            waitingSince = nil
            let count = calls.send(fd, vector.headers, UInt32(min(batch, credit)), 0)
            if count < 0 {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK || code == EINTR || code == ENOBUFS { continue }
                return shared.fail(.systemCall("sendmmsg", errno: code))
            }
            sent += Int(count)
            shared.sent.store(sent, ordering: .releasing)
        }
        shared.stalls.store(stalls, ordering: .releasing)
    }

    // MARK: - Ping-pong (the `rpc` baseline)

    /// Measures blocking request–response round trips over UDP on 127.0.0.1.
    ///
    /// The client sends a `payloadSize`-byte request with `send` and waits in `recv` for the
    /// reply; a server thread takes each request with `recv` and sends the same bytes back.
    /// After up to 200 unrecorded warm-up round trips, every round trip until the deadline
    /// (or until `maximumSamples`) is timed with `ContinuousClock` into a preallocated array,
    /// summarised afterwards.
    ///
    /// A request without a reply within one second ends the run with
    /// ``RawUDPBaselineError/noReply(afterRoundTrips:)``: loopback does not lose datagrams
    /// unless something is badly wrong, and a late reply would be mistaken for the next one.
    ///
    /// ```swift
    /// let rtt = try RawUDPBaseline.pingPong(payloadSize: 64, seconds: 2)
    /// print("p50 \(rtt.p50) µs, p99 \(rtt.p99) µs over \(rtt.samples) round trips")
    /// ```
    ///
    /// - Parameters:
    ///   - payloadSize: Bytes per request and per reply, 1 to 65 507.
    ///   - seconds: How long to measure, 0.01 to 600.
    ///   - maximumSamples: The most round trips to record (the sample array's size); by
    ///     default 200 000 per second of `seconds`, at least 1000 and at most 5 000 000.
    static func pingPong(
        payloadSize: Int, seconds: Double, maximumSamples: Int? = nil
    ) throws(RawUDPBaselineError) -> LatencySummary {
        try validate(payloadSize: payloadSize, seconds: seconds)
        let capacity = maximumSamples ?? min(max(Int(seconds * 200_000), 1_000), 5_000_000)
        guard (1...50_000_000).contains(capacity) else {
            throw .invalidArgument("maximumSamples must be from 1 to 50000000, not \(capacity)")
        }
        let pair = try SocketPair.open(receiveTimeout: .milliseconds(50))
        var closeSockets = true
        defer { if closeSockets { pair.close() } }
        // The client waits up to a second for each reply.
        try setReceiveTimeout(pair.first, .seconds(1))

        let shared = PingPongShared()
        let duration = Duration.nanoseconds(Int64(seconds * 1e9))
        let client = pair.first
        let server = pair.second
        let finished = runThreads(
            [
                { clientLoop(shared, fd: client, payloadSize: payloadSize, capacity: capacity, for: duration) },
                { serverLoop(shared, fd: server, payloadSize: payloadSize, for: duration + .seconds(5)) },
            ],
            within: duration + .seconds(10)
        )
        guard finished else {
            closeSockets = false
            throw .threadsDidNotFinish
        }
        if let failure = shared.failure.withLock({ $0 }) { throw failure }
        return shared.summary.withLock { $0 } ?? LatencySummary(nanoseconds: [UInt64]())
    }

    /// State the two threads of ``pingPong(payloadSize:seconds:maximumSamples:)`` share.
    private final class PingPongShared: Sendable {
        let barrier = StartBarrier(parties: 2)
        let stop = Atomic<Bool>(false)
        let summary = Mutex<LatencySummary?>(nil)
        let failure = Mutex<RawUDPBaselineError?>(nil)

        func fail(_ error: RawUDPBaselineError) {
            failure.withLock { if $0 == nil { $0 = error } }
            stop.store(true, ordering: .releasing)
        }
    }

    private static func clientLoop(
        _ shared: PingPongShared, fd: Int32, payloadSize: Int, capacity: Int, for duration: Duration
    ) {
        defer { shared.stop.store(true, ordering: .releasing) }
        let request = UnsafeMutableRawPointer.allocate(byteCount: payloadSize, alignment: 16)
        defer { request.deallocate() }
        request.initializeMemory(as: UInt8.self, repeating: 0x5A, count: payloadSize)
        // One spare byte so that an oversized reply shows up as a wrong length.
        let reply = UnsafeMutableRawPointer.allocate(byteCount: payloadSize + 1, alignment: 16)
        defer { reply.deallocate() }
        var samples = [UInt64](repeating: 0, count: capacity)
        guard shared.barrier.arriveAndWait(within: .seconds(5)) else {
            return shared.fail(.threadsDidNotStart)
        }

        /// One round trip: nil when it worked, else the failure.
        func roundTrip(completed: Int) -> RawUDPBaselineError? {
            let sentBytes = send(fd, request, payloadSize, 0)
            guard sentBytes == payloadSize else {
                return sentBytes < 0
                    ? .systemCall("send", errno: errno) : .wrongLength(expected: payloadSize, got: sentBytes)
            }
            // Retried only on EINTR, at most a few times.
            for _ in 0..<8 {
                let receivedBytes = recv(fd, reply, payloadSize + 1, 0)
                if receivedBytes == payloadSize { return nil }
                if receivedBytes >= 0 { return .wrongLength(expected: payloadSize, got: receivedBytes) }
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return .noReply(afterRoundTrips: completed) }
                return .systemCall("recv", errno: code)
            }
            return .systemCall("recv", errno: EINTR)
        }

        let clock = ContinuousClock()
        let deadline = clock.now + duration
        var warmUps = 0
        while warmUps < 200, clock.now < deadline {
            if let failure = roundTrip(completed: 0) { return shared.fail(failure) }
            warmUps += 1
        }
        var count = 0
        let failure: RawUDPBaselineError? = samples.withUnsafeMutableBufferPointer { buffer in
            while count < buffer.count {
                let start = clock.now
                if start >= deadline { break }
                if let failure = roundTrip(completed: count) { return failure }
                buffer[count] = nanoseconds(clock.now - start)
                count += 1
            }
            return nil
        }
        if let failure { return shared.fail(failure) }
        let summary = LatencySummary(nanoseconds: samples[0..<count])
        shared.summary.withLock { $0 = summary }
    }

    private static func serverLoop(_ shared: PingPongShared, fd: Int32, payloadSize: Int, for duration: Duration) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: payloadSize + 1, alignment: 16)
        defer { buffer.deallocate() }
        guard shared.barrier.arriveAndWait(within: .seconds(5)) else {
            return shared.fail(.threadsDidNotStart)
        }
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        // Each iteration echoes one request or times out after 50 ms.
        let maximumIterations = Int(duration / .microseconds(1)) + 1_000
        var iterations = 0
        while iterations < maximumIterations, !shared.stop.load(ordering: .acquiring), clock.now < deadline {
            iterations += 1
            let receivedBytes = recv(fd, buffer, payloadSize + 1, 0)
            if receivedBytes < 0 {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { continue }
                return shared.fail(.systemCall("recv (server)", errno: code))
            }
            let sentBytes = send(fd, buffer, receivedBytes, 0)
            if sentBytes < 0 {
                let code = errno
                // A refused echo means the client has gone; it ends the run itself.
                if code == ECONNREFUSED || code == EINTR { continue }
                return shared.fail(.systemCall("send (server)", errno: code))
            }
        }
    }

    // MARK: - Shared pieces

    private static func validate(payloadSize: Int, seconds: Double) throws(RawUDPBaselineError) {
        guard (1...maximumPayloadSize).contains(payloadSize) else {
            throw .invalidArgument("payloadSize must be from 1 to \(maximumPayloadSize), not \(payloadSize)")
        }
        guard (0.01...600).contains(seconds) else {
            throw .invalidArgument("seconds must be from 0.01 to 600, not \(seconds)")
        }
    }

    /// `duration` in whole nanoseconds (0 if negative).
    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    /// Runs each body on its own `Thread` and waits until all have returned or `timeout`
    /// has passed. Returns false on timeout (the bodies then may still be running).
    private static func runThreads(_ bodies: [@Sendable () -> Void], within timeout: Duration) -> Bool {
        let done = DispatchSemaphore(value: 0)
        for body in bodies {
            let thread = Thread {
                body()
                done.signal()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        let deadline = DispatchTime.now() + .nanoseconds(Int(nanoseconds(timeout)))
        for _ in bodies where done.wait(timeout: deadline) == .timedOut {
            return false
        }
        return true
    }

    private static func setReceiveTimeout(_ fd: Int32, _ timeout: Duration) throws(RawUDPBaselineError) {
        let total = nanoseconds(timeout)
        var value = timeval(tv_sec: Int(total / 1_000_000_000), tv_usec: Int(total % 1_000_000_000 / 1_000))
        guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            throw .systemCall("setsockopt(SO_RCVTIMEO)", errno: errno)
        }
    }

    /// Two UDP sockets bound to 127.0.0.1 on ephemeral ports, each connected to the other.
    private struct SocketPair {
        let first: Int32
        let second: Int32
        /// `SO_RCVBUF` in effect on `first`, as read back.
        let receiveBufferBytes: Int

        static func open(receiveTimeout: Duration) throws(RawUDPBaselineError) -> SocketPair {
            let first = try openSocket(receiveTimeout: receiveTimeout)
            let second: (fd: Int32, address: sockaddr_in)
            do throws(RawUDPBaselineError) {
                second = try openSocket(receiveTimeout: receiveTimeout)
            } catch {
                Glibc.close(first.fd)
                throw error
            }
            let pair = SocketPair(
                first: first.fd, second: second.fd,
                receiveBufferBytes: Int(readOption(first.fd, SO_RCVBUF) ?? 0))
            do throws(RawUDPBaselineError) {
                try connect(first.fd, to: second.address)
                try connect(second.fd, to: first.address)
            } catch {
                pair.close()
                throw error
            }
            return pair
        }

        func close() {
            Glibc.close(first)
            Glibc.close(second)
        }

        private static func openSocket(
            receiveTimeout: Duration
        ) throws(RawUDPBaselineError) -> (fd: Int32, address: sockaddr_in) {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .systemCall("socket", errno: errno) }
            do throws(RawUDPBaselineError) {
                for option in [SO_RCVBUF, SO_SNDBUF] {
                    var size = requestedBufferBytes
                    guard setsockopt(fd, SOL_SOCKET, option, &size, socklen_t(MemoryLayout<Int32>.size)) == 0
                    else {
                        throw RawUDPBaselineError.systemCall(
                            option == SO_RCVBUF ? "setsockopt(SO_RCVBUF)" : "setsockopt(SO_SNDBUF)", errno: errno)
                    }
                }
                try setReceiveTimeout(fd, receiveTimeout)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = 0
                address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian  // 127.0.0.1
                let bound = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                guard bound == 0 else { throw RawUDPBaselineError.systemCall("bind(127.0.0.1:0)", errno: errno) }
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                let named = withUnsafeMutablePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
                }
                guard named == 0 else { throw RawUDPBaselineError.systemCall("getsockname", errno: errno) }
                return (fd, address)
            } catch {
                Glibc.close(fd)
                throw error
            }
        }

        private static func connect(_ fd: Int32, to address: sockaddr_in) throws(RawUDPBaselineError) {
            var address = address
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard result == 0 else { throw .systemCall("connect(127.0.0.1)", errno: errno) }
        }

        private static func readOption(_ fd: Int32, _ option: Int32) -> Int32? {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 ? value : nil
        }
    }

    /// `sendmmsg` and `recvmmsg`, looked up in the C library at run time: Swift's Glibc
    /// module declares neither (they need `_GNU_SOURCE`).
    private struct MultipleMessageCalls: @unchecked Sendable {
        typealias Send = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32) -> Int32
        typealias Receive =
            @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32, UnsafeMutablePointer<timespec>?) -> Int32
        let send: Send
        let receive: Receive

        static func resolve() throws(RawUDPBaselineError) -> MultipleMessageCalls {
            guard let library = dlopen(nil, RTLD_NOW) else { throw .missingFunction("dlopen(nil)") }
            defer { dlclose(library) }
            guard let send = dlsym(library, "sendmmsg") else { throw .missingFunction("sendmmsg") }
            guard let receive = dlsym(library, "recvmmsg") else { throw .missingFunction("recvmmsg") }
            return MultipleMessageCalls(
                send: unsafeBitCast(send, to: Send.self), receive: unsafeBitCast(receive, to: Receive.self))
        }
    }

    /// An array of C `struct mmsghdr`, each with one `iovec`, laid out by hand because Swift's
    /// Glibc module does not declare the type: a `msghdr` followed by `unsigned int msg_len`,
    /// padded to the alignment of `msghdr` (64 bytes per entry on x86-64 and arm64 Linux).
    private struct MessageVector {
        static let lengthOffset = MemoryLayout<msghdr>.size
        static let stride =
            (MemoryLayout<msghdr>.size + MemoryLayout<UInt32>.size + MemoryLayout<msghdr>.alignment - 1)
            / MemoryLayout<msghdr>.alignment * MemoryLayout<msghdr>.alignment

        let headers: UnsafeMutableRawPointer
        let vectors: UnsafeMutablePointer<iovec>
        let count: Int

        init(count: Int) {
            self.count = count
            headers = UnsafeMutableRawPointer.allocate(
                byteCount: count * Self.stride, alignment: MemoryLayout<msghdr>.alignment)
            headers.initializeMemory(as: UInt8.self, repeating: 0, count: count * Self.stride)
            vectors = UnsafeMutablePointer<iovec>.allocate(capacity: count)
            vectors.initialize(repeating: iovec(), count: count)
            for index in 0..<count {
                var header = msghdr()
                header.msg_iov = vectors + index
                header.msg_iovlen = 1
                (headers + index * Self.stride).storeBytes(of: header, as: msghdr.self)
            }
        }

        func setBuffer(_ buffer: UnsafeMutableRawPointer, length: Int, at index: Int) {
            vectors[index] = iovec(iov_base: buffer, iov_len: length)
        }

        /// `msg_len` of entry `index`: the bytes the last call moved for it.
        func length(at index: Int) -> Int {
            Int(headers.load(fromByteOffset: index * Self.stride + Self.lengthOffset, as: UInt32.self))
        }

        func deallocate() {
            headers.deallocate()
            vectors.deinitialize(count: count)
            vectors.deallocate()
        }
    }

    /// Lets a fixed number of threads start their clocks together.
    private final class StartBarrier: Sendable {
        private let parties: Int
        private let arrived = Atomic<Int>(0)

        init(parties: Int) { self.parties = parties }

        /// Arrives and waits, yielding, until every party has arrived or `timeout` passes.
        func arriveAndWait(within timeout: Duration) -> Bool {
            arrived.add(1, ordering: .acquiringAndReleasing)
            let clock = ContinuousClock()
            let deadline = clock.now + timeout
            // Bounded twice: by the deadline and by a count well above what it allows.
            for _ in 0..<100_000_000 {
                if arrived.load(ordering: .acquiring) >= parties { return true }
                if clock.now >= deadline { return false }
                sched_yield()
            }
            return false
        }
    }
}

/// Why a raw-socket baseline could not be measured.
enum RawUDPBaselineError: Error, Equatable, CustomStringConvertible {
    /// An argument was out of range; the message says which and why.
    case invalidArgument(String)
    /// A system call failed with this `errno`.
    case systemCall(String, errno: Int32)
    /// The C library does not provide this function.
    case missingFunction(String)
    /// The measuring threads did not all start within five seconds.
    case threadsDidNotStart
    /// The measuring threads had not finished well after their deadline.
    case threadsDidNotFinish
    /// A ping-pong request got no reply within one second.
    case noReply(afterRoundTrips: Int)
    /// A datagram had a different length from the one sent.
    case wrongLength(expected: Int, got: Int)

    var description: String {
        switch self {
        case .invalidArgument(let message): message
        case .systemCall(let call, let code): "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .missingFunction(let name): "the C library has no \(name)"
        case .threadsDidNotStart: "the measuring threads did not start within 5 s"
        case .threadsDidNotFinish: "the measuring threads did not finish within 10 s of their deadline"
        case .noReply(let completed): "no reply within 1 s on loopback after \(completed) round trips"
        case .wrongLength(let expected, let got): "a datagram of \(got) bytes where \(expected) were expected"
        }
    }
}
