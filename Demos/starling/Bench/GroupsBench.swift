import Foundation
import StarlingCore
import StarlingSim

/// `starling bench groups`: overlay multicast groups in the simulator (virtual time,
/// deterministic; `--seconds` is ignored, `--peers` sets the group's size).
///
/// 1. **Traffic per message**: a pure swarm of `--peers` + 20 peers (5 ms ± 1 ms links),
///    `--peers` of them in one group. After 10 warm-up messages (the tree settles),
///    20 messages of 1,024 bytes and 20 of 64 bytes from random members. Measured: the
///    bytes of every group datagram all peers sent meanwhile (pushes, announcements,
///    grafts, prunes, reports: everything), over the ideal of one datagram of the
///    message per other member. Target ≤ 2× (gossipsub sends about 5–6×).
/// 2. **Join and leave**: the 20 other peers join, one at a time; then they leave.
///    Measured: the time from the join to its `joined` event (messages reach the member
///    from then on), and from the leave until no member links to the one that left
///    (the leaver itself delivers nothing from the moment it leaves). Target ≤ 1 s.
/// 3. **Loss and churn**: 2 % loss on every link, a tenth of the members cut off at
///    once, 20 more messages. Measured: deliveries to the live members, of all expected.
/// 4. **Many groups**: one peer of a 12-peer swarm joins 10,000 groups. Measured: the
///    time until every join is in effect, and the group datagrams it sends per report
///    interval (batched reports).
enum GroupsBench {
    static func run(members: Int) -> BenchResult {
        var detail = ""
        var targets: [BenchTarget] = []
        guard var swarm = try? NodeSwarm(seed: 5, count: members + 20, link: link()) else {
            return failed("the swarm could not be built")
        }
        swarm.joinThroughFirst()
        guard swarm.run(limit: .seconds(300), until: { $0.isConverged() }) else {
            return failed("the swarm did not converge")
        }
        let group = Array(swarm.nodes[20...])
        let others = Array(swarm.nodes[..<20])
        guard (try? swarm.joinGroup("bench", at: group)) != nil else { return failed("join refused") }
        swarm.run(for: .seconds(10))
        var random = SeededGenerator(seed: 9)
        _ = send(&swarm, count: 10, size: 1_024, from: group, using: &random)

        let large = traffic(&swarm, size: 1_024, members: group, using: &random)
        let small = traffic(&swarm, size: 64, members: group, using: &random)
        detail += String(
            format: "%d members: 1,024-byte messages cost %.2f× the ideal (%.0f of %.0f bytes each), "
                + "64-byte ones %.2f×; delivered %d of %d; ",
            group.count, large.ratio, large.bytes, large.ideal, small.ratio, large.delivered + small.delivered,
            large.expected + small.expected)
        targets.append(BenchTarget(text: "traffic per 1,024-byte message ≤ 2× the ideal", met: large.ratio <= 2))
        targets.append(
            BenchTarget(
                text: "every member receives every message",
                met: large.delivered == large.expected && small.delivered == small.expected))

        let joins = joinTimes(&swarm, joining: others)
        let leaves = leaveTimes(&swarm, leaving: others, members: group)
        detail += String(
            format:
                "join in effect after %.0f ms median, %.0f ms at most; leave after %.0f ms median, %.0f ms at most; ",
            joins.median * 1_000, joins.maximum * 1_000, leaves.median * 1_000, leaves.maximum * 1_000)
        targets.append(
            BenchTarget(text: "joins and leaves take effect within 1 s", met: max(joins.maximum, leaves.maximum) <= 1))

        let churn = lossAndChurn(&swarm, members: group, using: &random)
        detail += String(format: "2 %% loss and a tenth cut off: delivered %d of %d; ", churn.delivered, churn.expected)
        targets.append(
            BenchTarget(text: "every live member receives under loss and churn", met: churn.delivered == churn.expected)
        )

        let many = manyGroups()
        detail += many.summary
        targets.append(BenchTarget(text: "10,000 groups on one peer", met: many.met))

        return BenchResult(
            name: "groups", starling: large.ratio, baseline: 2, unit: "× the ideal bytes per message",
            detail: detail, lowerIsBetter: true, targets: targets)
    }

    static func link() -> LinkConditions {
        var link = LinkConditions.lan
        link.latency = .milliseconds(5)
        link.jitter = .milliseconds(1)
        return link
    }

    static func failed(_ reason: String) -> BenchResult {
        BenchResult(
            name: "groups", starling: 0, baseline: 2, unit: "× the ideal bytes per message", detail: reason,
            lowerIsBetter: true, targets: [BenchTarget(text: "the bench ran", met: false)])
    }

    /// Sends `count` messages of `size` bytes from random `members`, 200 ms apart.
    static func send(
        _ swarm: inout NodeSwarm, count: Int, size: Int, from members: [SimNodeID],
        using random: inout SeededGenerator
    ) -> [(id: GroupMessageID, origin: SimNodeID)] {
        var sent: [(id: GroupMessageID, origin: SimNodeID)] = []
        for _ in 0..<count {
            let origin = members.randomElement(using: &random)!
            if let id = try? swarm.sendToGroup("bench", [UInt8](repeating: 7, count: size), from: origin) {
                sent.append((id, origin))
            }
            swarm.run(for: .milliseconds(200))
        }
        swarm.run(for: .seconds(5))
        return sent
    }

    /// How many of `sent` reached the members of `live` other than their origin, once.
    static func deliveries(_ sent: [(id: GroupMessageID, origin: SimNodeID)], live: [SimNodeID], in swarm: NodeSwarm)
        -> (delivered: Int, expected: Int)
    {
        let wanted = Set(sent.map(\.id))
        var delivered = 0
        for member in live {
            let ids = swarm.groupMessages(at: member).map(\.id).filter { wanted.contains($0) }
            delivered += Set(ids).count == ids.count ? ids.count : 0
        }
        let expected = sent.reduce(0) { total, message in total + live.count { $0 != message.origin } }
        return (delivered, expected)
    }

    static func groupBytes(_ swarm: NodeSwarm) -> Int {
        swarm.nodes.reduce(0) { $0 + (swarm.overlay(of: $1).statistics.sentBytes[.group] ?? 0) }
    }

    /// Bytes per message of 20 messages of `size`, against one datagram per other member.
    static func traffic(
        _ swarm: inout NodeSwarm, size: Int, members: [SimNodeID], using random: inout SeededGenerator
    ) -> (ratio: Double, bytes: Double, ideal: Double, delivered: Int, expected: Int) {
        let before = groupBytes(swarm)
        let sent = send(&swarm, count: 20, size: size, from: members, using: &random)
        let bytes = Double(groupBytes(swarm) - before) / Double(sent.count)
        let datagram = OverlayConstants.openOverhead + GroupConstants.dataOverhead + size
        let ideal = Double((members.count - 1) * datagram)
        let (delivered, expected) = deliveries(sent, live: members, in: swarm)
        return (bytes / ideal, bytes, ideal, delivered, expected)
    }

    /// The time from each join of `joining` (one at a time) to its `joined` event.
    static func joinTimes(_ swarm: inout NodeSwarm, joining: [SimNodeID]) -> (median: Double, maximum: Double) {
        let id = GroupKey(name: "bench", swarmID: swarm.overlay(of: joining[0]).configuration.swarmID, swarmSecret: nil)
            .id
        var times: [Double] = []
        for node in joining {
            let start = swarm.network.now
            _ = try? swarm.joinGroup("bench", at: [node])
            _ = swarm.run(step: .milliseconds(5), limit: .seconds(10)) { $0.hasJoined(id, at: node) }
            times.append(Double((swarm.network.now - start).nanosecondsClamped) / 1e9)
        }
        return summary(times)
    }

    /// The time from each leave of `leaving` until no member of `members` links to it.
    static func leaveTimes(_ swarm: inout NodeSwarm, leaving: [SimNodeID], members: [SimNodeID])
        -> (median: Double, maximum: Double)
    {
        let id = GroupKey(name: "bench", swarmID: swarm.overlay(of: leaving[0]).configuration.swarmID, swarmSecret: nil)
            .id
        var times: [Double] = []
        for node in leaving {
            let peer = swarm.peerID(of: node)
            let linked = members.filter { member in
                swarm.overlay(of: member).groups.links(of: id).contains { $0.peer == peer }
            }
            let start = swarm.network.now
            swarm.leaveGroup("bench", at: [node])
            _ = swarm.run(step: .milliseconds(5), limit: .seconds(10)) { swarm in
                linked.allSatisfy { member in
                    !swarm.overlay(of: member).groups.links(of: id).contains { $0.peer == peer }
                }
            }
            times.append(Double((swarm.network.now - start).nanosecondsClamped) / 1e9)
        }
        return summary(times)
    }

    static func summary(_ times: [Double]) -> (median: Double, maximum: Double) {
        let sorted = times.sorted()
        return (sorted[sorted.count / 2], sorted.last!)
    }

    /// Deliveries of 20 messages with 2 % loss, after a tenth of `members` is cut off.
    static func lossAndChurn(_ swarm: inout NodeSwarm, members: [SimNodeID], using random: inout SeededGenerator)
        -> (delivered: Int, expected: Int)
    {
        var lossy = link()
        lossy.lossProbability = 0.02
        swarm.network.defaultLink = lossy
        let cut = Array(members.shuffled(using: &random).prefix(members.count / 10))
        swarm.network.partition([cut])
        let live = members.filter { !cut.contains($0) }
        let sent = send(&swarm, count: 20, size: 200, from: live, using: &random)
        swarm.run(for: .seconds(5))
        return deliveries(sent, live: live, in: swarm)
    }

    /// One peer of 12 joins 10,000 groups.
    static func manyGroups() -> (summary: String, met: Bool) {
        guard var swarm = try? NodeSwarm(seed: 3, count: 12, link: link()) else {
            return ("many groups: no swarm", false)
        }
        swarm.joinThroughFirst()
        guard swarm.run(limit: .seconds(60), until: { $0.isConverged() }) else {
            return ("many groups: no convergence", false)
        }
        let busy = swarm.nodes[0]
        let start = swarm.network.now
        for index in 0..<10_000 { _ = try? swarm.joinGroup("g\(index)", at: [busy]) }
        let joined = swarm.run(step: .milliseconds(100), limit: .seconds(60)) { swarm in
            swarm.network.events(of: busy).count { event in
                if case .overlay(.group(.joined)) = event { true } else { false }
            } == 10_000
        }
        let took = Double((swarm.network.now - start).nanosecondsClamped) / 1e9
        let before = swarm.overlay(of: busy).statistics.sent[.group] ?? 0
        swarm.run(for: GroupConstants.reportInterval * 5)
        let perInterval = Double((swarm.overlay(of: busy).statistics.sent[.group] ?? 0) - before) / 5
        return (
            String(
                format:
                    "10,000 groups on one peer: all joins in effect after %.1f s, %.0f group datagrams per report interval",
                took, perInterval),
            joined
        )
    }
}
