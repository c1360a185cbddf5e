import ArgumentParser
import Dispatch
import Glibc
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
        configuration.listenAddress = try Self.address(listen, option: "--listen")
        configuration.connectTimeout = .milliseconds(Int64(connectTimeout * 1000))
        let peer = try await Self.start(configuration, key: key, secretFile: secretFile)
        try await peer.handle("echo") { request in request.payload }
        print("peer \(peer.id)")
        print("listening \(peer.address)")
        flushOutput()

        let outcome = PeerOutcome()
        let stop = StopSignal()
        let reader = Task { await report(peer, outcome: outcome, stop: stop) }
        if let connect {
            let address = try Self.address(connect, option: "--connect")
            do {
                try await peer.connect(to: address, expecting: expect.map { try PeerID($0) })
            } catch {
                printError("cannot connect to \(address): \(error)")
                outcome.fail()
                stop.fire()
            }
        }
        await stop.wait()
        await peer.shutdown()
        await reader.value
        if outcome.failed { throw ExitCode.failure }
    }

    /// Prints the peer's events until it shuts down; asks every new session's peer for an echo.
    private func report(_ peer: Peer, outcome: PeerOutcome, stop: StopSignal) async {
        for await event in peer.events {
            switch event {
            case .sessionUp(let other, let address):
                print("session up \(other) \(address)")
                Task {
                    let text = "hello from \(peer.id.shortDescription)"
                    do {
                        let reply = try await peer.request("echo", Array(text.utf8), to: other)
                        print("echo reply from \(other.shortDescription): \(String(decoding: reply, as: UTF8.self))")
                        flushOutput()
                        if once { stop.fire() }
                    } catch {
                        printError("echo request to \(other.shortDescription) failed: \(error)")
                        if once {
                            outcome.fail()
                            stop.fire()
                        }
                    }
                }
            case .sessionDown(let other, let reason):
                print("session down \(other) \(reason)")
            case .datagram(let other, let payload):
                print("datagram from \(other.shortDescription): \(String(decoding: payload, as: UTF8.self))")
            case .message(let other, let payload):
                print("message from \(other.shortDescription): \(payload.count) bytes")
            case .handshakeFailed(let address, _, let error):
                print("handshake failed \(address): \(error)")
            case .membership, .topology, .broadcast, .query, .queryHit, .notice, .groupJoined, .groupMessage,
                .groupSendFailed:
                // `starling peer` runs no overlay; `starling swarm` does.
                break
            }
            flushOutput()
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

/// Whether the peer command should exit with a failure.
private final class PeerOutcome: Sendable {
    private let state = Mutex(false)
    var failed: Bool { state.withLock { $0 } }
    func fail() { state.withLock { $0 = true } }
}

/// Writes buffered standard output now, so that line-by-line readers see each event.
func flushOutput() {
    fflush(nil)
}

/// Prints `text` on standard error.
func printError(_ text: String) {
    flushOutput()
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
