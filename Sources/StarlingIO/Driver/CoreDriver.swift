public import Logging
public import NIOCore
public import StarlingCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs one sans-I/O ``StarlingCore/ProtocolCore`` on a SwiftNIO datagram channel.
///
/// ### Purpose
/// The driver is the whole of the I/O layer for a core: it feeds the core every datagram
/// the channel reads, and at the end of each read batch (`channelReadComplete`) it drains
/// everything the core wants to send, writes it and flushes once, makes sure its single
/// timer fires by the core's next deadline (re-arming it only when that deadline moves
/// earlier), and hands the core's events to ``onEvent``. Timer expiry and user commands
/// (``perform(_:)``) end the same way.
///
/// Runs of datagrams to one destination with one size (at most 64 datagrams and
/// 65 507 bytes) are sent as a single UDP GSO write when ``useSegmentationOffload`` is
/// on; GRO-coalesced reads are split back into their datagrams before the core sees them.
///
/// Before each timer expiry the driver tells the core how far behind it is
/// (``StarlingCore/ProtocolCore/noteLoad(_:now:)``): how late the timer fired, how many
/// bytes wait unread in the socket's receive queue, and how many datagrams the kernel
/// dropped because that queue was full (both read with one `SO_MEMINFO` call, see
/// ``KernelReceiveQueue``), so that a peer on a busy machine does not blame others for
/// its own delays. Drops and the largest lag are counted in ``statistics``.
///
/// The datagrams of one drain are copied back to back into one reused buffer and
/// written as slices of it, so the driver allocates no buffer per datagram and a GSO run
/// needs no second copy. ``statistics`` counts what went through.
///
/// - Warning: every method runs on the channel's event loop, which owns the core; call
///   ``perform(_:)`` only there (use `eventLoop.submit`/`execute` from elsewhere).
public final class CoreDriver<Core: ProtocolCore>: ChannelInboundHandler {
    public typealias InboundIn = AddressedEnvelope<ByteBuffer>
    public typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// The core: changed through ``perform(_:)``, read through ``withCore(_:)``, both
    /// only on the event loop.
    private var core: Core
    /// Called on the event loop with each event the core reports.
    public var onEvent: (Core.Event) -> Void
    /// Whether runs of equal-size datagrams to one destination go out as one GSO write.
    /// Turned off for good when the kernel refuses a GSO write with EIO.
    public var useSegmentationOffload: Bool
    /// What the driver has sent and read so far. Read it only on the event loop.
    public private(set) var statistics = DriverStatistics()
    /// Where the driver explains, at `debug`, what it drops or gives up: datagrams the
    /// kernel dropped for a full receive queue, socket errors, segmentation offload
    /// turned off. Discards everything unless set.
    public var logger = Logger.discarding

    private var context: ChannelHandlerContext?
    /// The time read at the first datagram of the current read batch, shared by the rest
    /// of the batch (they were all read by one system call or a few in a row).
    private var readBatchNow: Instant?
    private var loss: InjectedLoss.Decider?
    private var transmit: [UInt8] = []
    private var timer: Scheduled<Void>?
    private var armedDeadline: Instant?
    private var addressCache: [PeerAddress: SocketAddress] = [:]
    /// The kernel's drop count at the last check, once read.
    private var kernelDrops: UInt32?
    /// Whether the socket can tell its receive queue (checked at the first timer).
    private var queueReadable = true
    /// The last address looked up, checked before ``addressCache`` (a comparison, not a hash).
    private var lastAddress: (peer: PeerAddress, socket: SocketAddress)?
    /// Every datagram of one drain, back to back: each write is a slice of it, so a drain
    /// costs one allocation at most (none once NIO has released the previous drain's slices).
    private var arena = ByteBuffer()
    /// Where each datagram of the current drain lies in ``arena``, in order. Reused.
    private var queued: [(destination: PeerAddress, offset: Int, length: Int)] = []

    /// The most datagrams one GSO write carries (the kernel's UDP_MAX_SEGMENTS).
    static var maximumSegments: Int { 64 }
    /// The most bytes one GSO write carries: the largest UDP payload over IPv4, which the
    /// kernel enforces for the whole run before cutting it into datagrams.
    static var maximumSegmentedBytes: Int { 65_507 }
    /// The arena's starting capacity, and the size above which it is replaced by a fresh
    /// one of this size rather than kept (a burst should not pin its memory for good).
    /// Small, because a swarm runs hundreds of drivers that mostly send a datagram at a
    /// time; a busy driver grows its arena once and keeps it up to the retain limit.
    static var arenaCapacity: Int { 2 * 1024 }
    static var arenaRetainLimit: Int { 4 * 1024 * 1024 }

    /// Creates a driver for `core`.
    /// - Parameters:
    ///   - core: the protocol core to run.
    ///   - useSegmentationOffload: send runs of equal-size datagrams with UDP GSO; turn
    ///     on only where `System.supportsUDPSegmentationOffload` is true.
    ///   - injectedLoss: received datagrams to drop on purpose, or `nil`.
    ///   - onEvent: receives the core's events, on the event loop.
    public init(
        core: Core, useSegmentationOffload: Bool = false, injectedLoss: InjectedLoss? = nil,
        onEvent: @escaping (Core.Event) -> Void
    ) {
        self.core = core
        self.useSegmentationOffload = useSegmentationOffload
        self.loss = injectedLoss.map(InjectedLoss.Decider.init)
        self.onEvent = onEvent
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        // The arena is taken at the first send: an idle peer of a large swarm holds none.
        self.context = context
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = PeerAddress(envelope.remoteAddress) else { return }
        if loss?.drops() == true {
            statistics.injectedDrops += 1
            logger.trace("datagram dropped: injected loss", metadata: ["source": "\(source)"])
            return
        }
        let now = readBatchNow ?? SystemClock.monotonicNow()
        readBatchNow = now
        envelope.data.withUnsafeReadableBytes { bytes in
            if let segment = envelope.metadata?.segmentSize, segment > 0, bytes.count > segment {
                // GRO joined several datagrams from one sender: feed them one by one.
                statistics.coalescedReads += 1
                var start = 0
                while start < bytes.count {
                    let end = min(start + segment, bytes.count)
                    core.handleDatagram(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), from: source, now: now)
                    statistics.datagramsReceived += 1
                    start = end
                }
            } else {
                core.handleDatagram(bytes, from: source, now: now)
                statistics.datagramsReceived += 1
            }
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A UDP socket reports, on a later read, that an earlier send was refused; it
        // stays usable, and the core finds unreachable peers by its own timeouts.
        statistics.socketErrors += 1
        logger.debug("socket error", metadata: ["error": "\(error)"])
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        readBatchNow = nil
        driveOutputs(now: SystemClock.monotonicNow())
    }

    /// Runs `body` with the core (a user command), then sends what it queued, re-arms
    /// the timer and delivers events.
    ///
    /// May be called from ``onEvent`` (for example to answer a request at once): the
    /// nested call sends its own datagrams and delivers the remaining events in order.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws (outputs are driven either way).
    public func perform<Result>(_ body: (inout Core, Instant) throws -> Result) rethrows -> Result {
        let now = SystemClock.monotonicNow()
        defer { driveOutputs(now: now) }
        return try body(&core, now)
    }

    /// Runs `body` with the core to read it (a getter), without driving outputs: nothing
    /// the core does can change in `body`.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws.
    public func withCore<Result>(_ body: (Core) throws -> Result) rethrows -> Result {
        try body(core)
    }

    // MARK: Outputs

    private func driveOutputs(now: Instant) {
        guard let context else { return }
        // Reuses the storage when every slice of the last drain has been written;
        // otherwise (a write still pending) takes fresh storage and leaves those slices alone.
        if arena.capacity > Self.arenaRetainLimit {
            arena = context.channel.allocator.buffer(capacity: Self.arenaCapacity)
        } else {
            arena.clear()
        }
        queued.removeAll(keepingCapacity: true)
        while let destination = core.pollTransmit(now: now, into: &transmit) {
            if arena.capacity == 0 { arena = context.channel.allocator.buffer(capacity: Self.arenaCapacity) }
            queued.append((destination, arena.writerIndex, transmit.count))
            arena.writeBytes(transmit)
        }
        if !queued.isEmpty {
            writeQueued(context: context)
            context.flush()
        }
        rearmTimer(context: context, now: now)
        while let event = core.pollEvent() { onEvent(event) }
    }

    /// Writes the drained datagrams as slices of ``arena``: each on its own, or, with
    /// segmentation offload, each run of equal-size datagrams to one destination as one
    /// GSO write (the run is contiguous in the arena, so it needs no copy).
    private func writeQueued(context: ChannelHandlerContext) {
        statistics.datagramsSent += queued.count
        var start = 0
        while start < queued.count {
            let first = queued[start]
            var end = start + 1
            if useSegmentationOffload {
                let limit = min(Self.maximumSegments, Self.maximumSegmentedBytes / max(first.length, 1))
                while end < queued.count, end - start < limit, queued[end].destination == first.destination,
                    queued[end].length == first.length
                {
                    end += 1
                }
            }
            let count = end - start
            let bytes = arena.getSlice(at: first.offset, length: count * first.length)!
            write(bytes, to: first.destination, segmentSize: count > 1 ? first.length : nil, context: context)
            statistics.writes += 1
            if count > 1 {
                statistics.segmentedWrites += 1
                statistics.segmentedDatagrams += count
            }
            start = end
        }
    }

    private func write(
        _ bytes: ByteBuffer, to destination: PeerAddress, segmentSize: Int?, context: ChannelHandlerContext
    ) {
        let address = socketAddress(for: destination)
        let metadata = segmentSize.map {
            AddressedEnvelope<ByteBuffer>.Metadata(ecnState: .transportNotCapable, packetInfo: nil, segmentSize: $0)
        }
        let envelope = AddressedEnvelope(remoteAddress: address, data: bytes, metadata: metadata)
        guard segmentSize != nil else {
            context.write(wrapOutboundOut(envelope), promise: nil)
            return
        }
        // A device without checksum offload refuses GSO with EIO: then stop using it (the
        // run is lost, as a datagram may be; the core resends what needs resending).
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenFailure { [weak self] error in
            guard let self, let error = error as? IOError, error.errnoCode == EIO else { return }
            self.useSegmentationOffload = false
            self.statistics.segmentationOffloadFailures += 1
            self.logger.debug(
                "datagrams dropped: the device refused a segmentation offload write; sending one by one from now on",
                metadata: ["count": "\(segmentSize.map { bytes.readableBytes / max(1, $0) } ?? 1)"])
        }
        context.write(wrapOutboundOut(envelope), promise: promise)
    }

    private func socketAddress(for destination: PeerAddress) -> SocketAddress {
        if let last = lastAddress, last.peer == destination { return last.socket }
        let address: SocketAddress
        if let cached = addressCache[destination] {
            address = cached
        } else {
            address = SocketAddress(destination)
            if addressCache.count >= 4096 { addressCache.removeAll(keepingCapacity: true) }
            addressCache[destination] = address
        }
        lastAddress = (destination, address)
        return address
    }

    // MARK: Timer

    /// Makes sure a timer fires no later than the core's deadline.
    ///
    /// The timer is re-armed only when the core's deadline moves earlier than the armed
    /// one. A later deadline (or none) leaves the armed timer alone: when it fires, it
    /// finds nothing due and re-arms for the core's deadline then. A core whose deadline
    /// moves with every request (a retransmission timer) thus costs one scheduled task
    /// per timer period, not a cancel and a schedule per request.
    private func rearmTimer(context: ChannelHandlerContext, now: Instant) {
        guard let deadline = Self.timeout(of: &core) else { return }
        if let armedDeadline, armedDeadline <= deadline { return }
        timer?.cancel()
        armedDeadline = deadline
        let delay = max(.zero, deadline - now)
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay.nanosecondsClamped)) {
            [self] in
            self.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        let armed = armedDeadline
        armedDeadline = nil
        let now = SystemClock.monotonicNow()
        let lag = armed.map { max(.zero, now - $0) } ?? .zero
        if lag > statistics.maximumTimerLag { statistics.maximumTimerLag = lag }
        var load = DriverLoad(timerLag: lag)
        if let queue = readReceiveQueue() {
            load.unreadBytes = queue.queuedBytes
            // The kernel's counter is 32 bits and wraps.
            load.receiveDrops = kernelDrops.map { Int(queue.drops &- $0) } ?? Int(queue.drops)
            kernelDrops = queue.drops
            statistics.receiveQueueDrops += load.receiveDrops
            if load.receiveDrops > 0 {
                logger.debug(
                    "datagrams dropped: the kernel's receive queue was full",
                    metadata: ["count": "\(load.receiveDrops)", "queued_bytes": "\(queue.queuedBytes)"])
            }
        }
        if !load.isEmpty { core.noteLoad(load, now: now) }
        // An early wake-up (the deadline moved later since arming) only re-arms.
        if let deadline = Self.timeout(of: &core), deadline <= now {
            core.handleTimeout(now: now)
        }
        driveOutputs(now: now)
    }

    /// The socket's receive queue, or `nil` where the system cannot tell (then it is not
    /// asked again).
    private func readReceiveQueue() -> KernelReceiveQueue.Reading? {
        guard queueReadable, let provider = context?.channel as? any SocketOptionProvider else { return nil }
        guard let reading = KernelReceiveQueue.read(from: provider) else {
            queueReadable = false
            return nil
        }
        return reading
    }

    /// The core's deadline, read in place: calling `core.pollTimeout()` on the stored
    /// property from this unspecialised generic code would copy the whole core first.
    private static func timeout(of core: inout Core) -> Instant? {
        core.pollTimeout()
    }
}
