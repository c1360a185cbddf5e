import Foundation
import StarlingCore
import StarlingSim

/// How a large simulated swarm is settling, written to standard error every 10 s of
/// simulated time (standard output carries the JSON the parent reads): simulated and
/// wall time, roles, how many peers see the whole swarm (or, with a partial view,
/// every super-peer), the share of the members super-peers hold, and resident memory.
struct SettleProgress {
    let topology: String
    let started: ContinuousClock.Instant
    private var next: Instant = .zero + .seconds(10)
    /// Scoped answers, state answers shed and members forgotten, swarm-wide, at the last
    /// report.
    private var previous = (scoped: 0, shed: 0, forgotten: 0)

    init(topology: String, started: ContinuousClock.Instant) {
        self.topology = topology
        self.started = started
    }

    mutating func report(_ swarm: NodeSwarm) {
        guard swarm.network.now >= next else { return }
        next = swarm.network.now + .seconds(10)
        let superPeers = swarm.superPeerNodes()
        var complete = 0
        var held = 0
        var superPeersComplete = 0
        var heldBySuperPeers = 0
        // Of the live super-peers, how many partial leaves hold, in all.
        var superPeersHeldByLeaves = 0
        var partialLeaves = 0
        var totals = (scoped: 0, shed: 0, forgotten: 0)
        let superPeerIDs = Set(superPeers.map(swarm.peerID(of:)))
        for node in swarm.nodes {
            let membership = swarm.overlay(of: node).membership
            held += membership.aliveCount
            totals.scoped += membership.statistics.scopedAnswers
            totals.shed += membership.statistics.syncAnswersShed
            totals.forgotten += membership.statistics.membersForgotten
            let wanted = membership.view == .full ? swarm.nodes.count - 1 : superPeers.count
            if membership.aliveCount >= wanted { complete += 1 }
            if superPeerIDs.contains(swarm.peerID(of: node)) {
                if membership.aliveCount >= wanted { superPeersComplete += 1 }
                heldBySuperPeers += membership.aliveCount
            } else if membership.view == .partial {
                partialLeaves += 1
                superPeersHeldByLeaves += superPeerIDs.count { membership.member($0)?.state == .alive }
            }
        }
        let superPeerShare =
            Double(heldBySuperPeers) / Double(max(1, superPeers.count * (swarm.nodes.count - 1))) * 100
        let leafShare = Double(superPeersHeldByLeaves) / Double(max(1, partialLeaves * superPeers.count)) * 100
        let (attached, leaves) = swarm.attachedLeaves(live: swarm.nodes)
        let wall = ContinuousClock.now - started
        let line =
            "\(topology): simulated \(Int((swarm.network.now - .zero).components.seconds)) s, wall "
            + "\(wall.components.seconds) s; super-peers \(superPeers.count), leaves attached \(attached)/\(leaves); "
            + "complete views \(complete)/\(swarm.nodes.count) (super-peers \(superPeersComplete), holding "
            + "\(String(format: "%.1f", superPeerShare)) % of the members), "
            + "partial leaves \(partialLeaves) holding \(String(format: "%.1f", leafShare)) % of the super-peers, "
            + "alive members held \(held); in these 10 s \(totals.scoped - previous.scoped) scoped answers, "
            + "\(totals.shed - previous.shed) state answers shed, \(totals.forgotten - previous.forgotten) members forgotten; "
            + "resident \(ResidentMemory.bytes() / 1_048_576) MiB\n"
        previous = totals
        FileHandle.standardError.write(Data(line.utf8))
    }
}
