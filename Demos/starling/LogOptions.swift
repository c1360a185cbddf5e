import ArgumentParser
import Logging

/// `--log-level`, for the commands that run peers: the library's swift-log records go to
/// standard error at this level and above.
struct LogOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Log the library's records at this level and above to standard error: " + LogOptions.levels
                + " (default: notice).",
            valueName: "level"),
        transform: { text in
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw ValidationError("--log-level must be one of " + LogOptions.levels)
            }
            return level
        })
    var logLevel: Logger.Level = .notice

    /// The levels, as `--log-level` takes them.
    private static let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")

    /// swift-log's records go to standard error; set up once per process.
    private static let toStandardError: Void = LoggingSystem.bootstrap(StreamLogHandler.standardError)

    /// The logger for the peers, at ``logLevel``, writing to standard error.
    func makeLogger() -> Logger {
        Self.toStandardError
        var logger = Logger(label: "starling")
        logger.logLevel = logLevel
        return logger
    }
}
