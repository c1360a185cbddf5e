import ArgumentParser

/// The `starling` command-line program: demo swarms, discovery, a multicast lab, names,
/// identities and records, and benchmarks.
@main
struct StarlingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "starling",
        abstract: "Starling peer-to-peer overlay networking: tools and demos.",
        discussion: """
            Every command that prints results takes --json (one JSON object, or one per line \
            for a stream of events). A failure exits non-zero with one line on standard error, \
            `Error: REASON`.
            """,
        groupedSubcommands: [
            CommandGroup(name: "Demo swarms", subcommands: [SwarmCommand.self, PeerCommand.self, IndexCommand.self]),
            CommandGroup(name: "Discovery", subcommands: [LANCommand.self, MDNSCommand.self]),
            CommandGroup(name: "Multicast lab", subcommands: [UDPCommand.self, McastCommand.self]),
            CommandGroup(name: "Names", subcommands: [NameCommand.self]),
            CommandGroup(name: "Identities and records", subcommands: [IdentityCommand.self, RecordCommand.self]),
            CommandGroup(name: "Benches", subcommands: [BenchCommand.self]),
        ]
    )

    /// Parses the command line and runs the command, as ArgumentParser's own `main` does,
    /// but reports every failure of a command's `run()` as one line (``CLIError``).
    /// Argument errors are ArgumentParser's to print, with the usage.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            CLIError(describing: error).exit()
        } catch let error where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // An exit status, a clean exit, or the help that `starling help` or `--help` asks for.
            exit(withError: error)
        } catch {
            CLIError(describing: error).exit()
        }
    }
}
