/// A rendezvous peer's registrations: for each group it is a rendezvous of, the members
/// that reported it lately (IGMP's group table, kept for the whole overlay).
///
/// Bounded: ``GroupConstants/maximumRendezvousGroups`` groups,
/// ``GroupConstants/maximumRegistrationsPerGroup`` members each and
/// ``GroupConstants/maximumRegistrations`` in all; a report beyond them is refused (a
/// member already registered is always refreshed). A registration lives
/// ``GroupConstants/registrationLifetime`` after its last report.
struct RendezvousTable: Sendable {
    private var groups: [GroupID: [PeerID: Registration]] = [:]
    /// Registrations held, all groups together.
    private(set) var count = 0

    struct Registration: Sendable {
        var address: PeerAddress
        var expiresAt: Instant
    }

    /// Groups with registrations.
    var groupCount: Int { groups.count }

    /// Registers (or refreshes) `member` in `group` until `expiresAt`.
    /// - Returns: false when refused for room.
    mutating func register(_ member: GroupMember, in group: GroupID, until expiresAt: Instant) -> Bool {
        if groups[group]?[member.id] != nil {
            groups[group]![member.id] = Registration(address: member.address, expiresAt: expiresAt)
            return true
        }
        guard count < GroupConstants.maximumRegistrations else { return false }
        guard groups[group] != nil || groups.count < GroupConstants.maximumRendezvousGroups else { return false }
        guard (groups[group]?.count ?? 0) < GroupConstants.maximumRegistrationsPerGroup else { return false }
        groups[group, default: [:]][member.id] = Registration(address: member.address, expiresAt: expiresAt)
        count += 1
        return true
    }

    /// Removes `member` from `group` (a leave).
    mutating func remove(_ member: PeerID, from group: GroupID) {
        guard groups[group]?.removeValue(forKey: member) != nil else { return }
        count -= 1
        if groups[group]!.isEmpty { groups[group] = nil }
    }

    /// Members of `group`, at most `count` of them, drawn at random, without `excluded`.
    func sample(
        of group: GroupID, excluding excluded: PeerID, count: Int, now: Instant,
        using generator: inout some RandomNumberGenerator
    ) -> [GroupMember] {
        guard let registered = groups[group] else { return [] }
        let live = registered.filter { $0.key != excluded && $0.value.expiresAt > now }.keys.sorted()
        return live.shuffled(using: &generator).prefix(count).map {
            GroupMember(id: $0, address: registered[$0]!.address)
        }
    }

    /// Forgets registrations expired at `now`.
    mutating func expire(now: Instant) {
        for (group, registered) in groups {
            let live = registered.filter { $0.value.expiresAt > now }
            guard live.count != registered.count else { continue }
            count -= registered.count - live.count
            groups[group] = live.isEmpty ? nil : live
        }
    }
}
