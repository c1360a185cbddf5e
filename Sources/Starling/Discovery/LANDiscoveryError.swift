/// Why a ``LANDiscovery`` could not be configured, started or used.
public enum LANDiscoveryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No interface was named; Starling never picks one itself.
    case noInterface
    /// No transport was chosen: at least one of multicast IPv4, multicast IPv6 or broadcast.
    case noTransport
    /// No interface has this name (in this network namespace). `available` lists those that exist.
    case interfaceNotFound(name: String, available: [String])
    /// The interface lacks what a chosen transport needs (an IPv4 address, a broadcast
    /// address, the MULTICAST flag); the text says which.
    case interfaceUnsuitable(interface: String, reason: String)
    /// A configured group is not a multicast address of its family.
    case invalidGroup(String)
    /// A setting is out of range.
    case invalidConfiguration(String)
    /// The local record is unusable (not this identity's, or cannot be signed).
    case invalidRecord(String)
    /// The operating system refused a socket operation (bind, join, namespace entry).
    case socket(operation: String, reason: String)
    /// ``LANDiscovery/start()`` was called twice.
    case alreadyStarted
    /// The discovery is not running (not started yet, or shut down).
    case notRunning

    public var description: String {
        switch self {
        case .noInterface:
            "no network interface chosen: name the interface to discover on"
        case .noTransport:
            "no transport chosen: pick IPv4 multicast, IPv6 multicast and/or broadcast"
        case .interfaceNotFound(let name, let available):
            "no network interface named '\(name)' (available: \(available.joined(separator: ", ")))"
        case .interfaceUnsuitable(let interface, let reason):
            "interface '\(interface)' cannot be used: \(reason)"
        case .invalidGroup(let reason):
            "invalid multicast group: \(reason)"
        case .invalidConfiguration(let reason):
            "invalid LAN discovery configuration: \(reason)"
        case .invalidRecord(let reason):
            "invalid local record: \(reason)"
        case .socket(let operation, let reason):
            "\(operation) failed: \(reason)"
        case .alreadyStarted:
            "LAN discovery was already started"
        case .notRunning:
            "LAN discovery is not running"
        }
    }
}
