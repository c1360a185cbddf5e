/// Timers: announcements, grafts, and the once-a-second upkeep of meshes, reports,
/// non-members' sends and the bounded tables.
extension GroupsCore {
    /// Runs whatever is due.
    public mutating func handleTimeout(now: Instant) {
        if let due = iHaveDue, due <= now { flushAnnouncements() }
        if let due = reportsDue, due <= now { flushReports() }
        if !missing.isEmpty { graftDue(now: now) }
        if maintenanceAt <= now {
            maintenanceAt = now + GroupConstants.meshInterval
            maintainMeshes(now: now)
            maintainFanouts(now: now)
            if lanChannel != nil, lanReportAt <= now {
                lanReportAt = now + GroupConstants.reportInterval
                lanReports = joined.keys.sorted().map { GroupReportEntry(group: $0, flags: 0) }
                scheduleReports(now: now)
            }
            if originsPrunedAt + GroupConstants.tablePruneInterval <= now {
                originsPrunedAt = now
                pruneTables(now: now)
            }
        }
    }

    /// Per group: unanswered links are given up, links are made while too few, members
    /// asked for when no candidate is left, and the report refreshed when due.
    mutating func maintainMeshes(now: Instant) {
        for group in joined.keys.sorted() {
            var state = joined[group]!
            for peer in state.linkOrder {
                guard case .pending(let since, let asks) = state.links[peer]!.state, since + linkRetry <= now else {
                    continue
                }
                let address = state.links[peer]!.address
                if asks < GroupConstants.maximumLinkAsks {
                    // The request or its confirmation may have been lost: ask again.
                    state.links[peer]!.state = .pending(since: now, asks: asks + 1)
                    outbox.append((.link(sender: localID, group: group), address))
                } else {
                    // Given up: tell the peer, which may hold its half of the link.
                    state.links[peer] = nil
                    statistics.linksRefused += 1
                    outbox.append((.unlink(sender: localID, group: group), address))
                }
            }
            if state.reportAt <= now {
                state.reportAt = now + GroupConstants.reportInterval
                rendezvousWanted.insert(group)
            } else if state.wantsMembers(now: now) {
                // Too few links and nobody left to link to: ask the rendezvous peers.
                rendezvousWanted.insert(group)
            }
            joined[group] = state
            linkIfShort(group, now: now)
            reannounce(group, now: now)
        }
    }

    /// How long a link request waits for its confirmation before it is asked again:
    /// ``GroupConstants/linkTimeout``, or longer where announcements arrive late (a slow
    /// network or a busy machine).
    var linkRetry: Duration { max(GroupConstants.linkTimeout, graftDelay * 4) }

    /// Non-members' sends: members asked for again while unanswered, then given up.
    mutating func maintainFanouts(now: Instant) {
        for group in fanouts.keys.sorted() {
            var fanout = fanouts[group]!
            if let askedAt = fanout.askedAt, askedAt + GroupConstants.reportRetry <= now {
                guard fanout.asks < GroupConstants.maximumFanoutAsks else {
                    failFanout(group, reason: fanout.members.isEmpty ? .noMembers : .noRendezvous)
                    continue
                }
                fanout.asks += 1
                fanout.askedAt = now
                rendezvousWanted.insert(group)
                fanouts[group] = fanout
            } else if fanout.askedAt == nil, fanout.expiresAt <= now {
                fanouts[group] = nil
            }
        }
    }

    /// Drops a non-member's waiting messages, and reports it.
    mutating func failFanout(_ group: GroupID, reason: GroupSendFailure) {
        guard let fanout = fanouts.removeValue(forKey: group), !fanout.waiting.isEmpty else { return }
        events.append(.sendFailed(group: group, messages: fanout.waiting.count, reason: reason))
    }

    /// Expired registrations, origins, LAN-mates and kept messages go.
    mutating func pruneTables(now: Instant) {
        registrations.expire(now: now)
        windows = windows.filter { $0.value.lastSeen + GroupConstants.originLifetime > now }
        for group in lanMembers.keys {
            let live = lanMembers[group]!.filter { $0.value > now }
            lanMembers[group] = live.isEmpty ? nil : live
        }
        retained.prune(now: now)
    }
}
