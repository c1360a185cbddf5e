public import StarlingCore

extension Peer {
    /// Sends a request to the nearest live provider of `service` and returns its
    /// answer: the providers are looked up, ranked by measured round trip (by network
    /// coordinates where none is measured), and asked one at a time, each for about its
    /// round trip (`AnycastPlan`), until one answers. Among providers as
    /// near as the best, the load is spread (two random choices). A provider that does
    /// not answer in time is skipped for the next one; the caller sees only the delay.
    ///
    /// The providers serve `method` with ``handle(_:_:)``, like any request.
    /// - Parameters:
    ///   - method: the method name.
    ///   - payload: the request's bytes (a datagram's worth:
    ///     `RPCConstants.maximumRequestPayload(methodLength:)`).
    ///   - service: the service whose providers are asked.
    ///   - timeout: the whole call's time.
    /// - Returns: the answering provider, its response, and how many were asked.
    /// - Throws: ``PeerError/anycast(_:)`` (no providers, all failed, timed out, an
    ///   invalid request), ``PeerError/cancelled`` or ``PeerError/shutDown``.
    public func requestNearest(
        _ method: String, _ payload: [UInt8], service: String, timeout: Duration = RPCConstants.defaultTimeout
    ) async throws(PeerError) -> AnycastAnswer {
        try await waitOnLoop { loop, continuation in
            loop.requestNearest(method, payload, service: service, timeout: timeout, continuation: continuation)
        } cancel: { loop, id in
            loop.cancelAnycast(id)
        }
    }

    /// The live providers of `service`, nearest first, at most `count`: the ranking
    /// ``requestNearest(_:_:service:timeout:)`` starts from. Each comes with its
    /// estimated round trip and what that rests on (measured, or coordinates); those
    /// of which nothing is known yet come last, without one.
    /// - Throws: ``PeerError/overlayDisabled``, ``PeerError/cancelled`` or ``PeerError/shutDown``.
    public func nearestProviders(of service: String, count: Int = 8) async throws(PeerError) -> [RankedPeer] {
        let providers = try await findProviders(service).map(\.record.peerID)
        let ranked = try await onLoop { loop throws(PeerError) in
            try loop.performOverlay { overlay, now in overlay.nearest(providers, now: now) }
        }
        return Array(ranked.prefix(max(0, count)))
    }

    /// This peer's network coordinate and what it knows of others' (`PeerDistances`).
    public func distances() async -> PeerDistances? {
        try? await onLoop { loop throws(PeerError) in loop.withCore { $0.overlay?.distances } ?? nil }
    }
}
