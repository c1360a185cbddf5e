public import StarlingCore

extension MDNSDiscovery {
    /// A service ``MDNSDiscovery/advertise(_:)`` registered, on every interface.
    public struct Advertisement: Hashable, Sendable {
        /// A number unique within one discovery.
        public let rawValue: Int
    }

    /// What happens to the advertised names (the ``MDNSDiscovery/events`` stream).
    public enum Event: Hashable, Sendable {
        /// A service's name was won by probing on `interface` and is now announced there.
        case advertised(Advertisement, name: DNSName, interface: String)
        /// Another host owns `from` on `interface`; the service is advertised as `to` there
        /// (RFC 6762 §9: `Name` becomes `Name (2)`).
        case renamed(Advertisement, from: DNSName, to: DNSName, interface: String)
        /// The host name (the SRV target) was won on `interface`.
        case hostNameRegistered(DNSName, interface: String)
        /// The host name was lost to another host on `interface` and replaced.
        case hostRenamed(from: DNSName, to: DNSName, interface: String)
        /// A service was withdrawn on `interface` (its goodbye sent if it was announced).
        case withdrawn(name: DNSName, interface: String)
    }

    /// What a browse reports (the stream ``MDNSDiscovery/browse(_:)`` returns).
    public enum BrowseEvent: Hashable, Sendable {
        /// An instance is resolved on `interface`: SRV, TXT and at least one address known.
        case added(MDNSResolvedService, interface: String)
        /// A resolved instance changed (port, host, addresses or TXT) on `interface`.
        case updated(MDNSResolvedService, interface: String)
        /// An instance went away on `interface` (expired or withdrawn with a goodbye).
        case removed(DNSName, interface: String)
        /// Service-type enumeration found a type on `interface`
        /// (``MDNSDiscovery/browseServiceTypes()`` only).
        case serviceTypeAdded(DNSName, interface: String)
        /// A type found by enumeration expired on `interface`.
        case serviceTypeRemoved(DNSName, interface: String)

        /// The interface the event happened on.
        public var interface: String {
            switch self {
            case .added(_, let interface), .updated(_, let interface), .removed(_, let interface),
                .serviceTypeAdded(_, let interface), .serviceTypeRemoved(_, let interface):
                interface
            }
        }
    }
}
