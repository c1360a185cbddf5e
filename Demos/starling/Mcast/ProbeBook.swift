import StarlingCore
import Synchronization

/// A ``ProbeReceiver`` shared by the task that reads the socket and the one that prints
/// the live view once a second.
final class ProbeBook: Sendable {
    private let receiver = Mutex(ProbeReceiver())

    /// Files one lab datagram; see ``ProbeReceiver/receive(_:from:at:)``.
    func receive(_ payload: [UInt8], from source: String, at receivedAt: Int64) -> ProbeReceiver.Outcome {
        receiver.withLock { $0.receive(payload, from: source, at: receivedAt) }
    }

    /// Counts a datagram printed by `--raw`.
    func countRaw() {
        receiver.withLock { $0.countRaw() }
    }

    /// The live view's lines; see ``ProbeReceiver/liveLines(elapsed:)``.
    func liveLines(elapsed: Int) -> [String] {
        receiver.withLock { $0.liveLines(elapsed: elapsed) }
    }

    /// The statistics of one sender, if tracked.
    func statistics(of id: UInt64) -> ProbeStatistics? {
        receiver.withLock { $0.statistics(of: id) }
    }

    /// Datagrams that were not lab packets, so far.
    var foreignCount: Int { receiver.withLock { $0.foreign } }

    /// Probes ignored for too many senders, so far.
    var tooManySendersCount: Int { receiver.withLock { $0.tooManySenders } }

    /// A copy of everything filed so far.
    var snapshot: ProbeReceiver { receiver.withLock { $0 } }
}
