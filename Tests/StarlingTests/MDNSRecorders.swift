import Starling
import StarlingCore
import Synchronization

/// Collects a browse stream, for polling with a deadline.
final class BrowseRecorder: Sendable {
    private let reader: Task<Void, Never>

    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    init(_ stream: AsyncStream<MDNSDiscovery.BrowseEvent>) {
        let box = EventBox()
        reader = Task {
            for await event in stream { box.append(event) }
        }
        self.box = box
    }

    private let box: EventBox

    var all: [MDNSDiscovery.BrowseEvent] { box.all }

    /// The newest resolved (added or updated, not removed since) services.
    var current: [MDNSResolvedService] {
        var services: [DNSName: MDNSResolvedService] = [:]
        for event in all {
            switch event {
            case .added(let service, _), .updated(let service, _): services[service.name] = service
            case .removed(let name, _): services[name] = nil
            case .serviceTypeAdded, .serviceTypeRemoved: break
            }
        }
        return Array(services.values)
    }

    /// The first current service satisfying `predicate`, polled every 20 ms until `limit`
    /// (see ``Polling``).
    func waitForService(
        within limit: Duration, where predicate: (MDNSResolvedService) -> Bool
    ) async throws -> MDNSResolvedService {
        var polling = Polling(limit: limit)
        while true {
            if let found = current.first(where: predicate) { return found }
            guard try await polling.next() else {
                throw Timeout(description: "no matching service within \(limit); events: \(all)")
            }
        }
    }

    /// Waits until some event satisfies `predicate`, polled every 20 ms until `limit`
    /// (see ``Polling``).
    func waitForEvent(
        within limit: Duration, where predicate: (MDNSDiscovery.BrowseEvent) -> Bool
    ) async throws {
        var polling = Polling(limit: limit)
        while !all.contains(where: predicate) {
            guard try await polling.next() else {
                throw Timeout(description: "no matching event within \(limit); events: \(all)")
            }
        }
    }

    deinit {
        reader.cancel()
    }
}

/// Collects a discovery's advertisement events.
final class EventRecorderMDNS: Sendable {
    private let reader: Task<Void, Never>

    init(_ stream: AsyncStream<MDNSDiscovery.Event>) {
        let box = AdvertisementBox()
        reader = Task {
            for await event in stream { box.append(event) }
        }
        self.box = box
    }

    private let box: AdvertisementBox

    var all: [MDNSDiscovery.Event] { box.all }

    /// Waits until some event satisfies `predicate`, polled every 20 ms until `limit`
    /// (see ``Polling``).
    func waitFor(within limit: Duration, where predicate: (MDNSDiscovery.Event) -> Bool) async throws {
        var polling = Polling(limit: limit)
        while !all.contains(where: predicate) {
            guard try await polling.next() else {
                throw BrowseRecorder.Timeout(description: "no matching event within \(limit); events: \(all)")
            }
        }
    }

    deinit {
        reader.cancel()
    }
}

private final class EventBox: Sendable {
    private let events = Mutex<[MDNSDiscovery.BrowseEvent]>([])
    func append(_ event: MDNSDiscovery.BrowseEvent) { events.withLock { $0.append(event) } }
    var all: [MDNSDiscovery.BrowseEvent] { events.withLock { $0 } }
}

private final class AdvertisementBox: Sendable {
    private let events = Mutex<[MDNSDiscovery.Event]>([])
    func append(_ event: MDNSDiscovery.Event) { events.withLock { $0.append(event) } }
    var all: [MDNSDiscovery.Event] { events.withLock { $0 } }
}

/// The pace of a recorder's wait: every 20 ms until the limit, then 50 polls more.
///
/// The recorders collect events in a task of their own, and the waiter runs in another;
/// both share Swift's cooperative pool (two threads here) with every other test of the
/// process. When blocking work elsewhere holds the pool past the limit, the waiter could
/// otherwise wake first and give up before the collector has run at all, with the events
/// waiting unread. The polls after the limit give the collector its turns: the limit is a
/// bound against hangs, not a timing check.
struct Polling {
    private let deadline: ContinuousClock.Instant
    private var pollsAfterDeadline = 0

    init(limit: Duration) {
        deadline = ContinuousClock.now + limit
    }

    /// Sleeps 20 ms; `false` once the limit and 50 further polls have passed.
    mutating func next() async throws -> Bool {
        if ContinuousClock.now >= deadline {
            pollsAfterDeadline += 1
            if pollsAfterDeadline > 50 { return false }
        }
        try await Task.sleep(for: .milliseconds(20))
        return true
    }
}
