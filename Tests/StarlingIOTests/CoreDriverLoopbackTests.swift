import NIOCore
import NIOPosix
import StarlingCore
import StarlingIO
import Synchronization
import Testing

/// Two session endpoints on real UDP sockets on 127.0.0.1, driven by `CoreDriver` on one
/// shared event loop group.
@Suite struct CoreDriverLoopbackTests {
    /// Collects a driver's events and lets a test wait for one that matches.
    final class EventLog: Sendable {
        private let state = Mutex<
            (
                events: [SessionEvent],
                waiters: [(
                    id: Int, match: @Sendable (SessionEvent) -> Bool,
                    continuation: CheckedContinuation<SessionEvent, Never>
                )]
            )
        >(([], []))

        func append(_ event: SessionEvent) {
            let resumed: [(CheckedContinuation<SessionEvent, Never>)] = state.withLock { state in
                state.events.append(event)
                let ready = state.waiters.filter { $0.match(event) }
                state.waiters.removeAll { $0.match(event) }
                return ready.map(\.continuation)
            }
            for continuation in resumed { continuation.resume(returning: event) }
        }

        /// The first event (already logged or still to come) that matches.
        func first(where match: @escaping @Sendable (SessionEvent) -> Bool) async -> SessionEvent {
            await withCheckedContinuation { continuation in
                let found: SessionEvent? = state.withLock { state in
                    if let event = state.events.first(where: match) { return event }
                    state.waiters.append((state.waiters.count, match, continuation))
                    return nil
                }
                if let found { continuation.resume(returning: found) }
            }
        }
    }

    @Test func loopback_twoEndpoints_handshakeAndExchangeDatagrams() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        var random = SecureRandom()
        let identityA = IdentityKeyPair.generate(using: &random)
        let identityB = IdentityKeyPair.generate(using: &random)
        let logA = EventLog()
        let logB = EventLog()
        let a = try await DatagramBinding.bind(
            core: try SessionEndpoint(identity: identityA, configuration: .local, random: SecureRandom()),
            to: try SocketAddress(ipAddress: "127.0.0.1", port: 0), group: group, onEvent: logA.append)
        let b = try await DatagramBinding.bind(
            core: try SessionEndpoint(identity: identityB, configuration: .local, random: SecureRandom()),
            to: try SocketAddress(ipAddress: "127.0.0.1", port: 0), group: group, onEvent: logB.append)
        defer {
            a.channel.close(promise: nil)
            b.channel.close(promise: nil)
        }
        let localB = try #require(b.channel.localAddress)
        let addressB = try #require(PeerAddress(localB))
        try await a.channel.eventLoop.submit {
            a.driver.value.perform { core, now in core.connect(to: addressB, expecting: identityB.peerID, now: now) }
        }.get()

        let up = await logA.first { if case .established = $0 { true } else { false } }
        #expect(up == .established(peer: identityB.peerID, address: addressB))
        _ = await logB.first { if case .established = $0 { true } else { false } }

        try await a.channel.eventLoop.submit {
            try a.driver.value.perform { core, now in try core.send([1, 2, 3], to: identityB.peerID, now: now) }
        }.get()
        let received = await logB.first { if case .datagram = $0 { true } else { false } }
        #expect(received == .datagram(peer: identityA.peerID, payload: [1, 2, 3]))
    }
}
