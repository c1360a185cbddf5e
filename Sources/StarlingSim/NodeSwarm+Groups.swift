public import StarlingCore

extension NodeSwarm {
    /// Makes each node of `members` join the group `name` (``OverlayCore/joinGroup(_:secret:now:)``).
    /// - Throws: ``GroupError``.
    public mutating func joinGroup(_ name: String, secret: [UInt8]? = nil, at members: [SimNodeID]) throws(GroupError) {
        for node in members {
            let joined = network.command(node) { core, now in
                core.withOverlay { overlay in
                    Result { () throws(GroupError) in try overlay.joinGroup(name, secret: secret, now: now) }
                }
            }
            _ = try joined?.get()
        }
    }

    /// Makes each node of `members` leave the group `name`.
    public mutating func leaveGroup(_ name: String, secret: [UInt8]? = nil, at members: [SimNodeID]) {
        for node in members {
            network.command(node) { core, now in
                _ = core.withOverlay { try? $0.leaveGroup(name, secret: secret, now: now) }
            }
        }
    }

    /// Sends `payload` to the group `name` from `node` (member or not).
    /// - Returns: the message's ID.
    /// - Throws: ``GroupError``.
    public mutating func sendToGroup(
        _ name: String, secret: [UInt8]? = nil, _ payload: [UInt8], from node: SimNodeID
    ) throws(GroupError) -> GroupMessageID {
        let sent = network.command(node) { core, now in
            core.withOverlay { overlay in
                Result { () throws(GroupError) in try overlay.sendToGroup(name, secret: secret, payload, now: now) }
            }
        }
        guard let sent else { throw .noOverlay }
        return try sent.get()
    }

    /// The group messages `node` delivered, in order.
    public func groupMessages(at node: SimNodeID) -> [(id: GroupMessageID, payload: [UInt8], viaLAN: Bool)] {
        network.events(of: node).compactMap { event in
            guard case .overlay(.group(.message(_, let id, _, let payload, let viaLAN))) = event else { return nil }
            return (id, payload, viaLAN)
        }
    }

    /// Whether `node` reported its join of `group` in effect.
    public func hasJoined(_ group: GroupID, at node: SimNodeID) -> Bool {
        network.events(of: node).contains { event in
            if case .overlay(.group(.joined(group))) = event { true } else { false }
        }
    }
}
