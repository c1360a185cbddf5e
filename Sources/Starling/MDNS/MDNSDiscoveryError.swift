public import StarlingCore

/// Why an ``MDNSDiscovery`` could not be configured, started or used.
public enum MDNSDiscoveryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No interface was named; Starling never picks one itself.
    case noInterface
    /// The same interface was named twice.
    case duplicateInterface(String)
    /// No address family was chosen.
    case noFamily
    /// The host label is empty, longer than 63 bytes or contains a dot.
    case invalidHostName(String)
    /// A setting is out of range; the text says which.
    case invalidConfiguration(String)
    /// A service to advertise breaks a DNS-SD rule (instance, type, TXT size).
    case invalidService(MDNSService.ValidationError)
    /// A service type to browse is not `_name._udp` or `_name._tcp` (optionally with `.local`).
    case invalidServiceType(String)
    /// No interface has this name (in this network namespace). `available` lists those that exist.
    case interfaceNotFound(name: String, available: [String])
    /// The interface cannot carry mDNS: no MULTICAST flag, or no address of a chosen family.
    case interfaceUnsuitable(interface: String, reason: String)
    /// The operating system refused a socket operation (bind, join, namespace entry).
    case socket(operation: String, reason: String)
    /// ``MDNSDiscovery/start()`` was called twice.
    case alreadyStarted
    /// The discovery is not running (not started yet, or shut down).
    case notRunning
    /// The advertisement is not (or no longer) registered with this discovery.
    case unknownAdvertisement

    /// The cases it shares with ``MDNSSocketsError`` read as that error's do.
    public var description: String {
        switch self {
        case .noInterface: MDNSSocketsError.noInterface.description
        case .duplicateInterface(let name): MDNSSocketsError.duplicateInterface(name).description
        case .noFamily: MDNSSocketsError.noFamily.description
        case .interfaceNotFound(let name, let available):
            MDNSSocketsError.interfaceNotFound(name: name, available: available).description
        case .interfaceUnsuitable(let interface, let reason):
            MDNSSocketsError.interfaceUnsuitable(interface: interface, reason: reason).description
        case .socket(let operation, let reason):
            MDNSSocketsError.socket(operation: operation, reason: reason).description
        case .invalidHostName(let name):
            "invalid host name '\(name)': it must be one label of 1 to 63 bytes, without dots"
        case .invalidConfiguration(let reason):
            "invalid mDNS configuration: \(reason)"
        case .invalidService(let error):
            "invalid service: \(Self.describe(error))"
        case .invalidServiceType(let type):
            "invalid service type '\(type)': use _name._udp or _name._tcp (name 1 to 15 characters)"
        case .alreadyStarted:
            "mDNS discovery was already started"
        case .notRunning:
            "mDNS discovery is not running"
        case .unknownAdvertisement:
            "the advertisement is not registered"
        }
    }

    private static func describe(_ error: MDNSService.ValidationError) -> String {
        switch error {
        case .invalidInstance(let instance):
            "the instance name '\(instance)' must be 1 to 63 bytes"
        case .invalidType(let type):
            "the type '\(type)' must be _name._udp or _name._tcp (name 1 to 15 characters)"
        case .txtStringTooLong(let length):
            "a TXT string is \(length) bytes long; the limit is 255"
        case .invalidName(let error):
            "the name breaks a DNS limit (\(error))"
        }
    }

    /// The discovery error for a socket error.
    init(_ error: MDNSSocketsError) {
        switch error {
        case .noInterface: self = .noInterface
        case .noFamily: self = .noFamily
        case .duplicateInterface(let name): self = .duplicateInterface(name)
        case .interfaceNotFound(let name, let available): self = .interfaceNotFound(name: name, available: available)
        case .interfaceUnsuitable(let interface, let reason):
            self = .interfaceUnsuitable(interface: interface, reason: reason)
        case .socket(let operation, let reason): self = .socket(operation: operation, reason: reason)
        case .notOpen, .familyMismatch, .closed: self = .socket(operation: "sending", reason: error.description)
        }
    }
}
