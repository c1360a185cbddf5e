extension NodeCore {
    /// Sends a request to the nearest live provider of `service`: looks the providers
    /// up, ranks them (``OverlayCore/nearest(_:now:)``: measured round trips, network
    /// coordinates where none is measured) and asks them in ``AnycastPlan``'s order
    /// until one answers. A provider that does not take its handshake, or does not
    /// answer, within its round-trip-based time (``AnycastPlan/attemptTimeout(for:)``)
    /// is given up on for the next; the caller sees only the delay, and never the given
    /// up request's late answer.
    ///
    /// The result arrives as ``Event/anycast(_:)``. The method and payload are those of
    /// ``PeerCore/request(_:_:to:address:timeout:now:)``.
    /// - Parameters:
    ///   - service: the service whose providers are asked.
    ///   - method: the method name.
    ///   - payload: the request's bytes.
    ///   - timeout: time from now after which the request fails with
    ///     ``AnycastError/timedOut(attempts:)``.
    ///   - now: the current time.
    /// - Returns: the ID the result will carry.
    /// - Throws: ``AnycastError/noOverlay``, ``AnycastError/invalidRequest(_:)`` or
    ///   ``AnycastError/tooManyInFlight``.
    public mutating func requestNearest(
        service: String, method: String, payload: [UInt8], timeout: Duration = RPCConstants.defaultTimeout,
        now: Instant
    ) throws(AnycastError) -> AnycastID {
        guard hasOverlay else { throw .noOverlay }
        do throws(RPCError) {
            try RPCRequest.check(method: method, payloadCount: payload.count)
        } catch {
            throw .invalidRequest(error)
        }
        guard anycast.calls.count < AnycastConstants.maximumInFlight else { throw .tooManyInFlight }
        let id = AnycastID(rawValue: anycast.nextID)
        anycast.nextID += 1
        let lookup = withOverlay { $0.findProviders(service: service, now: now) }!
        anycast.calls[id] = .init(service: service, method: method, payload: payload, deadline: now + timeout)
        anycast.lookups[lookup] = id
        advanceAnycasts(now: now)
        return id
    }

    /// Takes the events of the node's parts while anycast requests are in flight (or
    /// given-up requests may still end): the lookups, sessions and responses that
    /// concern them move them on, everything else waits in order for ``pollEvent()``.
    /// Called after every input.
    mutating func advanceAnycasts(now: Instant) {
        guard !anycast.isIdle else { return }
        while let event = peer.pollEvent() {
            switch event {
            case .response(let request, _) where anycast.abandoned.remove(request) != nil:
                continue
            case .response(let request, let result):
                guard let id = anycast.requests.removeValue(forKey: request) else { break }
                answered(id, result, now: now)
                continue
            case .established(let provider, _):
                sessionUp(with: provider, now: now)
            default:
                break
            }
            anycast.events.append(.peer(event))
        }
        if hasOverlay {
            while let event = withOverlay({ $0.pollEvent() }) ?? nil {
                if case .routing(.lookupFinished(let lookup, let result)) = event,
                    let id = anycast.lookups.removeValue(forKey: lookup)
                {
                    found(id, result, now: now)
                } else {
                    anycast.events.append(.overlay(event))
                }
            }
        }
    }

    /// Gives up on the providers whose time is up (``pollTimeout()`` includes the
    /// earliest), for the next. Called when the timer fires.
    mutating func expireAnycastAttempts(now: Instant) {
        for (id, call) in anycast.calls {
            guard let deadline = call.attemptDeadline, deadline <= now, let request = call.request else { continue }
            anycast.requests[request] = nil
            anycast.abandoned.insert(request)
            answered(id, .failure(.timedOut), now: now)
        }
    }

    /// The providers of call `id` were looked up: ranks them and asks the first.
    private mutating func found(_ id: AnycastID, _ result: LookupResult, now: Instant) {
        guard var call = anycast.calls[id] else { return }
        if case .providers(let records) = result.outcome {
            for record in records {
                if let address = record.record.addresses.first { call.addresses[record.record.peerID] = address }
            }
        }
        let ranked = overlay!.nearest(call.addresses.keys, now: now)
        call.candidates = ranked.count
        call.plan = AnycastPlan(ranked: ranked)
        anycast.calls[id] = call
        askNext(id, now: now)
    }

    /// A session with `provider` came up: the calls waiting for its handshake give it
    /// its time to answer from now.
    private mutating func sessionUp(with provider: PeerID, now: Instant) {
        for (id, call) in anycast.calls where call.asking?.id == provider {
            anycast.calls[id]?.attemptDeadline = now + AnycastPlan.attemptTimeout(for: call.asking!)
        }
    }

    /// The provider call `id` asks answered, failed, or was given up on.
    private mutating func answered(_ id: AnycastID, _ result: Result<[UInt8], RPCError>, now: Instant) {
        guard var call = anycast.calls[id], let provider = call.asking else { return }
        anycast.count(provider.id, by: -1)
        (call.asking, call.request, call.attemptDeadline) = (nil, nil, nil)
        switch result {
        case .success(let payload):
            anycast.calls[id] = nil
            let answer = AnycastAnswer(
                provider: provider.id, payload: payload, attempts: call.attempts, candidates: call.candidates)
            anycast.events.append(.anycast(.finished(id, .success(answer))))
        case .failure(let error):
            call.lastError = error
            anycast.calls[id] = call
            askNext(id, now: now)
        }
    }

    /// Asks call `id`'s next provider, or ends the call when none is left or its time
    /// is up.
    private mutating func askNext(_ id: AnycastID, now: Instant) {
        guard var call = anycast.calls[id], var plan = call.plan else { return }
        while true {
            guard now < call.deadline else { return finish(id, .timedOut(attempts: call.attempts)) }
            let inFlight = anycast.inFlight
            let next = withOverlay { overlay in plan.next(inFlight: { inFlight[$0] ?? 0 }, using: &overlay.random) }
            guard let provider = next ?? nil else {
                guard let last = call.lastError else { return finish(id, .noProviders(service: call.service)) }
                return finish(id, .allFailed(attempts: call.attempts, last: last))
            }
            call.attempts += 1
            do throws(RPCError) {
                let request = try peer.request(
                    call.method, call.payload, to: provider.id, address: call.addresses[provider.id],
                    timeout: call.deadline - now, now: now)
                call.plan = plan
                (call.asking, call.request) = (provider, request)
                call.attemptDeadline = now + AnycastPlan.attemptTimeout(for: provider)
                anycast.calls[id] = call
                anycast.requests[request] = id
                anycast.count(provider.id, by: 1)
                return
            } catch {
                call.lastError = error
            }
        }
    }

    /// Ends call `id` with `error`.
    private mutating func finish(_ id: AnycastID, _ error: AnycastError) {
        anycast.calls[id] = nil
        anycast.events.append(.anycast(.finished(id, .failure(error))))
    }
}
