public import StarlingCore

/// Overlay names (`docs/PROTOCOL.md`, "Name records"): names rooted in keys, published
/// as signed records in the publisher's zone, delegated down a hierarchy as DNS names
/// are, and resolved through the overlay with a cache.
extension Peer {
    /// Publishes `data` under `name` and keeps it published (republished with a new
    /// sequence number before it lapses) until ``unpublishName(_:)`` or shutdown.
    ///
    /// The name's last label must be in a zone this peer owns: its own peer ID
    /// (`www.<peer ID>`), a top-level name pinned to it
    /// (`OverlayConfiguration.namePins`), or a zone delegated to it
    /// (``delegateName(_:to:ttl:)``).
    /// - Parameters:
    ///   - name: the name, such as `printer.lab.alice`.
    ///   - data: what it stands for.
    ///   - ttl: how long resolvers may cache it.
    /// - Returns: what was stored.
    /// - Throws: ``PeerError/name(_:)`` (an invalid name, or a zone this peer does not
    ///   own), ``PeerError/overlayDisabled``, ``PeerError/cancelled`` or ``PeerError/shutDown``.
    @discardableResult
    public func publishName(_ name: String, data: NameData, ttl: Duration = .seconds(300)) async throws(PeerError)
        -> NamePublication
    {
        try await publish(name, content: .data(data), ttl: ttl)
    }

    /// Delegates `name` to `zone`'s key: from now on the owner of that key publishes the
    /// names below it (and its own data as the zone's apex). Kept published as
    /// ``publishName(_:data:ttl:)`` keeps data.
    /// - Throws: as ``publishName(_:data:ttl:)``.
    @discardableResult
    public func delegateName(_ name: String, to zone: PeerID, ttl: Duration = .seconds(300)) async throws(PeerError)
        -> NamePublication
    {
        try await publish(name, content: .delegation(zone), ttl: ttl)
    }

    /// Stops republishing `name`; stored copies lapse at their expiry.
    /// - Throws: ``PeerError/name(_:)`` for an invalid name, ``PeerError/overlayDisabled``
    ///   or ``PeerError/shutDown``.
    public func unpublishName(_ name: String) async throws(PeerError) {
        let parsed = try Self.parseName(name)
        try await onLoop { loop throws(PeerError) in
            try loop.performOverlay { overlay, _ in overlay.unpublishName(parsed) }
        }
    }

    /// Resolves `name` to its verified record, following its delegations from the root
    /// zone; answered from the cache while the records' TTLs last, at no network cost.
    /// - Returns: the record, with the chain of delegations that led to it.
    /// - Throws: ``PeerError/name(_:)`` with `NameError.noSuchName(_:)`,
    ///   `NameError.expired(_:)`, `NameError.forged(_:)`,
    ///   `NameError.rolledBack(name:seen:got:)`,
    ///   `NameError.delegationLoop(_:)` or
    ///   `NameError.tooDeep(_:)`; ``PeerError/overlayDisabled``,
    ///   ``PeerError/cancelled`` or ``PeerError/shutDown``.
    public func resolveName(_ name: String) async throws(PeerError) -> ResolvedName {
        let parsed = try Self.parseName(name)
        let event = try await runNameRequest { overlay, now in overlay.resolveName(parsed, now: now) }
        guard case .resolved(_, let result) = event else { throw .name(.forged("a publication answered a resolution")) }
        return try result.mapError { PeerError.name($0) }.get()
    }

    private func publish(_ name: String, content: NameRecord.Content, ttl: Duration) async throws(PeerError)
        -> NamePublication
    {
        let parsed = try Self.parseName(name)
        let event = try await runNameRequest { overlay, now in
            overlay.publishName(parsed, content: content, ttl: ttl, now: now)
        }
        guard case .published(_, let result) = event else {
            throw .name(.forged("a resolution answered a publication"))
        }
        return try result.mapError { PeerError.name($0) }.get()
    }

    private static func parseName(_ name: String) throws(PeerError) -> OverlayName {
        do {
            return try OverlayName(name)
        } catch {
            throw .name(error)
        }
    }

    private func runNameRequest(
        _ start: @escaping @Sendable (inout OverlayCore, Instant) -> NameRequestID
    ) async throws(PeerError) -> NameEvent {
        try await waitOnLoop { loop, continuation in
            loop.nameRequest(start, continuation: continuation)
        } cancel: { loop, id in
            loop.cancelNameRequest(id)
        }
    }
}
