import NIOCore
import StarlingCore

/// Runs one ``StarlingCore/StreamSession`` on a TCP channel.
///
/// ### Purpose
/// The handler is the whole I/O side of a stream: it feeds the session every read and
/// the end of input, seals queued messages straight into the channel's buffers while the
/// channel is writable, completes each send when its last chunk's write completes, and
/// hands received messages to a back-pressured async sequence. It also owns the
/// handshake and close timers, which the session (having no clock) leaves to it.
///
/// Reads pause while ``StreamConfiguration/receiveQueueLength`` messages wait for the
/// application, and resume when it has taken half of them.
///
/// - Warning: every method runs on the channel's event loop; reach it from elsewhere
///   through a `NIOLoopBound` and `eventLoop.execute`/`submit`.
final class StreamSessionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The sequence of received messages, with its back-pressure strategy.
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        [UInt8], any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, ProducerDelegate
    >

    /// Tells the handler, on its loop, when the application wants more messages.
    struct ProducerDelegate: NIOAsyncSequenceProducerDelegate {
        let handler: NIOLoopBoundBox<StreamSessionHandler?>

        func produceMore() {
            handler.eventLoop.execute { handler.value?.resumeReading() }
        }

        func didTerminate() {
            handler.eventLoop.execute { handler.value?.consumerGone() }
        }
    }

    /// Received messages, for the ``StreamConnection`` to wrap; iterated at most once.
    let messages: Producer
    /// Completes with the proven peer when the handshake does, or fails with a
    /// ``StreamConnectionError``.
    let established: EventLoopFuture<PeerID>

    private var session: StreamSession
    private let configuration: StreamConfiguration
    private let source: Producer.Source
    private let delegateBox: NIOLoopBoundBox<StreamSessionHandler?>
    private let establishedPromise: EventLoopPromise<PeerID>
    private var context: ChannelHandlerContext?
    private var started = false
    private var handshakeDone = false
    private var handshakeTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    /// Whether the application asked for more messages (the producer's demand).
    private var readAllowed = true
    /// A `read` held back while ``readAllowed`` is false.
    private var readPending = false
    /// Set after a local close or when nobody iterates ``messages``: later messages are dropped.
    private var discardMessages = false
    private var closeRequested = false
    private var closing = false
    /// The first failure; later sends fail with it.
    private var terminalError: StreamConnectionError?
    /// Sends waiting for their last chunk's write: the send's 1-based number and promise.
    private var pendingSends = CircularBuffer<(number: Int, promise: EventLoopPromise<Void>)>()
    private var sendsQueued = 0
    private var lastWrite: EventLoopFuture<Void>?

    /// Creates a handler for a new session.
    /// - Parameters:
    ///   - session: a fresh session (the initiator's first bytes still pending).
    ///   - configuration: timeouts and queue bounds.
    ///   - eventLoop: the channel's event loop; the handler must be created on it.
    init(session: consuming StreamSession, configuration: StreamConfiguration, eventLoop: any EventLoop) {
        self.session = session
        self.configuration = configuration
        let box = NIOLoopBoundBox.makeEmptyBox(valueType: StreamSessionHandler.self, eventLoop: eventLoop)
        delegateBox = box
        let high = configuration.receiveQueueLength
        let sequence = Producer.makeSequence(
            backPressureStrategy: .init(lowWatermark: max(1, high / 2), highWatermark: high),
            finishOnDeinit: false, delegate: ProducerDelegate(handler: box))
        messages = sequence.sequence
        source = sequence.source
        establishedPromise = eventLoop.makePromise(of: PeerID.self)
        established = establishedPromise.futureResult
        box.value = self
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { session.handleBytes($0) }
        drive(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            session.handleEndOfStream()
            drive(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { drive(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        terminate(StreamConnectionError(lost: error))
        closeChannel(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closeRequested {
            // Ended by the peer or the network: the session decides whether that was clean.
            session.handleEndOfStream()
            drive(context: context)
        }
        // Closed cleanly (by either side) unless something failed already.
        if terminalError == nil {
            terminalError = .stream(.closed)
            source.finish()
        }
        let error = terminalError ?? .stream(.closed)
        failPendingSends(error)
        if !handshakeDone {
            handshakeDone = true
            establishedPromise.fail(error)
        }
        handshakeTimer?.cancel()
        closeTimer?.cancel()
        delegateBox.value = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // A channel that never became active (a failed connect) ends here.
        terminate(.stream(.closed))
        handshakeTimer?.cancel()
        closeTimer?.cancel()
        delegateBox.value = nil
        self.context = nil
    }

    func read(context: ChannelHandlerContext) {
        if readAllowed {
            context.read()
        } else {
            readPending = true
        }
    }

    // MARK: Commands (on the event loop)

    /// Queues `message`; the future completes once its last chunk is written to the
    /// socket, or fails with a ``StreamConnectionError``.
    func send(_ message: [UInt8]) -> EventLoopFuture<Void> {
        guard let context else { return failedSend(.stream(.closed)) }
        if let terminalError { return failedSend(terminalError) }
        do {
            try session.send(message)
        } catch {
            return failedSend(.stream(error))
        }
        sendsQueued += 1
        let promise = context.eventLoop.makePromise(of: Void.self)
        pendingSends.append((sendsQueued, promise))
        drive(context: context)
        return promise.futureResult
    }

    /// Starts closing: sends the close record (or abandons a handshake) and closes the
    /// channel once the peer answers, or after the close timeout.
    func requestClose() {
        guard !closeRequested, let context else { return }
        closeRequested = true
        discardMessages = true
        resumeReading()
        if session.isEstablished {
            session.close()
            drive(context: context)
            if !closing {
                closeTimer = context.eventLoop.assumeIsolated().scheduleTask(
                    in: TimeAmount(configuration.closeTimeout)
                ) { [self] in
                    self.closeChannel(context: context)
                }
            }
        } else {
            session.close()
            terminate(.stream(.closed))
            closeChannel(context: context)
        }
    }

    /// The application wants more messages.
    func resumeReading() {
        readAllowed = true
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    /// Nobody will take messages any more: keep reading (so closes still complete) and drop them.
    func consumerGone() {
        discardMessages = true
        resumeReading()
    }

    // MARK: Driving

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(
            in: TimeAmount(configuration.handshakeTimeout)
        ) { [self] in
            self.handshakeTimedOut(context: context)
        }
        drive(context: context)
    }

    /// Writes what the session has to send while the channel takes it, then handles
    /// the session's events, then closes the channel if the session is finished.
    private func drive(context: ChannelHandlerContext) {
        var wrote = false
        let chunk = max(configuration.writeChunkSize, StreamConstants.minimumTransmitBuffer)
        while session.hasPendingTransmit, context.channel.isActive, context.channel.isWritable {
            let capacity = max(session.transmitSizeHint(limit: chunk), StreamConstants.minimumTransmitBuffer)
            var buffer = context.channel.allocator.buffer(capacity: capacity)
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) {
                session.pollTransmit(into: $0)
            }
            guard count > 0 else { break }
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.write(wrapOutboundOut(buffer), promise: promise)
            lastWrite = promise.futureResult
            // Sends whose last chunk this write carries complete with it.
            while let first = pendingSends.first, first.number <= session.completedSends {
                pendingSends.removeFirst()
                promise.futureResult.cascade(to: first.promise)
            }
            wrote = true
        }
        if wrote { context.flush() }
        while let event = session.pollEvent() {
            handle(event)
        }
        if session.isFinished && !session.hasPendingTransmit {
            closeChannel(context: context)
        }
    }

    private func handle(_ event: StreamEvent) {
        switch event {
        case .established(let peer):
            handshakeDone = true
            handshakeTimer?.cancel()
            handshakeTimer = nil
            establishedPromise.succeed(peer)
        case .message(let message):
            guard !discardMessages else { return }
            switch source.yield(message) {
            case .produceMore: readAllowed = true
            case .stopProducing: readAllowed = false
            case .dropped: consumerGone()
            }
        case .closed:
            source.finish()
        case .failed(let error):
            terminate(.stream(error))
        }
    }

    private func handshakeTimedOut(context: ChannelHandlerContext) {
        handshakeTimer = nil
        guard !handshakeDone else { return }
        session.close()
        terminate(.handshakeTimedOut)
        closeChannel(context: context)
    }

    /// Records the first failure and reports it to whoever waits: the handshake, the
    /// message sequence and the pending sends.
    private func terminate(_ error: StreamConnectionError) {
        guard terminalError == nil else { return }
        terminalError = error
        if !handshakeDone {
            handshakeDone = true
            handshakeTimer?.cancel()
            handshakeTimer = nil
            establishedPromise.fail(error)
        }
        source.finish(error)
        failPendingSends(error)
    }

    private func failPendingSends(_ error: StreamConnectionError) {
        while let send = pendingSends.popFirst() {
            send.promise.fail(error)
        }
    }

    private func failedSend(_ error: StreamConnectionError) -> EventLoopFuture<Void> {
        (context?.eventLoop ?? establishedPromise.futureResult.eventLoop).makeFailedFuture(error)
    }

    /// Closes the channel once every write so far has completed (closing fails writes
    /// still queued, which would lose the last chunks or the close record).
    private func closeChannel(context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        closeTimer?.cancel()
        closeTimer = nil
        if !handshakeDone {
            terminate(.stream(.closed))
        }
        guard let lastWrite else {
            context.close(promise: nil)
            return
        }
        lastWrite.assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
