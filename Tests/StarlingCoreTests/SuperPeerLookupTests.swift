import StarlingCore
import StarlingTestSupport
import Testing

/// Lookups answered by super-peers, on small networks wired by hand: referrals between
/// super-peers, merged providers, forged records, timeouts, provides, and the hand-back
/// to Kademlia.
@Suite struct SuperPeerLookupTests {
    typealias Peer = SuperPeerCoreTests.Peer

    /// Makes `pairs` of peers members of each other, then delivers what follows.
    static func meet(_ peers: inout [Peer], _ pairs: [(Int, Int)], now: Instant = .zero) {
        for (first, second) in pairs {
            peers[first].core.memberAlive(id: peers[second].id, address: peers[second].address, now: now)
            peers[second].core.memberAlive(id: peers[first].id, address: peers[first].address, now: now)
        }
        SuperPeerCoreTests.settle(&peers, now: now)
    }

    /// Runs every peer's timers (delivering at once, leaving out what `dropped` picks)
    /// until `end`.
    static func run(
        _ peers: inout [Peer], from start: Instant, until end: Instant,
        dropping dropped: (SuperPeerMessage) -> Bool = { _ in false }
    ) -> Instant {
        var now = start
        while true {
            guard let next = peers.compactMap({ $0.core.pollTimeout() }).min(), next <= end else { break }
            now = max(now, next)
            for index in peers.indices where (peers[index].core.pollTimeout().map { $0 <= now } ?? false) {
                peers[index].core.handleTimeout(now: now)
            }
            SuperPeerCoreTests.settle(&peers, now: now, dropping: dropped)
        }
        return end
    }

    /// Super-peers 0 and 1; leaf 2 held by 0 only, leaf 3 by 1 only, leaf 4 by 0 only;
    /// leaves 3 and 4 provide "chat.v1"; the super-peers have exchanged their union filters.
    static func twoIslands() throws -> (peers: [Peer], now: Instant) {
        let one: (inout SuperPeerConfiguration) -> Void = { $0.superPeersPerLeaf = 1 }
        var peers = [
            try Peer(1, policy: .alwaysSuperPeer, configure: one),
            try Peer(2, policy: .alwaysSuperPeer, configure: one),
            try Peer(3, policy: .neverSuperPeer, configure: one),
            try Peer(4, policy: .neverSuperPeer, services: ["chat.v1"], configure: one),
            try Peer(5, policy: .neverSuperPeer, services: ["chat.v1"], configure: one),
        ]
        // Each leaf meets its super-peer first, so that it attaches there and only there.
        meet(&peers, [(0, 2), (1, 3), (0, 4)])
        meet(&peers, [(0, 1), (0, 3), (1, 2), (1, 4), (2, 3), (2, 4), (3, 4)])
        let now = run(&peers, from: .zero, until: .zero + .seconds(3))
        #expect(peers[2].core.attachedSuperPeers == [peers[0].id])
        #expect(peers[3].core.attachedSuperPeers == [peers[1].id])
        #expect(peers[4].core.attachedSuperPeers == [peers[0].id])
        return (peers, now)
    }

    /// The lookup requests among `outgoing` (keepalives and adverts left out).
    static func lookups(_ outgoing: [(to: PeerAddress, message: SuperPeerMessage)])
        -> [(to: PeerAddress, message: SuperPeerMessage)]
    {
        outgoing.filter { if case .lookup = $0.message { true } else { false } }
    }

    /// The events of `peer` that end or hand back a lookup.
    static func lookupEvents(_ peer: Peer) -> [SuperPeerEvent] {
        peer.events.filter {
            switch $0 {
            case .lookupFinished, .fallback: true
            default: false
            }
        }
    }

    @Test func superPeerLookup_leafFindsAnotherSuperPeersLeaf_throughAReferral_inTwoRoundTrips() throws {
        var (peers, now) = try Self.twoIslands()
        let target = peers[3].id
        let idStarted = peers[2].core.findPeer(target, now: now)
        let id = try #require(idStarted)
        #expect(id.rawValue & SuperPeerCore.lookupIDBase != 0)
        SuperPeerCoreTests.settle(&peers, now: now)
        let result = LookupResult(outcome: .peer(peers[3].core.localRecord), hops: 2, requests: 2, timeouts: 0)
        #expect(Self.lookupEvents(peers[2]) == [.lookupFinished(id, result)])
        #expect(peers[0].core.statistics.lookupsAnswered == 1 && peers[1].core.statistics.lookupsAnswered == 1)
        #expect(peers[2].core.runningLookups == 0)
        // A peer its own super-peer holds is found in one round trip; a super-peer finds
        // another's leaf in one (its first round is local).
        let nearStarted = peers[2].core.findPeer(peers[4].id, now: now)
        let near = try #require(nearStarted)
        let fromSuperPeerStarted = peers[0].core.findPeer(target, now: now)
        let fromSuperPeer = try #require(fromSuperPeerStarted)
        SuperPeerCoreTests.settle(&peers, now: now)
        #expect(
            Self.lookupEvents(peers[2]).last
                == .lookupFinished(
                    near, LookupResult(outcome: .peer(peers[4].core.localRecord), hops: 1, requests: 1, timeouts: 0)))
        #expect(
            Self.lookupEvents(peers[0]).last
                == .lookupFinished(
                    fromSuperPeer,
                    LookupResult(outcome: .peer(peers[3].core.localRecord), hops: 1, requests: 1, timeouts: 0)))
        // A super-peer's own record, and a leaf it holds itself, need no request at all.
        let ownStarted = peers[0].core.findPeer(peers[4].id, now: now)
        let own = try #require(ownStarted)
        #expect(peers[0].outgoing(now: now).isEmpty)
        #expect(
            Self.lookupEvents(peers[0]).last
                == .lookupFinished(
                    own, LookupResult(outcome: .peer(peers[4].core.localRecord), hops: 0, requests: 0, timeouts: 0)))
    }

    @Test func superPeerLookup_referralToASuperPeerTheLeafDoesNotHold_isAskedAllTheSame() throws {
        var (peers, now) = try Self.twoIslands()
        // Leaf 2 holds only its own super-peer (a partial view): super-peer 1 is no member.
        peers[2].core.memberGone(id: peers[1].id, now: now)
        let target = peers[3].id
        let idStarted = peers[2].core.findPeer(target, now: now)
        let id = try #require(idStarted)
        SuperPeerCoreTests.settle(&peers, now: now)
        let result = LookupResult(outcome: .peer(peers[3].core.localRecord), hops: 2, requests: 2, timeouts: 0)
        #expect(Self.lookupEvents(peers[2]) == [.lookupFinished(id, result)])
        #expect(peers[1].core.statistics.lookupsAnswered == 1)
    }

    @Test func superPeerLookup_serviceProviders_areMergedAcrossSuperPeers() throws {
        var (peers, now) = try Self.twoIslands()
        let idStarted = peers[2].core.findProviders(service: "chat.v1", now: now)
        let id = try #require(idStarted)
        SuperPeerCoreTests.settle(&peers, now: now)
        let expected = [peers[3].core.localRecord, peers[4].core.localRecord].sorted {
            $0.record.peerID < $1.record.peerID
        }
        #expect(
            Self.lookupEvents(peers[2])
                == [.lookupFinished(id, LookupResult(outcome: .providers(expected), hops: 2, requests: 2, timeouts: 0))]
        )
        // Nobody provides "mail": the lookup goes back to the overlay for Kademlia.
        let noneStarted = peers[2].core.findProviders(service: "mail", now: now)
        let none = try #require(noneStarted)
        SuperPeerCoreTests.settle(&peers, now: now)
        #expect(Self.lookupEvents(peers[2]).last == .fallback(none, .service("mail"), requests: 1, timeouts: 0))
        #expect(peers[2].core.statistics.lookupsFallenBack == 1)
    }

    @Test func superPeerLookup_forgedOrWrongRecord_isRefused_andTheLookupFallsBack() throws {
        var (peers, now) = try Self.twoIslands()
        let target = peers[3].id
        let idStarted = peers[2].core.findPeer(target, now: now)
        let id = try #require(idStarted)
        // The attached super-peer's referral goes through; the referred one's reply is forged.
        for (to, message) in peers[2].outgoing(now: now) {
            #expect(to == peers[0].address)
            peers[0].core.handleMessage(try message.encoded()[...], from: peers[2].address, now: now)
        }
        for (_, message) in peers[0].outgoing(now: now) {
            peers[2].core.handleMessage(try message.encoded()[...], from: peers[0].address, now: now)
        }
        let asked = peers[2].outgoing(now: now)
        guard asked.count == 1, case .lookup(let request, _, .peer(target)) = asked[0].message else {
            Issue.record("expected one lookup to the referred super-peer, got \(asked)")
            return
        }
        #expect(asked[0].to == peers[1].address)
        let genuine = peers[3].core.localRecord
        var signature = genuine.signature
        signature[0] ^= 0x01
        var reader = ByteReader(genuine.body + signature)
        let forged = try SignedPeerRecord.decode(from: &reader)
        let wrongPeer = peers[4].core.localRecord
        let reply = SuperPeerMessage.lookupReply(request: request, records: [forged, wrongPeer], referrals: [])
        // From another address than the one asked: ignored.
        let unexpected = peers[2].core.statistics.unexpectedMessages
        peers[2].core.handleMessage(try reply.encoded()[...], from: peers[4].address, now: now)
        #expect(peers[2].core.statistics.unexpectedMessages == unexpected + 1)
        peers[2].core.handleMessage(try reply.encoded()[...], from: peers[1].address, now: now)
        _ = peers[2].outgoing(now: now)
        #expect(peers[2].core.statistics.invalidRecords == 2)
        #expect(Self.lookupEvents(peers[2]) == [.fallback(id, .peer(target), requests: 2, timeouts: 0)])
    }

    /// Super-peers 0 and 1 and leaves 2 and 3, each leaf held by both.
    static func bothHeld() throws -> [Peer] {
        var peers = [
            try Peer(1, policy: .alwaysSuperPeer), try Peer(2, policy: .alwaysSuperPeer),
            try Peer(3, policy: .neverSuperPeer), try Peer(4, policy: .neverSuperPeer),
        ]
        SuperPeerCoreTests.introduce(&peers, now: .zero)
        #expect(peers[2].core.attachedSuperPeers.count == 2 && peers[3].core.attachedSuperPeers.count == 2)
        return peers
    }

    @Test func superPeerLookup_unansweredRequest_timesOut_andTheNextCandidateAnswers() throws {
        var peers = try Self.bothHeld()
        var now = Instant.zero + .milliseconds(10)
        let target = peers[3].id
        let idStarted = peers[2].core.findPeer(target, now: now)
        let id = try #require(idStarted)
        let first = Self.lookups(peers[2].outgoing(now: now))
        #expect(first.count == 1)  // dropped: nobody answers
        // Nothing measured yet: the request waits the longest timeout.
        now = now + (SuperPeerConstants.maximumLookupTimeout - .milliseconds(1))
        peers[2].core.handleTimeout(now: now)
        #expect(Self.lookups(peers[2].outgoing(now: now)).isEmpty)
        now = now + .milliseconds(1)
        peers[2].core.handleTimeout(now: now)
        let second = Self.lookups(peers[2].outgoing(now: now))
        #expect(second.count == 1 && second.first?.to != first.first?.to)
        // Answered 40 ms later.
        let answerer = try #require(peers.firstIndex { $0.address == second[0].to })
        peers[answerer].core.handleMessage(try second[0].message.encoded()[...], from: peers[2].address, now: now)
        now = now + .milliseconds(40)
        for (_, message) in peers[answerer].outgoing(now: now) where message.kind == .lookupReply {
            peers[2].core.handleMessage(try message.encoded()[...], from: peers[answerer].address, now: now)
        }
        _ = peers[2].outgoing(now: now)
        let result = LookupResult(outcome: .peer(peers[3].core.localRecord), hops: 1, requests: 2, timeouts: 1)
        #expect(Self.lookupEvents(peers[2]) == [.lookupFinished(id, result)])
        #expect(peers[2].core.statistics.lookupTimeouts == 1)
        // The measured super-peer is asked first next time, and given up on after the
        // shortest timeout (its RTO, 40 ms + 4 × 20 ms, is below 200 ms).
        let askedStarted = peers[2].core.findPeer(target, now: now)
        _ = try #require(askedStarted)
        let third = Self.lookups(peers[2].outgoing(now: now))
        #expect(third.first?.to == second[0].to)
        now = now + SuperPeerConstants.minimumLookupTimeout
        peers[2].core.handleTimeout(now: now)
        #expect(Self.lookups(peers[2].outgoing(now: now)).first?.to == first.first?.to)
        #expect(peers[2].core.statistics.lookupTimeouts == 2)
    }

    @Test func superPeerLookup_failedSuperPeer_failsItsRequestAtOnce() throws {
        var peers = try Self.bothHeld()
        let now = Instant.zero + .milliseconds(10)
        let askedStarted = peers[2].core.findPeer(peers[3].id, now: now)
        _ = try #require(askedStarted)
        let first = try #require(Self.lookups(peers[2].outgoing(now: now)).first)
        let gone = try #require(peers.first { $0.address == first.to })
        peers[2].core.memberGone(id: gone.id, now: now)
        let next = Self.lookups(peers[2].outgoing(now: now))
        #expect(next.count == 1 && next.first?.to != first.to)
        #expect(peers[2].core.statistics.lookupTimeouts == 1)
    }

    @Test func superPeerLookup_noAttachedSuperPeer_handsTheLookupBack() throws {
        var lonely = try Peer(9, policy: .neverSuperPeer)
        #expect(lonely.core.findPeer(SuperPeerCoreTests.stranger, now: .zero) == nil)
        #expect(lonely.core.findProviders(service: "chat.v1", now: .zero) == nil)
        #expect(lonely.core.provide(service: "chat.v1", now: .zero) == nil)
        // A super-peer that knows no one who might hold the peer hands it back at once.
        var alone = try Peer(8, policy: .alwaysSuperPeer)
        alone.core.memberAlive(id: lonely.id, address: lonely.address, now: .zero)
        let idStarted = alone.core.findPeer(SuperPeerCoreTests.stranger, now: .zero)
        let id = try #require(idStarted)
        _ = alone.outgoing(now: .zero)
        #expect(
            Self.lookupEvents(alone) == [.fallback(id, .peer(SuperPeerCoreTests.stranger), requests: 0, timeouts: 0)])
        _ = lonely.outgoing(now: .zero)
    }

    @Test func superPeerLookup_requestFromAnotherAddressOfAMember_isIgnored_andALeafAnswersEmpty() throws {
        var peers = try Self.bothHeld()
        let now = Instant.zero + .milliseconds(10)
        let lookup = SuperPeerMessage.lookup(request: 7, asker: peers[2].id, target: .peer(peers[3].id))
        // Claims a member's ID from another address: no reply.
        peers[0].core.handleMessage(try lookup.encoded()[...], from: .ipv4(192, 0, 2, 1, port: 9), now: now)
        #expect(peers[0].outgoing(now: now).isEmpty)
        #expect(peers[0].core.statistics.lookupsIgnored == 1)
        // An asker not held (yet) is answered: the overlay's address validation keeps the
        // reply within what its address sent until that address proves it receives.
        let stranger = try Peer(9)
        let strangers = SuperPeerMessage.lookup(request: 8, asker: stranger.id, target: .peer(peers[3].id))
        peers[0].core.handleMessage(try strangers.encoded()[...], from: stranger.address, now: now)
        let replies = peers[0].outgoing(now: now)
        #expect(replies.map(\.to) == [stranger.address])
        guard case .lookupReply(8, let records, _)? = replies.first?.message else {
            Issue.record("no reply to the stranger")
            return
        }
        #expect(records.map(\.record.peerID) == [peers[3].id])
        #expect(peers[0].core.statistics.lookupsIgnored == 1)
        // A leaf asked answers with nothing, smaller than the request.
        peers[3].core.handleMessage(try lookup.encoded()[...], from: peers[2].address, now: now)
        let answer = peers[3].outgoing(now: now)
        #expect(answer.map(\.message) == [.lookupReply(request: 7, records: [], referrals: [])])
        #expect(try answer[0].message.encoded().count < lookup.encoded().count)
    }

    @Test func superPeerLookup_provide_reportsTheSuperPeersThatAcceptedTheNewRecord() throws {
        var peers = try Self.bothHeld()
        let now = Instant.zero + .milliseconds(10)
        let renewed = try SuperPeerCoreTests.record(
            of: peers[2].key, address: peers[2].address, services: ["chat.v1"], sequence: 2)
        peers[2].core.updateLocalRecord(renewed, now: now)
        let idStarted = peers[2].core.provide(service: "chat.v1", now: now)
        let id = try #require(idStarted)
        SuperPeerCoreTests.settle(&peers, now: now)
        #expect(
            Self.lookupEvents(peers[2])
                == [
                    .lookupFinished(
                        id, LookupResult(outcome: .provided(storedAt: 2), hops: 1, requests: 2, timeouts: 0))
                ])
        #expect(peers[0].core.providers(service: "chat.v1") == [renewed])
        // Providing again needs no new attach: both hold the record already.
        let againStarted = peers[2].core.provide(service: "chat.v1", now: now)
        let again = try #require(againStarted)
        #expect(peers[2].outgoing(now: now).isEmpty)
        #expect(
            Self.lookupEvents(peers[2]).last
                == .lookupFinished(
                    again, LookupResult(outcome: .provided(storedAt: 2), hops: 1, requests: 0, timeouts: 0)))
        // Nobody accepts within the limit: handed back for a Kademlia provide.
        let third = try SuperPeerCoreTests.record(
            of: peers[2].key, address: peers[2].address, services: ["chat.v1", "mail"], sequence: 3)
        peers[2].core.updateLocalRecord(third, now: now)
        let lostStarted = peers[2].core.provide(service: "mail", now: now)
        let lost = try #require(lostStarted)
        _ = peers[2].outgoing(now: now)
        peers[2].core.handleTimeout(now: now + SuperPeerConstants.maximumLookupTimeout)
        _ = peers[2].outgoing(now: now)
        #expect(Self.lookupEvents(peers[2]).last == .fallback(lost, .provide("mail"), requests: 2, timeouts: 2))
    }

    @Test func superPeerLookup_beyondTheLimit_isRefusedAndCounted_andACancelledOneIgnoresItsReply() throws {
        var peers = try Self.bothHeld()
        let now = Instant.zero + .milliseconds(10)
        for _ in 0..<SuperPeerConstants.maximumLookups {
            #expect(peers[2].core.findPeer(peers[3].id, now: now) != nil)
        }
        #expect(peers[2].core.findPeer(peers[3].id, now: now) == nil)
        #expect(peers[2].core.findProviders(service: "chat.v1", now: now) == nil)
        #expect(peers[2].core.statistics.lookupsRefused == 2)
        #expect(peers[2].core.runningLookups == SuperPeerConstants.maximumLookups)
        var fresh = try Self.bothHeld()
        let started = fresh[2].core.findPeer(fresh[3].id, now: now)
        let id = try #require(started)
        fresh[2].core.cancelLookup(id)
        #expect(fresh[2].core.runningLookups == 0)
        let unexpected = fresh[2].core.statistics.unexpectedMessages
        SuperPeerCoreTests.settle(&fresh, now: now)
        #expect(Self.lookupEvents(fresh[2]).isEmpty)
        #expect(fresh[2].core.statistics.unexpectedMessages == unexpected + 1)
    }

    /// An overlay in the super-peer topology, alone.
    static func overlay(_ policy: SuperPeerRolePolicy) throws -> OverlayCore {
        var superPeer = SuperPeerConfiguration.simulation
        superPeer.rolePolicy = policy
        var configuration = OverlayConfiguration.simulation
        configuration.topology = .superPeer(superPeer)
        var random = TestRandom(seed: 40)
        return try OverlayCore(
            identity: IdentityKeyPair.generate(using: &random), address: .ipv4(10, 0, 1, 1, port: 4000),
            configuration: configuration, wallClockAtZero: SuperPeerCoreTests.wallClockAtZero,
            random: TestRandom(seed: 41))
    }

    /// The finished lookups among `overlay`'s events.
    static func finished(_ overlay: inout OverlayCore, until end: Instant) -> [LookupID: LookupResult] {
        var results: [LookupID: LookupResult] = [:]
        var now = Instant.zero
        while true {
            while let event = overlay.pollEvent() {
                if case .routing(.lookupFinished(let id, let result)) = event { results[id] = result }
            }
            var buffer: [UInt8] = []
            while overlay.pollTransmit(now: now, into: &buffer) != nil {}
            guard let next = overlay.pollTimeout(), next <= end else { return results }
            now = max(now, next)
            overlay.handleTimeout(now: now)
        }
    }

    @Test func overlaySuperPeer_unattachedLeafGoesToKademlia_superPeerFallsBackUnderItsOwnID() throws {
        // A leaf attached to nobody: the command goes to Kademlia at once (routing's ID).
        var leaf = try Self.overlay(.neverSuperPeer)
        let direct = leaf.findPeer(SuperPeerCoreTests.stranger, now: .zero)
        #expect(direct.rawValue & SuperPeerCore.lookupIDBase == 0)
        #expect(Self.finished(&leaf, until: .zero + .seconds(5))[direct]?.outcome == .peer(nil))
        // A super-peer starts the lookup itself, finds nobody to ask, and hands it to
        // Kademlia, whose result comes back under the super-peer lookup's ID.
        var superPeer = try Self.overlay(.alwaysSuperPeer)
        superPeer.handleTimeout(now: .zero)
        let handedBack = superPeer.findPeer(SuperPeerCoreTests.stranger, now: .zero)
        #expect(handedBack.rawValue & SuperPeerCore.lookupIDBase != 0)
        let results = Self.finished(&superPeer, until: .zero + .seconds(5))
        #expect(results[handedBack]?.outcome == .peer(nil))
        #expect(results.count == 1)
        #expect(superPeer.superPeer?.statistics.lookupsFallenBack == 1)
        // Its provide answers for itself at once.
        let provided = try superPeer.provide(service: "chat.v1", now: .zero + .seconds(5))
        #expect(
            Self.finished(&superPeer, until: .zero + .seconds(6))[provided]
                == LookupResult(outcome: .provided(storedAt: 1), hops: 0, requests: 0, timeouts: 0))
    }
}
