internal import OrderedCollections

/// What one index server holds: peers' signed records and, under every service they
/// list, their provider entries, each until its registration expires.
///
/// ### Purpose
/// Records are stored exactly as received and handed out unchanged: the store never
/// vouches for them (a client verifies what it is given). Everything a stranger can
/// make grow is bounded by ``IndexLimits``: registrations in all, per source host (peer
/// IDs are free to make, hosts are not) and per service, and the rate of registrations
/// per host and in all (each costs a signature check). Held registrations are kept over
/// newcomers, so a flood cannot push out the peers already registered.
///
/// Provider lists keep their insertion order, so that one seed gives one run.
public struct IndexStore: Sendable {
    /// One registration.
    public struct Entry: Hashable, Sendable {
        /// The peer's signed record, as received.
        public var record: SignedPeerRecord
        /// When the registration expires: the earlier of the lifetime granted and the
        /// record's own expiry.
        public var expiresAt: Instant
        /// The host it was registered from (counted against its host's limit).
        public var host: PeerAddress.Host
    }

    /// The limits in force.
    public let limits: IndexLimits
    /// Registrations by peer.
    public private(set) var entries: [PeerID: Entry] = [:]
    /// What was stored and refused.
    public internal(set) var statistics = IndexStatistics()

    var providers: [String: OrderedSet<PeerID>] = [:]
    var registrationsPerHost: [PeerAddress.Host: Int] = [:]
    var hostRate: SourceRateLimiter<PeerAddress.Host>
    var totalRate: SourceRateLimiter<Bool>

    /// Creates an empty store with (validated) `limits`.
    public init(limits: IndexLimits) {
        self.limits = limits
        hostRate = SourceRateLimiter(
            perSecond: limits.registrationsPerSecondPerHost, burst: limits.registrationBurstPerHost,
            maximumSources: HybridConstants.maximumTrackedHosts)
        totalRate = SourceRateLimiter(
            perSecond: limits.registrationsPerSecond, burst: max(limits.registrationBurstPerHost, 1),
            maximumSources: 1)
    }

    /// Registrations held.
    public var count: Int { entries.count }

    /// The services with providers held.
    public var serviceCount: Int { providers.count }

    /// Registers `record`, received from `host`, for `lifetime`.
    ///
    /// - Parameters:
    ///   - record: the peer's signed record, not yet verified.
    ///   - lifetime: how long to hold it (capped by the record's own expiry).
    ///   - host: the source host.
    ///   - now: the current time.
    ///   - wallNow: the current wall-clock time (the record's expiry is in it).
    /// - Returns: what was done.
    public mutating func register(
        _ record: SignedPeerRecord, lifetime: Duration, from host: PeerAddress.Host, now: Instant, wallNow: UnixTime
    ) -> IndexRegistrationStatus {
        let status = store(record, lifetime: lifetime, from: .registrant(host), now: now, wallNow: wallNow)
        statistics.registrations[status, default: 0] += 1
        return status
    }

    /// Takes `record` from the fellow index server at `host`, which held it for
    /// `lifetime` more and hands it over because this server now holds one of its keys.
    ///
    /// A handoff is verified like a registration and bounded by the total limits, but
    /// not by the per-host ones (a fellow hands over many peers' records at once). A
    /// record held already, as new or newer, is left as it is; the peer's own
    /// registrations replace a handed-over one.
    /// - Returns: what was done.
    public mutating func takeHandoff(
        _ record: SignedPeerRecord, lifetime: Duration, from host: PeerAddress.Host, now: Instant, wallNow: UnixTime
    ) -> IndexRegistrationStatus {
        let status: IndexRegistrationStatus
        if let existing = entries[record.record.peerID], existing.expiresAt > now,
            existing.record.record.sequence >= record.record.sequence
        {
            status = .stored
        } else {
            status = store(record, lifetime: lifetime, from: .fellow(host), now: now, wallNow: wallNow)
        }
        statistics.handoffs[status, default: 0] += 1
        return status
    }

    /// Where a registration came from.
    private enum Source {
        /// The peer itself (or whoever sent it) from this host: the per-host limits apply.
        case registrant(PeerAddress.Host)
        /// A fellow index server at this host, handing it over: they do not.
        case fellow(PeerAddress.Host)

        var host: PeerAddress.Host {
            switch self {
            case .registrant(let host), .fellow(let host): host
            }
        }
    }

    private mutating func store(
        _ record: SignedPeerRecord, lifetime: Duration, from source: Source, now: Instant, wallNow: UnixTime
    ) -> IndexRegistrationStatus {
        let host = source.host
        if case .registrant = source, !hostRate.allow(host, now: now) { return .rateLimited }
        guard totalRate.allow(true, now: now) else { return .rateLimited }
        guard (try? record.verify(now: wallNow)) != nil else { return .invalid }
        let peer = record.record.peerID
        let existing = entries[peer]
        if let existing, existing.expiresAt > now, existing.record.record.sequence > record.record.sequence {
            return .stale
        }
        if existing == nil || existing!.host != host {
            // Lapsed registrations go in the periodic sweep, not here: a full store
            // under a flood must not walk every entry for each refused newcomer.
            if existing == nil, entries.count >= limits.maximumRegistrations { return .full }
            if case .registrant = source,
                registrationsPerHost[host, default: 0] >= limits.maximumRegistrationsPerHost
            {
                return .hostFull
            }
        }
        if let existing { remove(peer, entry: existing) }
        let recordLeft = Duration.seconds(
            Int64(clamping: record.record.expiresAt.seconds) - Int64(clamping: wallNow.seconds))
        entries[peer] = Entry(record: record, expiresAt: now + min(lifetime, recordLeft), host: host)
        registrationsPerHost[host, default: 0] += 1
        var partly = false
        for service in record.record.services {
            var holders = providers[service] ?? []
            if holders.count >= limits.maximumProvidersPerService {
                partly = true
                continue
            }
            holders.append(peer)
            providers[service] = holders
        }
        return partly ? .storedPartly : .stored
    }

    /// The unexpired record of `peer`.
    public func record(of peer: PeerID, now: Instant) -> SignedPeerRecord? {
        guard let entry = entries[peer], entry.expiresAt > now else { return nil }
        return entry.record
    }

    /// Up to `count` unexpired records of providers of `service`: all of them when
    /// there are no more, else a random sample (spreading the load among providers).
    public func providers(
        of service: String, count: Int, now: Instant, using generator: inout some RandomNumberGenerator
    ) -> [SignedPeerRecord] {
        guard let holders = providers[service] else { return [] }
        guard holders.count > count * 4 else {
            var live = holders.compactMap { record(of: $0, now: now) }
            guard live.count > count else { return live }
            live.shuffle(using: &generator)
            return Array(live.prefix(count))
        }
        // Many providers: draw at random rather than walk them all (a service of 10,000
        // providers asked a thousand times a second); the draws are bounded, so an answer
        // may hold fewer when most entries expired unswept.
        var chosen: [SignedPeerRecord] = []
        var picked = Set<Int>()
        for _ in 0..<(count * 4) where chosen.count < count {
            let position = Int.random(in: 0..<holders.count, using: &generator)
            guard picked.insert(position).inserted, let found = record(of: holders[position], now: now) else {
                continue
            }
            chosen.append(found)
        }
        return chosen
    }

    /// Forgets `peer` (it left the swarm).
    public mutating func remove(_ peer: PeerID) {
        guard let entry = entries[peer] else { return }
        remove(peer, entry: entry)
    }

    /// Drops every registration expired by `now`.
    public mutating func sweep(now: Instant) {
        for (peer, entry) in entries where entry.expiresAt <= now {
            remove(peer, entry: entry)
            statistics.expired += 1
        }
    }

    private mutating func remove(_ peer: PeerID, entry: Entry) {
        entries[peer] = nil
        let left = registrationsPerHost[entry.host, default: 1] - 1
        registrationsPerHost[entry.host] = left > 0 ? left : nil
        for service in entry.record.record.services {
            guard var holders = providers[service] else { continue }
            holders.remove(peer)
            providers[service] = holders.isEmpty ? nil : holders
        }
    }
}

/// What an index server stored, answered and refused.
public struct IndexStatistics: Equatable, Sendable {
    /// Registrations received, by what was done with them.
    public internal(set) var registrations: [IndexRegistrationStatus: Int] = [:]
    /// Records handed over by fellow index servers, by what was done with them.
    public internal(set) var handoffs: [IndexRegistrationStatus: Int] = [:]
    /// Registrations dropped when they expired.
    public internal(set) var expired = 0
    /// Peer lookups answered, and how many found the peer.
    public internal(set) var peerLookups = 0
    /// Peer lookups that found a record.
    public internal(set) var peerLookupsFound = 0
    /// Provider queries answered.
    public internal(set) var serviceLookups = 0
    /// Index lists sent.
    public internal(set) var indexListsSent = 0

    /// Registrations refused, whatever the reason.
    public var refused: Int { registrations.filter { !$0.key.isStored }.values.reduce(0, +) }
}
