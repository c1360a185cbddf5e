import NIOPosix
import Starling
import StarlingCore
import Testing

/// Swarms of real peers on loopback: the overlay over real sockets.
@Suite struct SwarmTests {
    /// The loopback profile with memberlist's LAN probe timing and longer routing
    /// requests: these tests share two cores with the rest of the suite, and what they
    /// check (convergence, lookups, events) does not depend on detecting failures fast.
    static let overlay: OverlayConfiguration = {
        var overlay = OverlayConfiguration.local
        overlay.membership.probeInterval = .seconds(1)
        overlay.membership.probeTimeout = .milliseconds(500)
        overlay.routing.requestTimeout = .seconds(1)
        return overlay
    }()

    static func configuration(peers: Int) -> Swarm.Configuration {
        var configuration = Swarm.Configuration(peers: peers)
        configuration.overlay = overlay
        return configuration
    }

    /// Waits until `condition` holds for the swarm's counts, or `deadline` passes (a bound
    /// against hanging, not a timing check). Returns whether it held.
    static func wait(
        for swarm: Swarm, within deadline: Duration = .seconds(120),
        until condition: @escaping @Sendable (SwarmCounters.Counts) -> Bool
    ) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await swarm.counters.wait(until: condition)
                return true
            }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            if !first { swarm.counters.releaseWaiters() }
            return first && condition(swarm.counters.counts)
        }
    }

    /// Over real sockets, with generous bounds: a lookup that times out while the cores
    /// are busy is asked again (up to three times); a wrong record fails at once. The same
    /// outcomes are tested deterministically, on idle and overloaded hosts, in
    /// `NodeSimulationTests`.
    @Test func fiftyPeersConvergeAndEveryPeerLooksUpEveryOther() async throws {
        let swarm = try await Swarm.launch(Self.configuration(peers: 50))
        let converged = await Self.wait(for: swarm, within: .seconds(300)) { $0.isConverged(members: 50) }
        #expect(converged, "views: \(swarm.counters.counts.aliveViews)")
        let peers = swarm.peers
        let failures = await withTaskGroup(of: [String].self) { group in
            for (index, asker) in peers.enumerated() {
                group.addTask {
                    var failures: [String] = []
                    // Each asker starts after itself, so that the askers do not all want the
                    // same peer at the same moment.
                    for offset in 1..<peers.count {
                        let wanted = peers[(index + offset) % peers.count]
                        var lastError: PeerError?
                        for _ in 0..<3 {
                            do throws(PeerError) {
                                let record = try await asker.lookup(wanted.id)
                                if record.record.peerID != wanted.id || record.record.addresses != [wanted.address] {
                                    failures.append("\(asker.id.shortDescription) got a wrong record of \(wanted.id)")
                                }
                                lastError = nil
                                break
                            } catch {
                                lastError = error
                            }
                        }
                        if let lastError {
                            failures.append(
                                "\(asker.id.shortDescription) → \(wanted.id.shortDescription): \(lastError)")
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(failures.isEmpty, "\(failures.count) of 2450 lookups failed: \(failures.prefix(5))")
        await swarm.shutdown()
    }

    /// A smoke test of the overlay calls over real sockets. What they must achieve
    /// (every member seen, providers found, echo round trips, a session to a resolved
    /// peer, the member list, a leave and a failure detected by all) is tested
    /// deterministically on whole peers in `NodeSimulationTests`; here every wait has a
    /// generous bound, calls whose outcome depends on the machine keeping pace (a lookup
    /// or echo that times out while the cores are busy) are retried, and the leave and
    /// the failure need only be noticed, not by everyone: a slow machine passes.
    @Test func overlayCallsWorkAcrossASmallSwarm() async throws {
        // Each peer on a loopback address of its own, as if on hosts of their own.
        var configuration = Self.configuration(peers: 8)
        configuration.addressing = .loopbackAddresses(base: 2)
        let swarm = try await Swarm.launch(configuration)
        #expect(await Self.wait(for: swarm, within: .seconds(300)) { $0.isConverged(members: 8) })
        let peers = swarm.peers
        #expect(
            peers.enumerated().allSatisfy { index, peer in
                peer.address.host == PeerAddress.ipv4(127, 2, 0, UInt8(index + 1), port: 0).host
            })

        try await peers[0].broadcast(Array("news".utf8))
        #expect(await Self.wait(for: swarm, within: .seconds(300)) { $0.broadcastsDelivered >= 1 })

        let stored = await Self.retrying { try await peers[3].provide("printer") > 0 }
        #expect(stored)
        let found = await Self.retrying {
            try await peers[5].findProviders("printer").map(\.record.peerID) == [peers[3].id]
        }
        #expect(found)
        // Anycast: the one provider answers, and is ranked with an estimate once probed.
        try await peers[3].handle("whoami") { _ in Array("printer-3".utf8) }
        let answered = await Self.retrying {
            let answer = try await peers[5].requestNearest("whoami", [], service: "printer")
            return answer.provider == peers[3].id && answer.payload == Array("printer-3".utf8)
        }
        #expect(answered)
        let ranked = try await peers[5].nearestProviders(of: "printer")
        #expect(ranked.map(\.id) == [peers[3].id])
        await #expect(throws: PeerError.anycast(.invalidRequest(.invalidMethod("")))) {
            try await peers[5].requestNearest("", [], service: "printer")
        }

        let echoed = await Self.retrying { try await peers[1].echo(peers[2].id) > .zero }
        #expect(echoed)

        let connected = await Self.retrying { try await peers[4].connect(resolving: peers[6].id) == peers[6].id }
        #expect(connected)
        let members = try await peers[7].members()
        #expect(!members.isEmpty)
        #expect(Set(members.map(\.id)).isSubset(of: Set(peers.dropLast().map(\.id))))

        // A peer that leaves is reported as left; one that vanishes is found out as failed.
        await peers[7].shutdown()
        #expect(await Self.wait(for: swarm, within: .seconds(300)) { $0.membership["left", default: 0] >= 1 })
        await peers[6].shutdown(leavingOverlay: false)
        #expect(await Self.wait(for: swarm, within: .seconds(300)) { $0.membership["failed", default: 0] >= 1 })
        await swarm.shutdown()
    }

    /// Calls `attempt` until it returns `true`, at most `attempts` times; an attempt that
    /// throws (a lookup or echo that timed out on a busy machine) counts as `false`.
    /// - Returns: whether an attempt succeeded.
    static func retrying(attempts: Int = 10, _ attempt: () async throws -> Bool) async -> Bool {
        for _ in 0..<attempts {
            if (try? await attempt()) == true { return true }
        }
        return false
    }

    @Test func overlayCallsOnAPeerWithoutOverlayAreTypedErrors() async throws {
        let peer = try await Peer.start()
        let other = try await Peer.start()
        await #expect(throws: PeerError.overlayDisabled) { try await peer.lookup(other.id) }
        await #expect(throws: PeerError.overlayDisabled) { try await peer.broadcast([1]) }
        await #expect(throws: PeerError.overlayDisabled) { try await peer.echo(other.id) }
        await #expect(throws: PeerError.overlayDisabled) { try await peer.setSearchKeywords(["printer"]) }
        await #expect(throws: PeerError.anycast(.noOverlay)) { try await peer.requestNearest("m", [], service: "s") }
        await peer.shutdown()
        await other.shutdown()
    }

    @Test func echoToAStrangerAndOversizedBroadcastsAreTypedErrors() async throws {
        let swarm = try await Swarm.launch(Self.configuration(peers: 2))
        let stranger = try await Peer.start()
        await #expect(throws: PeerError.spreading(.unknownPeer(stranger.id))) {
            try await swarm.peers[0].echo(stranger.id)
        }
        let maximum = OverlayConfiguration.local.spreading.maximumPayloadSize
        await #expect(throws: PeerError.spreading(.payloadTooLarge(size: maximum + 1, maximum: maximum))) {
            try await swarm.peers[0].broadcast([UInt8](repeating: 0, count: maximum + 1))
        }
        // Search keywords matter only in the super-peer topology; elsewhere they are ignored.
        try await swarm.peers[0].setSearchKeywords(["printer", "colour"])
        await stranger.shutdown()
        await swarm.shutdown()
    }

    @Test func aSwarmThatNeedsMoreFilesThanAllowedIsRefusedBeforeLaunching() async throws {
        let limit = OpenFileLimit.raiseToMaximum()
        var configuration = Swarm.Configuration(peers: 65_000)
        configuration.acceptsStreams = true
        guard configuration.descriptorsNeeded > limit.current else { return }
        await #expect(
            throws: SwarmError.openFileLimit(
                needed: configuration.descriptorsNeeded, limit: limit.current, maximum: limit.maximum)
        ) { _ = try await Swarm.launch(configuration) }
    }

    @Test func aSearchFloodsItsTTLAndItsAnswersAndNoticesComeBack() async throws {
        var configuration = PeerConfiguration()
        configuration.overlay = Self.overlay
        let origin = try await Peer.start(configuration)
        configuration.seeds = [origin.address]
        let answering = try await Peer.start(configuration)
        let other = try await Peer.start(configuration)
        let originEvents = EventRecorder(origin)
        let answeringEvents = EventRecorder(answering)
        for recorder in [originEvents, answeringEvents] {
            // Each sees the two others join.
            for peer in [origin, answering, other] {
                _ = await recorder.first { event in
                    if case .membership(.joined(let member)) = event { return member.id == peer.id }
                    return false
                }
            }
        }
        let id = try await origin.search(Array("who has it?".utf8), ttl: 1, wantsNotices: true)
        let query = await answeringEvents.first { event in
            if case .query(id, origin.id, Array("who has it?".utf8)) = event { return true }
            return false
        }
        #expect(query != nil)
        try await answering.answer(query: id, payload: Array("I do".utf8))
        let hit = await originEvents.first { event in
            if case .queryHit(id, answering.id, Array("I do".utf8)) = event { return true }
            return false
        }
        #expect(hit != nil)
        // TTL 1 stops at both neighbours, which still have a neighbour to pass it to.
        let notice = await originEvents.first { event in
            if case .notice(.ttlExceeded(id, _, 1)) = event { return true }
            return false
        }
        #expect(notice != nil)
        for peer in [origin, answering, other] { await peer.shutdown() }
    }
}
