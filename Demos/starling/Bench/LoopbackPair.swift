import NIOCore
import NIOPosix
import StarlingCore
import StarlingIO

/// Two protocol cores on 127.0.0.1, each on its own UDP channel (port 0) pinned to its own
/// event loop of a private two-thread `MultiThreadedEventLoopGroup`: the Starling side of
/// the network bench cases. The sender and the receiver thus run on two threads, as the
/// raw-socket baseline's do.
///
/// ``peers(options:within:)`` makes two `PeerCore`s with an established session;
/// ``bind(options:_:)`` binds any two cores as they are. ``shutdown()`` closes both
/// channels and stops the group's threads; call it exactly once, also after a failure.
///
/// ```swift
/// let pair = try await LoopbackPair.peers(options: .standard, within: .seconds(5))
/// // ... install onEvent handlers and drive pair.sender / pair.receiver on their loops
/// await pair.shutdown()
/// ```
///
/// - Warning: touch ``Side/driver`` only on ``Side/loop`` (use `loop.submit` from elsewhere).
final class LoopbackPair<Core: ProtocolCore & Sendable>: Sendable {
    /// One bound core.
    struct Side: Sendable {
        let address: PeerAddress
        let channel: any Channel
        let driver: NIOLoopBound<CoreDriver<Core>>
        var loop: any EventLoop { channel.eventLoop }
    }

    /// The side that sends datagrams or makes requests.
    let sender: Side
    /// The side that receives datagrams or answers requests.
    let receiver: Side
    /// Whether the drivers use UDP GSO and GRO (asked for and supported by the kernel).
    let segmentationOffload: Bool
    let receiveOffload: Bool
    private let group: MultiThreadedEventLoopGroup

    private init(sender: Side, receiver: Side, options: DatagramOptions, group: MultiThreadedEventLoopGroup) {
        self.sender = sender
        self.receiver = receiver
        segmentationOffload = options.segmentationOffload && System.supportsUDPSegmentationOffload
        receiveOffload = options.receiveOffload && System.supportsUDPReceiveOffload
        self.group = group
    }

    /// Binds `makeCore(0)` (the sender) and `makeCore(1)` (the receiver), each on its own loop.
    ///
    /// - Parameters:
    ///   - options: socket settings for both channels (`.bulk` for GSO/GRO).
    ///   - makeCore: makes the core for side 0 or 1.
    /// - Returns: the pair; both `onEvent`s ignore everything until a case installs its own.
    /// - Throws: a bind error; nothing is left running then.
    static func bind(options: DatagramOptions, _ makeCore: (Int) throws -> Core) async throws -> LoopbackPair {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var channels: [any Channel] = []
        do {
            let local = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
            var sides: [Side] = []
            for (index, loop) in group.makeIterator().prefix(2).enumerated() {
                let bound = try await DatagramBinding.bind(
                    core: try makeCore(index), to: local, group: loop, options: options, onEvent: { _ in })
                channels.append(bound.channel)
                guard let socket = bound.channel.localAddress, let address = PeerAddress(socket) else {
                    throw BenchError.setup("a bound channel has no IP address")
                }
                sides.append(Side(address: address, channel: bound.channel, driver: bound.driver))
            }
            return LoopbackPair(sender: sides[0], receiver: sides[1], options: options, group: group)
        } catch {
            for channel in channels { try? await channel.close() }
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Closes both channels and stops the event loop threads. Call it exactly once.
    func shutdown() async {
        // Drop the cases' handlers first: they may hold their driver (a cycle otherwise).
        for side in [sender, receiver] {
            try? await side.loop.submit { side.driver.value.onEvent = { _ in } }.get()
        }
        try? await sender.channel.close()
        try? await receiver.channel.close()
        try? await group.shutdownGracefully()
    }
}

extension LoopbackPair where Core == PeerCore {
    /// Two `PeerCore`s (`.local` configuration, fresh identities) with a session: the
    /// sender connects to the receiver (IK, the receiver's key known).
    ///
    /// - Parameters:
    ///   - options: socket settings for both channels.
    ///   - timeout: how long the handshake may take.
    /// - Returns: the pair once both ends report `.established`.
    /// - Throws: a bind error, or ``BenchError/timedOut(_:)``; nothing is left running then.
    static func peers(options: DatagramOptions, within timeout: TimeAmount) async throws -> LoopbackPair {
        var random = SecureRandom()
        let identities = [IdentityKeyPair.generate(using: &random), IdentityKeyPair.generate(using: &random)]
        let pair = try await bind(options: options) { index in
            PeerCore(
                endpoint: try SessionEndpoint(
                    identity: identities[index], configuration: .local, random: SecureRandom()),
                random: SecureRandom())
        }
        do {
            let receiver = pair.receiver
            let receiverID = identities[1].peerID
            // The receiver listens first, so its `.established` cannot slip past.
            let receiverUp = try await sessionFuture(on: receiver, within: timeout)
            let senderUp = try await sessionFuture(on: pair.sender, within: timeout) { driver in
                driver.perform { core, now in core.connect(to: receiver.address, expecting: receiverID, now: now) }
            }
            try await receiverUp.get()
            try await senderUp.get()
            return pair
        } catch {
            await pair.shutdown()
            throw error
        }
    }

    /// The receiver's peer ID (read on its loop).
    func receiverID() async throws -> PeerID {
        let receiver = self.receiver
        return try await receiver.loop.submit { receiver.driver.value.withCore(\.identity.peerID) }.get()
    }

    /// Installs an `onEvent` on `side` that waits for `.established`, then runs `start`
    /// on the loop.
    /// - Returns: a future that succeeds when the session is up, or fails after `timeout`.
    private static func sessionFuture(
        on side: Side, within timeout: TimeAmount,
        then start: @escaping @Sendable (CoreDriver<PeerCore>) -> Void = { _ in }
    ) async throws -> EventLoopFuture<Void> {
        let promise = side.loop.makePromise(of: Void.self)
        try await side.loop.submit {
            let driver = side.driver.value
            driver.onEvent = { event in
                if case .established = event { promise.succeed() }
            }
            start(driver)
        }.get()
        // A second completion of a promise is ignored, so the timer may fire after success.
        let timer = side.loop.scheduleTask(in: timeout) { promise.fail(BenchError.timedOut("the handshake")) }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        return promise.futureResult
    }
}

/// Why a network bench case could not finish.
enum BenchError: Error, CustomStringConvertible {
    /// Something did not finish within its hard deadline.
    case timedOut(String)
    /// The cores could not be set up.
    case setup(String)
    /// The Starling side failed while measuring.
    case failed(String)

    var description: String {
        switch self {
        case .timedOut(let what): "\(what) did not finish within its deadline"
        case .setup(let message): "setup failed: \(message)"
        case .failed(let message): message
        }
    }
}
