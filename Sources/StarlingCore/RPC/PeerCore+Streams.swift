/// Messages, requests and responses on the peer's streams: the ``StreamCalls`` inputs
/// and commands, with this core's served methods, deadline and events.
extension PeerCore {
    // MARK: Stream inputs

    /// Call after a stream with `peer` opened at `now`; see
    /// ``StreamCalls/streamOpened(_:with:now:)``.
    /// - Returns: `false` when too many streams are open, in all or with `peer`: close this one.
    public mutating func streamOpened(_ stream: StreamID, with peer: PeerID, now: Instant? = nil) -> Bool {
        streamCalls.streamOpened(stream, with: peer, now: now)
    }

    /// Call when the driver wrote `count` bytes of `stream`'s transmits; see
    /// ``StreamCalls/streamWritten(_:count:)``.
    public mutating func streamWritten(_ stream: StreamID, count: Int) {
        streamCalls.streamWritten(stream, count: count)
    }

    /// Call after `stream` ended: the requests waiting on it fail with
    /// ``RPCError/unreachable``.
    public mutating func streamEnded(_ stream: StreamID) {
        streamCalls.streamEnded(stream)
    }

    /// Handles one whole message that arrived on `stream`; see
    /// ``StreamCalls/handleMessage(_:on:servedMethods:)``. Requests for methods this
    /// peer does not serve (``serve(_:)``) are answered ``RPCStatus/noHandler``.
    public mutating func handleStreamMessage(_ message: [UInt8], on stream: StreamID) {
        streamCalls.handleMessage(message, on: stream, servedMethods: servedMethods)
    }

    // MARK: Stream commands

    /// Sends a request on `stream`; see ``StreamCalls/request(_:_:on:timeout:now:)``.
    /// Its outcome arrives once as ``PeerEvent/stream(_:)`` with
    /// ``StreamCallEvent/response(_:_:)``.
    /// - Throws: as ``StreamCalls/request(_:_:on:timeout:now:)``.
    public mutating func streamRequest(
        _ method: String, _ payload: [UInt8], on stream: StreamID, timeout: Duration, now: Instant
    ) throws(RPCError) -> RequestID {
        try streamCalls.request(method, payload, on: stream, timeout: timeout, now: now)
    }

    /// Stops waiting for stream request `id`: no response event follows.
    public mutating func cancelStreamRequest(_ id: RequestID) {
        streamCalls.cancel(id)
    }

    /// Answers an incoming stream request with `payload`.
    /// - Throws: ``RPCError/payloadTooLarge(size:maximum:)`` when it does not fit one
    ///   stream message; the requester is then answered ``RPCStatus/tooLarge``.
    public mutating func respond(toStream request: IncomingStreamRequestID, payload: [UInt8]) throws(RPCError) {
        try streamCalls.respond(to: request, payload: payload)
    }

    /// Refuses an incoming stream request, saying why.
    public mutating func reject(onStream request: IncomingStreamRequestID, reason: String) {
        streamCalls.reject(request, reason: reason)
    }

    // MARK: Stream output

    /// The next message to send on a stream, oldest first; `nil` when there is none.
    public mutating func pollStreamTransmit() -> StreamTransmit? {
        streamCalls.pollTransmit()
    }

    /// The next stream to close (idle, or its peer does not read its answers); see
    /// ``StreamCalls/pollStreamToClose()``.
    public mutating func pollStreamToClose() -> StreamID? {
        streamCalls.pollStreamToClose()
    }
}
