/// Probing, announcing and conflict resolution (RFC 6762 §8, §9).
extension MDNSResponder {
    /// Names one registration of the responder.
    enum Ref: Hashable, Sendable {
        case host
        case service(ServiceID)
    }

    subscript(ref: Ref) -> MDNSRegistration? {
        get {
            switch ref {
            case .host: host
            case .service(let id): services[id]
            }
        }
        set {
            guard let newValue else { return }
            switch ref {
            case .host: host = newValue
            case .service(let id): services[id] = newValue
            }
        }
    }

    /// Every registration's reference, host first, services in ID order.
    var allRefs: [Ref] { [.host] + services.keys.sorted { $0.rawValue < $1.rawValue }.map { .service($0) } }

    public mutating func handleTimeout(now: Instant) {
        expireRegistrations(now: now)
        expirePendingResponses(now: now)
    }

    /// Advances every registration whose deadline has passed: sends probes, wins names,
    /// sends announcements.
    mutating func expireRegistrations(now: Instant) {
        for ref in allRefs {
            guard var registration = self[ref], let due = registration.phase.deadline, due <= now else { continue }
            switch registration.phase {
            case .waiting:
                sendProbe(registration)
                registration.phase = .probing(sent: 1, next: now + MDNSConstants.probeInterval)
            case .probing(let sent, _) where sent < MDNSConstants.probeCount:
                sendProbe(registration)
                registration.phase = .probing(sent: sent + 1, next: now + MDNSConstants.probeInterval)
            case .probing:
                events.append(.registered(registration.name))
                registration.phase = .announcing(sent: 0, next: now)
                self[ref] = registration
                announce(ref, now: now)
                continue
            case .announcing:
                self[ref] = registration
                announce(ref, now: now)
                continue
            case .idle, .established:
                break
            }
            self[ref] = registration
        }
    }

    /// Sends one announcement of a registration (all its records in the answer
    /// section, unique ones with cache-flush) and schedules the next (RFC 6762 §8.3).
    mutating func announce(_ ref: Ref, now: Instant) {
        guard var registration = self[ref], case .announcing(let sent, _) = registration.phase else { return }
        var additionals: [DNSRecord] = []
        if registration.kind.isHost, Set(unique(of: registration).map(\.type)).count < 2 {
            additionals.append(nsec(of: registration))
        }
        sendResponse(answers: records(of: registration), additionals: additionals, now: now)
        let count = sent + 1
        if count >= configuration.announceCount {
            registration.phase = .established
        } else {
            registration.phase = .announcing(
                sent: count, next: now + MDNSConstants.announceInterval * (1 << min(count - 1, 6)))
        }
        self[ref] = registration
    }

    /// Multicasts one probe: an ANY question with QU set, proposed records in the
    /// authority section (RFC 6762 §8.1).
    mutating func sendProbe(_ registration: MDNSRegistration) {
        let message = DNSMessage(
            questions: [DNSQuestion(name: registration.name, type: .any, unicastResponse: true)],
            authorities: proposed(registration))
        guard let bytes = try? message.encoded(maximumSize: configuration.maximumPayload) else { return }
        for destination in configuration.destinations { send(bytes, to: destination) }
    }

    /// The records a registration proposes in its probes: its unique records without the
    /// cache-flush bit.
    func proposed(_ registration: MDNSRegistration) -> [DNSRecord] {
        unique(of: registration).map { record in
            var plain = record
            plain.cacheFlush = false
            return plain
        }
    }

    /// Counts one conflict for the 15-in-10-s limit.
    mutating func noteConflict(now: Instant) {
        conflictTimes.append(now)
        while conflictTimes.count > MDNSConstants.conflictLimit * 2 { conflictTimes.removeFirst() }
    }

    /// A probe was answered by another host: pick the next name and probe it (RFC 6762 §9).
    mutating func lostProbe(_ ref: Ref, now: Instant) {
        guard var registration = self[ref] else { return }
        noteConflict(now: now)
        let old = registration.name
        switch registration.kind {
        case .host:
            hostLabel = MDNSService.renamedHost(hostLabel)
            registration.name = (try? DNSName(label: hostLabel, parent: MDNSConstants.localDomain)) ?? old
        case .service(var service):
            service.instance = MDNSService.renamed(service.instance)
            registration.kind = .service(service)
            registration.name = (try? service.instanceName()) ?? old
        }
        registration.phase = .waiting(until: now + startDelay(now: now))
        self[ref] = registration
        events.append(.renamed(from: old, to: registration.name))
        if ref == .host {
            // The SRV records now name the new host: announce them again.
            for id in services.keys where services[id]!.phase.isAuthoritative {
                services[id]!.phase = .announcing(sent: 0, next: now)
            }
        }
    }

    /// Another host claims a name this host has announced: probe it again, keeping the
    /// name unless that probe is lost (RFC 6762 §9).
    mutating func conflictAfterAnnouncing(_ ref: Ref, now: Instant) {
        guard var registration = self[ref], registration.phase.isAuthoritative else { return }
        noteConflict(now: now)
        registration.phase = .waiting(until: now + startDelay(now: now))
        self[ref] = registration
        events.append(.conflict(registration.name))
    }

    /// A simultaneous probe with later records: wait one second, then probe the same
    /// name again (RFC 6762 §8.2).
    mutating func lostTieBreak(_ ref: Ref, now: Instant) {
        guard var registration = self[ref] else { return }
        registration.phase = .waiting(until: now + MDNSConstants.probeTieBreakDelay)
        self[ref] = registration
        events.append(.tieBreakLost(registration.name))
    }
}
