import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Spreading in the super-peer topology, driven by hand: super-peers 0, 1 and 2 in a
/// mesh; leaves 3 and 4 held by 0, 5 and 6 by 1, 7 and 8 by 2. Leaf 4 declares
/// "apple", leaf 6 "apple banana".
@Suite struct SpreadingSuperPeerTests {
    typealias Harness = SpreadingCoreTests.Harness

    static let holder = [3: 0, 4: 0, 5: 1, 6: 1, 7: 2, 8: 2]

    /// Leaf `index`'s filter: its ID text and declared keywords.
    static func filter(ofLeaf index: Int) -> QueryRoutingFilter {
        var filter = QueryRoutingFilter()
        filter.insert(SpreadingCoreTests.id(index).description)
        switch index {
        case 4: filter.insert("apple")
        case 6: filter.insert("Apple, banana!")
        default: break
        }
        return filter
    }

    static func harness() throws -> Harness {
        var harness = try Harness(count: 9, edges: [])
        func neighbour(_ index: Int, filtered: Bool) -> SpreadingNeighbour {
            SpreadingNeighbour(
                address: SpreadingCoreTests.address(index), queryFilter: filtered ? filter(ofLeaf: index) : nil)
        }
        for superPeer in 0..<3 {
            var neighbours: [PeerID: SpreadingNeighbour] = [:]
            for other in 0..<3 where other != superPeer {
                neighbours[SpreadingCoreTests.id(other)] = neighbour(other, filtered: false)
            }
            for (leaf, held) in holder where held == superPeer {
                neighbours[SpreadingCoreTests.id(leaf)] = neighbour(leaf, filtered: true)
            }
            harness.cores[superPeer].setNeighbours(neighbours, position: .relay)
        }
        for (leaf, held) in holder {
            harness.cores[leaf].setNeighbours(
                [SpreadingCoreTests.id(held): neighbour(held, filtered: false)], position: .leaf)
        }
        return harness
    }

    static func queried(_ events: [SpreadingEvent], _ id: SpreadingID) -> Bool {
        events.contains { if case .query(id, _, _, _) = $0 { true } else { false } }
    }

    static func hits(_ events: [SpreadingEvent], _ id: SpreadingID) -> [PeerID] {
        events.compactMap { if case .queryHit(id, let responder, _, _) = $0 { responder } else { nil } }
    }

    @Test func spreadingSuperPeer_setNeighbours_recordsFiltersAndPosition() throws {
        let harness = try Self.harness()
        #expect(harness.cores[0].position == .relay)
        #expect(Set(harness.cores[0].queryFilters.keys) == [SpreadingCoreTests.id(3), SpreadingCoreTests.id(4)])
        #expect(harness.cores[0].neighbours.count == 4)
        #expect(harness.cores[3].position == .leaf && harness.cores[3].queryFilters.isEmpty)
        // The flat form resets both.
        var core = harness.cores[0]
        core.setNeighbours([SpreadingCoreTests.id(1): SpreadingCoreTests.address(1)])
        #expect(core.position == .relay && core.queryFilters.isEmpty && core.neighbours.count == 1)
    }

    @Test func spreadingSuperPeer_query_reachesEverySuperPeerAndOnlyMatchingLeaves() throws {
        var harness = try Self.harness()
        let id = try harness.cores[3].query(Array("APPLE".utf8), now: .zero)
        harness.flush()
        for index in [0, 1, 2, 4, 6] { #expect(Self.queried(harness.events[index], id), "peer \(index)") }
        for index in [3, 5, 7, 8] {
            #expect(!Self.queried(harness.events[index], id), "peer \(index)")
            #expect(harness.cores[index].statistics.queriesReceived == 0, "peer \(index)")
        }
        // Leaves forward nothing: leaf 4 got it from 0 and passed it to no one.
        #expect(harness.cores[4].statistics.queriesSent == 0 && harness.cores[6].statistics.queriesSent == 0)
        #expect(harness.cores[4].statistics.queriesReceived == 1)
        // Super-peer 0 skipped leaf 3 (the origin, its sender), 1 skipped leaf 5, 2 both of its leaves.
        #expect(harness.cores[1].statistics.queriesFiltered == 1)
        #expect(harness.cores[2].statistics.queriesFiltered == 2)
        // The matching leaves' hits come back along the reverse path.
        try harness.cores[4].answer(id, payload: [4], now: .zero)
        try harness.cores[6].answer(id, payload: [6], now: .zero)
        harness.flush()
        #expect(Set(Self.hits(harness.events[3], id)) == [SpreadingCoreTests.id(4), SpreadingCoreTests.id(6)])
    }

    @Test func spreadingSuperPeer_query_everyKeywordMustMatch() throws {
        var harness = try Self.harness()
        let both = try harness.cores[0].query(Array("banana apple".utf8), now: .zero)
        harness.flush()
        #expect((3...8).filter { Self.queried(harness.events[$0], both) } == [6])
        // A leaf's peer ID text is one of its keywords.
        let byID = try harness.cores[5].query(Array(SpreadingCoreTests.id(8).description.utf8), now: .zero)
        harness.flush()
        #expect((3...8).filter { Self.queried(harness.events[$0], byID) } == [8])
    }

    @Test func spreadingSuperPeer_binaryOrWordlessQuery_reachesNoLeaf() throws {
        var harness = try Self.harness()
        let binary = try harness.cores[3].query([0xFF, 0xFE, 0x00], now: .zero)
        let wordless = try harness.cores[3].query(Array("?! --".utf8), now: .zero)
        harness.flush()
        for id in [binary, wordless] {
            for index in 0..<3 { #expect(Self.queried(harness.events[index], id)) }
            #expect((3...8).allSatisfy { !Self.queried(harness.events[$0], id) })
        }
        #expect((4...8).allSatisfy { harness.cores[$0].statistics.queriesReceived == 0 })
    }

    @Test func spreadingSuperPeer_broadcastFromLeaf_reachesEveryPeerOnceAndLeavesForwardNothing() throws {
        var harness = try Self.harness()
        let id = try harness.cores[5].broadcast([7, 7], now: .zero)
        harness.flush()
        for index in 0..<9 where index != 5 {
            #expect(SpreadingCoreTests.deliveries(harness.events[index]) == [id], "peer \(index)")
        }
        // The origin sent one copy (to its super-peer); no other leaf sent anything.
        #expect(harness.cores[5].statistics.messagesSent == 1)
        for index in [3, 4, 6, 7, 8] { #expect(harness.cores[index].statistics.messagesSent == 0) }
    }
}
