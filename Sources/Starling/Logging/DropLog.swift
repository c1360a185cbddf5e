import Logging

/// Explains in a log, at `debug`, how a core's drop counters grew since the last look:
/// one line per reason that grew, with the count.
///
/// Cores count drops in plain integers; whoever drives one calls ``update(_:)`` now and
/// then (once a second, and at the end) on the core's event loop.
struct DropLog<Reason: Hashable> {
    /// The message of each line, such as "LAN discovery datagrams dropped".
    let message: Logger.Message
    let logger: Logger
    private var reported: [Reason: Int] = [:]

    init(_ message: Logger.Message, logger: Logger) {
        self.message = message
        self.logger = logger
    }

    /// Logs what grew in `drops` since the last update.
    mutating func update(_ drops: [Reason: Int]) {
        for (reason, total) in drops where total > reported[reason, default: 0] {
            logger.debug(
                message, metadata: ["reason": "\(reason)", "count": "\(total - reported[reason, default: 0])"])
        }
        reported = drops
    }
}
