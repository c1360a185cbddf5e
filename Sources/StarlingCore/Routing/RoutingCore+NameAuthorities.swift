/// Names held by a topology's authorities (``NameAuthorities``): the index servers of a
/// hybrid overlay, the super-peers of a super-peer one.
///
/// The routing messages are the same as in the Kademlia overlay (`FIND_NAME`, `NAME`,
/// `STORE_NAME`, `STORE_NAME_ACK`); what changes is who is asked. A publisher stores at
/// the holders of a chain's key and waits for their acknowledgements
/// (``storeName(_:at:now:)``); a resolver asks the holders (``findName(_:at:now:)``),
/// and an authority asked for a chain it does not hold refers the asker to the holders
/// it knows instead of the Kademlia peers closest to the key. An authority that
/// is sent a chain it does not hold by the rule stores it and passes it on to the
/// holders, and when the authorities change each one hands the chains whose holders
/// changed to their new holders, so chains settle where everyone looks for them.
extension RoutingCore {
    /// Takes the topology's authorities now; when this peer is one, hands the chains it
    /// holds to the authorities that now hold their keys and did not before.
    ///
    /// Of a key's previous holders, the first that is still an authority hands over, so
    /// that one copy goes; a chain whose previous holders are all gone is refilled by its
    /// publisher, which republishes when that happens. At most
    /// ``NameConstants/maximumHandoffsPerChange`` chains go per change.
    public mutating func setNameAuthorities(_ authorities: NameAuthorities, now: Instant) {
        let now = clamp(now)
        let previous = nameAuthorities
        guard authorities != previous else { return }
        nameAuthorities = authorities
        guard authorities.contains(localID), !previous.isEmpty else { return }
        var handed = 0
        for (key, entry) in nameStore.entries.sorted(by: { $0.key < $1.key }) where entry.expiresAt > now {
            let before = previous.holderIDs(of: key)
            guard before.first(where: authorities.contains) == localID else { continue }
            for holder in authorities.holders(of: key)
            where holder.peerID != localID && !before.contains(holder.peerID) {
                guard handed < NameConstants.maximumHandoffsPerChange,
                    send(.storeName(chain: entry.chain), to: holder, purpose: .storeName, now: now) != nil
                else { return }
                handed += 1
                namesHandedOff += 1
            }
        }
    }

    /// Finds the name chain stored at `key` by asking `holders` (the authorities that
    /// hold it and any gateways, ``NameAuthorities/contacts(for:)``) and the holders they
    /// refer to;
    /// reports ``LookupResult/Outcome/name(_:refused:)`` as ``findName(_:now:)`` does.
    /// A lookup that no authority answered ends with no chain and as many timeouts as
    /// requests: the caller may then ask the Kademlia overlay. When this peer is a
    /// holder and holds the chain, the lookup ends at once, with no request.
    @discardableResult
    public mutating func findName(_ key: RoutingKey, at holders: [RoutingContact], now: Instant) -> LookupID {
        let now = clamp(now)
        if holders.contains(where: { $0.peerID == localID }), let chain = nameStore.chain(at: key, now: now) {
            let id = makeLookupID()
            let result = LookupResult(outcome: .name(chain, refused: nil), hops: 0, requests: 0, timeouts: 0)
            events.append(.lookupFinished(id, result))
            return id
        }
        return startLookup(
            .findName, target: key, reports: true, now: now, seeds: holders.filter { $0.peerID != localID })
    }

    /// Stores `chain` at `holders` (the authorities that hold its key and any gateways,
    /// ``NameAuthorities/contacts(for:)``) and reports
    /// ``LookupResult/Outcome/nameStored(storedAt:)`` with how many acknowledged
    /// storing it (this peer included, when it is a holder), once each answered or
    /// timed out.
    /// - Throws: ``NameError`` when the chain does not verify.
    @discardableResult
    public mutating func storeName(_ chain: NameChain, at holders: [RoutingContact], now: Instant)
        throws(NameError) -> LookupID
    {
        let now = clamp(now)
        try chain.verify(now: wallClock(at: now))
        guard let key = chain.key else { throw .forged("empty chain") }
        let storedHere = holders.contains { $0.peerID == localID } && storeLocally(chain, now: now).isHeld
        return startLookup(
            .placeName(chain, storedHere: storedHere), target: key, reports: true, now: now,
            seeds: holders.filter { $0.peerID != localID })
    }

    /// The contacts a `FIND_NAME` for `target` from `asker` is referred to: the
    /// authorities that hold it, when this peer is an authority, else the Kademlia peers
    /// closest to it (a peer that is none is asked only by a Kademlia lookup, which
    /// must be able to go on where the authorities did not answer).
    func nameReferrals(for target: RoutingKey, asker: PeerID) -> [RoutingContact] {
        guard nameAuthorities.contains(localID) else {
            return table.closest(to: target, count: configuration.bucketSize, excluding: asker)
        }
        return nameAuthorities.holders(of: target).filter { $0.peerID != asker && $0.peerID != localID }
    }

    /// Passes a chain just stored here on to the authorities that hold its key, when
    /// this peer is an authority that does not (the sender's view of the authorities
    /// differs from this one's).
    mutating func passOnMisplaced(_ chain: NameChain, from sender: PeerID, now: Instant) {
        guard nameAuthorities.contains(localID), let key = chain.key else { return }
        let holders = nameAuthorities.holders(of: key)
        guard !holders.contains(where: { $0.peerID == localID }) else { return }
        for holder in holders where holder.peerID != sender {
            _ = send(.storeName(chain: chain), to: holder, purpose: .storeName, now: now)
        }
    }
}
