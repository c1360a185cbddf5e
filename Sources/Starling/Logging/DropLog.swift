import Logging

/// Explains in a log, at `debug`, how a core's drop counters grew since the last look:
/// one line per reason that grew, with the count.
///
/// Cores count drops in plain integers; whoever drives one calls ``update(_:)`` now and
/// then (once a second, and at the end) on the core's event loop, and may count the
/// growth it returns elsewhere too (``DropReport`` adds it to metrics).
struct DropLog<Reason: Hashable> {
    /// The message of each line, such as "LAN discovery datagrams dropped".
    let message: Logger.Message
    let logger: Logger
    /// The metadata naming a reason in a line.
    let describe: (Reason) -> Logger.Metadata
    private var reported: [Reason: Int] = [:]

    init(
        _ message: Logger.Message, logger: Logger,
        describe: @escaping (Reason) -> Logger.Metadata = { ["reason": "\($0)"] }
    ) {
        self.message = message
        self.logger = logger
        self.describe = describe
    }

    /// Logs what grew in `drops` since the last update.
    /// - Returns: each reason that grew, with how much.
    @discardableResult
    mutating func update(_ drops: [Reason: Int]) -> [(reason: Reason, count: Int)] {
        var grown: [(reason: Reason, count: Int)] = []
        for (reason, total) in drops where total > reported[reason, default: 0] {
            let count = total - reported[reason, default: 0]
            grown.append((reason, count))
            logger.debug(message, metadata: describe(reason).merging(["count": "\(count)"]) { $1 })
        }
        reported = drops
        return grown
    }
}
