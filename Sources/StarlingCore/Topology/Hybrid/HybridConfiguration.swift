/// How a peer of a hybrid overlay behaves: as an index server or as a client of them.
///
/// A client needs the address of at least one index server (``indexes``); it asks it
/// for the others, registers its signed record with the ``replication`` index servers
/// responsible for each of its keys (its peer ID and every service it provides), and
/// sends lookups and provider queries to them. An index server lists the addresses of
/// fellow index servers it should find at start (optional: they also find it).
public struct HybridConfiguration: Equatable, Sendable {
    /// What the local peer is.
    public enum Role: String, Equatable, Sendable {
        /// A peer that registers with index servers and asks them.
        case client
        /// An index server: it stores registrations and answers lookups. It is a client
        /// of the other index servers too (its own record is registered like any peer's).
        case index
    }

    /// What the local peer is.
    public var role: Role
    /// Overlay addresses of index servers to start from (a client needs one; an index
    /// server may list its fellows). The rest are learned from them.
    public var indexes: [PeerAddress]
    /// How many index servers hold each key (rendezvous hashing picks them): 2 keeps
    /// every key answerable when one index server is lost.
    public var replication: Int
    /// How long an index server keeps a registration; clients register again after a
    /// third of it, so an index server that restarted empty is refilled within that.
    public var registrationLifetime: Duration
    /// The shortest time a request to an index server is waited for; the wait adapts
    /// to the measured round trip above it (RFC 6298's RTO).
    public var minimumRequestTimeout: Duration
    /// The longest time a request to an index server is waited for.
    public var maximumRequestTimeout: Duration
    /// How often a client asks an index server for the list of index servers, to find
    /// new ones.
    public var indexListInterval: Duration
    /// How often an index server asks its fellow index servers for their lists: a
    /// heartbeat that counts a lost fellow down within about two intervals, so that it
    /// hands the lost one's keys to their next holders at once.
    public var fellowProbeInterval: Duration
    /// What one index server accepts (an index server's own policy).
    public var limits: IndexLimits
    /// The swarm size (as the index servers count it) from which a client holds only the
    /// index servers in its membership view instead of every member (a partial view,
    /// ``MembershipView``); it holds every member again below half of it. 0 (the
    /// default) keeps every member always. Set it on the index servers too: one whose
    /// threshold is set features its fellows, so that its answers to clients' scoped
    /// pulls carry them.
    ///
    /// A member costs about 2 KB, so a full view of 10,000 members is some 20 MB: fine
    /// for a process, too much for 10,000 simulated peers in one, and perhaps for a small
    /// device. Lookups go to the index servers either way, and the Kademlia table a client
    /// built while it held every member stays for the fallback. What a partial view
    /// gives up: a broadcast reaches peers that joined since a client drew its
    /// neighbours only after it draws them again (every index list interval), echoes
    /// reach only the index servers, and an index server that restarts empty relearns
    /// the members from their pulls rather than from the answer to its join.
    public var clientViewThreshold: Int

    /// Creates a configuration.
    public init(
        role: Role = .client, indexes: [PeerAddress] = [], replication: Int = 2,
        registrationLifetime: Duration = .seconds(30), minimumRequestTimeout: Duration = .milliseconds(200),
        maximumRequestTimeout: Duration = .seconds(2), indexListInterval: Duration = .seconds(30),
        fellowProbeInterval: Duration = .milliseconds(500), limits: IndexLimits = IndexLimits(),
        clientViewThreshold: Int = 0
    ) {
        self.role = role
        self.indexes = indexes
        self.replication = replication
        self.registrationLifetime = registrationLifetime
        self.minimumRequestTimeout = minimumRequestTimeout
        self.maximumRequestTimeout = maximumRequestTimeout
        self.indexListInterval = indexListInterval
        self.fellowProbeInterval = fellowProbeInterval
        self.limits = limits
        self.clientViewThreshold = clientViewThreshold
    }

    /// A client of the index servers at `indexes`.
    public static func client(indexes: [PeerAddress]) -> HybridConfiguration {
        HybridConfiguration(role: .client, indexes: indexes)
    }

    /// An index server that starts by finding the index servers at `fellows`.
    public static func index(fellows: [PeerAddress] = []) -> HybridConfiguration {
        HybridConfiguration(role: .index, indexes: fellows)
    }

    /// Checks every field.
    /// - Throws: ``HybridConfigurationError`` naming the first problem.
    public func validate() throws(HybridConfigurationError) {
        if role == .client, indexes.isEmpty { throw .noIndexes }
        guard indexes.count <= HybridConstants.maximumIndexes else { throw .tooManyIndexes(indexes.count) }
        guard (1...HybridConstants.maximumReplication).contains(replication) else {
            throw .replication(replication)
        }
        guard registrationLifetime >= .seconds(3), registrationLifetime <= .seconds(86_400) else {
            throw .registrationLifetime(registrationLifetime)
        }
        guard minimumRequestTimeout >= .milliseconds(1), maximumRequestTimeout >= minimumRequestTimeout,
            maximumRequestTimeout <= .seconds(60)
        else { throw .requestTimeout(minimumRequestTimeout, maximumRequestTimeout) }
        guard indexListInterval >= .seconds(1) else { throw .indexListInterval(indexListInterval) }
        guard fellowProbeInterval >= .milliseconds(50), fellowProbeInterval <= .seconds(60) else {
            throw .fellowProbeInterval(fellowProbeInterval)
        }
        guard (0...1_000_000).contains(clientViewThreshold) else {
            throw .limit("clientViewThreshold", Double(clientViewThreshold))
        }
        try limits.validate()
    }
}

/// What one index server accepts: every table a stranger can make grow is bounded, and
/// what is refused is counted in ``IndexStatistics``.
public struct IndexLimits: Equatable, Sendable {
    /// Registrations (peers) held in all; a full index server refuses new peers until
    /// registrations expire (held ones are kept: slots cannot be captured by churn).
    public var maximumRegistrations: Int
    /// Peers registered from one source host (IP address). Peer IDs cost nothing to
    /// make, so this is what stops a flood of free IDs from one machine; raise it for
    /// swarms of many peers on one host (the default admits a 1,000-peer loopback swarm).
    public var maximumRegistrationsPerHost: Int
    /// Providers held per service (namespace); beyond it new providers of that service
    /// are refused until entries expire.
    public var maximumProvidersPerService: Int
    /// Registrations accepted per second from one source host (each costs a signature
    /// check); more are refused unread.
    public var registrationsPerSecondPerHost: Double
    /// Registrations one quiet host may send at once.
    public var registrationBurstPerHost: Int
    /// Registrations accepted per second from all hosts together.
    public var registrationsPerSecond: Double

    /// Creates limits.
    public init(
        maximumRegistrations: Int = 100_000, maximumRegistrationsPerHost: Int = 2_048,
        maximumProvidersPerService: Int = 10_000, registrationsPerSecondPerHost: Double = 500,
        registrationBurstPerHost: Int = 4_096, registrationsPerSecond: Double = 20_000
    ) {
        self.maximumRegistrations = maximumRegistrations
        self.maximumRegistrationsPerHost = maximumRegistrationsPerHost
        self.maximumProvidersPerService = maximumProvidersPerService
        self.registrationsPerSecondPerHost = registrationsPerSecondPerHost
        self.registrationBurstPerHost = registrationBurstPerHost
        self.registrationsPerSecond = registrationsPerSecond
    }

    /// Checks every field.
    /// - Throws: ``HybridConfigurationError/limit(_:_:)`` naming the first bad one.
    public func validate() throws(HybridConfigurationError) {
        for (name, value) in [
            ("maximumRegistrations", maximumRegistrations),
            ("maximumRegistrationsPerHost", maximumRegistrationsPerHost),
            ("maximumProvidersPerService", maximumProvidersPerService),
            ("registrationBurstPerHost", registrationBurstPerHost),
        ] where !(1...10_000_000).contains(value) {
            throw .limit(name, Double(value))
        }
        for (name, rate) in [
            ("registrationsPerSecondPerHost", registrationsPerSecondPerHost),
            ("registrationsPerSecond", registrationsPerSecond),
        ] where !(rate.isFinite && rate >= 0.001 && rate <= 1e9) {
            throw .limit(name, rate)
        }
    }
}

/// A problem with a ``HybridConfiguration``.
public enum HybridConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A client was given no index server to start from.
    case noIndexes
    /// More index addresses than ``HybridConstants/maximumIndexes``.
    case tooManyIndexes(Int)
    /// The replication factor is outside 1...``HybridConstants/maximumReplication``.
    case replication(Int)
    /// The registration lifetime is outside 3 s...1 day.
    case registrationLifetime(Duration)
    /// The request timeouts are not 1 ms ≤ minimum ≤ maximum ≤ 60 s.
    case requestTimeout(Duration, Duration)
    /// The index list interval is under 1 s.
    case indexListInterval(Duration)
    /// The fellow probe interval is outside 50 ms...60 s.
    case fellowProbeInterval(Duration)
    /// A limit (named) is out of range.
    case limit(String, Double)

    public var description: String {
        switch self {
        case .noIndexes: "a hybrid client needs the address of at least one index server"
        case .tooManyIndexes(let count):
            "at most \(HybridConstants.maximumIndexes) index addresses may be given, not \(count)"
        case .replication(let factor):
            "the replication factor must be in 1...\(HybridConstants.maximumReplication), not \(factor)"
        case .registrationLifetime(let lifetime): "the registration lifetime must be 3 s to 1 day, not \(lifetime)"
        case .requestTimeout(let minimum, let maximum):
            "request timeouts must satisfy 1 ms ≤ minimum ≤ maximum ≤ 60 s, not \(minimum) and \(maximum)"
        case .indexListInterval(let interval): "the index list interval must be at least 1 s, not \(interval)"
        case .fellowProbeInterval(let interval): "the fellow probe interval must be 50 ms to 60 s, not \(interval)"
        case .limit(let name, let value): "index limit \(name) is out of range: \(value)"
        }
    }
}
