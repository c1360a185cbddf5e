/// Received group messages: reports at a rendezvous peer, member samples, links, and
/// Plumtree's control messages. The overlay has checked that the sender is an alive
/// member at the datagram's source address.
extension GroupsCore {
    /// Feeds one decoded group message from `sender` (its member address), `viaLAN`
    /// when it came on the LAN group channel.
    public mutating func handleMessage(_ message: GroupMessage, from sender: GroupMember, viaLAN: Bool, now: Instant) {
        guard sender.id != localID else { return }
        wake(now: now)
        switch message {
        case .report(_, let entries):
            for entry in entries { handleReport(entry, from: sender, now: now) }
        case .lanReport(_, let entries):
            guard viaLAN else { return }
            for entry in entries where joined[entry.group] != nil {
                if entry.flags & GroupReportEntry.leaving != 0 {
                    lanMembers[entry.group]?[sender.id] = nil
                } else {
                    let known = lanMembers[entry.group]?[sender.id] != nil
                    lanMembers[entry.group, default: [:]][sender.id] = now + GroupConstants.registrationLifetime
                    // A new LAN-mate learns of this member at once, not at its next report.
                    if !known {
                        lanReports.append(GroupReportEntry(group: entry.group, flags: 0))
                        scheduleReports(now: now)
                    }
                }
            }
        case .members(_, let answers):
            for answer in answers { handleMembers(answer.members, of: answer.group, now: now) }
        case .link(_, let group):
            handleLink(group, from: sender, now: now)
        case .unlink(_, let group):
            guard joined[group] != nil else { return }
            joined[group]!.links[sender.id] = nil
            joined[group]!.candidates[sender.id] = nil
        case .data(_, let group, let id, let hops, let nonce, let sealed):
            handleData(
                RetainedMessage(group: group, id: id, hops: hops, nonce: nonce, sealed: sealed), from: sender,
                viaLAN: viaLAN, now: now)
        case .prune(_, let group):
            guard joined[group]?.links[sender.id] != nil else { return refuseHalfLink(group, from: sender) }
            if joined[group]!.links[sender.id]!.state == .eager { joined[group]!.links[sender.id]!.state = .lazy }
        case .iHave(_, let group, let ids):
            handleIHave(ids, in: group, from: sender, now: now)
        case .graft(_, let group, let id):
            handleGraft(id, in: group, from: sender, now: now)
        }
        flushAnswers()
    }

    /// A report entry at this rendezvous peer: registers, refreshes or removes the
    /// member, and answers with a sample when asked.
    mutating func handleReport(_ entry: GroupReportEntry, from member: GroupMember, now: Instant) {
        if entry.flags & GroupReportEntry.leaving != 0 {
            registrations.remove(member.id, from: entry.group)
            return
        }
        if entry.flags & GroupReportEntry.sendOnly == 0,
            !registrations.register(member, in: entry.group, until: now + GroupConstants.registrationLifetime)
        {
            statistics.registrationsRefused += 1
        }
        guard entry.flags & GroupReportEntry.wantsMembers != 0 else { return }
        let sample = registrations.sample(
            of: entry.group, excluding: member.id, count: GroupConstants.maximumSampleSize, now: now, using: &random)
        if member.id == localID {
            // A rendezvous peer answering itself knows only its own registrations: an
            // empty answer says the group is empty only when it is the sole rendezvous.
            let sole = joined[entry.group]?.rendezvous.count ?? 1 <= 1
            if !sample.isEmpty || sole { handleMembers(sample, of: entry.group, now: now) }
        } else {
            answers[member.id, default: (member.address, [])].answers.append(
                GroupMembersAnswer(group: entry.group, members: sample))
        }
    }

    /// Answers mesh traffic from a member this peer has no link with (the link was given
    /// up here, or its confirmation lost) with `unlink`, so that the sender drops its half
    /// of the link and links elsewhere instead of counting on one that carries nothing.
    mutating func refuseHalfLink(_ group: GroupID, from sender: GroupMember) {
        guard joined[group] != nil else { return }
        outbox.append((.unlink(sender: localID, group: group), sender.address))
    }

    /// A rendezvous peer's sample: new candidates for a member, who links to them if it
    /// has too few links; the members to send to for a non-member.
    mutating func handleMembers(_ members: [GroupMember], of group: GroupID, now: Instant) {
        let others = members.filter { $0.id != localID }
        if var state = joined[group] {
            state.answered = true
            var learnt = false
            for member in others where state.links[member.id] == nil && state.candidates[member.id] == nil {
                guard state.candidates.count < GroupConstants.maximumCandidates else { break }
                state.candidates[member.id] = member.address
                learnt = true
            }
            if learnt { state.askInterval = GroupConstants.reportRetry }
            joined[group] = state
            linkIfShort(group, now: now)
            noteJoined(group)
        } else if var fanout = fanouts[group], fanout.askedAt != nil {
            guard !others.isEmpty else {
                // Another rendezvous peer may still know members: give up only when asked
                // out (``GroupsCore+Maintenance``).
                return
            }
            fanout.members = Array(others.prefix(GroupConstants.maximumSampleSize))
            fanout.expiresAt = now + GroupConstants.fanoutLifetime
            fanout.askedAt = nil
            fanout.asks = 0
            let waiting = fanout.waiting
            fanout.waiting = []
            fanouts[group] = fanout
            for message in waiting { pushToFanout(message, members: fanout.members) }
        }
    }

    /// A link request (or confirmation): accepted while there is room, refused by an
    /// `unlink` otherwise or when this peer is no member.
    mutating func handleLink(_ group: GroupID, from sender: GroupMember, now: Instant) {
        guard var state = joined[group] else {
            outbox.append((.unlink(sender: localID, group: group), sender.address))
            return
        }
        if let link = state.links[sender.id] {
            if !link.isActive { state.links[sender.id]!.state = .eager }
        } else if state.links.count < GroupConstants.maximumLinks {
            state.links[sender.id] = GroupLink(address: sender.address, state: .eager)
            state.candidates[sender.id] = nil
            outbox.append((.link(sender: localID, group: group), sender.address))
        } else {
            statistics.linksRefused += 1
            outbox.append((.unlink(sender: localID, group: group), sender.address))
            return
        }
        joined[group] = state
        noteJoined(group)
    }

    /// A graft: the link turns eager, and the message goes back if still kept.
    mutating func handleGraft(_ id: GroupMessageID, in group: GroupID, from sender: GroupMember, now: Instant) {
        guard var state = joined[group] else { return }
        if state.links[sender.id] == nil, state.links.count < GroupConstants.maximumLinks {
            state.links[sender.id] = GroupLink(address: sender.address, state: .eager)
        }
        if state.links[sender.id] != nil { state.links[sender.id]!.state = .eager }
        joined[group] = state
        guard let message = retained.value(id, now: now), message.group == group else { return }
        statistics.pushed += 1
        outbox.append((message.data(from: localID), sender.address))
    }

    /// Links to random candidates while the group has fewer than
    /// ``GroupConstants/lowLinks`` links.
    mutating func linkIfShort(_ group: GroupID, now: Instant) {
        guard var state = joined[group], state.links.count < GroupConstants.lowLinks else { return }
        let choices = state.candidates.keys.sorted().shuffled(using: &random)
        for peer in choices.prefix(GroupConstants.targetLinks - state.links.count) {
            let address = state.candidates.removeValue(forKey: peer)!
            state.links[peer] = GroupLink(address: address, state: .pending(since: now, asks: 1))
            outbox.append((.link(sender: localID, group: group), address))
        }
        joined[group] = state
    }

    /// Reports ``GroupEvent/joined(_:)`` once the join took effect: answered by a
    /// rendezvous peer, and linked or alone.
    mutating func noteJoined(_ group: GroupID) {
        guard let state = joined[group], !state.reportedJoined, state.answered else { return }
        guard state.activeLinks > 0 || (state.links.isEmpty && state.candidates.isEmpty) else { return }
        joined[group]!.reportedJoined = true
        events.append(.joined(group))
    }
}

extension RetainedMessage {
    /// The data message that carries it, sent by `sender`.
    func data(from sender: PeerID) -> GroupMessage {
        .data(sender: sender, group: group, id: id, hops: hops, nonce: nonce, sealed: sealed)
    }
}
