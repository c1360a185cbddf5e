extension SuperPeerCore {
    /// This peer's advert now; each call is a new version (its sequence rises).
    mutating func ownAdvert() -> SuperPeerAdvert {
        advertSequence &+= 1
        let free = max(0, configuration.maximumLeaves - held.count)
        return SuperPeerAdvert(
            id: localID, address: localAddress, score: score, leafCount: UInt16(clamping: held.count),
            freeSlots: role == .superPeer ? UInt16(clamping: free) : 0,
            superPeers: UInt16(clamping: superPeerCount),
            members: role == .superPeer ? UInt32(clamping: estimatedMembers) : 0, roleEpoch: roleEpoch,
            sequence: advertSequence, isSuperPeer: role == .superPeer)
    }

    /// Up to ``SuperPeerConstants/maximumAdvertEntries`` fresh adverts of others to pass
    /// on, each with its age: the newest withdrawals first (they must overtake the
    /// adverts they cancel; the newest, so that a wave of handovers spreads each in turn
    /// rather than the same few), then a random sample of super-peers. `aging` is added
    /// to every age, for adverts sent again later (an advert that looks older than it is
    /// only expires sooner; one that looked younger could live on).
    mutating func sampleAdverts(aging: Duration = .zero) -> [SuperPeerAdvert] {
        let limit = SuperPeerConstants.maximumAdvertEntries
        let fresh = known.values.filter(isFresh)
        let withdrawals = fresh.filter { !$0.advert.isSuperPeer }.sorted {
            ($0.refreshedAt, $1.advert.id) > ($1.refreshedAt, $0.advert.id)
        }
        var chosen = Array(withdrawals.prefix(limit / 4))
        var superPeers = fresh.filter(\.advert.isSuperPeer).sorted { $0.advert.id < $1.advert.id }
        while chosen.count < limit, !superPeers.isEmpty {
            chosen.append(superPeers.swapRemoveRandom(using: &random))
        }
        return chosen.map { entry in
            var advert = entry.advert
            advert.age = latestNow - entry.refreshedAt + aging
            return advert
        }
    }

    /// The advert a super-peer sends each member it learns of, so that the member learns
    /// of it (and of others) at once: its own and a sample of others, drawn anew when the
    /// last was drawn an advert interval ago, or the super-peers known or the number of
    /// leaves held (its free slots) have changed since. A join storm brings thousands of
    /// members within seconds, and drawing for each costs a pass over every known
    /// super-peer.
    mutating func welcomeAdvert(now: Instant) -> SuperPeerMessage {
        if let welcome, welcome.version == superPeersVersion, welcome.leaves == held.count, now < welcome.until {
            return welcome.message
        }
        let message = SuperPeerMessage.advert(
            sender: ownAdvert(), others: sampleAdverts(aging: configuration.advertInterval))
        welcome = (superPeersVersion, held.count, now + configuration.advertInterval, message)
        return message
    }

    /// Takes an advert: kept when it names an alive member and is newer than the one
    /// held, or when it is `firstHand` (sent by its subject from its member address) and
    /// the one held is not: the owner's word beats any version others passed on, so a
    /// forged entry with a huge epoch lasts only until the owner's next advert. Its
    /// lifetime counts from when its subject made it (its ``SuperPeerAdvert/age``); one
    /// older than a lifetime is dropped and counted. Only a
    /// first-hand withdrawal ends this leaf's link to that peer; a new super-peer is a
    /// chance to fill missing links. A super-peer sends a super-peer it did not know as
    /// one (new, back, or in a new role epoch) its leaves' union filter at once, so that
    /// lookups and queries are routed to it without waiting for the union to change.
    mutating func learn(_ advert: SuperPeerAdvert, firstHand: Bool, now: Instant) {
        guard advert.id != localID else { return }
        guard advert.age < advertLifetime else {
            statistics.advertsTooOld += 1
            return
        }
        let madeAt = now + (.zero - advert.age)
        guard memberAddresses[advert.id] != nil else {
            statistics.advertsOfNonMembers += 1
            // A leaf that holds only the super-peers has not taken this one yet; a
            // super-peer's full view has not reached it yet (in a large swarm, sync fills a
            // new super-peer's view over minutes); a leaf on no super-peer yet has joined a
            // swarm whose super-peers it does not hold (at 10,000 peers such leaves held 13
            // members for seconds, and promoted for want of a super-peer they knew). All
            // pull the super-peers. A leaf with a full view on a super-peer has the rest
            // from sync in due course; it needs no super-peer but its own.
            if advert.isSuperPeer { heardOfUnheld(advert) }
            return
        }
        if let current = known[advert.id] {
            guard advert.supersedes(current.advert) || (firstHand && !current.isFirstHand) else { return }
            // A waiting filter came after the one held (it waited because the entry was no
            // super-peer's); one of an earlier role epoch no longer counts.
            let filter =
                waitingFilters.removeValue(forKey: advert.id)
                ?? (advert.roleEpoch == current.advert.roleEpoch ? current.filter : nil)
            if advert.isSuperPeer != current.advert.isSuperPeer || !isFresh(current) { superPeersChanged() }
            known[advert.id] = KnownSuperPeer(
                advert: advert, refreshedAt: madeAt, filter: filter, isFirstHand: firstHand)
            if advert.isSuperPeer, !current.advert.isSuperPeer || advert.roleEpoch != current.advert.roleEpoch {
                sendUnionFilter(to: advert.id)
            }
        } else {
            guard known.count < SuperPeerConstants.maximumKnownSuperPeers else {
                statistics.superPeersRefused += 1
                return
            }
            known[advert.id] = KnownSuperPeer(
                advert: advert, refreshedAt: madeAt, filter: waitingFilters.removeValue(forKey: advert.id),
                isFirstHand: firstHand)
            superPeersChanged()
            if advert.isSuperPeer { sendUnionFilter(to: advert.id) }
        }
        if !advert.isSuperPeer {
            if firstHand, let link = links.removeValue(forKey: advert.id) {
                neighbourVersion &+= 1
                if link.isAttached { events.append(.detached(superPeer: advert.id, cause: .detached(.demoted))) }
                fillLinks(now: now)
            }
        } else if role == .leaf, links.count < configuration.superPeersPerLeaf {
            fillLinks(now: now)
        }
    }

    /// A super-peer's periodic adverts: to the other super-peers, a few random members
    /// and a share of its leaves (each leaf every
    /// ``SuperPeerConstants/leafAdvertRounds`` rounds, by the first byte of its ID, so
    /// that a super-peer's leaves cost it a fraction of an advert each per round); and its
    /// leaves' union filter to the other super-peers when it changed.
    mutating func advertRound(now: Instant) {
        guard role == .superPeer else { return }
        advertRounds &+= 1
        let rounds = SuperPeerConstants.leafAdvertRounds
        // In an order that does not depend on hashing (runs must repeat), each once.
        let superPeers = knownSuperPeerIDs
        let leaves = held.keys.filter { Int($0.publicKey.leadingByte) % rounds == advertRounds % rounds }.sorted()
        var recipients: [PeerAddress] = leaves.compactMap { held[$0]?.address }
        recipients += (superPeers + randomMembers(configuration.advertFanout)).compactMap { memberAddresses[$0] }
        var sent = Set<PeerAddress>()
        let message = SuperPeerMessage.advert(sender: ownAdvert(), others: sampleAdverts())
        for address in recipients where sent.insert(address).inserted { send(message, to: address) }
        if unionChanged || advertRounds % SuperPeerConstants.unionFilterRefreshRounds == 0 {
            unionChanged = false
            let filter = SuperPeerMessage.superPeerFilter(sender: localID, filter: currentUnionFilter())
            for id in superPeers { if let address = memberAddresses[id] { send(filter, to: address) } }
        }
    }

    /// News of a super-peer that is not a member here (`advert`, or a hint built like
    /// one): a super-peer, a leaf with a partial view and a leaf on no super-peer pull
    /// the super-peers (``heardOfUnheldSuperPeer``); a leaf on no super-peer also keeps
    /// the advert until its member is reported alive (``advertsAwaitingMembers``), a
    /// newer version replacing an older one, a new super-peer kept only while fewer than
    /// ``SuperPeerConstants/maximumAdvertsAwaitingMembers`` wait.
    mutating func heardOfUnheld(_ advert: SuperPeerAdvert) {
        if role == .superPeer || prefersPartialView || !isOnASuperPeer { heardOfUnheldSuperPeer = true }
        guard role == .leaf, !isOnASuperPeer else { return }
        if let waiting = advertsAwaitingMembers[advert.id] {
            if advert.supersedes(waiting.advert) { advertsAwaitingMembers[advert.id] = (advert, latestNow) }
        } else if advertsAwaitingMembers.count < SuperPeerConstants.maximumAdvertsAwaitingMembers {
            advertsAwaitingMembers[advert.id] = (advert, latestNow)
        }
    }

    /// Takes a super-peer's union filter, sent from its member address (anyone else's is
    /// dropped and counted: a forged filter would keep lookups from being referred to
    /// that super-peer). A filter from a member not known as a super-peer yet waits for
    /// its advert: a super-peer sends its filter as soon as it learns of this one, so it
    /// may overtake the advert that tells this peer of the sender. At most
    /// ``SuperPeerConstants/maximumWaitingFilters`` wait.
    mutating func takeUnionFilter(_ filter: QueryRoutingFilter, of sender: PeerID, from source: PeerAddress) {
        guard sender != localID, memberAddresses[sender] == source else {
            statistics.unexpectedMessages += 1
            return
        }
        if known[sender]?.advert.isSuperPeer == true {
            known[sender]?.filter = filter
        } else if waitingFilters[sender] != nil || waitingFilters.count < SuperPeerConstants.maximumWaitingFilters {
            waitingFilters[sender] = filter
        } else {
            statistics.unexpectedMessages += 1
        }
    }

    /// Sends `superPeer` this super-peer's union filter (when this peer is a super-peer).
    mutating func sendUnionFilter(to superPeer: PeerID) {
        guard role == .superPeer, let address = memberAddresses[superPeer] else { return }
        send(.superPeerFilter(sender: localID, filter: currentUnionFilter()), to: address)
    }

    /// Tells every member of this peer's new role at once: beyond
    /// ``SuperPeerConstants/maximumAnnouncements`` members, every super-peer it knows and
    /// random members up to that many. The super-peers must hear it first-hand: they
    /// count the super-peers for the election and refer lookups by the filters of those
    /// they know (in a 3,000-peer swarm a random sample told half of them, and lookups
    /// went on being referred to super-peers handed over until their entries expired).
    mutating func announceRole() {
        let message = SuperPeerMessage.advert(sender: ownAdvert(), others: sampleAdverts())
        var targets = memberOrder
        if memberOrder.count > SuperPeerConstants.maximumAnnouncements {
            targets = knownSuperPeerIDs
            var chosen = Set(targets)
            let wanted = SuperPeerConstants.maximumAnnouncements - targets.count
            targets += randomMembers(max(0, wanted)).filter { chosen.insert($0).inserted }
        }
        for id in targets { if let address = memberAddresses[id] { send(message, to: address) } }
    }

    /// Up to `count` distinct random alive members.
    mutating func randomMembers(_ count: Int) -> [PeerID] {
        guard count > 0, !memberOrder.isEmpty else { return [] }
        if count >= memberOrder.count { return memberOrder }
        var chosen = Set<PeerID>()
        var picks: [PeerID] = []
        while picks.count < count {
            let id = memberOrder[Int.random(in: 0..<memberOrder.count, using: &random)]
            if chosen.insert(id).inserted { picks.append(id) }
        }
        return picks
    }
}
