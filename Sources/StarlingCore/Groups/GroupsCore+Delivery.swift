/// Delivery: Plumtree's eager push and lazy announcements over the mesh, the LAN
/// multicast shortcut, and repair by grafts.
extension GroupsCore {
    /// A data message: delivered and passed on the first time, a duplicate prunes the
    /// link it came on.
    mutating func handleData(_ message: RetainedMessage, from sender: GroupMember, viaLAN: Bool, now: Instant) {
        guard let state = joined[message.group] else {
            statistics.notMember += 1
            // The sender takes this peer for a link: end it (it is a member; a rendezvous
            // answer or a fanout may still name this peer for a while).
            if !viaLAN { outbox.append((.unlink(sender: localID, group: message.group), sender.address)) }
            return
        }
        let origin = message.id.origin
        let window = windows[origin]?.window
        if let window, !window.check(message.id.sequence) {
            statistics.duplicates += 1
            guard !viaLAN else { return }
            noteInformed(sender.id, of: message.id, in: message.group)
            guard let link = state.links[sender.id] else { return refuseHalfLink(message.group, from: sender) }
            // Plumtree's prune.
            if link.state != .lazy {
                joined[message.group]!.links[sender.id]!.state = .lazy
                statistics.prunes += 1
                outbox.append((.prune(sender: localID, group: message.group), sender.address))
            }
            return
        }
        guard origin != localID else { return }
        guard window != nil || windows.count < GroupConstants.maximumOrigins else {
            statistics.originsRefused += 1
            return
        }
        guard
            let payload = state.key.seal.open(
                nonce: message.nonce,
                ad: GroupKey.additionalData(group: message.group, origin: origin, sequence: message.id.sequence),
                ciphertext: message.sealed)
        else {
            statistics.unauthentic += 1
            return
        }
        var committed = window ?? ReplayWindow()
        committed.commit(message.id.sequence)
        windows[origin] = (committed, now)
        if let announced = missing.removeValue(forKey: message.id), !announced.asked {
            let gap = now - announced.announcedAt
            announceGap = announceGap?.updated(with: gap) ?? RTTEstimate(firstSample: gap)
        }
        // Plumtree: the link a new message came on is eager. A member with no link here
        // holds half of one (a non-member's fanout push is answered alike, and ignored).
        if !viaLAN {
            if let link = joined[message.group]!.links[sender.id] {
                if link.state == .lazy { joined[message.group]!.links[sender.id]!.state = .eager }
            } else {
                refuseHalfLink(message.group, from: sender)
            }
        }
        statistics.delivered += 1
        if viaLAN { statistics.deliveredViaLAN += 1 }
        events.append(
            .message(
                group: message.group, id: message.id, hops: Int(message.hops), payload: payload, viaLAN: viaLAN))
        var onward = message
        onward.hops = message.hops == .max ? .max : message.hops + 1
        retained.insert(message.id, onward, now: now)
        noteRecent(message.id, in: message.group, from: sender.id, now: now)
        forward(onward, from: sender.id, viaLAN: viaLAN, now: now)
    }

    /// Passes a message on: one IP multicast to the LAN when a LAN-mate is in the group
    /// (unless it came from there), pushed whole on eager links and announced on the
    /// others, never back to `sender`.
    mutating func forward(_ message: RetainedMessage, from sender: PeerID?, viaLAN: Bool, now: Instant) {
        guard let state = joined[message.group] else { return }
        let mates = lanMembers[message.group]?.filter { $0.value > now } ?? [:]
        var multicast = false
        if let lanChannel, !viaLAN, !mates.isEmpty {
            multicast = true
            statistics.multicast += 1
            outbox.append((message.data(from: localID), lanChannel))
        }
        for peer in state.linkOrder where peer != sender {
            let link = state.links[peer]!
            let onTheLAN = mates[peer] != nil
            if link.state == .eager, !(onTheLAN && (multicast || viaLAN)) {
                statistics.pushed += 1
                outbox.append((message.data(from: localID), link.address))
            } else if link.isActive {
                announce(message.id, in: message.group, to: peer, now: now)
            }
        }
    }

    /// Remembers a message for the re-announcements of the next
    /// ``GroupConstants/reannounceWindow``; `sender` has it already.
    mutating func noteRecent(_ id: GroupMessageID, in group: GroupID, from sender: PeerID?, now: Instant) {
        guard joined[group] != nil else { return }
        joined[group]!.recent.append(RecentMessage(id: id, at: now, informed: sender.map { [$0] } ?? []))
        if joined[group]!.recent.count > GroupConstants.maximumIHaveEntries {
            joined[group]!.recent.removeFirst(joined[group]!.recent.count - GroupConstants.maximumIHaveEntries)
        }
    }

    /// Notes that `peer` has message `id` (it sent or announced it), so that it is not
    /// announced it again.
    mutating func noteInformed(_ peer: PeerID, of id: GroupMessageID, in group: GroupID) {
        guard let index = joined[group]?.recent.firstIndex(where: { $0.id == id }) else { return }
        var entry = joined[group]!.recent[index]
        guard !entry.informed.contains(peer), entry.informed.count < RecentMessage.maximumInformed else { return }
        entry.informed.append(peer)
        joined[group]!.recent[index] = entry
    }

    /// Announces the group's recent messages to ``GroupConstants/reannounceLinks``
    /// random confirmed links, each the messages it is not known to have; those links
    /// then count as told.
    mutating func reannounce(_ group: GroupID, now: Instant) {
        guard var state = joined[group], !state.recent.isEmpty else { return }
        state.recent.removeAll { $0.at + GroupConstants.reannounceWindow <= now }
        let active = state.linkOrder.filter { state.links[$0]!.isActive }
        let uninformed = active.filter { peer in state.recent.contains { !$0.informed.contains(peer) } }
        for peer in uninformed.shuffled(using: &random).prefix(GroupConstants.reannounceLinks) {
            var ids: [GroupMessageID] = []
            for index in state.recent.indices where !state.recent[index].informed.contains(peer) {
                ids.append(state.recent[index].id)
                if state.recent[index].informed.count < RecentMessage.maximumInformed {
                    state.recent[index].informed.append(peer)
                }
            }
            outbox.append((.iHave(sender: localID, group: group, ids: ids), state.links[peer]!.address))
        }
        joined[group] = state
    }

    /// Sends a non-member's message to `members`: ``GroupConstants/fanoutCopies`` of
    /// them at random.
    mutating func pushToFanout(_ message: RetainedMessage, members: [GroupMember]) {
        for member in members.shuffled(using: &random).prefix(GroupConstants.fanoutCopies) {
            statistics.pushed += 1
            outbox.append((message.data(from: localID), member.address))
        }
    }

    /// Queues an announcement of `id` to `peer`, sent within ``GroupConstants/iHaveDelay``.
    mutating func announce(_ id: GroupMessageID, in group: GroupID, to peer: PeerID, now: Instant) {
        iHaves[LinkKey(peer: peer, group: group), default: []].append(id)
        if iHaveDue == nil { iHaveDue = now + GroupConstants.iHaveDelay }
    }

    /// Sends the queued announcements, batched per link.
    mutating func flushAnnouncements() {
        iHaveDue = nil
        for key in iHaves.keys.sorted(by: { ($0.group, $0.peer) < ($1.group, $1.peer) }) {
            guard let address = joined[key.group]?.links[key.peer]?.address else { continue }
            for batch in Self.batches(iHaves[key]!, of: GroupConstants.maximumIHaveEntries) {
                outbox.append((.iHave(sender: localID, group: key.group, ids: batch), address))
            }
        }
        iHaves.removeAll(keepingCapacity: true)
    }

    /// Announced messages: the ones not received are waited for, then asked for.
    mutating func handleIHave(_ ids: [GroupMessageID], in group: GroupID, from sender: GroupMember, now: Instant) {
        guard joined[group] != nil else { return }
        guard joined[group]!.links[sender.id] != nil else { return refuseHalfLink(group, from: sender) }
        for id in ids where id.origin != localID {
            if let window = windows[id.origin]?.window, !window.check(id.sequence) {
                noteInformed(sender.id, of: id, in: group)
                continue
            }
            if var entry = missing[id] {
                if entry.announcers.count < GroupConstants.maximumAnnouncers, !entry.announcers.contains(sender.id) {
                    entry.announcers.append(sender.id)
                    missing[id] = entry
                }
                continue
            }
            guard missing.count < GroupConstants.maximumMissing else {
                statistics.missingRefused += 1
                continue
            }
            missing[id] = MissingMessage(
                group: group, announcers: [sender.id], announcedAt: now, due: now + graftDelay)
        }
    }

    /// How long an announced message is waited for before it is asked for: the
    /// measured gap between announcements and arrivals (RFC 6298's RTO over it), within
    /// ``GroupConstants/graftDelay`` and ``GroupConstants/maximumGraftDelay``.
    var graftDelay: Duration {
        guard let announceGap else { return GroupConstants.graftDelay }
        return min(
            GroupConstants.maximumGraftDelay,
            announceGap.retransmissionTimeout(minimum: GroupConstants.graftDelay))
    }

    /// Asks the next announcer of each missing message that is due; gives up on those
    /// whose announcers were all asked.
    mutating func graftDue(now: Instant) {
        for id in missing.keys.sorted(by: { ($0.origin, $0.sequence) < ($1.origin, $1.sequence) }) {
            guard var entry = missing[id], entry.due <= now else { continue }
            guard entry.grafts < GroupConstants.maximumGrafts, joined[entry.group] != nil,
                let announcer = entry.announcers.first(where: { joined[entry.group]!.links[$0] != nil })
            else {
                missing[id] = nil
                statistics.unrecovered += 1
                continue
            }
            // Round and round: the next time, the next announcer.
            entry.announcers.removeAll { $0 == announcer }
            entry.announcers.append(announcer)
            entry.grafts += 1
            entry.due = now + graftDelay
            entry.asked = true
            missing[id] = entry
            let link = joined[entry.group]!.links[announcer]!
            joined[entry.group]!.links[announcer]!.state = .eager
            statistics.grafts += 1
            outbox.append((.graft(sender: localID, group: entry.group, id: id), link.address))
        }
    }
}
