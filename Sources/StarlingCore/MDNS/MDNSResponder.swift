internal import DequeModule

/// The mDNS responder of one host on one interface, as a sans-I/O state machine
/// (RFC 6762, DNS-SD records of RFC 6763).
///
/// ### Purpose
/// The responder owns a host name (`<host>.local`, with this interface's A/AAAA
/// records) and any number of DNS-SD service instances (SRV, TXT, PTR from the type and
/// from `_services._dns-sd._udp.local`). It probes every unique name (random 0–250 ms,
/// then 3 probes 250 ms apart), breaks simultaneous-probe ties, renames on a lost probe
/// (`Name (2)`), announces winners twice 1 s apart, answers queries (unique answers at
/// once, shared answers after 20–120 ms, known-answer suppression, 1 s multicast rate
/// limit, QU and legacy unicast), defends its names, and says goodbye.
///
/// ### Interfaces
/// One responder serves one interface: create one per interface, each with that
/// interface's addresses. The driver feeds a responder only the datagrams that arrived
/// on its interface from an on-link source (RFC 6762 §11), passes the true source
/// address and port (port 5353 or not decides between multicast and legacy unicast),
/// and sends the multicast destinations (``MDNSResponderConfiguration/destinations``)
/// out of that interface only, with TTL/hop limit 255.
///
/// ### Members
/// - Getters: ``hostName``, ``addresses``, ``name(of:)``, ``isRegistered(_:)``, ``drops``, ``isLinkUp``.
/// - Inputs: ``handleDatagram(_:from:now:)``, ``handleTimeout(now:)``, ``linkChanged(up:now:)``.
/// - Commands: ``register(_:now:)``, ``unregister(_:now:)``, ``updateTXT(_:of:now:)``,
///   ``updateAddresses(_:now:)``, ``shutdown(now:)``.
/// - Outputs: ``pollTransmit(now:into:)``, ``pollTimeout()``, ``pollEvent()``.
///
/// After any input or command, drain ``pollTransmit(now:into:)``, re-arm the timer to
/// ``pollTimeout()``, then drain ``pollEvent()``. `now` must never go backwards.
///
/// - Warning: not thread-safe; drive it from one thread or event loop at a time.
public struct MDNSResponder: ProtocolCore, Sendable {
    /// Identifies a registered service across renames.
    public struct ServiceID: Hashable, Sendable {
        /// A number unique within one responder.
        public let rawValue: Int
    }

    /// The settings this responder was created with.
    public let configuration: MDNSResponderConfiguration
    var random: ForkedRandom
    /// The current host label (changed only by a lost probe).
    var hostLabel: String
    /// The interface's addresses, published as the host name's A/AAAA records.
    public private(set) var addresses: [PeerAddress.Host]
    var host: MDNSRegistration
    var services: [ServiceID: MDNSRegistration] = [:]
    var nextServiceID = 0
    /// Multicast time of each record on this interface, for rate limits and QU (§5.4, §6).
    var lastMulticast: [RecordKey: Instant] = [:]
    /// Shared answers waiting for their random delay.
    var pendingResponses: [PendingResponse] = []
    /// Times of recent conflicts, for the 15-in-10-s rate limit (§8.1).
    var conflictTimes: Deque<Instant> = []
    /// Recently sent datagrams, to recognise them looped back.
    var sentRing: Deque<[UInt8]> = []
    /// Budget of unicast replies (QU and legacy), all sources together.
    var unicastLimiter: SourceRateLimiter<Int>
    var outbox = DatagramOutbox()
    var events: Deque<MDNSResponderEvent> = []
    /// Whether the interface is up.
    public internal(set) var isLinkUp = true
    /// Datagrams ignored, by reason.
    public internal(set) var drops: [MDNSDrop: Int] = [:]

    /// Creates a responder and starts probing its host name at once.
    ///
    /// - Parameters:
    ///   - configuration: the host and interface; see ``MDNSResponderConfiguration``.
    ///   - seed: seeds the random delays (probe start, shared answers).
    ///   - now: the current time.
    /// - Throws: ``MDNSResponderConfiguration/ValidationError``.
    public init(configuration: MDNSResponderConfiguration, seed: UInt64, now: Instant)
        throws(MDNSResponderConfiguration.ValidationError)
    {
        try configuration.validate()
        self.configuration = configuration
        self.random = ForkedRandom(seed: seed)
        self.hostLabel = configuration.hostName
        self.addresses = configuration.addresses
        self.unicastLimiter = SourceRateLimiter(
            perSecond: configuration.unicastRepliesPerSecond, burst: configuration.unicastReplyBurst, maximumSources: 1)
        let hostName = try! DNSName(label: configuration.hostName, parent: MDNSConstants.localDomain)
        self.host = MDNSRegistration(kind: .host, name: hostName, phase: .idle)
        host.phase = .waiting(until: now + randomDelay(upTo: MDNSConstants.probeInitialDelayMaximum))
    }

    // MARK: Getters

    /// The host name currently owned (or being probed).
    public var hostName: DNSName { host.name }

    /// The current full instance name of a service, or `nil` if it is not registered.
    public func name(of service: ServiceID) -> DNSName? { services[service]?.name }

    /// Whether a service's name has been won (it is being announced or is established).
    public func isRegistered(_ service: ServiceID) -> Bool { services[service]?.phase.isAuthoritative ?? false }

    // MARK: Commands

    /// Registers a DNS-SD service instance; probing starts after a random 0–250 ms.
    ///
    /// - Parameters:
    ///   - service: the instance, type, port and TXT strings.
    ///   - now: the current time.
    /// - Returns: the service's ID; ``MDNSResponderEvent/registered(_:)`` follows when its
    ///   name is won, ``MDNSResponderEvent/renamed(from:to:)`` if it must change.
    /// - Throws: ``MDNSService/ValidationError``.
    public mutating func register(_ service: MDNSService, now: Instant) throws(MDNSService.ValidationError) -> ServiceID
    {
        try service.validate()
        let name = try service.instanceName()
        let id = ServiceID(rawValue: nextServiceID)
        nextServiceID += 1
        var registration = MDNSRegistration(kind: .service(service), name: name, phase: .idle)
        if isLinkUp { registration.phase = .waiting(until: now + startDelay(now: now)) }
        services[id] = registration
        return id
    }

    /// Withdraws a service, sending a goodbye (TTL 0) for its records if they were announced.
    ///
    /// - Parameters:
    ///   - service: the ID ``register(_:now:)`` returned.
    ///   - now: the current time.
    public mutating func unregister(_ service: ServiceID, now: Instant) {
        guard let registration = services.removeValue(forKey: service) else { return }
        forgetPending(records(of: registration))
        if registration.phase.isAuthoritative && isLinkUp { sendGoodbye(records(of: registration), now: now) }
        events.append(.unregistered(registration.name))
    }

    /// Replaces a service's TXT strings and announces the new TXT record (RFC 6762 §8.4).
    ///
    /// - Parameters:
    ///   - txt: the new strings.
    ///   - service: the service.
    ///   - now: the current time.
    public mutating func updateTXT(_ txt: [[UInt8]], of service: ServiceID, now: Instant) {
        guard var registration = services[service], case .service(var description) = registration.kind else { return }
        description.txt = txt
        registration.kind = .service(description)
        if registration.phase.isAuthoritative && isLinkUp {
            registration.phase = .announcing(sent: 0, next: now)
        }
        services[service] = registration
        expireRegistrations(now: now)
    }

    /// Replaces the interface's addresses (a DHCP renewal, a new IPv6 address out of
    /// DAD): says goodbye to the withdrawn A/AAAA records, then probes and announces the
    /// host name again with the new set (RFC 6762 §8.4 allows announcing alone; probing
    /// again also checks the new records). Nothing happens when the set is unchanged.
    /// - Parameters:
    ///   - newAddresses: the addresses now on the interface.
    ///   - now: the current time.
    public mutating func updateAddresses(_ newAddresses: [PeerAddress.Host], now: Instant) {
        guard Set(newAddresses) != Set(addresses) else { return }
        let old = unique(of: host)
        addresses = newAddresses
        forgetPending(old.filter { record in !unique(of: host).contains { $0.sameData(as: record) } })
        guard isLinkUp, host.phase != .idle else { return }
        if host.phase.isAuthoritative {
            let current = unique(of: host)
            sendGoodbye(old.filter { record in !current.contains { $0.sameData(as: record) } }, now: now)
        }
        host.phase = .waiting(until: now + startDelay(now: now))
    }

    /// Tells the responder the interface went down or came back up.
    ///
    /// Down: stops sending and forgets pending answers. Up: probes and announces the
    /// same names again (RFC 6762 §8, §10.3); a flap never renames by itself.
    /// - Parameters:
    ///   - up: whether the link is now up.
    ///   - now: the current time.
    public mutating func linkChanged(up: Bool, now: Instant) {
        guard up != isLinkUp else { return }
        isLinkUp = up
        pendingResponses.removeAll()
        lastMulticast.removeAll()
        if up {
            host.phase = .waiting(until: now + randomDelay(upTo: MDNSConstants.probeInitialDelayMaximum))
            for id in services.keys {
                services[id]!.phase = .waiting(until: now + randomDelay(upTo: MDNSConstants.probeInitialDelayMaximum))
            }
        } else {
            host.phase = .idle
            for id in services.keys { services[id]!.phase = .idle }
            while outbox.popFirst() != nil {}
        }
    }

    /// Sends goodbyes for every announced record and stops; afterwards the responder
    /// sends nothing and answers nothing.
    /// - Parameter now: the current time.
    public mutating func shutdown(now: Instant) {
        if isLinkUp {
            var goodbyes: [DNSRecord] = []
            for registration in services.values where registration.phase.isAuthoritative {
                goodbyes += records(of: registration)
            }
            if host.phase.isAuthoritative { goodbyes += records(of: host) }
            sendGoodbye(goodbyes, now: now)
        }
        for registration in services.values { events.append(.unregistered(registration.name)) }
        services.removeAll()
        host.phase = .idle
        pendingResponses.removeAll()
        isLinkUp = false
    }

    // MARK: Outputs

    public mutating func pollTransmit(now: Instant, into buffer: inout [UInt8]) -> PeerAddress? {
        outbox.popFirst(into: &buffer)
    }

    public func pollTimeout() -> Instant? {
        var earliest = host.phase.deadline
        for registration in services.values {
            if let due = registration.phase.deadline, earliest.map({ due < $0 }) ?? true { earliest = due }
        }
        for pending in pendingResponses where earliest.map({ pending.due < $0 }) ?? true { earliest = pending.due }
        return earliest
    }

    public mutating func pollEvent() -> MDNSResponderEvent? {
        events.popFirst()
    }

    // MARK: Helpers shared by the extensions

    /// A uniform random duration in `0...maximum`.
    mutating func randomDelay(upTo maximum: Duration) -> Duration {
        let span = UInt64(max(0, maximum.nanosecondsClamped))
        return .nanoseconds(Int64(span == 0 ? 0 : random.next() % (span + 1)))
    }

    /// A uniform random duration in `range`.
    mutating func randomDelay(in range: ClosedRange<Duration>) -> Duration {
        range.lowerBound + randomDelay(upTo: range.upperBound - range.lowerBound)
    }

    /// The wait before a (re)started probe: 0–250 ms, or 5 s once 15 conflicts happened
    /// within 10 s (RFC 6762 §8.1).
    mutating func startDelay(now: Instant) -> Duration {
        while let first = conflictTimes.first, now - first > MDNSConstants.conflictWindow {
            conflictTimes.removeFirst()
        }
        if conflictTimes.count >= MDNSConstants.conflictLimit { return MDNSConstants.conflictBackoff }
        return randomDelay(upTo: MDNSConstants.probeInitialDelayMaximum)
    }

    /// Queues `message` for `destination`, remembering it to recognise it looped back.
    mutating func send(_ bytes: [UInt8], to destination: PeerAddress) {
        guard isLinkUp else { return }
        if outbox.count >= configuration.maximumOutbox { _ = outbox.popFirst() }
        outbox.append(bytes, to: destination)
        if sentRing.count >= configuration.loopbackMemory { sentRing.removeFirst() }
        sentRing.append(bytes)
    }

    /// Encodes `answers` (and `additionals`, as room allows) into as many responses as
    /// needed and queues them for every multicast destination or for `unicast`.
    mutating func sendResponse(
        answers: [DNSRecord], additionals: [DNSRecord] = [], unicast: PeerAddress? = nil, id: UInt16 = 0,
        questions: [DNSQuestion] = [], now: Instant
    ) {
        var remaining = answers[...]
        while !remaining.isEmpty {
            var encoder = DNSMessageEncoder(
                id: id, flags: DNSMessage.responseFlags, maximumSize: configuration.maximumPayload)
            for question in questions { _ = encoder.append(question) }
            while let record = remaining.first, encoder.append(record, to: .answer) { remaining.removeFirst() }
            if encoder.recordCount == questions.count {
                remaining.removeFirst()  // a single record too large for any datagram
                continue
            }
            if remaining.isEmpty {
                for record in additionals where !answers.contains(where: { $0.sameData(as: record) }) {
                    _ = encoder.append(record, to: .additional)
                }
            }
            let bytes = encoder.finish()
            if let unicast {
                send(bytes, to: unicast)
            } else {
                for destination in configuration.destinations { send(bytes, to: destination) }
            }
        }
        if unicast == nil {
            for record in answers { lastMulticast[RecordKey(record)] = now }
        }
    }

    /// Takes `records` out of the delayed responses (answers and additionals), so that a
    /// response queued before a withdrawal cannot announce them again after their goodbye.
    mutating func forgetPending(_ records: [DNSRecord]) {
        guard !records.isEmpty, !pendingResponses.isEmpty else { return }
        for index in pendingResponses.indices {
            pendingResponses[index].answers.removeAll { answer in records.contains { $0.sameData(as: answer) } }
            pendingResponses[index].additionals.removeAll { extra in records.contains { $0.sameData(as: extra) } }
        }
        pendingResponses.removeAll { $0.answers.isEmpty }
    }

    /// Multicasts `records` with TTL 0 (RFC 6762 §10.1).
    mutating func sendGoodbye(_ records: [DNSRecord], now: Instant) {
        guard !records.isEmpty else { return }
        sendResponse(
            answers: records.map { record in
                var goodbye = record
                goodbye.ttl = 0
                return goodbye
            }, now: now)
    }
}
