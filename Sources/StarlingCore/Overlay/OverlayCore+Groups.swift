/// Overlay multicast groups (``GroupsCore``) joined up with the overlay: group keys from
/// the swarm, rendezvous peers from the topology, senders checked against membership.
extension OverlayCore {
    // MARK: Commands

    /// The key (and ID) of the group `name` in this swarm; `secret` makes it a private
    /// group, readable only by those who know the secret.
    /// - Throws: ``GroupError/invalidName(_:)``.
    public func groupKey(name: String, secret: [UInt8]? = nil) throws(GroupError) -> GroupKey {
        guard GroupID.isValidName(name) else { throw .invalidName(name) }
        return GroupKey(
            name: name, swarmID: configuration.swarmID, swarmSecret: configuration.swarmSecret, groupSecret: secret)
    }

    /// Joins the group `name`; ``GroupEvent/joined(_:)`` reports when it takes effect.
    /// - Returns: the group's ID, which its events carry.
    /// - Throws: ``GroupError``.
    @discardableResult
    public mutating func joinGroup(_ name: String, secret: [UInt8]? = nil, now: Instant) throws(GroupError) -> GroupID {
        let now = advance(now)
        let key = try groupKey(name: name, secret: secret)
        try groups.join(key, now: now)
        absorb(now: now)
        return key.id
    }

    /// Leaves the group `name` (nothing happens if it was not joined).
    /// - Throws: ``GroupError/invalidName(_:)``.
    public mutating func leaveGroup(_ name: String, secret: [UInt8]? = nil, now: Instant) throws(GroupError) {
        let now = advance(now)
        groups.leave(try groupKey(name: name, secret: secret).id, now: now)
        absorb(now: now)
    }

    /// Sends `payload` to every member of the group `name`; this peer need not be one.
    /// - Throws: ``GroupError``.
    @discardableResult
    public mutating func sendToGroup(_ name: String, secret: [UInt8]? = nil, _ payload: [UInt8], now: Instant)
        throws(GroupError) -> GroupMessageID
    {
        let now = advance(now)
        let id = try groups.send(payload, to: try groupKey(name: name, secret: secret), now: now)
        absorb(now: now)
        return id
    }

    /// Turns LAN acceleration on (an IP multicast address and port of the LAN segment
    /// that the driver has joined on one interface) or, with nil, off.
    public mutating func setGroupLANChannel(_ channel: PeerAddress?, now: Instant) {
        let now = advance(now)
        groups.setLANChannel(channel, now: now)
        absorb(now: now)
    }

    /// Feeds an overlay datagram that arrived on the LAN group channel: only group
    /// messages are taken from there.
    public mutating func handleGroupChannelDatagram(
        _ datagram: UnsafeRawBufferPointer, from source: PeerAddress, now: Instant
    ) {
        let now = advance(now)
        guard groups.lanChannel != nil, let opened = admitReceived(datagram, from: source, now: now) else { return }
        guard opened.protocolKind == .group else {
            statistics.drops[.unknownProtocol, default: 0] += 1
            return
        }
        statistics.received[.group, default: 0] += 1
        handleGroupMessage(opened.message, from: source, viaLAN: true, now: now)
        absorb(now: now)
    }

    // MARK: Joining up

    /// A received group message: its sender must be an alive (or suspected) member at
    /// the datagram's source address. A leaf that holds only the super-peers
    /// (``MembershipView/partial``) does not hold its group mates: it takes one it does
    /// not hold at a source address that answered an address check (return
    /// routability); the first message from an unproven one is dropped and the address
    /// challenged, and the sender's retries (links, grafts) come through once it answers.
    mutating func handleGroupMessage(_ bytes: ArraySlice<UInt8>, from source: PeerAddress, viaLAN: Bool, now: Instant) {
        let message: GroupMessage
        do {
            message = try GroupMessage.decode(bytes)
        } catch {
            groups.statistics.malformed += 1
            return
        }
        if let member = membership.member(message.sender) {
            guard member.address == source, member.state == .alive || member.state == .suspect else {
                groups.statistics.unknownSenders += 1
                return
            }
        } else if membership.view == .partial, !viaLAN, message.sender != localID {
            guard addressValidation.isProven(source, at: now) else {
                groups.statistics.unknownSenders += 1
                addressValidation.proveAhead(source, now: now)
                return
            }
        } else {
            groups.statistics.unknownSenders += 1
            return
        }
        groups.handleMessage(message, from: GroupMember(id: message.sender, address: source), viaLAN: viaLAN, now: now)
    }

    /// Works out the rendezvous peers the groups asked for, and reports their events.
    mutating func absorbGroups(now: Instant) {
        let wanted = groups.takeRendezvousRequests()
        if !wanted.isEmpty {
            let candidates = rendezvousCandidates()
            let ids = candidates.keys.sorted()
            for group in wanted {
                let chosen = IndexPlacement.holders(
                    of: group.routingKey, among: ids, count: GroupConstants.rendezvousCount)
                groups.setRendezvous(
                    chosen.map { GroupMember(id: $0, address: candidates[$0]!) }, for: group, now: now)
            }
        }
        while let event = groups.pollEvent() { events.append(.group(event)) }
    }

    /// The peers that may be a group's rendezvous, by the topology: the index servers
    /// that are up (hybrid), the super-peers (super-peer topology), otherwise every alive
    /// member and this peer. A topology whose authorities are all gone falls back to
    /// the members, as its lookups fall back to Kademlia.
    func rendezvousCandidates() -> [PeerID: PeerAddress] {
        if let hybrid {
            var indexes = Dictionary(
                hybrid.knownIndexes.filter { hybrid.indexState($0.id)?.isUp == true }.map { ($0.id, $0.address) },
                uniquingKeysWith: { first, _ in first })
            if hybrid.role == .index { indexes[localID] = localAddress }
            if !indexes.isEmpty { return indexes }
        }
        if let superPeer {
            var superPeers = Dictionary(
                superPeer.knownSuperPeers.map { ($0.id, $0.address) }, uniquingKeysWith: { first, _ in first })
            if superPeer.role == .superPeer { superPeers[localID] = localAddress }
            if !superPeers.isEmpty { return superPeers }
        }
        var members: [PeerID: PeerAddress] = [localID: localAddress]
        for member in membership.members where member.state == .alive { members[member.id] = member.address }
        return members
    }
}
