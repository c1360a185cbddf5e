import StarlingTestSupport
import Testing

@testable import StarlingCore

/// A routing core among a topology's authorities for names (``NameAuthorities``):
/// referrals, chains passed on to their holders, handoffs, and stores and lookups at the
/// holders, fed by hand.
@Suite struct NameAuthorityTests {
    typealias Admission = RoutingAdmissionTests
    static let wall = NameRecordTests.wall
    static let owner = NameRecordTests.key(9)
    static let stranger = Admission.identity(8)
    static let strangerAddress = PeerAddress.ipv4(10, 0, 0, 8, port: 4000)

    /// A core (identity 1) whose wall clock matches the name fixtures.
    static func core() -> RoutingCore {
        RoutingCore(
            identity: Admission.identity(1), configuration: .lan, wallClockAtZero: wall, random: TestRandom(seed: 1))
    }

    /// Authorities of identities `seeds` (1 is the core itself), at 10.0.0.`seed`.
    static func authorities(_ seeds: [UInt64], replication: Int = 2) -> NameAuthorities {
        var members: [PeerID: PeerAddress] = [:]
        for seed in seeds {
            members[Admission.identity(seed).peerID] = .ipv4(10, 0, 0, UInt8(seed), port: 4000)
        }
        return NameAuthorities(members: members, replication: replication)
    }

    /// The owner's chain for the first label `www0`, `www1`, … whose key `accept`s.
    static func chain(where accept: (RoutingKey) -> Bool) throws -> NameChain {
        for index in 0..<200 {
            let chain = NameChain(records: [try NameRecordTests.record(owner, "www\(index)", .data(NameData()))])
            if let key = chain.key, accept(key) { return chain }
        }
        throw NameError.invalidName("no label fits")
    }

    /// What the core sends, but the `PROVE` challenges it sends the stranger (not yet
    /// admitted to its table).
    static func drain(_ core: inout RoutingCore) -> [(PeerAddress, RoutingMessage)] {
        Admission.drain(&core).filter {
            if case .prove = $0.1.body { return false }
            return true
        }
    }

    /// A core among four authorities, and a chain whose key it holds.
    static func holderAmongFour() throws -> (RoutingCore, NameAuthorities, NameChain, RoutingKey) {
        var core = Self.core()
        let local = core.localID
        let authorities = Self.authorities([1, 2, 3, 4])
        core.setNameAuthorities(authorities, now: .zero)
        let chain = try Self.chain { authorities.holderIDs(of: $0).contains(local) }
        return (core, authorities, chain, try #require(chain.key))
    }

    static func feed(_ core: inout RoutingCore, _ body: RoutingMessage.Body, requestID: UInt64 = 7) {
        Admission.feed(
            &core, RoutingMessage(requestID: requestID, sender: stranger.peerID, body: body), from: strangerAddress)
    }

    @Test func anAuthorityThatDoesNotHoldAKey_refersLookupsToItsHolders_andPassesChainsOn() throws {
        var core = Self.core()
        let local = core.localID
        let authorities = Self.authorities([1, 2, 3, 4])
        core.setNameAuthorities(authorities, now: .zero)
        let chain = try Self.chain { !authorities.holderIDs(of: $0).contains(local) }
        let key = try #require(chain.key)
        let holders = authorities.holders(of: key)

        Self.feed(&core, .findName(target: key))
        let referred = Self.drain(&core)
        #expect(referred.count == 1)
        #expect(referred.first?.1.body == .name(chain: nil, closer: holders))

        Self.feed(&core, .storeName(chain: chain))
        let sent = Self.drain(&core)
        #expect(sent.contains { $0.0 == Self.strangerAddress && $0.1.body == .storeNameAck(stored: true) })
        let passedOn = sent.filter { $0.1.body == .storeName(chain: chain) }.map(\.0)
        #expect(Set(passedOn) == Set(holders.map(\.address)))
        // The same chain again is held already: nothing more goes on.
        Self.feed(&core, .storeName(chain: chain), requestID: 8)
        #expect(Self.drain(&core).allSatisfy { $0.1.body == .storeNameAck(stored: true) })
    }

    @Test func aHolder_keepsWhatItIsSent_andAnswersFromItsStore() throws {
        let (holder, authorities, chain, key) = try Self.holderAmongFour()
        var core = holder
        Self.feed(&core, .storeName(chain: chain))
        #expect(Self.drain(&core).map(\.1.body) == [.storeNameAck(stored: true)])

        // Its own lookup at the holders ends at once, from its store.
        let id = core.findName(key, at: authorities.holders(of: key), now: .zero)
        #expect(Self.drain(&core).isEmpty)
        let expected = LookupResult(outcome: .name(chain, refused: nil), hops: 0, requests: 0, timeouts: 0)
        #expect(core.pollEvent() == .lookupFinished(id, expected))
    }

    @Test func whenAnAuthorityJoins_theFirstPreviousHolderHandsItTheChainsItNowHolds() throws {
        var core = Self.core()
        let local = core.localID
        let before = Self.authorities([1, 2])
        let after = Self.authorities([1, 2, 3])
        let newcomer = Admission.identity(3).peerID
        core.setNameAuthorities(before, now: .zero)
        // A key both held before (every key, with two authorities) and the newcomer now
        // holds, of which this core ranked first.
        let chain = try Self.chain { key in
            before.holderIDs(of: key).first == local && after.holderIDs(of: key).contains(newcomer)
        }
        let kept = try Self.chain { key in
            before.holderIDs(of: key).first == local && !after.holderIDs(of: key).contains(newcomer)
        }
        for stored in [chain, kept] { Self.feed(&core, .storeName(chain: stored)) }
        _ = Self.drain(&core)

        core.setNameAuthorities(after, now: .zero)
        let handed = Self.drain(&core).filter {
            if case .storeName = $0.1.body { return true }
            return false
        }
        #expect(handed.map(\.0) == [PeerAddress.ipv4(10, 0, 0, 3, port: 4000)])
        #expect(handed.first?.1.body == .storeName(chain: chain))
        #expect(core.namesHandedOff == 1)
    }

    @Test func aStoreAtTheHolders_countsTheirAcknowledgements() throws {
        let (holder, authorities, chain, key) = try Self.holderAmongFour()
        var core = holder
        let id = try core.storeName(chain, at: authorities.holders(of: key), now: .zero)
        let sent = Self.drain(&core)
        #expect(sent.count == 1, "the other holder; this one stored it itself")
        #expect(core.nameStore.chain(at: key, now: .zero) == chain)
        let (to, request) = try #require(sent.first)
        let other = try #require(authorities.holders(of: key).first { $0.address == to })
        Admission.feed(
            &core,
            RoutingMessage(requestID: request.requestID, sender: other.peerID, body: .storeNameAck(stored: true)),
            from: to)
        let expected = LookupResult(outcome: .nameStored(storedAt: 2), hops: 1, requests: 1, timeouts: 0)
        #expect(core.pollEvent() == .lookupFinished(id, expected))
    }

    @Test func gatewaysAreAskedBesidesTheHolders_once() throws {
        let members = Self.authorities([2, 3, 4])
        let chain = try Self.chain { _ in true }
        let key = try #require(chain.key)
        let holders = members.holders(of: key)
        let outsider = try #require(
            [2, 3, 4].lazy.map { Admission.identity($0).peerID }.first { !members.holderIDs(of: key).contains($0) })
        let outsiderContact = RoutingContact(peerID: outsider, address: members.members[outsider]!)
        let withGateways = NameAuthorities(
            members: members.members, replication: 2, gateways: [holders[0], outsiderContact])
        #expect(withGateways.contacts(for: key) == holders + [outsiderContact])
        #expect(withGateways.holders(of: key) == holders)
        #expect(members.contacts(for: key) == holders)
    }

    /// A lookup at the authorities follows an authority's referral (at most the
    /// replication's contacts) and passes over a Kademlia peer's closest contacts, which
    /// would crowd the holders out.
    @Test func aLookupAtTheAuthorities_followsReferralsToHolders_notKademliaContacts() throws {
        var core = Self.core()
        let authorities = Self.authorities([2, 3, 4, 5])
        core.setNameAuthorities(authorities, now: .zero)
        let chain = try Self.chain { _ in true }
        let key = try #require(chain.key)
        let holders = authorities.holders(of: key)
        let others = authorities.members.keys.filter { !authorities.holderIDs(of: key).contains($0) }.sorted()
        let referred = RoutingContact(peerID: others[0], address: authorities.members[others[0]]!)
        let id = core.findName(key, at: holders, now: .zero)
        let asked = Self.drain(&core)
        #expect(Set(asked.map(\.0)) == Set(holders.map(\.address)))
        let kademlia = (10..<30).map { seed in
            RoutingContact(
                peerID: Admission.identity(UInt64(seed)).peerID, address: .ipv4(10, 0, 1, UInt8(seed), port: 4000))
        }
        for ((to, request), closer) in zip(asked, [kademlia, [referred]]) {
            let holder = try #require(holders.first { $0.address == to })
            Admission.feed(
                &core,
                RoutingMessage(
                    requestID: request.requestID, sender: holder.peerID, body: .name(chain: nil, closer: closer)),
                from: to)
        }
        let next = Self.drain(&core)
        #expect(next.map(\.0) == [referred.address])
        let (to, request) = try #require(next.first)
        Admission.feed(
            &core,
            RoutingMessage(
                requestID: request.requestID, sender: referred.peerID, body: .name(chain: chain, closer: [])),
            from: to)
        guard case .lookupFinished(id, let result)? = core.pollEvent() else {
            Issue.record("the lookup did not finish")
            return
        }
        #expect(result.outcome == .name(chain, refused: nil))
        #expect(result.requests == 3)
    }
}
