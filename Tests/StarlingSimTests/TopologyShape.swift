import StarlingCore
import StarlingSim

/// The topologies a feature must work the same in, for simulation tests that run in
/// each: hybrid with three index servers, super-peer with the simulation's election.
enum TopologyShape: String, CaseIterable {
    case pure, hybrid, superPeer

    /// Peer `index`'s overlay.
    func overlay(ofPeer index: Int) -> OverlayConfiguration {
        switch self {
        case .pure: .simulation
        case .hybrid: NodeSwarm.hybridOverlay(ofPeer: index, indexes: 3)
        case .superPeer: NodeSwarm.superPeerOverlay()
        }
    }
}
