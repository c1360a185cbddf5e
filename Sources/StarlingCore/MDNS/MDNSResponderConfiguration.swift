/// Settings of one ``MDNSResponder``: the host it speaks for on one interface.
public struct MDNSResponderConfiguration: Sendable {
    /// Why a configuration cannot be used.
    public enum ValidationError: Error, Equatable, Sendable {
        /// The host label is empty, longer than 63 bytes or contains a dot.
        case invalidHostName(String)
        /// No multicast destination is configured.
        case noDestinations
        /// The payload limit is below 512 or above 8952 bytes (RFC 6762 §17).
        case invalidPayloadLimit(Int)
        /// The announcement count is not 2...8 (RFC 6762 §8.3).
        case invalidAnnounceCount(Int)
        /// A rate, burst or queue limit is not positive.
        case invalidLimit
    }

    /// The host label; the responder owns `<hostName>.local` and its A/AAAA records.
    /// Raising conflicts renames it `host-2`, `host-3`…
    public var hostName: String
    /// This interface's addresses, published as A/AAAA of the host name (RFC 6762 §14:
    /// only the arrival interface's addresses). Leave out IPv6 addresses still tentative.
    public var addresses: [PeerAddress.Host]
    /// Where multicast messages go: by default both mDNS groups. A responder on an
    /// IPv4-only link may use just ``MDNSConstants/ipv4Group``.
    public var destinations: [PeerAddress]
    /// Largest datagram payload to send. Raising it toward 8952 fits more records per
    /// message but needs a jumbo-frame link; lowering it splits answers into more
    /// datagrams. Default: 1452 (Ethernet MTU less IPv6 and UDP headers).
    public var maximumPayload: Int
    /// Unsolicited announcements after winning a name, 1 s apart (RFC 6762 §8.3: at
    /// least 2). More reach peers through loss at the cost of traffic.
    public var announceCount: Int
    /// Datagrams remembered to recognise this responder's own looped-back multicast.
    /// More costs memory; fewer risks reading an own probe as a peer's.
    public var loopbackMemory: Int
    /// Most datagrams waiting to be polled; beyond it the oldest are dropped.
    public var maximumOutbox: Int
    /// Unicast replies (QU and legacy unicast) allowed per second, over all sources: a
    /// spoofed query must not turn the responder into an amplifier. Raising it serves
    /// more legacy resolvers; lowering it sheds them sooner. Default 20.
    public var unicastRepliesPerSecond: Double
    /// Unicast replies a quiet responder may send at once. Default 20.
    public var unicastReplyBurst: Int
    /// Most delayed responses waiting at once; further queries needing one are ignored
    /// (counted as ``MDNSDrop/overloaded``). Default 64.
    public var maximumPendingResponses: Int

    /// A configuration with the defaults above.
    public init(hostName: String, addresses: [PeerAddress.Host]) {
        self.hostName = hostName
        self.addresses = addresses
        self.destinations = [MDNSConstants.ipv4Group, MDNSConstants.ipv6Group]
        self.maximumPayload = MDNSConstants.defaultMaximumPayload
        self.announceCount = 2
        self.loopbackMemory = 32
        self.maximumOutbox = 256
        self.unicastRepliesPerSecond = 20
        self.unicastReplyBurst = 20
        self.maximumPendingResponses = 64
    }

    /// Checks every field.
    /// - Throws: ``ValidationError``.
    public func validate() throws(ValidationError) {
        guard !hostName.isEmpty, hostName.utf8.count <= MDNSConstants.maximumLabelLength, !hostName.contains(".") else {
            throw .invalidHostName(hostName)
        }
        guard !destinations.isEmpty else { throw .noDestinations }
        guard (512...8952).contains(maximumPayload) else { throw .invalidPayloadLimit(maximumPayload) }
        guard (2...8).contains(announceCount) else { throw .invalidAnnounceCount(announceCount) }
        guard unicastRepliesPerSecond > 0, unicastReplyBurst > 0, maximumPendingResponses > 0, loopbackMemory > 0,
            maximumOutbox > 0
        else { throw .invalidLimit }
    }
}

/// What an ``MDNSResponder`` reports.
public enum MDNSResponderEvent: Hashable, Sendable {
    /// A name (a service instance or the host name) was won by probing and is now announced.
    case registered(DNSName)
    /// A name was lost to another host and replaced (RFC 6762 §9).
    case renamed(from: DNSName, to: DNSName)
    /// Another host answered or claimed one of this host's names; the responder probes
    /// again (and renames only if it loses).
    case conflict(DNSName)
    /// A simultaneous probe with later records won the tie-break; the responder waits
    /// one second and probes the same name again (RFC 6762 §8.2).
    case tieBreakLost(DNSName)
    /// A service was withdrawn and its goodbye sent.
    case unregistered(DNSName)
}

/// Why an ``MDNSResponder`` ignored a datagram.
public enum MDNSDrop: Hashable, Sendable {
    /// Not a valid DNS message.
    case malformed
    /// Opcode or rcode not zero (RFC 6762 §18.3, §18.11).
    case badHeader
    /// A response not from port 5353 (RFC 6762 §6).
    case responseFromWrongPort
    /// One of this responder's own datagrams, looped back.
    case ownDatagram
    /// The link is down.
    case linkDown
    /// A unicast reply was refused by ``MDNSResponderConfiguration/unicastRepliesPerSecond``.
    case unicastRateLimited
    /// Too many delayed responses were waiting.
    case overloaded
}
