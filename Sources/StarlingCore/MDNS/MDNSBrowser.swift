internal import DequeModule

/// The mDNS querier of one interface: browses DNS-SD service types, resolves their
/// instances and keeps a bounded cache, as a sans-I/O state machine (RFC 6762 §5, §7,
/// §10; RFC 6763).
///
/// ### Purpose
/// ``browse(_:now:)`` starts continuous querying for a type's PTR records (first query
/// after 20–120 ms with the QU bit, then 1 s, doubling up to
/// ``MDNSBrowserConfiguration/maximumQueryInterval``). Each instance found is resolved
/// by asking for its SRV and TXT records and the SRV target's A/AAAA records, until
/// answered; cached records the browser still wants are refreshed at 80, 85, 90 and 95 %
/// of their TTL (plus 0–2 % jitter). Queries carry known answers (records with more than
/// half their TTL left), continued in further packets with TC set when they do not fit.
/// Responses apply the cache-flush bit and goodbyes (expire after 1 s).
/// ``browseServiceTypes(now:)`` enumerates types (`_services._dns-sd._udp.local`).
///
/// ### Interfaces and sources
/// One browser serves one interface. The driver feeds it only datagrams that arrived
/// on that interface from an on-link source, with the true source address and port;
/// responses from a port other than 5353 are ignored. Queries go to
/// ``MDNSBrowserConfiguration/destinations`` out of that interface. Unicast replies to
/// QU queries arrive on the driver's port-5353 socket and must be fed here too.
///
/// ### Members
/// - Getters: ``cachedRecordCount``, ``cacheEvictions``, ``services``, ``drops``, ``isLinkUp``.
/// - Inputs: ``handleDatagram(_:from:now:)``, ``handleTimeout(now:)``, ``linkChanged(up:now:)``.
/// - Commands: ``browse(_:now:)``, ``browseServiceTypes(now:)``, ``stopBrowsing(_:now:)``.
/// - Outputs: ``pollTransmit(now:into:)``, ``pollTimeout()``, ``pollEvent()``.
///
/// After any input or command, drain ``pollTransmit(now:into:)``, re-arm the timer to
/// ``pollTimeout()``, then drain ``pollEvent()``. `now` must never go backwards.
///
/// - Warning: not thread-safe; drive it from one thread or event loop at a time.
public struct MDNSBrowser: ProtocolCore, Sendable {
    /// Why a browser ignored a datagram.
    public enum Drop: Hashable, Sendable {
        /// Not a valid DNS message.
        case malformed
        /// Opcode or rcode not zero.
        case badHeader
        /// A response not from port 5353 (RFC 6762 §6).
        case responseFromWrongPort
        /// The link is down.
        case linkDown
    }

    /// The settings this browser was created with.
    public let configuration: MDNSBrowserConfiguration
    var random: ForkedRandom
    var cache: MDNSCache
    /// The browsed type names (PTR owners), including the enumeration name when enumerating.
    var browsed: Set<DNSName> = []
    var questions: [QuestionKey: ActiveQuestion] = [:]
    var reported: [DNSName: MDNSResolvedService] = [:]
    var reportedTypes: Set<DNSName> = []
    var outbox = DatagramOutbox()
    var events: Deque<MDNSBrowserEvent> = []
    /// Whether the interface is up.
    public internal(set) var isLinkUp = true
    /// Datagrams ignored, by reason.
    public internal(set) var drops: [Drop: Int] = [:]

    /// Creates a browser that asks nothing until told what to browse.
    /// - Parameters:
    ///   - configuration: see ``MDNSBrowserConfiguration``.
    ///   - seed: seeds the random query delays and refresh jitter.
    /// - Throws: ``MDNSBrowserConfiguration/ValidationError``.
    public init(configuration: MDNSBrowserConfiguration = MDNSBrowserConfiguration(), seed: UInt64)
        throws(MDNSBrowserConfiguration.ValidationError)
    {
        try configuration.validate()
        self.configuration = configuration
        random = ForkedRandom(seed: seed)
        cache = MDNSCache(
            maximumEntries: configuration.maximumCacheEntries,
            maximumPerSource: configuration.maximumCacheEntriesPerSource)
    }

    // MARK: Getters

    /// Records held in the cache.
    public var cachedRecordCount: Int { cache.count }

    /// Records evicted from a full cache so far.
    public var cacheEvictions: Int { cache.evictions }

    /// The resolved instances currently reported, by name.
    public var services: [DNSName: MDNSResolvedService] { reported }

    // MARK: Commands

    /// Starts browsing a service type, for example `_starling._udp.local`.
    /// - Parameters:
    ///   - type: the type name (`<_service>.<_udp|_tcp>.<domain>`).
    ///   - now: the current time.
    public mutating func browse(_ type: DNSName, now: Instant) {
        browsed.insert(type)
        syncQuestions(now: now)
    }

    /// Starts service-type enumeration (RFC 6763 §9): ``MDNSBrowserEvent/serviceTypeAdded(_:)``
    /// reports each type on the link.
    /// - Parameter now: the current time.
    public mutating func browseServiceTypes(now: Instant) {
        browse(MDNSConstants.servicesName, now: now)
    }

    /// Stops browsing a type; its reported instances are reported removed.
    /// - Parameters:
    ///   - type: a type passed to ``browse(_:now:)`` (or the enumeration name).
    ///   - now: the current time.
    public mutating func stopBrowsing(_ type: DNSName, now: Instant) {
        guard browsed.remove(type) != nil else { return }
        syncQuestions(now: now)
        report()
    }

    /// Tells the browser the interface went down or came back up. Down: stops querying.
    /// Up: queries everything again as after start (first query with QU); cached records
    /// stay until their TTL, and stale ones are flushed by the cache-flush bit of the
    /// answers (RFC 6762 §10.3 reconfirmation).
    /// - Parameters:
    ///   - up: whether the link is now up.
    ///   - now: the current time.
    public mutating func linkChanged(up: Bool, now: Instant) {
        guard up != isLinkUp else { return }
        isLinkUp = up
        if up {
            questions.removeAll()
            syncQuestions(now: now)
        } else {
            while outbox.popFirst() != nil {}
        }
    }

    // MARK: Outputs

    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        outbox.popFirst(into: &buffer)
    }

    public func pollTimeout() -> Instant? {
        var earliest = cache.nextDeadline
        if isLinkUp {
            for question in questions.values {
                if let due = question.nextQuery, earliest.map({ due < $0 }) ?? true { earliest = due }
            }
        }
        return earliest
    }

    public mutating func pollEvent() -> MDNSBrowserEvent? {
        events.popFirst()
    }

    // MARK: Helpers

    /// A uniform random duration in `range`.
    mutating func randomDelay(in range: ClosedRange<Duration>) -> Duration {
        let span = UInt64(max(0, (range.upperBound - range.lowerBound).nanosecondsClamped))
        return range.lowerBound + .nanoseconds(Int64(span == 0 ? 0 : random.next() % (span + 1)))
    }

    mutating func send(_ bytes: [UInt8]) {
        guard isLinkUp else { return }
        for destination in configuration.destinations {
            if outbox.count >= configuration.maximumOutbox { _ = outbox.popFirst() }
            outbox.append(bytes, to: destination)
        }
    }
}

/// A question the browser keeps asking.
struct QuestionKey: Hashable, Sendable {
    let name: DNSName
    let type: DNSRecordType
}

/// The schedule of one question (RFC 6762 §5.2).
struct ActiveQuestion: Sendable {
    /// Browse questions are asked forever; resolve questions only until answered.
    var continuous: Bool
    /// When to ask next; `nil` while answered (refresh queries take over).
    var nextQuery: Instant?
    /// The wait after the next query.
    var interval: Duration
    /// Queries sent so far; the first carries the QU bit.
    var sent: Int
}
