import ArgumentParser
import Starling
import StarlingCore
import Synchronization

/// `starling peer`: one long-lived peer, for trying sessions across processes by hand.
struct PeerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "Run one peer that prints its events and answers `echo` requests.",
        discussion: """
            Prints `peer ID`, then `listening ADDR:PORT` once it is ready, then one line per \
            event: `session up ID ADDR`, `session down ID REASON`, `datagram from ID: TEXT`, \
            `handshake failed ADDR: ERROR`. When a session comes up, the peer sends an \
            `echo` request to the other side and prints `echo reply from ID: TEXT`. It runs \
            until interrupted (Ctrl-C or SIGTERM), then closes its sessions and exits.

            With --json each line is a JSON object instead, with an `event` field: `started` \
            (id, address), `session_up` (id, address), `session_down` (id, reason), \
            `echo_reply` (id, text), `datagram` (id, text), `message` (id, bytes) or \
            `handshake_failed` (address, error).

            With --connect it first makes a session with the peer at that address (Noise IK \
            with --expect ID, else Noise XX). With --secret-file both sides must hold the \
            same secret: it makes the swarm private.
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

    @Option(help: ArgumentHelp("Connect to the peer at this address.", valueName: "addr:port"))
    var connect: String?

    @Option(help: ArgumentHelp("The peer ID that must answer at --connect.", valueName: "id"))
    var expect: String?

    @Option(help: ArgumentHelp("Give up connecting after this many seconds (0.1 to 600).", valueName: "seconds"))
    var connectTimeout: Double = 10

    @Flag(help: "Exit (status 0) once this peer's first echo request is answered.")
    var once = false

    @Flag(help: "Print one JSON object per line instead of text.")
    var json = false

    @OptionGroup var log: LogOptions

    func validate() throws {
        _ = try Self.address(listen, option: "--listen")
        if let connect { _ = try Self.address(connect, option: "--connect") }
        if let expect {
            guard connect != nil else { throw ValidationError("--expect is only used with --connect ADDR") }
            do {
                _ = try PeerID(expect)
            } catch {
                throw ValidationError("--expect '\(expect)' is not a peer ID: \(error)")
            }
        }
        guard (0.1...600).contains(connectTimeout) else {
            throw ValidationError("--connect-timeout must be from 0.1 to 600 seconds, not \(connectTimeout)")
        }
    }

    /// Starts a peer of `configuration` with the identity in `key` and the swarm secret
    /// in `secretFile` (when given); every failure becomes a one-line ``CLIError``.
    static func start(_ configuration: PeerConfiguration, key: String?, secretFile: String?) async throws -> Peer {
        var configuration = configuration
        do {
            if let key { configuration.identity = try KeyFile.load(from: key) }
            if let secretFile { configuration.swarmSecret = try SwarmSecretFile.load(from: secretFile) }
        } catch let error as KeyFileError {
            throw CLIError(error.description)
        } catch let error as SwarmSecretFileError {
            throw CLIError(error.description)
        }
        do {
            return try await Peer.start(configuration)
        } catch {
            throw CLIError(error.description)
        }
    }

    func run() async throws {
        var configuration = PeerConfiguration()
        configuration.logger = log.makeLogger()
        configuration.listenAddress = try Self.address(listen, option: "--listen")
        configuration.connectTimeout = .milliseconds(Int64(connectTimeout * 1000))
        let peer = try await Self.start(configuration, key: key, secretFile: secretFile)
        try await peer.handle("echo") { request in request.payload }
        let output = PeerOutput(json: json)
        output.started(id: peer.id, address: peer.address)

        let outcome = PeerOutcome()
        let stop = StopSignal()
        let reader = Task { await report(peer, output: output, outcome: outcome, stop: stop) }
        if let connect {
            let address = try Self.address(connect, option: "--connect")
            do {
                try await peer.connect(to: address, expecting: expect.map { try PeerID($0) })
            } catch {
                outcome.fail("cannot connect to \(address): \(error)")
                stop.fire()
            }
        }
        await stop.wait()
        await peer.shutdown()
        await reader.value
        if let failure = outcome.failure { throw CLIError(failure) }
    }

    /// Prints the peer's events until it shuts down; asks every new session's peer for an echo.
    private func report(_ peer: Peer, output: PeerOutput, outcome: PeerOutcome, stop: StopSignal) async {
        for await event in peer.events {
            switch event {
            case .sessionUp(let other, let address):
                output.emit(
                    text: "session up \(other) \(address)",
                    ["event": "session_up", "id": other.description, "address": address.description])
                Task {
                    let text = "hello from \(peer.id.shortDescription)"
                    do {
                        let payload = try await peer.request("echo", Array(text.utf8), to: other)
                        let reply = String(decoding: payload, as: UTF8.self)
                        output.emit(
                            text: "echo reply from \(other.shortDescription): \(reply)",
                            ["event": "echo_reply", "id": other.description, "text": reply])
                        if once { stop.fire() }
                    } catch {
                        if once {
                            outcome.fail("echo request to \(other.shortDescription) failed: \(error)")
                            stop.fire()
                        } else {
                            printError("echo request to \(other.shortDescription) failed: \(error)")
                        }
                    }
                }
            case .sessionDown(let other, let reason):
                output.emit(
                    text: "session down \(other) \(reason)",
                    ["event": "session_down", "id": other.description, "reason": "\(reason)"])
            case .datagram(let other, let payload):
                let text = String(decoding: payload, as: UTF8.self)
                output.emit(
                    text: "datagram from \(other.shortDescription): \(text)",
                    ["event": "datagram", "id": other.description, "text": text])
            case .message(let other, let payload):
                output.emit(
                    text: "message from \(other.shortDescription): \(payload.count) bytes",
                    ["event": "message", "id": other.description, "bytes": payload.count])
            case .handshakeFailed(let address, _, let error):
                output.emit(
                    text: "handshake failed \(address): \(error)",
                    ["event": "handshake_failed", "address": address.description, "error": "\(error)"])
            case .membership, .topology, .broadcast, .query, .queryHit, .notice, .groupJoined, .groupMessage,
                .groupSendFailed:
                // `starling peer` runs no overlay; `starling swarm` does.
                break
            }
        }
    }

    static func address(_ text: String, option: String) throws -> PeerAddress {
        do {
            return try PeerAddress(text)
        } catch {
            throw ValidationError("\(option) '\(text)' is not ADDR:PORT (IPv6: [ADDR]:PORT): \(error)")
        }
    }
}

/// Why the peer command should exit with a failure, if it should: the first reason.
private final class PeerOutcome: Sendable {
    private let state = Mutex<String?>(nil)
    var failure: String? { state.withLock { $0 } }
    func fail(_ reason: String) { state.withLock { $0 = $0 ?? reason } }
}

/// The lines `starling peer` prints, as text or as JSON objects.
struct PeerOutput: Sendable {
    /// Whether each line is a JSON object.
    let json: Bool

    func started(id: PeerID, address: PeerAddress) {
        if json {
            JSONText.print(object: ["event": "started", "id": id.description, "address": address.description])
        } else {
            print("peer \(id)")
            print("listening \(address)")
            flushOutput()
        }
    }

    /// Prints `text`, or `object` with --json, and writes it out at once.
    func emit(text: String, _ object: [String: Any]) {
        JSONText.emit(json: json, text: text, object)
    }
}
