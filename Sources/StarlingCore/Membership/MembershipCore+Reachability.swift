extension MembershipCore {
    /// The member that relayed the ack of this peer's latest probe of `member`, when the
    /// direct ping went unanswered but a ping request was: `member` is alive, but this
    /// peer cannot reach it directly (another subnet, a NAT, a one-way filter). `nil`
    /// when the latest answered probe was answered directly, or none was.
    ///
    /// Learnt as probes come round (each member once per probe round), or from the
    /// super-peer a relay from `member` came through (``noteReachedThrough(_:via:)``), and
    /// forgotten as soon as `member` answers a ping directly again.
    public func reachedThrough(_ member: PeerID) -> PeerID? { indirectRoutes[member] }

    /// Notes that `member` reached this peer through `helper` (a relay came through it),
    /// unless membership already knows a way to it that is not direct.
    public mutating func noteReachedThrough(_ member: PeerID, via helper: PeerID) {
        guard indirectRoutes[member] == nil, table[member]?.state.isLive == true else { return }
        noteReachability(of: member, through: helper)
    }

    /// Sets the members asked first to ping a target for this peer when its direct ping
    /// goes unanswered: in the super-peer topology, the super-peers, which are elected
    /// for being reachable. Others are drawn at random for the remaining ping requests,
    /// as before.
    public mutating func setPreferredHelpers(_ helpers: [PeerID]) {
        preferredHelpers = helpers
    }

    /// Makes the member at `address` the target of the next regular probe (a direct ping,
    /// then ping requests, as ever), so that ``reachedThrough(_:)`` is learnt now rather
    /// than when the round-robin order comes to it: for a session about to be made with
    /// it. Does nothing when no live member is there, or it is being probed already.
    /// - Returns: the member, when one is there.
    @discardableResult
    public mutating func probeNext(at address: PeerAddress) -> PeerID? {
        guard let id = order.first(where: { table[$0]?.address == address }), table[id]?.state.isLive == true
        else { return nil }
        guard probe?.target != id, probeIndex >= probeList.count || probeList[probeIndex] != id,
            probeList.count < 2 * order.count + 1
        else { return id }
        probeList.insert(id, at: min(probeIndex, probeList.count))
        return id
    }

    /// Records how `member` was last reached: directly (`through` is `nil`: a probe it
    /// answered itself) or through `through` (a probe answered after a ping request to
    /// it, or a relay from `member` that came through it).
    mutating func noteReachability(of member: PeerID, through helper: PeerID?) {
        guard indirectRoutes[member] != helper else { return }
        indirectRoutes[member] = helper
        reachabilityChanges.insert(member)
    }

    /// The members whose ``reachedThrough(_:)`` changed since the last call, in ID order
    /// (at most one entry per member, so the set stays bounded when nobody takes it).
    mutating func takeReachabilityChanges() -> [PeerID] {
        guard !reachabilityChanges.isEmpty else { return [] }
        defer { reachabilityChanges.removeAll(keepingCapacity: true) }
        return reachabilityChanges.sorted()
    }
}
