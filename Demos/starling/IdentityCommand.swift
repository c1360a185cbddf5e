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

        func run() throws {
            var random = SecureRandom()
            do {
                let keyPair = try KeyFile.create(at: out, overwrite: force, using: &random)
                print("created identity \(keyPair.peerID)")
                print("key file         \(out) (mode 0600; keep it secret)")
            } catch {
                throw CLIError(error.description)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the identity in a key file.")

        @Argument(help: "The key file.")
        var file: String

        func run() throws {
            let keyPair = try loadKey(file)
            print("peer id     \(keyPair.peerID)")
            print("short       \(keyPair.peerID.shortDescription)")
            print("x25519      \(Base32.encode(keyPair.x25519PublicKey.bytes))")
            print("key file    \(file)")
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

/// A failure to report to the user as one clear line, with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
