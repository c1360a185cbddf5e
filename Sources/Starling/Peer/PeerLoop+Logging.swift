import Logging
import StarlingCore

extension PeerLoop {
    /// Logs a membership change: a member that failed at `info` (steady state has none),
    /// the rest at `debug`. The metadata is made only when the level is logged.
    func log(_ event: MembershipEvent) {
        let member = event.member
        let about: () -> Logger.Metadata = { ["starling.remote": "\(member.id)", "address": "\(member.address)"] }
        switch event {
        case .failed: logger.info("member failed", metadata: about())
        case .joined: logger.debug("member joined", metadata: about())
        case .suspected: logger.debug("member suspected", metadata: about())
        case .left: logger.debug("member left", metadata: about())
        case .aliveAgain: logger.debug("member alive again", metadata: about())
        case .addressChanged(_, let previous):
            logger.debug("member moved", metadata: about().merging(["previous": "\(previous)"]) { $1 })
        case .forgotten: logger.debug("member no longer held", metadata: about())
        }
    }

    /// Logs a topology change: a change of this peer's role and the index servers at
    /// `info`, attachments at `debug`.
    func log(_ event: TopologyEvent) {
        switch event {
        case .role(let role):
            // The first report is the role the peer starts with, not a change.
            if let previous = noteRole(role) {
                logger.info("role changed", metadata: ["role": "\(role)", "previous": "\(previous)"])
            } else {
                logger.debug("role", metadata: ["role": "\(role)"])
            }
        case .indexUp(let peer, let address):
            logger.info("index server up", metadata: ["starling.remote": "\(peer)", "address": "\(address)"])
        case .indexDown(let peer):
            logger.info("index server down", metadata: ["starling.remote": "\(peer)"])
        case .fallbackStarted:
            logger.info("no index server answers: lookups fall back to the pure overlay")
        case .fallbackEnded:
            logger.info("an index server answers again: fallback ended")
        case .attached(let superPeer):
            logger.debug("attached to super-peer", metadata: ["starling.remote": "\(superPeer)"])
        case .detached(let superPeer):
            logger.debug("detached from super-peer", metadata: ["starling.remote": "\(superPeer)"])
        case .leafAttached(let leaf):
            logger.debug("leaf attached", metadata: ["starling.remote": "\(leaf)"])
        case .leafDetached(let leaf):
            logger.debug("leaf detached", metadata: ["starling.remote": "\(leaf)"])
        }
    }
}

extension PeerLoop {
    /// Notes `role` as this peer's role; returns the one before it, `nil` for the first.
    fileprivate func noteRole(_ role: TopologyRole) -> TopologyRole? {
        defer { currentRole = role }
        return currentRole
    }
}
