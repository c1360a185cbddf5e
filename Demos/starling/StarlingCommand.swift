import ArgumentParser

/// The `starling` command-line program: identities, signed records, UDP
/// group experiments and benchmarks.
@main
struct StarlingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "starling",
        abstract: "Starling peer-to-peer overlay networking: tools and demos.",
        subcommands: [
            IdentityCommand.self,
            RecordCommand.self,
            PeerCommand.self,
            SwarmCommand.self,
            IndexCommand.self,
            NameCommand.self,
            LANCommand.self,
            MDNSCommand.self,
            UDPCommand.self,
            McastCommand.self,
            BenchCommand.self,
        ]
    )
}
