public import NIOCore
public import StarlingCore

/// Runs one sans-I/O ``StarlingCore/ProtocolCore`` on a SwiftNIO datagram channel.
///
/// ### Purpose
/// The driver is the whole of the I/O layer for a core: it feeds the core every datagram
/// the channel reads, and at the end of each read batch (`channelReadComplete`) it drains
/// everything the core wants to send, writes it and flushes once, re-arms its single
/// timer to the core's next deadline, and hands the core's events to ``onEvent``. Timer
/// expiry and user commands (``perform(_:)``) end the same way.
///
/// Runs of datagrams to one destination with one size are sent as a single UDP GSO
/// write when ``useSegmentationOffload`` is on; GRO-coalesced reads are split back into
/// their datagrams before the core sees them.
///
/// - Warning: every method runs on the channel's event loop, which owns the core; call
///   ``perform(_:)`` only there (use `eventLoop.submit`/`execute` from elsewhere).
public final class CoreDriver<Core: ProtocolCore>: ChannelInboundHandler {
    public typealias InboundIn = AddressedEnvelope<ByteBuffer>
    public typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// The core. Read it only on the event loop.
    public private(set) var core: Core
    /// Called on the event loop with each event the core reports.
    public var onEvent: (Core.Event) -> Void
    /// Whether runs of equal-size datagrams to one destination go out as one GSO write.
    public var useSegmentationOffload: Bool

    private var context: ChannelHandlerContext?
    private var transmit: [UInt8] = []
    private var timer: Scheduled<Void>?
    private var armedDeadline: Instant?
    private var addressCache: [PeerAddress: SocketAddress] = [:]
    private var pending: [(destination: PeerAddress, bytes: ByteBuffer)] = []

    /// The most datagrams one GSO write carries (the kernel's UDP_MAX_SEGMENTS).
    static var maximumSegments: Int { 64 }

    /// Creates a driver for `core`.
    /// - Parameters:
    ///   - core: the protocol core to run.
    ///   - useSegmentationOffload: send runs of equal-size datagrams with UDP GSO; turn
    ///     on only where `System.supportsUDPSegmentationOffload` is true.
    ///   - onEvent: receives the core's events, on the event loop.
    public init(core: Core, useSegmentationOffload: Bool = false, onEvent: @escaping (Core.Event) -> Void) {
        self.core = core
        self.useSegmentationOffload = useSegmentationOffload
        self.onEvent = onEvent
        transmit.reserveCapacity(2048)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
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
        let now = SystemClock.monotonicNow()
        envelope.data.withUnsafeReadableBytes { bytes in
            if let segment = envelope.metadata?.segmentSize, segment > 0, bytes.count > segment {
                // GRO joined several datagrams from one sender: feed them one by one.
                var start = 0
                while start < bytes.count {
                    let end = min(start + segment, bytes.count)
                    core.handleDatagram(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), from: source, now: now)
                    start = end
                }
            } else {
                core.handleDatagram(bytes, from: source, now: now)
            }
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        driveOutputs(now: SystemClock.monotonicNow())
    }

    /// Runs `body` with the core (a user command), then sends what it queued, re-arms
    /// the timer and delivers events.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws (outputs are driven either way).
    public func perform<Result>(_ body: (inout Core, Instant) throws -> Result) rethrows -> Result {
        let now = SystemClock.monotonicNow()
        defer { driveOutputs(now: now) }
        return try body(&core, now)
    }

    // MARK: Outputs

    private func driveOutputs(now: Instant) {
        guard let context else { return }
        var wrote = false
        while let destination = core.pollTransmit(now: now, into: &transmit) {
            enqueue(destination, context: context)
            wrote = true
        }
        if wrote {
            flushPending(context: context)
            context.flush()
        }
        rearmTimer(context: context, now: now)
        while let event = core.pollEvent() { onEvent(event) }
    }

    /// Adds the datagram in ``transmit`` to the pending run, sending the run first when
    /// the new datagram cannot join it.
    private func enqueue(_ destination: PeerAddress, context: ChannelHandlerContext) {
        guard useSegmentationOffload else {
            write(
                context.channel.allocator.buffer(bytes: transmit), to: destination, segmentSize: nil, context: context)
            return
        }
        if let last = pending.last,
            last.destination != destination || last.bytes.readableBytes != transmit.count
                || pending.count >= Self.maximumSegments
        {
            flushPending(context: context)
        }
        pending.append((destination, context.channel.allocator.buffer(bytes: transmit)))
    }

    /// Writes the pending run: one datagram as it is, several as one GSO write.
    private func flushPending(context: ChannelHandlerContext) {
        guard let first = pending.first else { return }
        if pending.count == 1 {
            write(first.bytes, to: first.destination, segmentSize: nil, context: context)
        } else {
            var joined = context.channel.allocator.buffer(capacity: pending.count * first.bytes.readableBytes)
            for item in pending { joined.writeImmutableBuffer(item.bytes) }
            write(joined, to: first.destination, segmentSize: first.bytes.readableBytes, context: context)
        }
        pending.removeAll(keepingCapacity: true)
    }

    private func write(
        _ bytes: ByteBuffer, to destination: PeerAddress, segmentSize: Int?, context: ChannelHandlerContext
    ) {
        let address = socketAddress(for: destination)
        let metadata = segmentSize.map {
            AddressedEnvelope<ByteBuffer>.Metadata(ecnState: .transportNotCapable, packetInfo: nil, segmentSize: $0)
        }
        let envelope = AddressedEnvelope(remoteAddress: address, data: bytes, metadata: metadata)
        context.write(wrapOutboundOut(envelope), promise: nil)
    }

    private func socketAddress(for destination: PeerAddress) -> SocketAddress {
        if let cached = addressCache[destination] { return cached }
        let address = SocketAddress(destination)
        if addressCache.count >= 4096 { addressCache.removeAll(keepingCapacity: true) }
        addressCache[destination] = address
        return address
    }

    // MARK: Timer

    private func rearmTimer(context: ChannelHandlerContext, now: Instant) {
        let deadline = core.pollTimeout()
        guard deadline != armedDeadline else { return }
        timer?.cancel()
        timer = nil
        armedDeadline = deadline
        guard let deadline else { return }
        let delay = max(.zero, deadline - now)
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay.nanosecondsClamped)) {
            [self] in
            self.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        armedDeadline = nil
        let now = SystemClock.monotonicNow()
        core.handleTimeout(now: now)
        driveOutputs(now: now)
    }
}
