import Foundation
import StarlingCore
import StarlingSim
import StarlingTestSupport
import Testing

/// Overlay multicast groups in simulated swarms of whole peers: every member receives
/// every message once, in each topology; joins and leaves take effect; a non-member can
/// send; a private group keeps outsiders out; delivery survives loss and churn; one peer
/// holds thousands of groups.
@Suite struct GroupSimulationTests {
    /// Members of the loss-and-churn run: 200 by default, 1,000 in CI
    /// (`STARLING_GROUP_MEMBERS`).
    static var churnMembers: Int {
        guard let text = getenv("STARLING_GROUP_MEMBERS"), let count = Int(String(cString: text)), count >= 50
        else { return 200 }
        return count
    }

    typealias Shape = TopologyShape

    /// A converged swarm of `count` peers.
    static func swarm(_ count: Int, shape: Shape = .pure, link: LinkConditions = .lan, seed: UInt64 = 11) throws
        -> NodeSwarm
    {
        var swarm = try NodeSwarm(seed: seed, count: count, link: link, overlayOfPeer: shape.overlay(ofPeer:))
        swarm.joinThroughFirst()
        let converged = swarm.run(limit: .seconds(120)) { $0.isConverged() }
        #expect(converged)
        // The topology settles (index servers found, super-peers elected).
        swarm.network.run(for: .seconds(20))
        return swarm
    }

    /// How many times each of `ids` reached `node`.
    static func deliveries(of ids: [GroupMessageID], at node: SimNodeID, in swarm: NodeSwarm) -> [Int] {
        let counts = Dictionary(grouping: swarm.groupMessages(at: node), by: \.id).mapValues(\.count)
        return ids.map { counts[$0] ?? 0 }
    }

    @Test(arguments: Shape.allCases)
    func everyMemberReceivesEveryMessageOnce(shape: Shape) throws {
        var swarm = try Self.swarm(40, shape: shape)
        let members = Array(swarm.nodes[5..<35])
        let outsiders = Array(swarm.nodes[0..<5]) + Array(swarm.nodes[35...])
        try swarm.joinGroup("chat", at: members)
        let group = try swarm.overlay(of: members[0]).groupKey(name: "chat").id
        let joined = swarm.run(limit: .seconds(10)) { swarm in members.allSatisfy { swarm.hasJoined(group, at: $0) } }
        #expect(joined)
        var sent: [(id: GroupMessageID, origin: SimNodeID)] = []
        for (index, origin) in members.prefix(6).enumerated() {
            for round in 0..<5 {
                sent.append((try swarm.sendToGroup("chat", Array("m\(index)-\(round)".utf8), from: origin), origin))
            }
            swarm.network.run(for: .milliseconds(200))
        }
        swarm.network.run(for: .seconds(5))
        for member in members {
            let expected = sent.filter { $0.origin != member }.map(\.id)
            #expect(Self.deliveries(of: expected, at: member, in: swarm).allSatisfy { $0 == 1 }, "\(member)")
            #expect(!swarm.groupMessages(at: member).contains { $0.id.origin == swarm.peerID(of: member) })
        }
        for outsider in outsiders { #expect(swarm.groupMessages(at: outsider).isEmpty) }
    }

    @Test func joinsAndLeavesTakeEffectAndNonMembersCanSend() throws {
        var swarm = try Self.swarm(30)
        let members = Array(swarm.nodes[0..<10])
        let late = swarm.nodes[20]
        let sender = swarm.nodes[25]
        try swarm.joinGroup("news", at: members)
        let group = try swarm.overlay(of: late).groupKey(name: "news").id
        #expect(swarm.run(limit: .seconds(10)) { swarm in members.allSatisfy { swarm.hasJoined(group, at: $0) } })
        let start = swarm.network.now
        try swarm.joinGroup("news", at: [late])
        #expect(swarm.run(step: .milliseconds(10), limit: .seconds(10)) { $0.hasJoined(group, at: late) })
        // On a LAN, a join takes effect within a few round trips.
        #expect(swarm.network.now - start < .seconds(1))
        let first = try swarm.sendToGroup("news", [1], from: members[3])
        swarm.network.run(for: .seconds(3))
        #expect(Self.deliveries(of: [first], at: late, in: swarm) == [1])
        // A non-member's message reaches every member, once.
        let outside = try swarm.sendToGroup("news", [2], from: sender)
        swarm.network.run(for: .seconds(3))
        for member in members + [late] { #expect(Self.deliveries(of: [outside], at: member, in: swarm) == [1]) }
        #expect(swarm.groupMessages(at: sender).isEmpty)
        // After a leave, nothing more arrives at the one who left; the others still get all.
        swarm.leaveGroup("news", at: [late])
        #expect(!swarm.overlay(of: late).groups.isJoined(group))
        let after = try swarm.sendToGroup("news", [3], from: members[0])
        swarm.network.run(for: .seconds(3))
        #expect(Self.deliveries(of: [after], at: late, in: swarm) == [0])
        for member in members.dropFirst() { #expect(Self.deliveries(of: [after], at: member, in: swarm) == [1]) }
    }

    @Test func aPrivateGroupKeepsOutsidersOut() throws {
        var swarm = try Self.swarm(20)
        let secret = [UInt8](repeating: 7, count: 32)
        let members = Array(swarm.nodes[0..<8])
        let guessers = Array(swarm.nodes[8..<14])
        try swarm.joinGroup("ops", secret: secret, at: members)
        // Peers that know the name but not the secret are in another group.
        try swarm.joinGroup("ops", at: guessers)
        swarm.network.run(for: .seconds(5))
        let id = try swarm.sendToGroup("ops", secret: secret, [9], from: members[0])
        let open = try swarm.sendToGroup("ops", [8], from: guessers[0])
        swarm.network.run(for: .seconds(3))
        for member in members.dropFirst() {
            #expect(Self.deliveries(of: [id, open], at: member, in: swarm) == [1, 0])
        }
        for guesser in guessers.dropFirst() {
            #expect(Self.deliveries(of: [id, open], at: guesser, in: swarm) == [0, 1])
        }
    }

    @Test func deliveryHoldsUnderLossAndChurn() throws {
        var link = LinkConditions.lan
        link.latency = .milliseconds(5)
        link.jitter = .milliseconds(2)
        var swarm = try Self.swarm(Self.churnMembers + 10, link: link, seed: 21)
        let members = Array(swarm.nodes[10...])
        try swarm.joinGroup("load", at: members)
        swarm.network.run(for: .seconds(10))
        // 2 % loss on every link from now on.
        link.lossProbability = 0.02
        swarm.network.defaultLink = link
        // A tenth of the members fail at once; others keep sending meanwhile.
        var random = SeededGenerator(seed: 5)
        let failed = Array(members.shuffled(using: &random).prefix(members.count / 10))
        swarm.network.partition([failed])
        let live = members.filter { !failed.contains($0) }
        var sent: [(id: GroupMessageID, origin: SimNodeID)] = []
        for round in 0..<20 {
            let origin = live[(round * 37) % live.count]
            sent.append(
                (try swarm.sendToGroup("load", Array(repeating: UInt8(round), count: 200), from: origin), origin))
            swarm.network.run(for: .milliseconds(500))
        }
        swarm.network.run(for: .seconds(10))
        var missed = 0
        var duplicated = 0
        for member in live {
            let counts = Self.deliveries(of: sent.filter { $0.origin != member }.map(\.id), at: member, in: swarm)
            missed += counts.count { $0 == 0 }
            duplicated += counts.count { $0 > 1 }
        }
        #expect(missed == 0, "\(missed) deliveries missed among \(live.count) members")
        #expect(duplicated == 0)
    }

    @Test func onePeerHoldsTenThousandGroups() throws {
        var swarm = try Self.swarm(12)
        let busy = swarm.nodes[0]
        let names = (0..<10_000).map { "g\($0)" }
        for name in names { try swarm.joinGroup(name, at: [busy]) }
        // Every other peer joins a few of them.
        for (index, node) in swarm.nodes.dropFirst().enumerated() {
            for name in names[(index * 7)..<(index * 7 + 3)] { try swarm.joinGroup(name, at: [node]) }
        }
        swarm.network.run(for: .seconds(10))
        let groups = swarm.overlay(of: busy).groups
        #expect(groups.joinedGroups.count == 10_000)
        #expect(groups.joinedGroups.allSatisfy { swarm.hasJoined($0, at: busy) })
        var sent: [(GroupMessageID, SimNodeID)] = []
        for (index, node) in swarm.nodes.dropFirst().enumerated() {
            sent.append((try swarm.sendToGroup(names[index * 7 + 1], [1], from: busy), node))
        }
        swarm.network.run(for: .seconds(3))
        for (id, node) in sent { #expect(Self.deliveries(of: [id], at: node, in: swarm) == [1]) }
        // Its reports are batched: three report intervals cost a few thousand
        // datagrams (at most four refreshes fall in them), not 30,000 each.
        let before = swarm.overlay(of: busy).statistics.sent[.group] ?? 0
        swarm.network.run(for: GroupConstants.reportInterval * 3)
        let sentSince = (swarm.overlay(of: busy).statistics.sent[.group] ?? 0) - before
        let perRefresh = 10_000 * GroupConstants.rendezvousCount / GroupConstants.maximumReportEntries + 11
        #expect(sentSince <= 4 * perRefresh, "\(sentSince) group datagrams in three report intervals")
    }
}
