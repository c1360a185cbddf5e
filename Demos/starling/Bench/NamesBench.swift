import Foundation
import StarlingCore
import StarlingSim

/// `starling bench names`: overlay names in a simulated swarm of `--peers` peers (10,000
/// for the issue's figures) on 50 ms ± 25 ms links (some 100 ms round trips, as across a
/// continent), joined through the first peer, of the `--topology` given (pure by
/// default), set up as in `bench topologies`: pure peers hold only their Kademlia
/// contacts from 2,000 peers on; a hybrid swarm has 3 index servers (the first three
/// peers), which hold the names, and clients that hold only them from 500 members on; a
/// super-peer swarm has peers of unequal capacity, and its super-peers hold the names.
///
/// Once the swarm has converged:
/// 1. **Publishing**: 10 human top-level names `t0`…`t9`, each pinned to a peer by every
///    peer's configuration. Under each, its owner publishes `www.tN` and delegates
///    `lab.tN` to a second peer, which publishes `printer.lab.tN` and delegates
///    `dept.lab.tN` to a third, which publishes `queue.dept.lab.tN`; and 100 more peers
///    publish `www.<their own peer ID>`. 130 names of one to three labels.
/// 2. **Uncached resolution**: 2,000 peers chosen at random, each resolving one of the
///    names at random, 100 every 100 ms, each peer once (nothing cached before): found,
///    overlay round trips per resolution (the request rounds of its lookups, in
///    sequence), and latency in simulated time, p50 / p99.
/// 3. **Cached resolution**: 200 of those peers resolve the same name again: overlay
///    datagrams sent for them (target: none).
/// 4. **Forgeries and rollbacks**: every name is republished (new sequence numbers);
///    a stranger then sends each peer holding a chain its older chain and three forged
///    ones (a changed body, a record signed by the wrong key, a link not delegated to
///    its signer); every one must be refused and the newest kept. Then 2,000 resolutions
///    are fed forged, rolled-back, misplaced and looping answers directly; every one must
///    be refused.
///
/// The run is bounded by these counts and a limit of simulated time per phase;
/// `--seconds` is ignored.
enum NamesBench {
    static let link = LinkConditions(latency: .milliseconds(50), jitter: .milliseconds(25))
    static let topLevels = 10
    static let keyRootedNames = 100
    static let resolutions = 2_000
    static let cachedResolutions = 200

    struct Report: Encodable {
        var peers: Int
        var topology: String
        var names: Int
        /// Whether the swarm settled within the limit before names were published.
        var settled: Bool
        var convergedSeconds: Double
        /// Chains stored over all peers once every name was published, and how many of
        /// them the topology's authorities (index servers, super-peers) hold.
        var chainsHeld: Int
        var chainsHeldByAuthorities: Int
        var publishedSeconds: Double
        var resolutions: Int
        var found: Int
        var roundTripsP50: Double
        var roundTripsMean: Double
        var roundTripsP99: Double
        var lookupsMean: Double
        var latencyP50Milliseconds: Double
        var latencyP99Milliseconds: Double
        var cachedResolutions: Int
        var cachedAnswered: Int
        var cachedDatagrams: Int
        var storedAttacks: Int
        var storedAttacksRefused: Int
        var resolverAttacks: Int
        var resolverAttacksRefused: Int
        var wallSeconds: Double
        var targets: [BenchTarget]

        var json: String { JSONText.encode(self) }

        var table: String {
            func number(_ value: Double) -> String { String(format: "%.1f", value) }
            var lines = [
                "names: \(peers) simulated peers (\(topology)), 50 ms ± 25 ms links, \(names) names of 1 to 3 labels",
                "  \(settled ? "settled" : "NOT settled") after \(number(convergedSeconds)) s; every name published after "
                    + "\(number(publishedSeconds)) s more; \(chainsHeld) chains held, "
                    + "\(chainsHeldByAuthorities) of them by authorities",
                "  uncached: \(found)/\(resolutions) resolved; round trips p50 \(number(roundTripsP50)), mean "
                    + "\(number(roundTripsMean)), p99 \(number(roundTripsP99)); \(number(lookupsMean)) lookups each; "
                    + "latency p50 / p99 \(number(latencyP50Milliseconds)) / \(number(latencyP99Milliseconds)) ms",
                "  cached: \(cachedAnswered)/\(cachedResolutions) answered from the cache, "
                    + "\(cachedDatagrams) datagrams sent for them",
                "  refused: \(storedAttacksRefused)/\(storedAttacks) forged or rolled-back chains sent to storers, "
                    + "\(resolverAttacksRefused)/\(resolverAttacks) fed to resolvers",
                "  wall time \(number(wallSeconds)) s",
            ]
            for target in targets { lines.append("  target    \(target.text): \(target.met ? "met" : "MISSED")") }
            return lines.joined(separator: "\n")
        }
    }

    /// Resolutions' ends, as the network's reaction records them.
    final class Ends: @unchecked Sendable {
        var times: [Key: Instant] = [:]
        var results: [Key: Result<ResolvedName, NameError>] = [:]
        var publications: [Key: Result<NamePublication, NameError>] = [:]
    }

    struct Key: Hashable {
        var node: SimNodeID
        var id: NameRequestID
    }

    /// One name to publish: where, what, and after which other one.
    struct Plan {
        var name: OverlayName
        var owner: SimNodeID
        var content: NameRecord.Content
    }

    /// The overlay of peer `index` in a swarm of `topology`, with `pins`.
    static func overlay(ofPeer index: Int, topology: String, pins: [String: PeerID]) -> OverlayConfiguration {
        var base = OverlayConfiguration.simulation
        base.namePins = pins
        switch topology {
        case "hybrid":
            return NodeSwarm.hybridOverlay(
                ofPeer: index, indexes: TopologiesBench.indexes,
                clientViewThreshold: TopologiesBench.clientViewThreshold, base: base)
        case "super-peer":
            var superPeer = SuperPeerConfiguration.simulation
            superPeer.capacity = NodeSwarm.spreadCapacity(ofPeer: index)
            return NodeSwarm.superPeerOverlay(superPeer, base: base)
        default:
            base.pureViewThreshold = TopologiesBench.pureViewThreshold
            return base
        }
    }

    /// Whether a swarm of `topology` is ready for names, as `bench topologies` has it:
    /// every peer sees every other alive, and every record is where it belongs (hybrid);
    /// every leaf is attached to super-peers it sees alive, and the first super-peers
    /// have handed their role over to their strongest leaves (super-peer).
    static func isSettled(_ swarm: NodeSwarm, topology: String) -> Bool {
        switch topology {
        case "hybrid": return swarm.isConverged() && swarm.isRegistered(indexes: TopologiesBench.indexes)
        case "super-peer":
            let (attached, leaves) = swarm.attachedLeaves(live: swarm.nodes)
            return swarm.leavesSeeTheirSuperPeers() && attached == leaves && !swarm.superPeerNodes().isEmpty
                && swarm.outclassedSuperPeers().isEmpty
        default: return swarm.isConverged()
        }
    }

    static func run(peers: Int, topology: String) -> Report {
        let clock = ContinuousClock()
        let started = clock.now
        let seed: UInt64 = 1
        // The identities follow from the seed: a small swarm of the same seed tells the
        // first peers' IDs, for the pins.
        let firstIDs = try! NodeSwarm(seed: seed, count: topLevels + 1)
        let pins = Dictionary(
            uniqueKeysWithValues: (0..<topLevels).map { ("t\($0)", firstIDs.peerID(of: SimNodeID(rawValue: $0 + 1))) })
        var swarm = try! NodeSwarm(
            seed: seed, count: peers, link: link,
            overlayOfPeer: { overlay(ofPeer: $0, topology: topology, pins: pins) })
        let ends = Ends()
        swarm.network.setReaction { node, _, event, now in
            switch event {
            case .overlay(.name(.resolved(let id, let result))):
                ends.times[Key(node: node, id: id)] = now
                ends.results[Key(node: node, id: id)] = result
            case .overlay(.name(.published(let id, let result))):
                ends.publications[Key(node: node, id: id)] = result
            default: break
            }
        }
        swarm.joinThroughFirst(spacing: .milliseconds(1))
        var progress = SettleProgress(topology: "names", started: started)
        while !isSettled(swarm, topology: topology), swarm.network.now < .zero + .seconds(600) {
            swarm.runDiscardingEvents(for: .milliseconds(250))
            progress.report(swarm)
        }
        let converged = TopologiesBench.seconds(swarm.network.now - .zero)
        let settled = isSettled(swarm, topology: topology)

        // 1. Publishing, in waves: each name after the delegation above it.
        let publishStart = swarm.network.now
        let waves = plan(swarm: swarm, peers: peers)
        for wave in waves { publish(wave, in: &swarm, ends: ends) }
        let published = TopologiesBench.seconds(swarm.network.now - publishStart)
        let authorities: Set<SimNodeID> =
            switch topology {
            case "hybrid": Set(swarm.nodes.prefix(TopologiesBench.indexes))
            case "super-peer": Set(swarm.superPeerNodes())
            default: []
            }
        var chainsHeld = 0
        var chainsHeldByAuthorities = 0
        for node in swarm.nodes {
            let held = swarm.overlay(of: node).routing.nameStore.count
            chainsHeld += held
            if authorities.contains(node) { chainsHeldByAuthorities += held }
        }
        let names = waves.flatMap { $0 }.filter { if case .data = $0.content { true } else { false } }.map(\.name)

        phase("published", swarm: swarm, started: started)
        // 2. Uncached resolution.
        var random = SeededGenerator(seed: 7)
        let askers = Array(swarm.nodes.dropFirst().shuffled(using: &random).prefix(resolutions))
        var asked: [(key: Key, name: OverlayName, at: Instant)] = []
        for (index, asker) in askers.enumerated() {
            let name = names[Int(random.next() % UInt64(names.count))]
            if let id = swarm.resolveName(name, at: asker) {
                asked.append((Key(node: asker, id: id), name, swarm.network.now))
            }
            if index % 100 == 99 { swarm.runDiscardingEvents(for: .milliseconds(100)) }
        }
        _ = swarm.runDiscardingEvents(step: .milliseconds(100), limit: .seconds(120)) { _ in
            asked.allSatisfy { ends.results[$0.key] != nil }
        }
        var roundTrips: [Double] = []
        var lookups: [Double] = []
        var latencies: [Double] = []
        var found = 0
        var misses = 0
        for resolution in asked {
            guard case .success(let resolved)? = ends.results[resolution.key], resolved.name == resolution.name,
                let end = ends.times[resolution.key]
            else {
                misses += 1
                if misses <= 5 {
                    let outcome = ends.results[resolution.key].map { "\($0)" } ?? "no end"
                    note("\(resolution.name) at \(resolution.key.node) not resolved: \(outcome)")
                }
                continue
            }
            found += 1
            roundTrips.append(Double(resolved.roundTrips))
            lookups.append(Double(resolved.lookups))
            latencies.append(TopologiesBench.seconds(end - resolution.at) * 1_000)
        }

        phase("resolved", swarm: swarm, started: started)
        // 3. Cached resolution: the same name again, at once.
        var cachedAnswered = 0
        var cachedDatagrams = 0
        for resolution in asked.prefix(cachedResolutions) {
            let node = resolution.key.node
            let before = swarm.overlay(of: node).statistics.totalSent
            guard let id = swarm.resolveName(resolution.name, at: node) else { continue }
            cachedDatagrams += swarm.overlay(of: node).statistics.totalSent - before
            if case .success(let resolved)? = ends.results[Key(node: node, id: id)], resolved.lookups == 0 {
                cachedAnswered += 1
            }
        }

        // 4. Forgeries and rollbacks.
        let stores = attackStorers(&swarm, waves: waves, ends: ends)
        phase("attacked", swarm: swarm, started: started)
        let resolvers = attackResolvers(pins: pins)

        let rate = Double(found) / Double(max(1, asked.count))
        let p50 = TopologiesBench.percentile(roundTrips, 0.5)
        let latencyP99 = TopologiesBench.percentile(latencies, 0.99)
        let targets = [
            BenchTarget(text: "every published name resolves (100 %)", met: rate == 1),
            BenchTarget(text: "uncached resolution: median ≤ 3 overlay round trips", met: p50 <= 3),
            BenchTarget(text: "uncached resolution: p99 ≤ 2 s of simulated time", met: latencyP99 <= 2_000),
            BenchTarget(
                text: "cached resolution costs no datagram",
                met: cachedDatagrams == 0 && cachedAnswered == min(cachedResolutions, asked.count)),
            BenchTarget(
                text: "100 % of forged or rolled-back records refused",
                met: stores.refused == stores.sent && resolvers.refused == resolvers.fed && stores.sent > 0),
        ]
        return Report(
            peers: peers, topology: topology, names: names.count, settled: settled,
            convergedSeconds: converged, chainsHeld: chainsHeld, chainsHeldByAuthorities: chainsHeldByAuthorities,
            publishedSeconds: published,
            resolutions: asked.count, found: found, roundTripsP50: p50,
            roundTripsMean: roundTrips.reduce(0, +) / Double(max(1, roundTrips.count)),
            roundTripsP99: TopologiesBench.percentile(roundTrips, 0.99),
            lookupsMean: lookups.reduce(0, +) / Double(max(1, lookups.count)),
            latencyP50Milliseconds: TopologiesBench.percentile(latencies, 0.5), latencyP99Milliseconds: latencyP99,
            cachedResolutions: min(cachedResolutions, asked.count), cachedAnswered: cachedAnswered,
            cachedDatagrams: cachedDatagrams, storedAttacks: stores.sent, storedAttacksRefused: stores.refused,
            resolverAttacks: resolvers.fed, resolverAttacksRefused: resolvers.refused,
            wallSeconds: TopologiesBench.seconds(clock.now - started), targets: targets)
    }

    /// Tells standard error `text`, as `names: text`.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data("names: \(text)\n".utf8))
    }

    /// Tells standard error that a phase ended, with the simulated and wall-clock time.
    static func phase(_ name: String, swarm: NodeSwarm, started: ContinuousClock.Instant) {
        note(
            String(
                format: "%@ at simulated %.1f s, wall %.0f s", name, TopologiesBench.seconds(swarm.network.now - .zero),
                TopologiesBench.seconds(ContinuousClock.now - started)))
    }

    /// The names to publish, in waves: a wave's delegations are published before the
    /// names below them.
    static func plan(swarm: NodeSwarm, peers: Int) -> [[Plan]] {
        var waves: [[Plan]] = [[], [], []]
        for top in 0..<topLevels {
            let owner = SimNodeID(rawValue: top + 1)
            let labOwner = SimNodeID(rawValue: peers / 2 + top)
            let deptOwner = SimNodeID(rawValue: peers / 3 + top)
            func name(_ text: String) -> OverlayName { try! OverlayName("\(text).t\(top)") }
            func data(_ node: SimNodeID) -> NameRecord.Content {
                .data(NameData(peer: swarm.peerID(of: node), addresses: [swarm.network.address(of: node)]))
            }
            waves[0].append(Plan(name: name("www"), owner: owner, content: data(owner)))
            waves[0].append(Plan(name: name("lab"), owner: owner, content: .delegation(swarm.peerID(of: labOwner))))
            waves[1].append(Plan(name: name("printer.lab"), owner: labOwner, content: data(labOwner)))
            waves[1].append(
                Plan(name: name("dept.lab"), owner: labOwner, content: .delegation(swarm.peerID(of: deptOwner))))
            waves[2].append(Plan(name: name("queue.dept.lab"), owner: deptOwner, content: data(deptOwner)))
        }
        for index in 0..<min(keyRootedNames, peers / 8) {
            let owner = SimNodeID(rawValue: peers / 4 + index)
            waves[0].append(
                Plan(
                    name: OverlayName(labels: ["www"], zone: swarm.peerID(of: owner)), owner: owner,
                    content: .data(NameData(peer: swarm.peerID(of: owner)))))
        }
        return waves
    }

    /// Publishes a wave and runs until every publication has ended.
    static func publish(_ wave: [Plan], in swarm: inout NodeSwarm, ends: Ends) {
        var started: [Key] = []
        for plan in wave {
            if let id = swarm.publishName(plan.name, content: plan.content, at: plan.owner) {
                started.append(Key(node: plan.owner, id: id))
            }
        }
        _ = swarm.runDiscardingEvents(step: .milliseconds(100), limit: .seconds(120)) { _ in
            started.allSatisfy { ends.publications[$0] != nil }
        }
        for key in started {
            if case .failure(let error)? = ends.publications[key] {
                note("a publication at \(key.node) failed: \(error)")
            }
        }
    }

    /// Republishes every name, then has a stranger send every holder the chain it held
    /// before and three forgeries of it.
    /// - Returns: how many were sent, and how many were refused with the newest chain kept.
    static func attackStorers(_ swarm: inout NodeSwarm, waves: [[Plan]], ends: Ends) -> (sent: Int, refused: Int) {
        let now = swarm.network.now
        var held: [RoutingKey: [(node: SimNodeID, chain: NameChain)]] = [:]
        for node in swarm.nodes {
            for (key, entry) in swarm.overlay(of: node).routing.nameStore.entries where entry.expiresAt > now {
                held[key, default: []].append((node, entry.chain))
            }
        }
        for wave in waves { publish(wave, in: &swarm, ends: ends) }
        let stranger = SimNodeID(rawValue: swarm.nodes.count - 1)
        var keys = swarm.network.makeGenerator()
        let strangerKey = IdentityKeyPair.generate(using: &keys)
        let envelope = OverlayEnvelope(swarmID: OverlayConfiguration.simulation.swarmID, swarmSecret: nil)
        let from = swarm.network.address(of: stranger)
        var random = SeededGenerator(seed: 11)
        var sent = 0
        var attacked: [(node: SimNodeID, key: RoutingKey, old: NameChain)] = []
        for (key, holders) in held.sorted(by: { $0.key < $1.key }) {
            for (node, old) in holders {
                let current = swarm.overlay(of: node).routing.nameStore.chain(at: key, now: swarm.network.now)
                guard let current, current.compare(to: old) == .newer else { continue }
                for chain in [old] + forgeries(of: current, signer: strangerKey) {
                    let message = RoutingMessage(
                        requestID: random.next(), sender: swarm.peerID(of: stranger), body: .storeName(chain: chain))
                    guard let bytes = try? message.encode() else { continue }
                    var datagram: [UInt8] = []
                    envelope.encode(
                        .routing, bytes, sentAt: swarm.overlay(of: node).wallClock(at: swarm.network.now),
                        into: &datagram, using: &random)
                    swarm.network.command(node) { core, now in
                        datagram.withUnsafeBytes { core.handleDatagram($0, from: from, now: now) }
                    }
                    sent += 1
                }
                attacked.append((node, key, current))
            }
        }
        swarm.runDiscardingEvents(for: .seconds(1))
        var refused = 0
        for attack in attacked {
            // The chain held then, or a newer one its owner republished since (the
            // authorities may have changed meanwhile); a forgery never verifies, and an
            // older chain never replaces a newer one.
            guard
                let held = swarm.overlay(of: attack.node).routing.nameStore.chain(
                    at: attack.key, now: swarm.network.now)
            else { continue }
            if held == attack.old || held.compare(to: attack.old) == .newer { refused += 4 }
        }
        return (sent, refused)
    }

    /// Three forgeries of `chain`: its last record's body changed after signing; its last
    /// record re-signed by `signer` (not its zone's key); and, for a chain with a
    /// delegation, a link signed by `signer` where the parent delegated to another key.
    static func forgeries(of chain: NameChain, signer: IdentityKeyPair) -> [NameChain] {
        guard let last = chain.last else { return [] }
        let tampered = self.tampered(last).map { NameChain(records: chain.records.dropLast() + [$0]) }
        var wrongKey = last.record
        wrongKey.zone = signer.peerID
        let resigned =
            (try? wrongKey.sign(with: signer)).map { signed in
                // The body names the stranger's zone: put it where the real zone's record was.
                var bytes = signed.body
                bytes.replaceSubrange(1..<33, with: last.record.zone.bytes)
                var reader = ByteReader(bytes + signed.signature)
                return (try? SignedNameRecord.decode(from: &reader)).map {
                    NameChain(records: chain.records.dropLast() + [$0])
                }
            } ?? nil
        var hijacked = last.record
        hijacked.zone = signer.peerID
        hijacked.sequence += 1
        let hijack = (try? hijacked.sign(with: signer)).map { NameChain(records: chain.records.dropLast() + [$0]) }
        return [tampered, resigned, chain.records.count > 1 ? hijack : tampered].compactMap { $0 }
    }

    /// `signed` with its TTL changed after signing (the lowest byte of the TTL field,
    /// after version, zone, label, sequence and expiry).
    static func tampered(_ signed: SignedNameRecord) -> SignedNameRecord? {
        var bytes = signed.encoded
        bytes[1 + Key32.size + 1 + signed.record.label.utf8.count + 8 + 8 + 3] ^= 0x01
        var reader = ByteReader(bytes)
        return try? SignedNameRecord.decode(from: &reader)
    }

    /// Feeds resolutions forged, rolled-back, misplaced and looping answers.
    /// - Returns: how many were fed, and how many were refused.
    static func attackResolvers(pins: [String: PeerID]) -> (fed: Int, refused: Int) {
        var random = SeededGenerator(seed: 13)
        let wall = NodeSwarm.wallClockAtZero
        var fed = 0
        var refused = 0
        for round in 0..<(resolutions / 4) {
            let owner = IdentityKeyPair.generate(using: &random)
            let mallory = IdentityKeyPair.generate(using: &random)
            let zone = owner.peerID
            func record(_ key: IdentityKeyPair, _ label: String, _ sequence: UInt64, _ content: NameRecord.Content)
                -> SignedNameRecord
            {
                try! NameRecord(
                    zone: key.peerID, label: label, sequence: sequence, expiresAt: wall + .seconds(600), ttl: 600,
                    content: content
                ).sign(with: key)
            }
            let name = OverlayName(labels: ["www"], zone: zone)
            var cache = NameCache(capacity: 16)
            // The resolver saw sequence 10 once (TTL 0: not cached, only remembered).
            let seen = try! NameRecord(
                zone: zone, label: "www", sequence: 10, expiresAt: wall + .seconds(600), ttl: 0,
                content: .data(NameData())
            ).sign(with: owner)
            cache.insert(seen, now: .zero, wallClock: wall)
            let good = record(owner, "www", 11, .data(NameData()))
            let answers: [NameChain] = [
                NameChain(records: [tampered(good)!]),  // changed after signing
                NameChain(records: [record(owner, "www", UInt64(round % 10), .data(NameData()))]),  // rolled back
                NameChain(records: [record(owner, "ftp", 12, .data(NameData()))]),  // another name's
                NameChain(records: [record(mallory, "www", 12, .data(NameData()))]),  // another zone's
            ]
            for answer in answers {
                var resolution = try! NameResolution(name: name, pins: pins)
                _ = resolution.start(cache: &cache, now: .zero, wallClock: wall)
                fed += 1
                if case .done(.failure) = resolution.received(
                    answer, refused: nil, hops: 1, cache: &cache, now: .zero, wallClock: wall)
                {
                    refused += 1
                }
            }
        }
        return (fed, refused)
    }
}
