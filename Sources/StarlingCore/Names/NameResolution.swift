/// A resolved name: its verified record and the chain of delegations that led to it.
public struct ResolvedName: Hashable, Sendable {
    /// The name asked for.
    public var name: OverlayName
    /// The name's own record (data, or the delegation when
    /// ``NameResolution/Goal/delegation`` was asked for).
    public var record: SignedNameRecord
    /// Every record from the root zone down, the last being ``record``.
    public var chain: [SignedNameRecord]
    /// Overlay round trips spent: the request rounds of the lookups it took, in sequence.
    public var roundTrips: Int
    /// Overlay lookups it took; 0 when the cache answered.
    public var lookups: Int

    /// The name's data, when its record is data.
    public var data: NameData? {
        if case .data(let data) = record.record.content { return data }
        return nil
    }
}

/// One resolution in progress: walks a name's delegations from its root zone, asking the
/// cache first and the overlay for what the cache lacks.
///
/// ### Purpose
/// The walk goes right to left, one label per zone. The first time it has to ask the
/// overlay it asks for the stapled chain of every label left (``NameChain``), which a
/// publisher stores with its record, so that a name of any depth usually costs one
/// lookup; when nobody holds that chain it asks for each label's record in turn. Every
/// record is verified (``NameChain/verify(now:)``) and checked against the highest
/// sequence number the cache has seen before it is used or cached. A name whose record
/// is data has no names below it. Depth and loops are bounded by
/// ``NameConstants/maximumDepth``.
///
/// The type is pure: ``start(cache:now:wallClock:)`` and
/// ``received(_:cache:now:wallClock:)`` return what to do next.
public struct NameResolution: Sendable {
    /// What the resolution ends on.
    public enum Goal: Hashable, Sendable {
        /// The name's data: a delegated name's data is its child zone's apex record.
        case data
        /// The delegation of the name to a zone (used to publish under it).
        case delegation
    }

    /// What to do next.
    public enum Step: Hashable, Sendable {
        /// Look up the chain stored at `key`.
        case fetch(RoutingKey)
        /// The resolution is over.
        case done(Result<ResolvedName, NameError>)
    }

    /// The name.
    public let name: OverlayName
    /// What the resolution ends on.
    public let goal: Goal
    private var zone: PeerID
    /// Labels still to walk, leftmost first (the next one is the last).
    private var remaining: [String]
    private var chain: [SignedNameRecord] = []
    private var zones: Set<PeerID>
    private var stapledTried = false
    /// The path below ``zone`` asked for by the lookup in flight.
    private var asked: String?
    private var roundTrips = 0
    private var lookups = 0

    /// Prepares the resolution of `name`.
    /// - Throws: ``NameError/unpinnedTopLevel(_:)``.
    public init(name: OverlayName, goal: Goal = .data, pins: [String: PeerID]) throws(NameError) {
        self.name = name
        self.goal = goal
        self.zone = try name.rootZone(pins: pins)
        self.zones = [zone]
        self.remaining = name.labels
    }

    /// Takes the first step.
    public mutating func start(cache: inout NameCache, now: Instant, wallClock: UnixTime) -> Step {
        advance(cache: &cache, now: now)
    }

    /// Takes a finished lookup's answer: the chain found at the key asked for (already
    /// checked by the storer, and by the lookup to be stored at that key), or `nil`
    /// with the reason any chains found were refused.
    public mutating func received(
        _ found: NameChain?, refused: NameError?, hops: Int, cache: inout NameCache, now: Instant,
        wallClock: UnixTime
    ) -> Step {
        roundTrips += hops
        lookups += 1
        guard let path = asked else { return .done(.failure(.forged("an answer nobody asked for"))) }
        asked = nil
        guard let found else {
            if let refused { return .done(.failure(refused)) }
            if path.contains(".") { return advance(cache: &cache, now: now) }  // not stapled: walk
            cache.insertMissing(NameCache.Key(zone: zone, label: path), now: now)
            return .done(.failure(.noSuchName(name.description)))
        }
        do throws(NameError) {
            try found.verify(now: wallClock)
            guard found.rootZone == zone, found.path == path else {
                throw .forged("a chain for another name")
            }
            for signed in found.records {
                let record = signed.record
                let key = NameCache.Key(zone: record.zone, label: record.label)
                if let seen = cache.highestSequence(key), seen > record.sequence {
                    throw .rolledBack(name: name.description, seen: seen, got: record.sequence)
                }
            }
        } catch {
            return .done(.failure(error))
        }
        for signed in found.records {
            cache.insert(signed, now: now, wallClock: wallClock)
            if let outcome = take(signed) { return .done(outcome) }
        }
        return advance(cache: &cache, now: now)
    }

    /// Walks on through the cache; asks the overlay for the first thing it lacks.
    private mutating func advance(cache: inout NameCache, now: Instant) -> Step {
        while true {
            if remaining.isEmpty, goal == .delegation {
                guard let last = chain.last, case .delegation = last.record.content else {
                    return .done(.failure(.noSuchName(name.description)))
                }
                return .done(.success(resolved(last)))
            }
            let label = remaining.last ?? ""
            switch cache.lookup(NameCache.Key(zone: zone, label: label), now: now) {
            case .record(let signed)?:
                if let outcome = take(signed) { return .done(outcome) }
                continue
            case .missing?:
                return .done(.failure(.noSuchName(name.description)))
            case nil:
                if !stapledTried, remaining.count >= 2 {
                    stapledTried = true
                    asked = remaining.joined(separator: ".")
                } else {
                    asked = label
                }
                return .fetch(RoutingKey(nameZone: zone, path: asked ?? ""))
            }
        }
    }

    /// Follows one verified record for the next label (or the apex); returns the outcome
    /// when the walk ends on it.
    private mutating func take(_ signed: SignedNameRecord) -> Result<ResolvedName, NameError>? {
        chain.append(signed)
        guard chain.count <= NameConstants.maximumDepth + 1 else { return .failure(.tooDeep(name.description)) }
        let atApex = signed.record.label.isEmpty
        if !atApex { remaining.removeLast() }
        switch signed.record.content {
        case .delegation(let child):
            guard !atApex else { return .failure(.forged("an apex record delegates")) }
            guard zones.insert(child).inserted else { return .failure(.delegationLoop(name.description)) }
            zone = child
            return nil
        case .data:
            guard remaining.isEmpty else { return .failure(.noSuchName(name.description)) }
            return goal == .data ? .success(resolved(signed)) : .failure(.noSuchName(name.description))
        }
    }

    private func resolved(_ record: SignedNameRecord) -> ResolvedName {
        ResolvedName(name: name, record: record, chain: chain, roundTrips: roundTrips, lookups: lookups)
    }
}
