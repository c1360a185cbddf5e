/// Names one ``OverlayCore/resolveName(_:goal:now:)`` or
/// ``OverlayCore/publishName(_:content:ttl:now:)`` request.
public struct NameRequestID: Hashable, Sendable, CustomStringConvertible {
    /// The number, counting from 1 per core.
    public let rawValue: UInt64

    /// Wraps a number.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// `name#N`.
    public var description: String { "name#\(rawValue)" }
}

/// What became of a publication.
public struct NamePublication: Hashable, Sendable {
    /// The name published.
    public var name: OverlayName
    /// The new record's sequence number.
    public var sequence: UInt64
    /// How many chains were stored: the record alone, and with each run of the
    /// delegations above it that fits (``NameChain``).
    public var chains: Int
    /// How many stores were sent, over all chains.
    public var storedAt: Int
}

/// What an overlay's name service reports.
public enum NameEvent: Hashable, Sendable {
    /// A resolution ended.
    case resolved(NameRequestID, Result<ResolvedName, NameError>)
    /// A publication was stored (or failed).
    case published(NameRequestID, Result<NamePublication, NameError>)
}

/// The state of one overlay's names: the resolver cache, resolutions and publications in
/// progress, and the names this peer publishes and republishes (``OverlayCore+Names``).
struct NameService: Sendable {
    /// Who waits for a resolution.
    enum Purpose: Sendable {
        /// The user, through an event.
        case user
        /// A publication, for the delegations above its name.
        case publication(NameRequestID)
    }

    /// A publication in progress.
    struct Publishing: Sendable {
        var name: OverlayName
        var content: NameRecord.Content
        var ttl: UInt32
        /// Whether the user waits for its event (a republish does not).
        var reports: Bool
        var sequence: UInt64 = 0
        var chains = 0
        var pendingStores = 0
        var storedAt = 0
    }

    /// A routing lookup the name service started.
    struct Lookup: Sendable {
        /// What the Kademlia overlay does when the topology's authorities asked did not
        /// answer at all.
        enum Fallback: Sendable {
            case find(RoutingKey)
            case store(NameChain)
        }

        /// The request it serves.
        var request: NameRequestID
        /// Set for a lookup at the authorities.
        var fallback: Fallback?
    }

    /// A name this peer keeps published.
    struct Published: Sendable {
        var content: NameRecord.Content
        var ttl: UInt32
        var republishAt: Instant
    }

    var cache = NameCache(capacity: NameConstants.cacheCapacity)
    var resolutions: [NameRequestID: (resolution: NameResolution, purpose: Purpose)] = [:]
    var publications: [NameRequestID: Publishing] = [:]
    /// Routing lookups in flight.
    var lookups: [LookupID: Lookup] = [:]
    var published: [OverlayName: Published] = [:]
    /// The last sequence number issued per label of the local zone.
    var issued: [String: UInt64] = [:]
    private var nextID: UInt64 = 1

    mutating func makeID() -> NameRequestID {
        defer { nextID += 1 }
        return NameRequestID(rawValue: nextID)
    }

    /// Whether another resolution or publication may start.
    var hasRoom: Bool { resolutions.count + publications.count < NameConstants.maximumRequests }

    /// The earliest republish. Read after every input: compared in place, nothing allocated.
    var nextRepublish: Instant? { published.values.lazy.map(\.republishAt).min() }

    /// The next sequence number for `label` of the local zone: one more than the last
    /// issued, and at least the wall clock in milliseconds, so that a restarted peer
    /// never issues a number it issued before.
    mutating func nextSequence(for label: String, wallClock: UnixTime) -> UInt64 {
        let next = max((issued[label] ?? 0) &+ 1, wallClock.seconds &* 1_000)
        issued[label] = next
        return next
    }
}
