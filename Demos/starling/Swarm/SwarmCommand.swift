import ArgumentParser
import Foundation
import Starling
import StarlingCore
import StarlingIO

/// `starling swarm`: launches a swarm of peers on loopback and shows it living.
struct SwarmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swarm",
        abstract: "Launch a swarm of overlay peers on loopback and watch it converge.",
        discussion: """
            Starts --peers peers in this process (or spread over --processes processes) on \
            127.0.0.1, joins them through the first one, and shows a live view: peers up, \
            membership convergence, overlay messages per second, echo round trips, suspected \
            and failed members. After convergence every peer looks up a few others through the \
            routing table and opens sessions to some of its neighbours. All traffic stays on \
            loopback; nothing is multicast or broadcast.

            With --topology hybrid the first --indexes peers are index servers and the rest \
            their clients: lookups go to the index servers in one round trip (and to the \
            Kademlia overlay when none answers). With --topology super-peer every peer starts \
            as a leaf and super-peers are elected (about one per 30 peers; none in a swarm \
            too small to need one), each leaf attached to three. The live view, the JSON and \
            the --graph drawing then show each peer's role.
            """
    )

    @Option(help: "Peers in the whole swarm (1 to 20,000).")
    var peers = 50

    @Option(help: "Seconds to run after the launch (1 to 3,600).")
    var duration: Double = 20

    @Option(help: "Chance from 0 to 0.5 that a peer drops a datagram it receives, e.g. 0.05.")
    var loss = 0.0

    @Option(help: "Seed of the injected loss and of the demo's random choices (default: random).")
    var seed: UInt64?

    @Option(
        help: ArgumentHelp(
            "The overlay's shape: pure (all peers equal), hybrid (index servers) or super-peer (elected super-peers).",
            valueName: "pure|hybrid|super-peer"))
    var topology = "pure"

    @Option(help: "Hybrid: index servers among the peers (1 to 16, fewer than --peers; default 3).")
    var indexes: Int?

    @Option(help: "Child processes to spread the swarm over, this one included (1 to 32).")
    var processes = 1

    @Option(help: "Write an SVG drawing of the overlay (peers as nodes, sessions as edges) here.")
    var graph: String?

    @Flag(help: "Print one JSON object at the end instead of the summary.")
    var json = false

    @Option(help: "Threads that keep a core busy each while the swarm runs (0 to 16), to see it on a loaded machine.")
    var cpuHog = 0

    @OptionGroup var log: LogOptions

    @Option(help: .hidden)
    var join: String?

    @Option(help: .hidden)
    var total: Int?

    func validate() throws {
        guard (1...20_000).contains(peers) else { throw ValidationError("--peers must be 1 to 20,000, not \(peers)") }
        guard (1...3_600).contains(duration) else {
            throw ValidationError("--duration must be 1 to 3,600 seconds, not \(duration)")
        }
        guard (0...0.5).contains(loss) else { throw ValidationError("--loss must be from 0 to 0.5, not \(loss)") }
        guard (1...32).contains(processes), processes <= peers else {
            throw ValidationError("--processes must be 1 to 32 and at most --peers, not \(processes)")
        }
        if let graph, !graph.hasSuffix(".svg") { throw ValidationError("--graph must name an .svg file, not \(graph)") }
        if let join { _ = try PeerCommand.address(join, option: "--join") }
        if let total, total < peers { throw ValidationError("--total must be at least --peers") }
        guard (0...16).contains(cpuHog) else { throw ValidationError("--cpu-hog must be 0 to 16, not \(cpuHog)") }
        _ = try shape()
    }

    /// The swarm's shape from --topology and --indexes.
    func shape() throws -> Swarm.Configuration.Shape {
        switch topology {
        case "pure":
            if indexes != nil { throw ValidationError("--indexes is only used with --topology hybrid") }
            return .pure
        case "hybrid":
            let count = indexes ?? 3
            guard (1...16).contains(count), count < peers else {
                throw ValidationError("--indexes must be 1 to 16 and fewer than --peers (\(peers)), not \(count)")
            }
            guard processes == 1, join == nil else {
                throw ValidationError(
                    "--topology hybrid runs in one process: --processes must be 1 (child processes would need the index servers' addresses)"
                )
            }
            return .hybrid(indexServers: count)
        case "super-peer":
            if indexes != nil { throw ValidationError("--indexes is only used with --topology hybrid") }
            guard processes == 1, join == nil else {
                throw ValidationError(
                    "--topology super-peer runs in one process: --processes must be 1 (child processes would run pure peers)"
                )
            }
            return .superPeer
        default:
            throw ValidationError("--topology must be pure, hybrid or super-peer, not '\(topology)'")
        }
    }

    func run() async throws {
        let seed = self.seed ?? UInt64.random(in: 0...UInt64.max)
        let run = SwarmRun(
            localPeers: join == nil ? peers - (processes - 1) * (peers / processes) : peers,
            totalPeers: total ?? peers, duration: duration, loss: loss, seed: seed,
            seeds: try join.map { [try PeerCommand.address($0, option: "--join")] } ?? [],
            quiet: json || join != nil, shape: try shape(), logger: log.makeLogger())
        let outcome: SwarmOutcome
        let hog = CPUHog(threads: cpuHog)
        defer { hog.stop() }
        do {
            outcome = try await run.run(children: join == nil ? processes - 1 : 0, childPeers: peers / processes)
        } catch let error as SwarmError {
            throw CLIError("\(error)", status: 2)
        }
        hog.stop()
        if let graph {
            do {
                try outcome.graph.svg().write(toFile: graph, atomically: true, encoding: .utf8)
                if !json {
                    print(
                        "graph written to \(graph) (\(outcome.graph.nodes.count) peers, \(outcome.graph.edges.count) sessions)"
                    )
                }
            } catch {
                throw CLIError("cannot write \(graph): \(error.localizedDescription)")
            }
        }
        if json {
            print(outcome.json)
        } else if join == nil {
            print(outcome.summary)
        }
        flushOutput()
        guard !outcome.succeeded else { return }
        // A child process reports in its JSON to the parent, which names the problems.
        guard join == nil else { throw ExitCode.failure }
        let problems = outcome.problems
        throw CLIError(problems.isEmpty ? "the swarm did not succeed" : problems.joined(separator: "; "))
    }
}
