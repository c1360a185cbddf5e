import StarlingCore
import StarlingTestSupport
import Testing

/// How super-peers come to hold each other's union filters, which decide whom a lookup
/// is referred to: a filter that overtakes its sender's advert, one forged by another
/// member, and one lost on the way.
@Suite struct SuperPeerUnionFilterTests {
    typealias Peer = SuperPeerCoreTests.Peer

    /// A keyword no peer's filter holds (the tests' filters hold only peer IDs).
    static let absentKeyword = "nosuchkeyword"

    /// Two super-peers that are members of each other, with nothing delivered yet.
    static func twoSuperPeers() throws -> [Peer] {
        var peers = [try Peer(1, policy: .alwaysSuperPeer), try Peer(2, policy: .alwaysSuperPeer)]
        peers[0].core.memberAlive(id: peers[1].id, address: peers[1].address, now: .zero)
        peers[1].core.memberAlive(id: peers[0].id, address: peers[0].address, now: .zero)
        return peers
    }

    static func isFilter(_ message: SuperPeerMessage) -> Bool {
        if case .superPeerFilter = message { true } else { false }
    }

    /// Whether `peer` holds `other`'s union filter: a super-peer whose filter it lacks
    /// is referred for every keyword, one whose filter it holds only for what it holds.
    static func holdsFilter(_ peer: Peer, of other: Peer) -> Bool {
        let matching = peer.core.superPeersMatching(queryKeywords: [other.id.description])
        return matching.contains(other.id)
            && !peer.core.superPeersMatching(queryKeywords: [absentKeyword]).contains(other.id)
    }

    @Test func unionFilter_thatOvertakesItsSendersAdvert_isKeptForWhenTheAdvertArrives() throws {
        var peers = try Self.twoSuperPeers()
        // The first super-peer's advert reaches the second, which learns of it and sends
        // it its union filter at once, behind its own advert.
        for (to, message) in peers[0].outgoing(now: .zero) where to == peers[1].address {
            peers[1].core.handleMessage(try message.encoded()[...], from: peers[0].address, now: .zero)
        }
        let fromSecond = peers[1].outgoing(now: .zero).filter { $0.to == peers[0].address }
        #expect(fromSecond.contains { Self.isFilter($0.message) })
        // The filter overtakes the advert.
        let overtaken =
            fromSecond.filter { Self.isFilter($0.message) } + fromSecond.filter { !Self.isFilter($0.message) }
        for (_, message) in overtaken {
            peers[0].core.handleMessage(try message.encoded()[...], from: peers[1].address, now: .zero)
        }
        SuperPeerCoreTests.settle(&peers, now: .zero)
        #expect(peers[0].core.knownSuperPeers.map(\.id) == [peers[1].id])
        #expect(Self.holdsFilter(peers[0], of: peers[1]))
        #expect(Self.holdsFilter(peers[1], of: peers[0]))
    }

    @Test func unionFilter_sentInAnotherSuperPeersName_fromAnotherMember_isRefused() throws {
        var peers = try Self.twoSuperPeers() + [try Peer(3, policy: .neverSuperPeer)]
        SuperPeerCoreTests.introduce(&peers, now: .zero)
        #expect(Self.holdsFilter(peers[0], of: peers[1]))
        let refusedBefore = peers[0].core.statistics.unexpectedMessages
        // An empty filter would keep every lookup from being referred to the second.
        let forged = SuperPeerMessage.superPeerFilter(sender: peers[1].id, filter: QueryRoutingFilter())
        peers[0].core.handleMessage(try forged.encoded()[...], from: peers[2].address, now: .zero)
        #expect(Self.holdsFilter(peers[0], of: peers[1]))
        #expect(peers[0].core.statistics.unexpectedMessages == refusedBefore + 1)
        // From the second's own member address, the same filter counts.
        peers[0].core.handleMessage(try forged.encoded()[...], from: peers[1].address, now: .zero)
        #expect(peers[0].core.superPeersMatching(queryKeywords: [peers[1].id.description]).isEmpty)
    }

    @Test func unionFilter_lostOnTheWay_isSentAgainWithinTheRefreshRounds() throws {
        var peers = try Self.twoSuperPeers()
        // Every filter sent when they learn of each other and after the first advert
        // rounds (their unions changed when they promoted) is lost.
        let interval = SuperPeerConfiguration.simulation.advertInterval
        let lossEnds = Instant.zero + interval * 2
        SuperPeerCoreTests.settle(&peers, now: .zero, dropping: Self.isFilter)
        _ = SuperPeerLookupTests.run(&peers, from: .zero, until: lossEnds, dropping: Self.isFilter)
        #expect(peers[0].core.knownSuperPeers.map(\.id) == [peers[1].id])
        #expect(!Self.holdsFilter(peers[0], of: peers[1]))
        // Nothing changes either union from here on; the refresh alone sends them again.
        let rounds = SuperPeerConstants.unionFilterRefreshRounds
        _ = SuperPeerLookupTests.run(&peers, from: lossEnds, until: lossEnds + interval * rounds)
        #expect(Self.holdsFilter(peers[0], of: peers[1]))
        #expect(Self.holdsFilter(peers[1], of: peers[0]))
    }
}
