/// One unique name a responder owns or is probing: its host name or a service instance.
struct MDNSRegistration: Sendable {
    enum Kind: Sendable {
        /// The host name with its A/AAAA records.
        case host
        /// A DNS-SD service instance.
        case service(MDNSService)
    }

    /// Where the name is in its life (RFC 6762 §8).
    enum Phase: Equatable, Sendable {
        /// Not probing (link down or shut down).
        case idle
        /// Waiting before the first probe (random 0–250 ms, 1 s after a lost tie-break,
        /// 5 s when rate-limited).
        case waiting(until: Instant)
        /// `sent` probes out; at `next` send the next one or, after the last, win.
        case probing(sent: Int, next: Instant)
        /// Won; `sent` announcements out, the next at `next`.
        case announcing(sent: Int, next: Instant)
        /// Announced; answers queries.
        case established

        /// Whether this host may answer with the name's records.
        var isAuthoritative: Bool {
            switch self {
            case .announcing, .established: true
            case .idle, .waiting, .probing: false
            }
        }

        /// Whether the name is being probed (or about to be).
        var isProbing: Bool {
            switch self {
            case .waiting, .probing: true
            case .idle, .announcing, .established: false
            }
        }

        /// The next deadline, if any.
        var deadline: Instant? {
            switch self {
            case .waiting(let until): until
            case .probing(_, let next), .announcing(_, let next): next
            case .idle, .established: nil
            }
        }
    }

    var kind: Kind
    /// The name being probed or owned.
    var name: DNSName
    var phase: Phase
}

/// A record's identity apart from TTL and cache-flush bit.
struct RecordKey: Hashable, Sendable {
    let name: DNSName
    let data: DNSRecordData

    init(_ record: DNSRecord) {
        name = record.name
        data = record.data
    }
}

/// A response waiting for its random delay (shared answers, RFC 6762 §6).
struct PendingResponse: Sendable {
    var due: Instant
    var answers: [DNSRecord]
    var additionals: [DNSRecord]
    /// `nil` to multicast.
    var unicast: PeerAddress?
}

extension MDNSResponder {
    /// The records of a registration, at the recommended TTLs (RFC 6762 §10), unique
    /// ones with the cache-flush bit.
    func records(of registration: MDNSRegistration) -> [DNSRecord] {
        unique(of: registration) + shared(of: registration)
    }

    /// The unique records of a registration: A/AAAA of the host, or SRV and TXT.
    func unique(of registration: MDNSRegistration) -> [DNSRecord] {
        switch registration.kind {
        case .host:
            return addresses.map { address in
                switch address {
                case .ipv4(let value):
                    DNSRecord(
                        name: registration.name, data: .a(value), ttl: MDNSConstants.hostRecordTTL, cacheFlush: true)
                case .ipv6(let high, let low):
                    DNSRecord(
                        name: registration.name, data: .aaaa(high: high, low: low), ttl: MDNSConstants.hostRecordTTL,
                        cacheFlush: true)
                }
            }
        case .service(let service):
            return [
                DNSRecord(
                    name: registration.name, data: .srv(priority: 0, weight: 0, port: service.port, target: host.name),
                    ttl: MDNSConstants.hostRecordTTL, cacheFlush: true),
                DNSRecord(
                    name: registration.name, data: .txt(service.txt.isEmpty ? [[]] : service.txt),
                    ttl: MDNSConstants.otherRecordTTL, cacheFlush: true),
            ]
        }
    }

    /// The shared records of a registration: the type's PTR to the instance and the
    /// service-type enumeration PTR (RFC 6763 §4.1, §9).
    func shared(of registration: MDNSRegistration) -> [DNSRecord] {
        guard case .service(let service) = registration.kind, let type = try? service.typeName() else { return [] }
        return [
            DNSRecord(name: type, data: .ptr(registration.name), ttl: MDNSConstants.otherRecordTTL),
            DNSRecord(name: MDNSConstants.servicesName, data: .ptr(type), ttl: MDNSConstants.otherRecordTTL),
        ]
    }

    /// The NSEC naming the types a registration's name has (RFC 6762 §6.1).
    func nsec(of registration: MDNSRegistration) -> DNSRecord {
        let types = Set(unique(of: registration).map(\.type))
        return DNSRecord(
            name: registration.name, data: .nsec(next: registration.name, types: types),
            ttl: registration.kind.isHost ? MDNSConstants.hostRecordTTL : MDNSConstants.otherRecordTTL, cacheFlush: true
        )
    }

    /// Every registration, host first.
    var allRegistrations: [MDNSRegistration] {
        [host] + services.values.sorted { $0.name.description < $1.name.description }
    }
}

extension MDNSRegistration.Kind {
    var isHost: Bool {
        if case .host = self { return true }
        return false
    }
}
