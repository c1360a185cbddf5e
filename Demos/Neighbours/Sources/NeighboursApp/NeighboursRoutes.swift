public import Hummingbird
import NIOCore
public import Prometheus
public import Starling
import StarlingCore

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// One overlay member as `GET /neighbours` lists it.
public struct Neighbour: Codable, Sendable, Equatable {
    /// The member's peer ID (base32).
    public var id: String
    /// Where it listens (UDP).
    public var address: String
    /// What this peer believes about it: alive, suspect, dead or left.
    public var state: String
    /// The member's incarnation number (it raises it to refute suspicion).
    public var incarnation: UInt32

    /// A neighbour with these fields.
    public init(id: String, address: String, state: String, incarnation: UInt32) {
        self.id = id
        self.address = address
        self.state = state
        self.incarnation = incarnation
    }

    init(_ member: Member) {
        self.init(
            id: member.id.description, address: member.address.description, state: member.state.description,
            incarnation: member.incarnation)
    }
}

/// What `GET /health` answers: this peer's ID and address, and how many live members it knows.
public struct Health: Codable, Sendable, Equatable {
    /// Always "ok" when the server answers.
    public var status: String
    /// This peer's ID.
    public var id: String
    /// This peer's UDP address.
    public var address: String
    /// Members alive or suspect.
    public var liveNeighbours: Int
}

extension Health: ResponseEncodable {}
extension Neighbour: ResponseEncodable {}

/// The context of the app's requests: Hummingbird's basic one, with JSON keys in order.
public struct NeighboursContext: RequestContext {
    /// What Hummingbird keeps for every request.
    public var coreContext: CoreRequestContextStorage

    /// The context of a request from `source`.
    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// JSON with sorted keys, so that the same state reads the same.
    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

/// The app's HTTP routes, over one peer and one Prometheus registry.
public enum NeighboursRoutes {
    /// The routes:
    /// - `GET /`: an HTML page listing the overlay members (refreshes every 5 s);
    /// - `GET /neighbours`: the members as a JSON array of ``Neighbour``;
    /// - `GET /health`: this peer's ID and address (``Health``);
    /// - `GET /metrics`: `registry` in the Prometheus text format: the peer's metrics
    ///   (`starling_…`: datagrams, drops, sessions, members by state; the peer brings them
    ///   up to date once a second).
    ///
    /// Hummingbird's `MetricsMiddleware` counts and times the requests through the
    /// process-wide `MetricsSystem` (bootstrapped with `registry` by the executable, so that
    /// `/metrics` shows them too).
    public static func router(peer: Peer, registry: PrometheusCollectorRegistry) -> Router<NeighboursContext> {
        let router = Router(context: NeighboursContext.self)
        router.add(middleware: MetricsMiddleware())
        router.get("/") { _, _ -> Response in
            let members = try await Self.members(of: peer)
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: NeighboursPage.html(peer: peer, members: members))))
        }
        router.get("/neighbours") { _, _ -> [Neighbour] in
            try await Self.members(of: peer).map(Neighbour.init)
        }
        router.get("/health") { _, _ -> Health in
            let members = try await Self.members(of: peer)
            return Health(
                status: "ok", id: peer.id.description, address: peer.address.description,
                liveNeighbours: members.count(where: { $0.state.isLive }))
        }
        router.get("/metrics") { _, _ -> Response in
            var text: [UInt8] = []
            registry.emit(into: &text)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        return router
    }

    /// The peer's members, in the order of their IDs.
    /// - Throws: `HTTPError(.serviceUnavailable)` when the peer has shut down.
    private static func members(of peer: Peer) async throws -> [Member] {
        do {
            return try await peer.members().sorted { $0.id < $1.id }
        } catch {
            throw HTTPError(.serviceUnavailable, message: "the peer cannot answer: \(error)")
        }
    }
}
