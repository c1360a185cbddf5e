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
///   ``refusedStreams``.
/// - Inputs: ``streamOpened(_:with:)``, ``streamEnded(_:)``,
///   ``handleMessage(_:on:servedMethods:)`` and ``handleTimeout(now:)``.
/// - Commands: ``request(_:_:on:timeout:now:)``, ``cancel(_:)``, ``respond(to:payload:)``
///   and ``reject(_:reason:)``.
/// - Outputs: ``pollTransmit()``, ``earliestDeadline`` and ``pollEvent()``.
///
/// Both tables are bounded: ``StreamConstants/maximumWaitingRequests`` waiting requests
/// (more fail with ``RPCError/tooManyRequests(maximum:)``) and
/// ``StreamConstants/maximumOpenStreams`` open streams (more are refused and counted).
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
    public let maximumOpenStreams: Int
    /// Authenticated stream messages that were not valid messages, requests or responses.
    public private(set) var malformedMessages = 0
    /// Valid responses that no waiting request was for: late (after a timeout or a
    /// cancel), duplicated, or for a request sent on another stream.
    public private(set) var unmatchedResponses = 0
    /// Streams refused because ``maximumOpenStreams`` were open.
    public private(set) var refusedStreams = 0

    private var streams: [StreamID: PeerID] = [:]
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
    ///   - maximumOpenStreams: the most open streams.
    public init(
        maximumMessageSize: Int = StreamConstants.defaultMaximumMessageSize, firstRequestID: UInt64 = 0,
        maximumWaitingRequests: Int = StreamConstants.maximumWaitingRequests,
        maximumOpenStreams: Int = StreamConstants.maximumOpenStreams
    ) {
        self.maximumMessageSize = maximumMessageSize
        self.maximumOpenStreams = maximumOpenStreams
        self.nextRequestID = firstRequestID
        self.waiting = WaitTable(capacity: maximumWaitingRequests)
    }

    // MARK: Getters

    /// Requests waiting for their response.
    public var waitingCount: Int { waiting.count }

    /// Streams open.
    public var openStreamCount: Int { streams.count }

    /// The peer at the other end of `stream`, while it is open.
    public func peer(on stream: StreamID) -> PeerID? { streams[stream] }

    /// The earliest deadline of a waiting request; `nil` when none waits. Exact, O(1).
    public var earliestDeadline: Instant? { waiting.earliestDeadline }

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

    /// Call after a stream with `peer` opened (either side dialled).
    /// - Returns: `false` when ``maximumOpenStreams`` are open: the driver closes it.
    public mutating func streamOpened(_ stream: StreamID, with peer: PeerID) -> Bool {
        guard streams[stream] != nil || streams.count < maximumOpenStreams else {
            refusedStreams += 1
            return false
        }
        streams[stream] = peer
        return true
    }

    /// Call after `stream` ended (closed, failed, or refused): the requests waiting on
    /// it fail with ``RPCError/unreachable``, in ID order, and answers not yet sent on
    /// it are dropped.
    public mutating func streamEnded(_ stream: StreamID) {
        guard streams.removeValue(forKey: stream) != nil else { return }
        for (id, _) in waiting.removeAll(where: { $0.stream == stream }) {
            events.append(.response(id, .failure(.unreachable)))
        }
        if transmits.contains(where: { $0.stream == stream }) { transmits.removeAll { $0.stream == stream } }
    }

    /// Handles one whole message that arrived on `stream`.
    ///
    /// A message becomes ``StreamCallEvent/message(peer:payload:)``; a request for a
    /// method in `servedMethods` ``StreamCallEvent/request(_:)``, for any other one an
    /// answer ``RPCStatus/noHandler``; a response to a request waiting on this stream
    /// ``StreamCallEvent/response(_:_:)``. Anything else is counted in
    /// ``malformedMessages`` or ``unmatchedResponses`` and changes nothing; so is
    /// anything on a stream that is not open.
    public mutating func handleMessage(_ message: [UInt8], on stream: StreamID, servedMethods: Set<String>) {
        guard let peer = streams[stream], let first = message.first, let channel = RPCChannel(rawValue: first)
        else {
            malformedMessages += 1
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
    public mutating func handleTimeout(now: Instant) {
        for (id, _) in waiting.removeExpired(now: now) { events.append(.response(id, .failure(.timedOut))) }
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
        transmits.append(StreamTransmit(stream: stream, bytes: message))
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

    // MARK: Internals

    /// Queues the answer to `request`, unless its stream has ended.
    private mutating func answer(_ request: IncomingStreamRequestID, _ outcome: RPCResponse.Outcome) {
        guard streams[request.stream] != nil else { return }
        do {
            let message = try RPCResponse(id: request.requestID.rawValue, outcome: outcome)
                .encoded(maximumSize: maximumMessageSize)
            transmits.append(StreamTransmit(stream: request.stream, bytes: message))
        } catch {
            fatalError("a checked response failed to encode: \(error)")
        }
    }
}
