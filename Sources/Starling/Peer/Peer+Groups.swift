public import StarlingCore

extension Peer {
    /// Joins the overlay multicast group `name`: messages sent to it reach this peer as
    /// ``Event/groupMessage(_:)``, from members on any subnet. The join is reported to
    /// the group's rendezvous peers and this peer links into the group's mesh;
    /// ``Event/groupJoined(group:)`` says when it took effect (within a second or two of
    /// round trips). Joining a joined group does nothing.
    ///
    /// Delivery is at most once per member, in no particular order (each origin's
    /// sequence numbers increase, for an application that wants its order); messages
    /// sent before the join took effect may or may not arrive. See "Overlay multicast
    /// groups" in `docs/PROTOCOL.md`.
    /// - Parameters:
    ///   - name: the group's name, 1 to 255 UTF-8 bytes.
    ///   - secret: a private group's secret (16 to 64 bytes): only peers that know it can
    ///     find, read or send to the group. Without it the group's key comes from the
    ///     swarm secret (or, in an open swarm, from the swarm ID).
    /// - Throws: ``PeerError/group(_:)``, ``PeerError/overlayDisabled`` or ``PeerError/shutDown``.
    public func join(group name: String, secret: [UInt8]? = nil) async throws(PeerError) {
        try await groups(name, secret: secret) { overlay, now throws(GroupError) in
            _ = try overlay.joinGroup(name, secret: secret, now: now)
        }
    }

    /// Leaves the group `name`: its messages stop at once, and its members and
    /// rendezvous peers are told. Leaving a group not joined does nothing.
    /// - Throws: ``PeerError/group(_:)``, ``PeerError/overlayDisabled`` or ``PeerError/shutDown``.
    public func leave(group name: String, secret: [UInt8]? = nil) async throws(PeerError) {
        try await groups(name, secret: secret) { overlay, now throws(GroupError) in
            try overlay.leaveGroup(name, secret: secret, now: now)
        }
    }

    /// Sends `payload` to every member of the group `name` but this peer. This peer need
    /// not be a member: it then hands the message to members the rendezvous peers name
    /// (``Event/groupSendFailed(group:messages:reason:)`` if there are none).
    /// - Returns: the message's ID (origin and sequence number).
    /// - Throws: ``PeerError/group(_:)`` for a payload over
    ///   `GroupConstants.maximumPayloadSize`,
    ///   ``PeerError/overlayDisabled`` or ``PeerError/shutDown``.
    @discardableResult
    public func send(toGroup name: String, secret: [UInt8]? = nil, _ payload: [UInt8]) async throws(PeerError)
        -> GroupMessageID
    {
        try await groups(name, secret: secret) { overlay, now throws(GroupError) in
            try overlay.sendToGroup(name, secret: secret, payload, now: now)
        }
    }

    /// The groups this peer has joined, with their mesh links (peer and whether the
    /// link is eager; `nil` while it waits for confirmation).
    public func groupLinks() async -> [String: [(peer: PeerID, eager: Bool?)]] {
        let links = try? await onLoop { loop throws(PeerError) in
            loop.withCore { core -> [String: [(peer: PeerID, eager: Bool?)]] in
                guard let groups = core.overlay?.groups else { return [:] }
                var links: [String: [(peer: PeerID, eager: Bool?)]] = [:]
                for group in groups.joinedGroups {
                    links[loop.groupNames[group] ?? group.description] = groups.links(of: group)
                }
                return links
            }
        }
        return (links ?? nil) ?? [:]
    }

    /// Runs a group command on the loop, remembering the group's name for its events.
    private func groups<Result: Sendable>(
        _ name: String, secret: [UInt8]?,
        _ body: @escaping @Sendable (inout OverlayCore, Instant) throws(GroupError) -> Result
    ) async throws(PeerError) -> Result {
        try await onLoop { loop throws(PeerError) in
            try loop.performOverlay { overlay, now throws(PeerError) in
                do throws(GroupError) {
                    let key = try overlay.groupKey(name: name, secret: secret)
                    loop.groupNames[key.id] = name
                    return try body(&overlay, now)
                } catch {
                    throw .group(error)
                }
            }
        }
    }
}
