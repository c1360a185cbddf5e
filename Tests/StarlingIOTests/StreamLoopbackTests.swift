import Foundation
import NIOCore
import NIOPosix
import StarlingCore
import StarlingIO
import StarlingTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Encrypted streams over real TCP on 127.0.0.1, port 0 only.
///
/// Each test bounds itself by ``hangGuardSeconds`` with a clear error; the suite's limit
/// lies beyond it, only against a hang the guard cannot catch (16 MiB each way on a
/// loaded machine took more than 3 minutes).
@Suite(.timeLimit(.minutes(6))) struct StreamLoopbackTests {
    static let loopback = try! SocketAddress(ipAddress: "127.0.0.1", port: 0)
    static let serverIdentity = try! IdentityKeyPair(seed: [UInt8](repeating: 0x51, count: 32))
    static let clientIdentity = try! IdentityKeyPair(seed: [UInt8](repeating: 0x52, count: 32))
    static let sixteenMiB = 16 * 1024 * 1024

    static func configuration(secret: UInt8? = nil, maximum: Int? = nil) -> StreamConfiguration {
        var configuration = StreamConfiguration.local
        configuration.session.swarmSecret = secret.map { [UInt8](repeating: $0, count: 32) }
        if let maximum { configuration.maximumMessageSize = maximum }
        return configuration
    }

    /// A listener and a client connected to it, both established.
    static func connectedPair(
        server: StreamConfiguration = configuration(), client: StreamConfiguration = configuration()
    ) async throws -> (listener: StreamListener, client: StreamConnection, server: StreamConnection) {
        let listener = try await StreamListener.bind(to: loopback, identity: serverIdentity, configuration: server)
        let connection = try await StreamConnection.connect(
            to: listener.localAddress, identity: clientIdentity, expecting: serverIdentity.peerID, configuration: client
        )
        var accepted = listener.connections.makeAsyncIterator()
        let serverSide = try #require(await accepted.next())
        return (listener, connection, serverSide)
    }

    /// A message whose every 8-byte word differs, so misplaced chunks show.
    static func message(size: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: size)
        for index in stride(from: 0, to: size, by: 8) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            for offset in 0..<min(8, size - index) {
                bytes[index + offset] = UInt8(truncatingIfNeeded: state >> (offset * 8))
            }
        }
        return bytes
    }

    @Test func loopback_sixteenMiB_bothWays_arriveIntact() async throws {
        try await withDeadline(seconds: hangGuardSeconds) {
            let (listener, client, server) = try await Self.connectedPair()
            #expect(client.remotePeer == Self.serverIdentity.peerID)
            #expect(server.remotePeer == Self.clientIdentity.peerID)
            let toServer = Self.message(size: Self.sixteenMiB, seed: 1)
            let toClient = Self.message(size: Self.sixteenMiB, seed: 2)
            async let sentByClient: Void = client.send(toServer)
            async let sentByServer: Void = server.send(toClient)
            var serverMessages = server.messages.makeAsyncIterator()
            var clientMessages = client.messages.makeAsyncIterator()
            let atServer = try await serverMessages.next()
            let atClient = try await clientMessages.next()
            try await sentByClient
            try await sentByServer
            #expect(atServer?.count == Self.sixteenMiB && atServer == toServer)
            #expect(atClient?.count == Self.sixteenMiB && atClient == toClient)
            // Closing answers with close records: both message sequences finish cleanly.
            await client.close()
            #expect(try await serverMessages.next() == nil)
            #expect(try await clientMessages.next() == nil)
            await server.close()
            await listener.close()
        }
    }

    @Test func loopback_manySmallAndEmptyMessages_arriveInOrder() async throws {
        try await withDeadline(seconds: hangGuardSeconds) {
            let (listener, client, server) = try await Self.connectedPair()
            let messages = (0..<200).map { Self.message(size: $0 * 37 % 5000, seed: UInt64($0)) }
            // Receive while sending: a close waits for the peer to read up to the close record.
            async let received: [[UInt8]] = {
                var received: [[UInt8]] = []
                for try await message in server.messages { received.append(message) }
                return received
            }()
            for message in messages { try await client.send(message) }
            await client.close()
            #expect(try await received == messages)
            await listener.close()
        }
    }

    @Test func send_aboveOwnMaximum_throwsPayloadTooLarge() async throws {
        try await withDeadline(seconds: hangGuardSeconds) {
            let (listener, client, _) = try await Self.connectedPair(client: Self.configuration(maximum: 1 << 20))
            await #expect(throws: StreamConnectionError.stream(.payloadTooLarge(size: (1 << 20) + 1, maximum: 1 << 20)))
            {
                try await client.send([UInt8](repeating: 7, count: (1 << 20) + 1))
            }
            // The connection is still usable.
            try await client.send([1, 2, 3])
            await client.close()
            await listener.close()
        }
    }

    @Test func receive_declaredAboveMaximum_failsReceiverWithPayloadTooLarge() async throws {
        try await withDeadline(seconds: hangGuardSeconds) {
            let (listener, client, server) = try await Self.connectedPair(server: Self.configuration(maximum: 1 << 20))
            // The send itself may complete or see the connection fail: only the receiver's error is certain.
            try? await client.send(Self.message(size: 2 << 20, seed: 3))
            var messages = server.messages.makeAsyncIterator()
            await #expect(throws: StreamConnectionError.stream(.payloadTooLarge(size: 2 << 20, maximum: 1 << 20))) {
                _ = try await messages.next()
            }
            // The client sees the stream end without a close record.
            var clientMessages = client.messages.makeAsyncIterator()
            do throws(StreamConnectionError) {
                _ = try await clientMessages.next()
                Issue.record("the client's stream ended cleanly")
            } catch {
                switch error {
                case .stream(.truncated), .connectionLost: break
                default: Issue.record("unexpected client error \(error)")
                }
            }
            await listener.close()
        }
    }

    #if canImport(Glibc)
        @Test func connect_closedPort_throwsConnectFailed() async throws {
            try await withDeadline(seconds: hangGuardSeconds) {
                // A bound socket that does not listen: the port is reserved and refuses connections.
                let socket = try RawSocket.bound()
                defer { socket.close() }
                let address = try SocketAddress(ipAddress: "127.0.0.1", port: Int(socket.port))
                do throws(StreamConnectionError) {
                    _ = try await StreamConnection.connect(
                        to: address, identity: Self.clientIdentity, configuration: Self.configuration())
                    Issue.record("connected to a closed port")
                } catch {
                    guard case .connectFailed = error else {
                        Issue.record("expected connectFailed, got \(error)")
                        return
                    }
                }
            }
        }

        @Test func connect_fullAcceptQueue_throwsConnectTimedOutAfterConfiguredTimeout() async throws {
            try await withDeadline(seconds: hangGuardSeconds) {
                // listen(0) and no accept: once the kernel queued a connection it drops further SYNs,
                // so the next connect can only end by its timeout.
                let server = try RawSocket.bound()
                defer { server.close() }
                try server.listen(backlog: 0)
                let fillers = try (0..<3).map { _ in try RawSocket.connecting(to: server.port) }
                defer { for filler in fillers { filler.close() } }
                var configuration = Self.configuration()
                configuration.connectTimeout = .milliseconds(300)
                let address = try SocketAddress(ipAddress: "127.0.0.1", port: Int(server.port))
                await #expect(throws: StreamConnectionError.connectTimedOut) {
                    _ = try await StreamConnection.connect(
                        to: address, identity: Self.clientIdentity, configuration: configuration)
                }
            }
        }
    #endif

    @Test func connect_silentServer_throwsHandshakeTimedOut() async throws {
        try await withDeadline(seconds: hangGuardSeconds) {
            // A TCP server that accepts and never answers.
            let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(to: Self.loopback).get()
            var configuration = Self.configuration()
            configuration.handshakeTimeout = .milliseconds(300)
            await #expect(throws: StreamConnectionError.handshakeTimedOut) {
                _ = try await StreamConnection.connect(
                    to: silent.localAddress!, identity: Self.clientIdentity, configuration: configuration)
            }
            try await silent.close()
        }
    }

    @Test func handshake_secretAgainstOpenListener_failsBothSidesWithWrongSwarm() async throws {
        try await withDeadline(seconds: hangGuardSeconds) {
            // An open swarm's listener answers, so both sides learn why.
            let listener = try await StreamListener.bind(
                to: Self.loopback, identity: Self.serverIdentity, configuration: Self.configuration())
            await #expect(throws: StreamConnectionError.stream(.wrongSwarm)) {
                _ = try await StreamConnection.connect(
                    to: listener.localAddress, identity: Self.clientIdentity,
                    configuration: Self.configuration(secret: 2))
            }
            var rejections = listener.rejections.makeAsyncIterator()
            #expect(await rejections.next() == .stream(.wrongSwarm))
            #expect(listener.statistics.failed == 1 && listener.statistics.invalidMAC == 0)
            await listener.close()
        }
    }

    @Test func handshake_wrongSwarmSecret_listenerAnswersNothingAndCountsInvalidMAC() async throws {
        try await withDeadline(seconds: hangGuardSeconds) {
            let listener = try await StreamListener.bind(
                to: Self.loopback, identity: Self.serverIdentity, configuration: Self.configuration(secret: 1))
            // The private listener closes without a byte: the client sees its stream end.
            await #expect(throws: StreamConnectionError.stream(.truncated)) {
                _ = try await StreamConnection.connect(
                    to: listener.localAddress, identity: Self.clientIdentity,
                    configuration: Self.configuration(secret: 2))
            }
            var rejections = listener.rejections.makeAsyncIterator()
            #expect(await rejections.next() == .stream(.invalidMAC))
            let statistics = listener.statistics
            #expect(statistics.invalidMAC == 1 && statistics.failed == 0 && statistics.established == 0)
            await listener.close()
        }
    }

    @Test func loopback_privateSwarmMember_streamsBothWays() async throws {
        try await withDeadline(seconds: hangGuardSeconds) {
            let (listener, client, server) = try await Self.connectedPair(
                server: Self.configuration(secret: 1), client: Self.configuration(secret: 1))
            try await client.send([1, 2, 3])
            try await server.send([4, 5])
            var fromClient = server.messages.makeAsyncIterator()
            var fromServer = client.messages.makeAsyncIterator()
            #expect(try await fromClient.next() == [1, 2, 3])
            #expect(try await fromServer.next() == [4, 5])
            #expect(listener.statistics.established == 1)
            await client.close()
            await server.close()
            await listener.close()
        }
    }

    #if canImport(Glibc)
        /// The opening bytes a real initiator with `secret` (nil: an open swarm) sends.
        static func opening(secret: UInt8?) throws -> [UInt8] {
            var random = TestRandom(seed: 5)
            var initiator = try StreamSession(
                role: .initiator(expecting: nil), identity: clientIdentity,
                configuration: configuration(secret: secret).session, wallClock: SystemClock.wallNow(),
                random: &random)
            var bytes: [UInt8] = []
            while initiator.pollTransmit(appendingTo: &bytes) > 0 {}
            return bytes
        }

        @Test(arguments: [nil, 2] as [UInt8?])
        func listener_privateSwarm_outsiderReceivesZeroBytesAndIsClosed(outsiderSecret: UInt8?) async throws {
            try await withDeadline(seconds: hangGuardSeconds) {
                let listener = try await StreamListener.bind(
                    to: Self.loopback, identity: Self.serverIdentity, configuration: Self.configuration(secret: 1))
                let client = try RawSocket.connecting(to: UInt16(listener.localAddress.port!), blocking: true)
                defer { client.close() }
                client.write(try Self.opening(secret: outsiderSecret))
                var rejections = listener.rejections.makeAsyncIterator()
                #expect(await rejections.next() == .stream(.invalidMAC))
                // Not a byte, and the connection ended (end of stream, not the read timeout).
                let (bytes, closed) = client.readUntilClosed()
                #expect(bytes.isEmpty)
                #expect(closed)
                #expect(listener.statistics.invalidMAC == 1)
                await listener.close()
            }
        }
    #endif

    @Test func handshake_unexpectedPeer_failsConnect() async throws {
        try await withDeadline(seconds: hangGuardSeconds) {
            let listener = try await StreamListener.bind(to: Self.loopback, identity: Self.serverIdentity)
            let other = Self.clientIdentity.peerID
            await #expect(
                throws: StreamConnectionError.stream(
                    .unexpectedPeer(expected: other, actual: Self.serverIdentity.peerID))
            ) {
                _ = try await StreamConnection.connect(
                    to: listener.localAddress, identity: Self.clientIdentity, expecting: other)
            }
            var rejections = listener.rejections.makeAsyncIterator()
            #expect(await rejections.next() == .stream(.handshakeFailed))
            await listener.close()
        }
    }

    #if canImport(Glibc)
        @Test func listener_nonStarlingClient_isRefusedAtFirstByte() async throws {
            try await withDeadline(seconds: hangGuardSeconds) {
                let listener = try await StreamListener.bind(to: Self.loopback, identity: Self.serverIdentity)
                let client = try RawSocket.connecting(to: UInt16(listener.localAddress.port!), blocking: true)
                defer { client.close() }
                client.write(Array("GET / HTTP/1.1\r\n\r\n".utf8))
                var rejections = listener.rejections.makeAsyncIterator()
                #expect(await rejections.next() == .stream(.unsupportedHeader(0x47)))
                // The listener answered nothing and closed the connection.
                #expect(client.readToEnd().isEmpty)
                await listener.close()
            }
        }
    #endif

    @Test func listener_backlogOption_isApplied() async throws {
        try await withDeadline(seconds: hangGuardSeconds) {
            var configuration = Self.configuration()
            configuration.backlog = 7
            let listener = try await StreamListener.bind(
                to: Self.loopback, identity: Self.serverIdentity, configuration: configuration)
            #expect(try await listener.backlog() == 7)
            // The kernel reports a listening socket's backlog as its Send-Q.
            let ss = "/usr/bin/ss"
            if FileManager.default.isExecutableFile(atPath: ss) {
                let port = listener.localAddress.port!
                let result = try await Subprocess.run(ss, ["-ltnH", "sport = :\(port)"])
                let columns = result.stdout.split(whereSeparator: \.isWhitespace)
                #expect(columns.count >= 3 && columns[2] == "7", "ss: \(result.stdout)")
            }
            await listener.close()
        }
    }
}

// MARK: Support

/// How long a stream test may take before it counts as hung. Generous on purpose: the
/// deadline runs on the wall clock while the test waits for a thread, and at the start
/// of `make test` the synchronous suites hold both of this machine's threads for more
/// than a minute (CI saw 60 s deadlines pass before a test's first await resumed).
let hangGuardSeconds = 300

/// Thrown by ``withDeadline(seconds:_:)`` when the body takes too long.
struct DeadlineExceeded: Error {}

/// Runs `body`, failing with ``DeadlineExceeded`` if it has not finished after `seconds`.
/// The deadline only bounds a hung test; no test relies on it for timing.
func withDeadline<Result: Sendable>(
    seconds: Int, _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    let race = DeadlineRace<Result>()
    return try await withCheckedThrowingContinuation { continuation in
        race.start(continuation: continuation, seconds: seconds, body)
    }
}

/// The first of a body and its deadline to finish resumes the waiting test.
final class DeadlineRace<Result: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Result, any Error>?, tasks: [Task<Void, Never>])>(
        (nil, []))

    func start(
        continuation: CheckedContinuation<Result, any Error>, seconds: Int,
        _ body: @escaping @Sendable () async throws -> Result
    ) {
        state.withLock { $0.continuation = continuation }
        let work = Task {
            do { self.finish(.success(try await body())) } catch { self.finish(.failure(error)) }
        }
        let timer = Task {
            try? await Task.sleep(for: .seconds(seconds))
            if !Task.isCancelled { self.finish(.failure(DeadlineExceeded())) }
        }
        state.withLock { $0.tasks = [work, timer] }
    }

    private func finish(_ result: Swift.Result<Result, any Error>) {
        let (continuation, tasks) = state.withLock { state in
            defer { state.continuation = nil }
            return (state.continuation, state.tasks)
        }
        guard let continuation else { return }
        for task in tasks { task.cancel() }
        continuation.resume(with: result)
    }
}

#if canImport(Glibc)
    /// A bare TCP socket on 127.0.0.1, for the states NIO will not make: bound but not
    /// listening, listening but never accepting, and a client speaking another protocol.
    struct RawSocket: Sendable {
        let descriptor: Int32
        let port: UInt16

        struct Failure: Error {
            let call: String
            let code: Int32
        }

        /// A socket bound to 127.0.0.1 on an ephemeral port.
        static func bound() throws -> RawSocket {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw Failure(call: "socket", code: errno) }
            var address = loopbackAddress(port: 0)
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard status == 0 else { throw Failure(call: "bind", code: errno) }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            return RawSocket(descriptor: descriptor, port: UInt16(bigEndian: address.sin_port))
        }

        /// A socket connecting to 127.0.0.1:`port`, without waiting for the connection
        /// unless `blocking`. Reads give up after ten seconds.
        static func connecting(to port: UInt16, blocking: Bool = false) throws -> RawSocket {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw Failure(call: "socket", code: errno) }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if !blocking { _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK) }
            var address = loopbackAddress(port: port)
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard status == 0 || errno == EINPROGRESS else { throw Failure(call: "connect", code: errno) }
            return RawSocket(descriptor: descriptor, port: port)
        }

        static func loopbackAddress(port: UInt16) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            return address
        }

        func listen(backlog: Int32) throws {
            guard Glibc.listen(descriptor, backlog) == 0 else { throw Failure(call: "listen", code: errno) }
        }

        func write(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        }

        /// Reads until the peer closes (or resets) the connection.
        func readToEnd() -> [UInt8] {
            var result: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count <= 0 { return result }
                result.append(contentsOf: buffer[..<count])
            }
        }

        /// Reads until the peer closes or resets the connection, or the read timeout.
        /// - Returns: the bytes read, and whether the peer ended the connection (false
        ///   after a timeout or another error).
        func readUntilClosed() -> (bytes: [UInt8], closed: Bool) {
            var result: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count == 0 { return (result, true) }
                if count < 0 { return (result, errno == ECONNRESET) }
                result.append(contentsOf: buffer[..<count])
            }
        }

        func close() {
            _ = Glibc.close(descriptor)
        }
    }
#endif
