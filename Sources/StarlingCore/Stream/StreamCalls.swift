internal import DequeModule

/// Messages, requests and responses over a peer's streams, without the streams: which
/// streams are open to whom, which requests wait for an answer until when, and the bytes
/// each side sends.
///
/// ### Purpose
/// A stream message is an RPC-channel message (docs/PROTOCOL.md, "Request/response" and
/// "Streams"): channel `0x00` carries a message (the rest is its payload), `0x01` a
/// request and `0x02` a response, in the datagram encodings, limited by
/// ``maximumMessageSize`` instead of a datagram's. A stream is reliable and ordered, so
/// a request is sent once and its handler runs once; a stream that ends fails the
/// requests waiting on it with ``RPCError/unreachable``, and a request unanswered at its
/// deadline fails with ``RPCError/timedOut``.
///
/// The driver owns the connections. It names each stream with a ``StreamID`` and says
/// when one opens (``streamOpened(_:with:)``), what arrives on it
/// (``handleMessage(_:on:servedMethods:)``) and when it ends (``streamEnded(_:)``); it
/// sends what ``pollTransmit()`` returns and hands ``pollEvent()``'s events on.
///
/// ### Members
/// - Getters: ``maximumMessageSize``, ``waitingCount``, ``openStreamCount``,
///   ``peer(on:)``, ``earliestDeadline``, ``malformedMessages``, ``unmatchedResponses``,
///   ``refusedStreams``, ``refusedStreamsPerPeer``, ``idleClosedStreams``,
///   ``overloadedStreams``, ``unsentBytes``.
/// - Inputs: ``streamOpened(_:with:)``, ``streamEnded(_:)``,
///   ``handleMessage(_:on:servedMethods:)``, ``streamWritten(_:count:)`` and
///   ``handleTimeout(now:)``.
/// - Commands: ``request(_:_:on:timeout:now:)``, ``cancel(_:)``, ``respond(to:payload:)``
///   and ``reject(_:reason:)``.
/// - Outputs: ``pollTransmit()``, ``pollStreamToClose()``, ``earliestDeadline`` and
///   ``pollEvent()``.
///
/// Both tables are bounded: ``StreamConstants/maximumWaitingRequests`` waiting requests
/// (more fail with ``RPCError/tooManyRequests(maximum:)``) and the open streams, in
/// all and per peer (more are refused and counted). Streams left unused past the idle
/// timeout, and streams whose peer does not read what it asked for (unsent bytes over
/// the limit), are handed to the driver to close through ``pollStreamToClose()``; see
/// ``StreamLimits`` for every limit and its policy.
///
/// - Warning: not thread-safe; `now` must never go backwards between calls.
public struct StreamCalls: Sendable {
    /// A request sent on a stream, waiting for its response.
    struct Waiting: Equatable, Sendable {
        /// The stream the request went out on; only its answer there counts.
        let stream: StreamID
        /// The method asked for, to name it in a ``RPCError/noHandler(method:)``.
        let method: String
    }

    /// The largest stream message sent or accepted, channel byte included.
    public let maximumMessageSize: Int
    /// The most streams kept track of at once.
    public var maximumOpenStreams: Int { limits.maximumOpenStreams }
    /// The limits on streams and their unsent bytes.
    public let limits: StreamLimits
    /// Authenticated stream messages that were not valid messages, requests or responses.
    public private(set) var malformedMessages = 0
    /// Valid responses that no waiting request was for: late (after a timeout or a
    /// cancel), duplicated, or for a request sent on another stream.
    public private(set) var unmatchedResponses = 0
    /// Streams refused because ``maximumOpenStreams`` were open.
    public private(set) var refusedStreams = 0
    /// Streams refused because their peer had ``StreamLimits/maximumStreamsPerPeer`` open.
    public private(set) var refusedStreamsPerPeer = 0
    /// Streams closed for carrying nothing for ``StreamLimits/idleTimeout``.
    public private(set) var idleClosedStreams = 0
    /// Streams closed because their unsent bytes passed a ``StreamLimits`` bound.
    public private(set) var overloadedStreams = 0
    /// Bytes queued on all streams and not yet reported written.
    public private(set) var unsentBytes = 0

    /// What the core knows of one open stream.
    private struct OpenStream {
        let peer: PeerID
        /// Bytes queued on it and not yet reported written.
        var unsent = 0
        /// Whether anything moved on it since the last idle check.
        var touched = true
        /// When the idle check last saw it move.
        var lastActive: Instant?
        /// Whether it was handed to the driver to close.
        var closing = false
    }

    private var streams: [StreamID: OpenStream] = [:]
    private var streamsPerPeer: [PeerID: Int] = [:]
    /// Streams the driver is to close (idle or overloaded), oldest first.
    private var toClose = Deque<StreamID>()
    /// When the idle check runs next; `nil` until a stream opens with a `now`, which
    /// starts the idle clock.
    private var nextIdleCheck: Instant?
    private var waiting: WaitTable<RequestID, Waiting>
    private var nextRequestID: UInt64
    private var transmits = Deque<StreamTransmit>()
    private var events = Deque<StreamCallEvent>()

    /// Creates the stream calls of one peer.
    /// - Parameters:
    ///   - maximumMessageSize: the largest stream message, as the streams' configuration
    ///     allows (at least ``RPCConstants/maximumMessageSize``).
    ///   - firstRequestID: the ID of the first request; they count up from it.
    ///   - maximumWaitingRequests: the most requests waiting at once.
    ///   - maximumOpenStreams: the most open streams; overrides `limits`' when given.
    ///   - limits: the limits on streams and their unsent bytes.
    public init(
        maximumMessageSize: Int = StreamConstants.defaultMaximumMessageSize, firstRequestID: UInt64 = 0,
        maximumWaitingRequests: Int = StreamConstants.maximumWaitingRequests,
        maximumOpenStreams: Int? = nil, limits: StreamLimits = StreamLimits()
    ) {
        self.maximumMessageSize = maximumMessageSize
        var limits = limits
        if let maximumOpenStreams { limits.maximumOpenStreams = max(1, maximumOpenStreams) }
        self.limits = limits
        self.nextRequestID = firstRequestID
        self.waiting = WaitTable(capacity: maximumWaitingRequests)
    }

    // MARK: Getters

    /// Requests waiting for their response.
    public var waitingCount: Int { waiting.count }

    /// Streams open.
    public var openStreamCount: Int { streams.count }

    /// The peer at the other end of `stream`, while it is open.
    public func peer(on stream: StreamID) -> PeerID? { streams[stream]?.peer }

    /// Bytes queued on `stream` and not yet reported written.
    public func unsentBytes(on stream: StreamID) -> Int { streams[stream]?.unsent ?? 0 }

    /// The earliest deadline: of a waiting request, or of the next idle check while
    /// streams are open (the idle clock starts with the first stream opened with a
    /// `now`; streams opened without one are never closed for idleness).
    /// `nil` when there is neither. O(1).
    public var earliestDeadline: Instant? {
        let idle = streams.isEmpty ? nil : nextIdleCheck
        guard let request = waiting.earliestDeadline else { return idle }
        guard let idle else { return request }
        return min(request, idle)
    }

    /// Checks a request before a stream is made for it.
    /// - Throws: ``RPCError/invalidMethod(_:)`` or
    ///   ``RPCError/payloadTooLarge(size:maximum:)`` when the request does not fit
    ///   `maximumMessageSize`.
    public static func check(method: String, payloadCount: Int, maximumMessageSize: Int) throws(RPCError) {
        guard RPCRequest.isValidMethod(method) else { throw .invalidMethod(method) }
        let maximum = maximumMessageSize - RPCConstants.requestFixedSize - method.utf8.count
        guard payloadCount <= maximum else { throw .payloadTooLarge(size: payloadCount, maximum: maximum) }
    }

    /// The stream message that carries `payload` as a reliable message (channel `0x00`).
    /// - Throws: ``RPCError/payloadTooLarge(size:maximum:)`` above
    ///   `maximumMessageSize - 1` bytes.
    public static func message(_ payload: [UInt8], maximumMessageSize: Int) throws(RPCError) -> [UInt8] {
        let maximum = maximumMessageSize - 1
        guard payload.count <= maximum else { throw .payloadTooLarge(size: payload.count, maximum: maximum) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(payload.count + 1)
        bytes.append(RPCChannel.datagram.rawValue)
        bytes.append(contentsOf: payload)
        return bytes
    }

    // MARK: Inputs

    /// Call after a stream with `peer` opened (either side dialled), at `now`, which
    /// starts the idle clock (without any `now`, streams are never closed for idleness).
    /// - Returns: `false` when ``maximumOpenStreams`` are open, or
    ///   ``StreamLimits/maximumStreamsPerPeer`` with `peer`: the driver closes it.
    public mutating func streamOpened(_ stream: StreamID, with peer: PeerID, now: Instant? = nil) -> Bool {
        if streams[stream] != nil { return true }
        guard streams.count < limits.maximumOpenStreams else {
            refusedStreams += 1
            return false
        }
        guard streamsPerPeer[peer, default: 0] < limits.maximumStreamsPerPeer else {
            refusedStreamsPerPeer += 1
            return false
        }
        streams[stream] = OpenStream(peer: peer, touched: now == nil, lastActive: now)
        streamsPerPeer[peer, default: 0] += 1
        if let now, nextIdleCheck == nil { nextIdleCheck = now + limits.idleTimeout / 4 }
        return true
    }

    /// Call after `stream` ended (closed, failed, or refused): the requests waiting on
    /// it fail with ``RPCError/unreachable``, in ID order, and answers not yet sent on
    /// it are dropped.
    public mutating func streamEnded(_ stream: StreamID) {
        guard let ended = streams.removeValue(forKey: stream) else { return }
        unsentBytes -= ended.unsent
        if let count = streamsPerPeer[ended.peer] { streamsPerPeer[ended.peer] = count > 1 ? count - 1 : nil }
        for (id, _) in waiting.removeAll(where: { $0.stream == stream }) {
            events.append(.response(id, .failure(.unreachable)))
        }
        if transmits.contains(where: { $0.stream == stream }) { transmits.removeAll { $0.stream == stream } }
        if toClose.contains(stream) { toClose.removeAll { $0 == stream } }
    }

    /// Call when the driver has written `count` bytes that ``pollTransmit()`` gave for
    /// `stream` (or dropped them): they no longer count as unsent.
    public mutating func streamWritten(_ stream: StreamID, count: Int) {
        guard var open = streams[stream] else { return }
        let written = min(max(0, count), open.unsent)
        open.unsent -= written
        open.touched = true
        streams[stream] = open
        unsentBytes -= written
    }

    /// Handles one whole message that arrived on `stream`.
    ///
    /// A message becomes ``StreamCallEvent/message(peer:payload:)``; a request for a
    /// method in `servedMethods` ``StreamCallEvent/request(_:)``, for any other one an
    /// answer ``RPCStatus/noHandler``; a response to a request waiting on this stream
    /// ``StreamCallEvent/response(_:_:)``. Anything else is counted in
    /// ``malformedMessages`` or ``unmatchedResponses`` and changes nothing; so is
    /// anything on a stream that is not open.
    ///
    /// While the stream's unsent bytes, or all streams', are over their
    /// ``StreamLimits`` bound, a request or message closes the stream instead
    /// (``pollStreamToClose()``, counted in ``overloadedStreams``): its peer asks for
    /// more than it reads.
    public mutating func handleMessage(_ message: [UInt8], on stream: StreamID, servedMethods: Set<String>) {
        guard var open = streams[stream], let first = message.first, let channel = RPCChannel(rawValue: first)
        else {
            malformedMessages += 1
            return
        }
        let peer = open.peer
        open.touched = true
        streams[stream] = open
        if channel != .response,
            open.unsent >= limits.maximumUnsentBytesPerStream || unsentBytes >= limits.maximumUnsentBytes
        {
            if !open.closing { overloadedStreams += 1 }
            requestClose(stream)
            return
        }
        switch channel {
        case .datagram:
            events.append(.message(peer: peer, payload: Array(message[1...])))
        case .request:
            guard let request = try? RPCRequest.decode(message[...], maximumSize: maximumMessageSize) else {
                malformedMessages += 1
                return
            }
            let id = IncomingStreamRequestID(stream: stream, requestID: RequestID(rawValue: request.id))
            if servedMethods.contains(request.method) {
                events.append(
                    .request(
                        IncomingStreamRequest(id: id, peer: peer, method: request.method, payload: request.payload))
                )
            } else {
                answer(id, .noHandler)
            }
        case .response:
            guard let response = try? RPCResponse.decode(message[...], maximumSize: maximumMessageSize) else {
                malformedMessages += 1
                return
            }
            let id = RequestID(rawValue: response.id)
            guard let request = waiting[id], request.stream == stream else {
                unmatchedResponses += 1
                return
            }
            waiting.remove(id)
            events.append(.response(id, response.outcome.result(method: request.method)))
        }
    }

    /// Fails the requests whose deadline is at or before `now` with
    /// ``RPCError/timedOut``, earliest first.
    /// Then, when the idle check is due, hands every stream that carried nothing for
    /// ``StreamLimits/idleTimeout`` (no request waiting on it, nothing unsent) to the
    /// driver to close (``pollStreamToClose()``); the check runs every quarter of the
    /// timeout, so an idle stream closes between 1 and 1.25 timeouts after its last use.
    public mutating func handleTimeout(now: Instant) {
        for (id, _) in waiting.removeExpired(now: now) { events.append(.response(id, .failure(.timedOut))) }
        guard let due = nextIdleCheck, due <= now else { return }
        nextIdleCheck = now + limits.idleTimeout / 4
        var busy: Set<StreamID> = []
        for request in waiting.waitingEntries { busy.insert(request.stream) }
        for id in streams.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard var open = streams[id] else { continue }
            if open.touched || open.lastActive == nil || open.unsent > 0 || busy.contains(id) {
                open.touched = false
                open.lastActive = now
                streams[id] = open
            } else if let last = open.lastActive, now - last >= limits.idleTimeout, !open.closing {
                idleClosedStreams += 1
                requestClose(id)
            }
        }
    }

    // MARK: Commands

    /// Sends a request for `method` on `stream`; its outcome arrives once as
    /// ``StreamCallEvent/response(_:_:)``.
    /// - Parameters:
    ///   - method: the method name.
    ///   - payload: the bytes; see ``check(method:payloadCount:maximumMessageSize:)``.
    ///   - stream: an open stream.
    ///   - timeout: time from now after which the request fails with ``RPCError/timedOut``.
    ///   - now: the current time.
    /// - Returns: the ID that the response will carry.
    /// - Throws: ``RPCError/invalidMethod(_:)``, ``RPCError/payloadTooLarge(size:maximum:)``,
    ///   ``RPCError/unreachable`` when `stream` is not open, or
    ///   ``RPCError/tooManyRequests(maximum:)`` when the waiting table is full.
    public mutating func request(
        _ method: String, _ payload: [UInt8], on stream: StreamID, timeout: Duration, now: Instant
    ) throws(RPCError) -> RequestID {
        try Self.check(method: method, payloadCount: payload.count, maximumMessageSize: maximumMessageSize)
        guard streams[stream] != nil else { throw .unreachable }
        guard !waiting.isFull else { throw .tooManyRequests(maximum: waiting.capacity) }
        var id = RequestID(rawValue: nextRequestID)
        while waiting[id] != nil {
            nextRequestID &+= 1
            id = RequestID(rawValue: nextRequestID)
        }
        nextRequestID &+= 1
        let message: [UInt8]
        do {
            message = try RPCRequest(id: id.rawValue, method: method, payload: payload)
                .encoded(maximumSize: maximumMessageSize)
        } catch {
            fatalError("a checked request failed to encode: \(error)")
        }
        _ = waiting.insert(Waiting(stream: stream, method: method), for: id, deadline: now + timeout)
        queue(message, on: stream)
        return id
    }

    /// Stops waiting for request `id`: no ``StreamCallEvent/response(_:_:)`` follows, and
    /// its answer, if it comes, is counted as unmatched. Does nothing when it has ended.
    public mutating func cancel(_ id: RequestID) {
        waiting.remove(id)
    }

    /// Answers an incoming stream request with `payload`.
    /// - Throws: ``RPCError/payloadTooLarge(size:maximum:)`` when `payload` does not fit
    ///   one stream message; the requester is then answered ``RPCStatus/tooLarge``.
    public mutating func respond(to request: IncomingStreamRequestID, payload: [UInt8]) throws(RPCError) {
        let maximum = maximumMessageSize - RPCConstants.responseHeaderSize
        guard payload.count <= maximum else {
            answer(request, .tooLarge(size: payload.count, maximum: maximum))
            throw .payloadTooLarge(size: payload.count, maximum: maximum)
        }
        answer(request, .ok(payload))
    }

    /// Refuses an incoming stream request; the requester's call fails with
    /// ``RPCError/rejected(reason:)``, `reason` cut to ``RPCConstants/maximumReasonLength``.
    public mutating func reject(_ request: IncomingStreamRequestID, reason: String) {
        answer(request, .rejected(RPCResponse.truncatedReason(reason)))
    }

    // MARK: Outputs

    /// The next message to send on a stream, oldest first; `nil` when there is none.
    public mutating func pollTransmit() -> StreamTransmit? { transmits.popFirst() }

    /// The next event, oldest first; `nil` when there is none.
    public mutating func pollEvent() -> StreamCallEvent? { events.popFirst() }

    /// The next stream the driver should close (idle, or its peer does not read), oldest
    /// first; `nil` when there is none. The driver reports its end with
    /// ``streamEnded(_:)`` as for any other stream.
    public mutating func pollStreamToClose() -> StreamID? { toClose.popFirst() }

    // MARK: Internals

    /// Queues `message` on `stream` and counts it as unsent.
    private mutating func queue(_ message: [UInt8], on stream: StreamID) {
        guard var open = streams[stream] else { return }
        open.unsent += message.count
        open.touched = true
        streams[stream] = open
        unsentBytes += message.count
        transmits.append(StreamTransmit(stream: stream, bytes: message))
    }

    /// Asks the driver to close `stream`, once.
    private mutating func requestClose(_ stream: StreamID) {
        guard var open = streams[stream], !open.closing else { return }
        open.closing = true
        streams[stream] = open
        toClose.append(stream)
    }

    /// Queues the answer to `request`, unless its stream has ended.
    private mutating func answer(_ request: IncomingStreamRequestID, _ outcome: RPCResponse.Outcome) {
        guard streams[request.stream] != nil else { return }
        do {
            let message = try RPCResponse(id: request.requestID.rawValue, outcome: outcome)
                .encoded(maximumSize: maximumMessageSize)
            queue(message, on: request.stream)
        } catch {
            fatalError("a checked response failed to encode: \(error)")
        }
    }
}
