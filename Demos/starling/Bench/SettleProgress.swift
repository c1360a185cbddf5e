import Foundation
import StarlingCore
import StarlingSim

/// How a large simulated swarm is settling, written to standard error every 10 s of
/// simulated time (standard output carries the JSON the parent reads): simulated and
/// wall time, roles, how many peers see the whole swarm (or, with a partial view,
/// every featured peer: super-peer or index server), the share of the members featured
/// peers hold, and resident memory.
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
        let featured = swarm.featuredNodes()
        var complete = 0
        var held = 0
        var featuredComplete = 0
        var heldByFeatured = 0
        // Of the other featured, how many the featured hold (and know as such), in all.
        var featuredHeldByFeatured = 0
        // Of the featured, how many partial views hold, in all.
        var featuredHeldByPartial = 0
        var partialViews = 0
        var totals = (scoped: 0, shed: 0, forgotten: 0)
        let featuredIDs = Set(featured.map(swarm.peerID(of:)))
        for node in swarm.nodes {
            let membership = swarm.overlay(of: node).membership
            held += membership.aliveCount
            totals.scoped += membership.statistics.scopedAnswers
            totals.shed += membership.statistics.syncAnswersShed
            totals.forgotten += membership.statistics.membersForgotten
            let wanted = membership.view == .full ? swarm.nodes.count - 1 : featured.count
            if membership.aliveCount >= wanted { complete += 1 }
            if featuredIDs.contains(swarm.peerID(of: node)) {
                if membership.aliveCount >= wanted { featuredComplete += 1 }
                heldByFeatured += membership.aliveCount
                // Held and, in the super-peer topology, known as a super-peer (a fresh advert).
                let superPeer = swarm.overlay(of: node).superPeer
                featuredHeldByFeatured += featuredIDs.count { id in
                    guard membership.member(id)?.state == .alive else { return false }
                    return superPeer.map { $0.superPeerAddress(of: id) != nil } ?? true
                }
            } else if membership.view == .partial {
                partialViews += 1
                featuredHeldByPartial += featuredIDs.count { membership.member($0)?.state == .alive }
            }
        }
        let featuredShare =
            Double(heldByFeatured) / Double(max(1, featured.count * (swarm.nodes.count - 1))) * 100
        let featuredOfFeatured =
            Double(featuredHeldByFeatured) / Double(max(1, featured.count * (featured.count - 1))) * 100
        let partialShare = Double(featuredHeldByPartial) / Double(max(1, partialViews * featured.count)) * 100
        let (attached, leaves) = swarm.attachedLeaves(live: swarm.nodes)
        let wall = ContinuousClock.now - started
        let line =
            "\(topology): simulated \(Int((swarm.network.now - .zero).components.seconds)) s, wall "
            + "\(wall.components.seconds) s; featured \(featured.count), leaves attached \(attached)/\(leaves), "
            + "handovers \(swarm.handovers), outclassed \(swarm.outclassedSuperPeers().count), "
            + "stale super-peer entries \(swarm.staleSuperPeerEntries()); "
            + "complete views \(complete)/\(swarm.nodes.count) (featured \(featuredComplete), holding "
            + "\(String(format: "%.1f", featuredShare)) % of the members and "
            + "\(String(format: "%.1f", featuredOfFeatured)) % of the other featured, known as such), "
            + "partial views \(partialViews) holding \(String(format: "%.1f", partialShare)) % of the featured, "
            + "alive members held \(held); in these 10 s \(totals.scoped - previous.scoped) scoped answers, "
            + "\(totals.shed - previous.shed) state answers shed, \(totals.forgotten - previous.forgotten) members forgotten; "
            + "resident \(ResidentMemory.bytes() / 1_048_576) MiB\n"
        previous = totals
        FileHandle.standardError.write(Data(line.utf8))
    }
}
