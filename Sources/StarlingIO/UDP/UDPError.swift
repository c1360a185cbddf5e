public import NIOCore

/// Why a UDP, multicast or broadcast operation was refused.
///
/// Errors from the operating system (a port in use, a refused send) are passed
/// on as NIO's `IOError`; these cases are the mistakes Starling detects itself,
/// each with a message that says what to change.
public enum UDPError: Error, Equatable, CustomStringConvertible {
    /// No interface has this name. `available` lists the names that exist.
    case interfaceNotFound(name: String, available: [String])
    /// The interface has no IPv4 address, which an IPv4 join, send or broadcast needs.
    case interfaceHasNoIPv4Address(interface: String)
    /// The interface has no IPv6 address, which an IPv6 join or send needs.
    case interfaceHasNoIPv6Address(interface: String)
    /// The interface does not have the MULTICAST flag.
    case interfaceNotMulticastCapable(interface: String)
    /// The interface's IPv4 subnet has no directed broadcast address (a /31 or /32, or no netmask).
    case interfaceHasNoBroadcast(interface: String)
    /// The address is not an IPv4 or IPv6 multicast group.
    case notMulticastAddress(SocketAddress)
    /// The group's address family differs from the socket's (an IPv6 group on an IPv4 socket, say).
    case addressFamilyMismatch(socket: SocketAddress, other: SocketAddress)
    /// The interfaces could not be listed.
    case enumerationFailed(reason: String)
    /// A source-specific join named a source that is not a unicast host address.
    case notUnicastSource(SocketAddress)

    public var description: String {
        switch self {
        case .interfaceNotFound(let name, let available):
            "no network interface named '\(name)' (available: \(available.joined(separator: ", ")))"
        case .interfaceHasNoIPv4Address(let interface):
            "interface '\(interface)' has no IPv4 address"
        case .interfaceHasNoIPv6Address(let interface):
            "interface '\(interface)' has no IPv6 address"
        case .interfaceNotMulticastCapable(let interface):
            "interface '\(interface)' does not support multicast (no MULTICAST flag)"
        case .interfaceHasNoBroadcast(let interface):
            "interface '\(interface)' has no directed broadcast address (its IPv4 subnet is a /31, /32 or has no mask)"
        case .notMulticastAddress(let address):
            "\(address.ipAddress ?? "\(address)") is not a multicast group address "
                + "(IPv4 groups are 224.0.0.0/4, IPv6 groups ff00::/8)"
        case .addressFamilyMismatch(let socket, let other):
            "\(other.ipAddress ?? "\(other)") is not in the same address family as the socket "
                + "bound to \(socket.ipAddress ?? "\(socket)")"
        case .enumerationFailed(let reason):
            "could not list the network interfaces: \(reason)"
        case .notUnicastSource(let address):
            "\(address.ipAddress ?? "\(address)") cannot be a multicast source: give the unicast address of the sender"
        }
    }
}
