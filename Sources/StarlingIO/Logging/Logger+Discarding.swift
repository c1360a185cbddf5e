package import Logging

extension Logger {
    /// A logger that discards every message: the default wherever the application gives
    /// none, so that a library peer logs nothing unless asked to.
    package static let discarding = Logger(label: "starling", factory: { _ in SwiftLogNoOpLogHandler() })
}
