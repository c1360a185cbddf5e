import ArgumentParser

/// `starling mcast`: a multicast lab of listeners, senders and probes, for IPv4 and IPv6
/// groups, any-source and source-specific.
struct McastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcast",
        abstract: "Multicast lab: join groups, send to them, and measure loss, latency and jitter.",
        discussion: """
            Run each end in a network namespace (or on a LAN) you control. A listener joins \
            a group on a named interface and stays joined until SIGINT/SIGTERM or --seconds; \
            senders send text messages or timed probes, and the listener reports each probe \
            sender's loss, one-way latency, jitter, duplicates and reordering.

              starling mcast listen --group 239.255.77.1 --port 47001 --interface eth0
              starling mcast probe  --group 239.255.77.1 --port 47001 --interface eth0 --count 500 --rate 100
              starling mcast send   --group 239.255.77.1 --port 47001 --interface eth0 --message hello
              starling mcast listen --group 232.1.1.1 --source 192.0.2.10 --port 47001 --interface eth0

            --interface is always required: Starling never picks the interface that multicast \
            goes out of or is joined on. Groups leave with TTL (hop limit) 1 unless --ttl says \
            otherwise, and are not looped back to the sending host unless --loopback is given. \
            With --raw, send and listen carry plain UDP payloads, one message per datagram, \
            so they work with any other multicast tool; without it they carry Starling lab \
            packets (`starling mcast probe --help` shows their layout).
            """,
        subcommands: [Listen.self, Send.self, Probe.self]
    )
}

/// The options every `starling mcast` subcommand takes: where the group is and how to report.
struct McastGroupOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("The multicast group, such as 239.255.77.1, 232.1.1.1 or ff02::77.", valueName: "address"))
    var group: String

    @Option(help: "The UDP port of the group, 1 to 65535.")
    var port: Int

    @Option(
        help: ArgumentHelp(
            "The interface to join on or send from, such as eth0 (required: none is picked for you).",
            valueName: "name"
        )
    )
    var interface: String

    @Flag(help: "Print JSON objects, one per line, instead of text.")
    var json = false

    func validate() throws {
        try UDPCommand.checkPort(port, option: "--port", allowZero: false)
        _ = try McastTarget.group(group)
        guard !interface.isEmpty else { throw ValidationError("--interface needs an interface name, such as eth0") }
    }
}

/// The options of the commands that send: hop limit and loopback.
struct McastSendingOptions: ParsableArguments {
    @Option(help: "Multicast TTL (IPv6: hop limit), 0 to 255; 1, the default, stays on the local link.")
    var ttl = 1

    @Flag(help: "Loop the datagrams back to listeners on this host too (off by default).")
    var loopback = false

    func validate() throws {
        guard (0...255).contains(ttl) else { throw ValidationError("--ttl must be from 0 to 255, not \(ttl)") }
    }
}
