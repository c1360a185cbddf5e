import ArgumentParser
import Foundation
import Starling
import StarlingCore

/// `starling index`: one index server of a hybrid overlay, for clients in other processes.
struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Run one index server of a hybrid overlay.",
        discussion: """
            Prints `index ID listening ADDR:PORT` once it is ready: ADDR:PORT is the overlay \
            address that hybrid clients are given as an index server (and may join the overlay \
            through). Then every --interval seconds a status line, `status registrations=N \
            members=M indexes=UP/KNOWN fallback=BOOL`, and a line per topology event \
            (`topology index up ID at ADDR`, `topology index down ID`, ...). It runs until \
            interrupted (Ctrl-C or SIGTERM), then leaves the overlay, prints `stopped` and exits.

            With --key the index server keeps its peer ID across restarts; clients then find \
            it again at the same address and register with it once more. With --fellow it \
            finds (and joins the overlay through) other index servers. With --json each line \
            is a JSON object instead, with an `event` field: `started`, `status`, `role`, \
            `index_up`, `index_down`, `fallback_started`, `fallback_ended` or `stopped`.
            """
    )

    @Option(help: ArgumentHelp("The UDP address to listen on (port 0 picks one).", valueName: "addr:port"))
    var listen = "127.0.0.1:0"

    @Option(help: ArgumentHelp("An identity key file (see `starling identity new`); default a fresh identity."))
    var key: String?

    @Option(
        name: .customLong("secret-file"),
        help: ArgumentHelp("A file with the swarm secret as 64 hex digits, mode 0600.", valueName: "file"))
    var secretFile: String?

    @Option(
        name: .customLong("fellow"),
        help: ArgumentHelp("Another index server's overlay address (repeatable).", valueName: "addr:port"))
    var fellows: [String] = []

    @Option(help: ArgumentHelp("Seconds between status lines (0.1 to 3,600).", valueName: "seconds"))
    var interval: Double = 2

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    @OptionGroup var log: LogOptions

    func validate() throws {
        _ = try PeerCommand.address(listen, option: "--listen")
        for fellow in fellows { _ = try PeerCommand.address(fellow, option: "--fellow") }
        guard fellows.count <= HybridConstants.maximumIndexes else {
            throw ValidationError("at most \(HybridConstants.maximumIndexes) --fellow addresses, not \(fellows.count)")
        }
        guard (0.1...3_600).contains(interval) else {
            throw ValidationError("--interval must be from 0.1 to 3,600 seconds, not \(interval)")
        }
    }

    func run() async throws {
        var configuration = PeerConfiguration()
        configuration.logger = log.makeLogger()
        configuration.listenAddress = try PeerCommand.address(listen, option: "--listen")
        let fellowAddresses = try fellows.map { try PeerCommand.address($0, option: "--fellow") }
        configuration.topology = .hybrid(.index(fellows: fellowAddresses))
        configuration.seeds = fellowAddresses
        configuration.acceptsStreams = false
        let peer = try await PeerCommand.start(configuration, key: key, secretFile: secretFile)
        let output = IndexOutput(json: json)
        output.started(id: peer.id, address: peer.address)

        let stop = StopSignal()
        let reader = Task { await report(peer, output: output) }
        let ticker = Task {
            while !Task.isCancelled {
                if let status = try? await peer.overlayStatus() { output.status(status) }
                try? await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            }
        }
        await stop.wait()
        ticker.cancel()
        await ticker.value
        await peer.shutdown()
        await reader.value
        output.stopped()
    }

    /// Prints the peer's topology events until it shuts down.
    private func report(_ peer: Peer, output: IndexOutput) async {
        for await event in peer.events {
            if case .topology(let event) = event { output.topology(event) }
        }
    }
}

/// The lines `starling index` prints, as text or as JSON objects.
struct IndexOutput: Sendable {
    /// Whether each line is a JSON object.
    let json: Bool

    func started(id: PeerID, address: PeerAddress) {
        emit(
            text: "index \(id) listening \(address)",
            ["event": "started", "id": id.description, "address": address.description])
    }

    func status(_ status: OverlayStatus) {
        emit(
            text: "status registrations=\(status.registrationsHeld) members=\(status.alive) "
                + "indexes=\(status.indexServersUp)/\(status.indexServers) fallback=\(status.isFallbackActive)",
            [
                "event": "status", "registrations": status.registrationsHeld, "members_alive": status.alive,
                "members_suspected": status.suspected, "index_servers": status.indexServers,
                "index_servers_up": status.indexServersUp, "fallback": status.isFallbackActive,
            ])
    }

    func topology(_ event: TopologyEvent) {
        let object: [String: Any] =
            switch event {
            case .role(let role): ["event": "role", "role": role.rawValue]
            case .indexUp(let id, let address):
                ["event": "index_up", "id": id.description, "address": address.description]
            case .indexDown(let id): ["event": "index_down", "id": id.description]
            case .fallbackStarted: ["event": "fallback_started"]
            case .fallbackEnded: ["event": "fallback_ended"]
            case .attached, .detached, .leafAttached, .leafDetached:
                // Super-peer links: an index server of a hybrid overlay has none.
                ["event": "topology", "detail": event.description]
            }
        emit(text: "topology \(event)", object)
    }

    func stopped() {
        emit(text: "stopped", ["event": "stopped"])
    }

    private func emit(text: String, _ object: [String: Any]) {
        JSONText.emit(json: json, text: text, object)
    }
}
