import ArgumentParser
import NIOCore
import StarlingIO

/// A group, port and interface that a `starling mcast` command has checked and looked up.
struct McastTarget {
    /// The group and port, as the destination of sends.
    let group: SocketAddress
    /// The interface to join on or send from.
    let interface: NetworkInterface

    /// Whether the group is IPv6.
    var isIPv6: Bool { group.protocol == .inet6 }

    /// The wildcard address of the group's family with `port`, for binding.
    func wildcard(port: Int) throws -> SocketAddress {
        try SocketAddress(ipAddress: isIPv6 ? "::" : "0.0.0.0", port: port)
    }

    /// The group as people write it: `239.255.77.1:47001` or `[ff02::77]:47001`.
    var groupText: String { UDPCommand.describe(group) }

    /// Checks the options against this machine's interfaces.
    ///
    /// Everything is checked before a socket exists, so nothing is sent when it fails.
    /// - Throws: ``CLIError`` for an interface that does not exist, has no MULTICAST flag,
    ///   or has no address of the group's family.
    init(_ options: McastGroupOptions) throws {
        let address = try Self.group(options.group)
        group = try SocketAddress(ipAddress: address.ipAddress ?? options.group, port: options.port)
        interface = try UDPCommand.interface(named: options.interface)
        guard interface.supportsMulticast else {
            throw CLIError("\(UDPError.interfaceNotMulticastCapable(interface: interface.name))")
        }
        if isIPv6, interface.ipv6 == nil {
            throw CLIError(
                "\(UDPError.interfaceHasNoIPv6Address(interface: interface.name)), which an IPv6 group needs")
        }
        if !isIPv6, interface.ipv4 == nil {
            throw CLIError(
                "\(UDPError.interfaceHasNoIPv4Address(interface: interface.name)), which an IPv4 group needs")
        }
    }

    /// Parses `--group`, which must be an IPv4 or IPv6 multicast address.
    ///
    /// - Throws: `ValidationError` naming the multicast ranges.
    static func group(_ text: String) throws -> SocketAddress {
        let host = try UDPCommand.host(text, option: "--group")
        let address = try UDPCommand.socketAddress(host: host, port: 0)
        guard address.isMulticast else {
            throw ValidationError("--group \(text) is not a multicast group (IPv4 224.0.0.0/4, IPv6 ff00::/8)")
        }
        return address
    }

    /// Checks `--source` against `--group`: a source-specific group needs a source, and a
    /// source needs a source-specific group of its own family and a unicast address.
    ///
    /// - Parameters:
    ///   - source: the `--source` text, if given.
    ///   - group: the `--group` text, already checked by ``group(_:)``.
    /// - Returns: the source address (port 0), or nil for an any-source join.
    /// - Throws: `ValidationError` with the rule that was broken.
    static func source(_ source: String?, for group: String) throws -> SocketAddress? {
        let groupAddress = try Self.group(group)
        guard let source else {
            if groupAddress.isSourceSpecificMulticast {
                throw ValidationError(
                    "--group \(group) is a source-specific group (232.0.0.0/8, ff3x::/32): "
                        + "name the sender with --source ADDR")
            }
            return nil
        }
        let address = try UDPCommand.socketAddress(host: UDPCommand.host(source, option: "--source"), port: 0)
        guard address.protocol == groupAddress.protocol else {
            throw ValidationError("--source \(source) and --group \(group) are of different address families")
        }
        guard groupAddress.isSourceSpecificMulticast else {
            throw ValidationError(
                "--source needs a source-specific group (IPv4 232.0.0.0/8, IPv6 ff3x::/32); \(group) is any-source"
            )
        }
        guard address.isUnicastHost else {
            throw ValidationError("--source \(source) is not a unicast address a sender could have")
        }
        return address
    }
}
