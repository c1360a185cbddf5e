import ArgumentParser
import Starling
import StarlingCore

/// `starling identity`: create and inspect identity key files.
struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Create and inspect Ed25519 identity key files.",
        subcommands: [New.self, Show.self]
    )

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new identity and write it to a key file (mode 0600).")

        @Option(name: .shortAndLong, help: "Where to write the key file.")
        var out: String = "identity.key"

        @Flag(help: "Replace an existing key file (its identity is lost).")
        var force = false

        @Flag(help: "Print one JSON object: id, short, x25519, file.")
        var json = false

        func run() throws {
            var random = SecureRandom()
            let keyPair: IdentityKeyPair
            do {
                keyPair = try KeyFile.create(at: out, overwrite: force, using: &random)
            } catch {
                throw CLIError(error.description)
            }
            if json {
                JSONText.print(IdentityCommand.Summary(keyPair, file: out))
            } else {
                print("created identity \(keyPair.peerID)")
                print("key file         \(out) (mode 0600; keep it secret)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the identity in a key file.")

        @Argument(help: "The key file.")
        var file: String

        @Flag(help: "Print one JSON object: id, short, x25519, file.")
        var json = false

        func run() throws {
            let keyPair = try loadKey(file)
            if json {
                JSONText.print(IdentityCommand.Summary(keyPair, file: file))
                return
            }
            print("peer id     \(keyPair.peerID)")
            print("short       \(keyPair.peerID.shortDescription)")
            print("x25519      \(Base32.encode(keyPair.x25519PublicKey.bytes))")
            print("key file    \(file)")
        }
    }

    /// The `--json` object of `new` and `show`.
    struct Summary: Encodable {
        /// The peer ID.
        let id: String
        /// Its short form.
        let short: String
        /// The X25519 public key, base32.
        let x25519: String
        /// The key file.
        let file: String

        init(_ keyPair: IdentityKeyPair, file: String) {
            id = keyPair.peerID.description
            short = keyPair.peerID.shortDescription
            x25519 = Base32.encode(keyPair.x25519PublicKey.bytes)
            self.file = file
        }
    }
}

/// Loads a key file, turning its typed error into a message for the terminal.
func loadKey(_ path: String) throws -> IdentityKeyPair {
    do {
        return try KeyFile.load(from: path)
    } catch {
        throw CLIError(error.description)
    }
}
