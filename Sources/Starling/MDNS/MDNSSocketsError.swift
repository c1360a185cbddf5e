/// Why ``MDNSSockets`` could not open, or could not send.
public enum MDNSSocketsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No interface was named; Starling never picks one itself.
    case noInterface
    /// No address family was chosen.
    case noFamily
    /// The same interface was named twice.
    case duplicateInterface(String)
    /// No interface has this name (in this network namespace). `available` lists those that exist.
    case interfaceNotFound(name: String, available: [String])
    /// The interface cannot carry mDNS: no MULTICAST flag, or no address of a chosen family.
    case interfaceUnsuitable(interface: String, reason: String)
    /// The operating system refused a socket operation (bind, join, option, namespace entry).
    case socket(operation: String, reason: String)
    /// A send named an interface and family that these sockets did not open.
    case notOpen(interface: String, family: MDNSFamily)
    /// A unicast destination's address family differs from the socket's it was sent through.
    case familyMismatch(destination: String, family: MDNSFamily)
    /// The sockets were closed.
    case closed

    public var description: String {
        switch self {
        case .noInterface:
            "no network interface chosen: name the interfaces to run mDNS on"
        case .noFamily:
            "no address family chosen: pick IPv4 and/or IPv6"
        case .duplicateInterface(let name):
            "interface '\(name)' is named more than once"
        case .interfaceNotFound(let name, let available):
            "no network interface named '\(name)' (available: \(available.joined(separator: ", ")))"
        case .interfaceUnsuitable(let interface, let reason):
            "interface '\(interface)' cannot be used for mDNS: \(reason)"
        case .socket(let operation, let reason):
            "\(operation) failed: \(reason)"
        case .notOpen(let interface, let family):
            "no mDNS socket is open for \(family) on interface '\(interface)'"
        case .familyMismatch(let destination, let family):
            "cannot send to \(destination) through the \(family) socket"
        case .closed:
            "the mDNS sockets are closed"
        }
    }
}
