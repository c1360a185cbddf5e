import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure to report to the user as one clear line on standard error, `Error: REASON`,
/// with a non-zero exit status.
///
/// Every error a command's `run()` throws ends as one: ``StarlingCommand/main()`` turns
/// the others (a library error, a socket error, a `ValidationError` found only at run
/// time) into one line, so no command prints an error dump or a usage text for a failure
/// that is not about its arguments.
struct CLIError: Error, CustomStringConvertible {
    /// The reason, on one line.
    let description: String
    /// The exit status: 1 unless the command documents another.
    let status: Int32

    init(_ message: String, status: Int32 = 1) {
        description = Self.oneLine(message)
        self.status = status
    }

    /// `error` as one line: its own message, a `ValidationError`'s message, a localized
    /// description where there is one, or else its description.
    init(describing error: any Error) {
        switch error {
        case let error as CLIError: self = error
        case let error as ValidationError: self.init(error.message)
        case let error as any LocalizedError where error.errorDescription != nil:
            self.init(error.errorDescription ?? "")
        default:
            if type(of: error) is NSError.Type {
                self.init(error.localizedDescription)
            } else {
                self.init(String(describing: error))
            }
        }
    }

    /// `text` on one line: its lines trimmed and joined with `; `.
    static func oneLine(_ text: String) -> String {
        let lines = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return lines.isEmpty ? "failed" : lines.joined(separator: "; ")
    }

    /// Prints `Error: REASON` on standard error and exits with the status.
    func exit() -> Never {
        printError("Error: \(description)")
        #if canImport(Glibc)
            Glibc.exit(status)
        #else
            Darwin.exit(status)
        #endif
    }
}

/// Writes buffered standard output now, so that line-by-line readers see each event.
func flushOutput() {
    fflush(nil)
}

/// Prints `text` on standard error.
func printError(_ text: String) {
    flushOutput()
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
