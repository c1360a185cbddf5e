public import StarlingCore

extension NodeSwarm {
    /// Publishes `content` under `name` at `node`; see
    /// ``StarlingCore/OverlayCore/publishName(_:content:ttl:now:)``.
    @discardableResult
    public mutating func publishName(
        _ name: OverlayName, content: NameRecord.Content, ttl: Duration = .seconds(300), at node: SimNodeID
    ) -> NameRequestID? {
        var id: NameRequestID?
        network.command(node) { core, now in
            id = core.withOverlay { $0.publishName(name, content: content, ttl: ttl, now: now) }
        }
        return id
    }

    /// Resolves `name` at `node`; see ``StarlingCore/OverlayCore/resolveName(_:goal:now:)``.
    @discardableResult
    public mutating func resolveName(_ name: OverlayName, at node: SimNodeID) -> NameRequestID? {
        var id: NameRequestID?
        network.command(node) { core, now in id = core.withOverlay { $0.resolveName(name, now: now) } }
        return id
    }

    /// The end of resolution `id` started at `node`, once it came.
    public func resolution(_ id: NameRequestID, at node: SimNodeID) -> Result<ResolvedName, NameError>? {
        for event in network.events(of: node).reversed() {
            if case .overlay(.name(.resolved(id, let result))) = event { return result }
        }
        return nil
    }

    /// The end of publication `id` started at `node`, once it came.
    public func publication(_ id: NameRequestID, at node: SimNodeID) -> Result<NamePublication, NameError>? {
        for event in network.events(of: node).reversed() {
            if case .overlay(.name(.published(id, let result))) = event { return result }
        }
        return nil
    }
}
