extension MembershipCore {
    // MARK: Digest sync

    /// Compares the digest a ping or ack carried with this peer's own; when they differ,
    /// the two views differ (a member one of them lacks, or holds at another incarnation
    /// or as gone), and this peer asks the sender for the members of the buckets that
    /// differ (``MembershipMessage/syncRequest(requester:level:buckets:)``), with its own
    /// record. Both ends of a probe compare, so each fills in what it lacks from the
    /// other; the record makes the sender learn of this peer if it had not (news of a
    /// join gossip missed shows up here: this peer's digest differs from everyone's,
    /// but only this peer can tell whom it lacks).
    ///
    /// Gossip reaches each member with each piece of news only with high probability: a
    /// join storm of 1,000 peers leaves a handful of (peer, member) pairs unknown, which
    /// the regular push-pull (spread out to minutes in a large swarm) would mend late
    /// and at the price of whole member lists. A differing digest shows up on the very
    /// next probe and costs a few records to mend. At most one request per
    /// ``MembershipConstants/syncProbeIntervals`` configured probe intervals: the probes
    /// that carry the digests already slow down with the measured round trip and local
    /// health, and scaling again would starve the one path that still carries news of
    /// joins on a machine so busy that gossip rounds are shed. A late peer syncs all the
    /// same, for the same reason.
    ///
    /// The digest 0 of a partial view (a leaf's) says nothing. A peer that holds featured
    /// members (a super-peer, which probes leaves far more often than super-peers) then
    /// sends its request to a random live featured member instead, unasked: the
    /// featured hold every member too, and otherwise two super-peers of a large swarm
    /// compared views only when one happened to probe the other.
    mutating func compareDigest(_ theirs: UInt64, of sender: PeerID, at source: PeerAddress, now: Instant) {
        guard view == .full, theirs != digest.total, hasJoined, now >= nextSyncAt else { return }
        let destination: PeerAddress
        if theirs == 0 {
            guard let member = randomAliveFeatured() else { return }
            destination = member.address
        } else {
            guard let member = table[sender], member.state.isLive, member.address == source else { return }
            destination = source
        }
        nextSyncAt = now + configuration.probeInterval * MembershipConstants.syncProbeIntervals
        let level = MembershipDigest.level(forMembers: liveCount + 1, maximum: maximumSyncLevel)
        statistics.syncRequests += 1
        send(.syncRequest(requester: ownRecord, level: level, buckets: digest.folded(level: level)), to: destination)
    }

    /// The finest sync request that fits in a message.
    var maximumSyncLevel: Int {
        let fitting =
            (configuration.maxMessageSize - MembershipMessage.syncRequestHeaderSize - ownRecord.encodedSize) / 4
        return max(0, min(MembershipConstants.maximumSyncLevel, Int.bitWidth - 1 - fitting.leadingZeroBitCount))
    }

    /// Answers a sync request: takes the requester's own record as an alive update (a
    /// requester this peer had not heard of joins its view), then sends this peer's
    /// records (itself included) of every bucket whose hash differs from the
    /// requester's, as partial push-pull messages asking no reply; the requester's
    /// other records reach this peer when this peer asks in turn. Only a requester
    /// whose record is alive, at the request's source, and that this peer then holds
    /// live, is answered. The answer
    /// holds at most ``MembershipConstants/syncAnswerMessages`` messages, from a random
    /// bucket on, and draws on the same message budget as full state answers
    /// (``MembershipConstants/fullStateReplyMessagesPerInterval``), cut short when it
    /// runs low.
    mutating func answerSync(
        to requester: MemberUpdate, level: Int, buckets theirs: [UInt32], source: PeerAddress, now: Instant
    ) {
        guard requester.state == .alive, requester.address == source, theirs.count == 1 << level else { return }
        applyAlive(requester, now: now)
        guard let member = table[requester.member], member.state.isLive, member.address == source else { return }
        let ours = digest.folded(level: level)
        var differs = [Bool](repeating: false, count: ours.count)
        var anyDiffers = false
        for index in ours.indices where ours[index] != theirs[index] {
            differs[index] = true
            anyDiffers = true
        }
        guard anyDiffers else { return }
        var byBucket = [[PeerID]](repeating: [], count: ours.count)
        for id in order {
            let bucket = MembershipDigest.bucket(of: id, level: level)
            if differs[bucket] { byBucket[bucket].append(id) }
        }
        // From a random bucket on: an answer cut short mends other buckets next time.
        // Records are taken only until they fill the most messages an answer may hold
        // (a view that lacks thousands differs in every bucket).
        let budget = configuration.maxMessageSize - MembershipMessage.pushPullHeaderSize
        let capacity = budget * MembershipConstants.syncAnswerMessages
        let ownBucket = MembershipDigest.bucket(of: localID, level: level)
        let start = Int.random(in: 0..<ours.count, using: &random)
        var records: [MemberUpdate] = []
        var size = 0
        buckets: for offset in 0..<ours.count {
            let bucket = (start + offset) % ours.count
            guard differs[bucket] else { continue }
            guard size < capacity else { break }
            if bucket == ownBucket {
                records.append(ownRecord)
                size += ownRecord.encodedSize
            }
            for id in byBucket[bucket] {
                guard size < capacity else { break buckets }
                guard let member = table[id] else { continue }
                let record = stateRecord(of: member)
                records.append(record)
                size += record.encodedSize
            }
        }
        let wanted = min(size / budget + 1, MembershipConstants.syncAnswerMessages)
        let granted = takeStateReplyTokens(upTo: wanted, now: now)
        guard granted > 0 else {
            statistics.syncAnswersShed += 1
            return
        }
        statistics.syncAnswers += 1
        sendRecords(
            records, to: source, replyRequested: false, isJoin: false, isPartial: true, maximumMessages: granted)
    }
}
