/// Request/response: the commands, incoming messages, and the request timers.
extension PeerCore {
    // MARK: Serving

    /// Starts answering requests for `method`: they are reported as ``PeerEvent/request(_:)``.
    /// - Throws: ``RPCError/invalidMethod(_:)`` for a name no request can carry.
    public mutating func serve(_ method: String) throws(RPCError) {
        guard RPCRequest.isValidMethod(method) else { throw .invalidMethod(method) }
        servedMethods.insert(method)
    }

    /// Stops answering requests for `method`; new ones get ``RPCStatus/noHandler``.
    /// Requests already reported may still be answered.
    public mutating func stopServing(_ method: String) {
        servedMethods.remove(method)
    }

    /// Answers an incoming request with `payload`.
    ///
    /// Answering a request a second time, while the core remembers it
    /// (``RPCConstants/responseCacheLifetime``), does nothing. Copies of the request that
    /// arrive later get this answer again, without another ``PeerEvent/request(_:)``.
    /// - Throws: ``RPCError/payloadTooLarge(size:maximum:)`` above
    ///   ``RPCConstants/maximumResponsePayload``; the requester is then answered
    ///   ``RPCStatus/tooLarge`` so that it does not wait for its timeout.
    public mutating func respond(to request: IncomingRequestID, payload: [UInt8], now: Instant) throws(RPCError) {
        let maximum = RPCConstants.maximumResponsePayload
        defer { absorbSessionEvents(now: now) }
        guard payload.count <= maximum else {
            answer(request, .tooLarge(size: payload.count, maximum: maximum), now: now)
            throw .payloadTooLarge(size: payload.count, maximum: maximum)
        }
        answer(request, .ok(payload), now: now)
    }

    /// Refuses an incoming request; the requester's call fails with
    /// ``RPCError/rejected(reason:)``.
    ///
    /// - Parameters:
    ///   - request: the request.
    ///   - reason: why, for people; cut to ``RPCConstants/maximumReasonLength`` bytes.
    ///   - now: the current time.
    public mutating func reject(_ request: IncomingRequestID, reason: String, now: Instant) {
        answer(request, .rejected(RPCResponse.truncatedReason(reason)), now: now)
        absorbSessionEvents(now: now)
    }

    // MARK: Requesting

    /// Asks `peer` to run `method` on `payload`; the outcome arrives once as
    /// ``PeerEvent/response(_:_:)``.
    ///
    /// The request is resent with exponential backoff until answered (see
    /// ``RPCConstants``). If `peer` has no session, the core connects to `address` and
    /// sends once the session is made.
    /// - Parameters:
    ///   - method: the method name.
    ///   - payload: the bytes, at most
    ///     ``RPCConstants/maximumRequestPayload(methodLength:)``.
    ///   - peer: the peer to ask.
    ///   - address: where to reach `peer` when there is no session with it.
    ///   - timeout: time from now after which the request fails with
    ///     ``RPCError/timedOut`` (or ``RPCError/unreachable`` if it never left).
    ///   - now: the current time.
    /// - Returns: the ID that the response will carry.
    /// - Throws: ``RPCError/invalidMethod(_:)``, ``RPCError/payloadTooLarge(size:maximum:)``,
    ///   or ``RPCError/unreachable`` when `peer` has no session, none is being made, and
    ///   no address is given.
    public mutating func request(
        _ method: String, _ payload: [UInt8], to peer: PeerID, address: PeerAddress? = nil,
        timeout: Duration = RPCConstants.defaultTimeout, now: Instant
    ) throws(RPCError) -> RequestID {
        try RPCRequest.check(method: method, payloadCount: payload.count)
        let established = endpoint.isEstablished(with: peer)
        guard established || address != nil || connecting[peer] != nil else { throw .unreachable }
        let id = makeRequestID()
        // The lowest ID still in flight to `peer`: IDs count up, so it is below `id`.
        let floor = tracker.floor(to: peer) ?? id
        let message: [UInt8]
        do {
            message = try RPCRequest(
                id: id.rawValue, floor: floor.rawValue, incarnation: incarnation, method: method, payload: payload
            ).encoded()
        } catch {
            fatalError("a checked request failed to encode: \(error)")
        }
        tracker.add(
            id,
            .init(peer: peer, method: method, message: message, address: address, deadline: now + timeout))
        if established {
            transmit(id, now: now)
        } else if let address {
            connecting[peer] = address
            endpoint.connect(to: address, expecting: peer, now: now)
        }
        absorbSessionEvents(now: now)
        return id
    }

    // MARK: Internals

    /// A request ID not in flight, counting up from a random start.
    mutating func makeRequestID() -> RequestID {
        while true {
            let id = RequestID(rawValue: nextRequestID)
            nextRequestID &+= 1
            if tracker[id] == nil { return id }
        }
    }

    /// Sends a copy of request `id` if it may still send one and its session is up;
    /// otherwise marks it waiting for a session or for its deadline.
    mutating func transmit(_ id: RequestID, now: Instant) {
        guard let request = tracker[id] else { return }
        guard tracker.maySend(id, now: now) else { return tracker.markExhausted(id) }
        guard endpoint.isEstablished(with: request.peer) else {
            tracker.markAwaitingSession(id)
            if let address = request.address, connecting[request.peer] == nil {
                connecting[request.peer] = address
                endpoint.connect(to: address, expecting: request.peer, now: now)
            }
            return
        }
        do {
            try endpoint.send(request.message, to: request.peer, now: now)
            tracker.markSent(id, now: now, using: &random)
        } catch {
            tracker.markAwaitingSession(id)
        }
    }

    /// Resends what is due and fails what has timed out.
    mutating func runRequestTimers(now: Instant) {
        let due = tracker.removeDue(now: now)
        for id in due.retransmit { transmit(id, now: now) }
        for (id, request) in due.expired {
            events.append(.response(id, .failure(request.firstSentAt == nil ? .unreachable : .timedOut)))
        }
    }

    /// Sends an answer to `request` and remembers it for copies of the request, unless
    /// it was answered already.
    ///
    /// Leaves the session layer's events where they are: it runs inside
    /// ``absorbSessionEvents(now:)`` too, and the commands absorb them after it.
    mutating func answer(_ request: IncomingRequestID, _ outcome: RPCResponse.Outcome, now: Instant) {
        if case .answered? = cache.state(of: request, now: now) { return }
        let message: [UInt8]
        do {
            message = try RPCResponse(id: request.requestID.rawValue, outcome: outcome).encoded()
        } catch {
            fatalError("a checked response failed to encode: \(error)")
        }
        cache.answer(request, with: message)
        try? endpoint.send(message, to: request.peer, now: now)
    }

    /// Handles one decrypted session payload from `peer` by its channel.
    mutating func handlePayload(_ payload: [UInt8], from peer: PeerID, now: Instant) {
        guard let first = payload.first, let channel = RPCChannel(rawValue: first) else {
            droppedMessages += 1
            return
        }
        switch channel {
        case .datagram:
            events.append(.datagram(peer: peer, payload: Array(payload.dropFirst())))
        case .request:
            guard let request = try? RPCRequest.decode(payload[...]) else {
                droppedMessages += 1
                return
            }
            handleRequest(request, from: peer, now: now)
        case .response:
            guard let response = try? RPCResponse.decode(payload[...]) else {
                droppedMessages += 1
                return
            }
            handleResponse(response, from: peer)
        }
    }

    mutating func handleRequest(_ request: RPCRequest, from peer: PeerID, now: Instant) {
        let key = IncomingRequestID(peer: peer, requestID: RequestID(rawValue: request.id))
        switch cache.admit(key, floor: request.floor, incarnation: request.incarnation, now: now) {
        case .new:
            if servedMethods.contains(request.method) {
                events.append(.request(IncomingRequest(id: key, method: request.method, payload: request.payload)))
            } else {
                answer(key, .noHandler, now: now)
            }
        case .running:
            break
        case .stale:
            staleRequests += 1
        case .answered(let message):
            try? endpoint.send(message, to: peer, now: now)
        case .full:
            let busy = RPCResponse(id: request.id, outcome: .rejected("busy"))
            if let message = try? busy.encoded() { try? endpoint.send(message, to: peer, now: now) }
        }
    }

    mutating func handleResponse(_ response: RPCResponse, from peer: PeerID) {
        let id = RequestID(rawValue: response.id)
        // Unknown: a duplicate of a response already taken, or late after a timeout.
        guard let request = tracker.complete(id, from: peer) else { return }
        events.append(.response(id, response.outcome.result(method: request.method)))
    }
}
