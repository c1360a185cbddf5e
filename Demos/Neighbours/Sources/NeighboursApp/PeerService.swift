import ServiceLifecycle
import Starling

/// Runs a started peer as a swift-service-lifecycle service: `run()` waits for the
/// group's graceful shutdown (or cancellation), then shuts the peer down, which leaves
/// the overlay and closes its sessions.
struct PeerService: Service {
    let peer: Peer

    func run() async throws {
        // Throws CancellationError when cancelled rather than shut down gracefully: the
        // peer is shut down either way.
        try? await gracefulShutdown()
        await peer.shutdown()
    }
}
