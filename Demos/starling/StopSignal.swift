import Dispatch
import Glibc

/// Ends a long-running command (`peer`, `index`): fired by SIGINT, SIGTERM or the
/// command itself (`--once`, a failed connect).
final class StopSignal: Sendable {
    private let stream: AsyncStream<Never>
    private let continuation: AsyncStream<Never>.Continuation
    /// Kept so that the handlers stay installed; set once in `init`, never changed.
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]

    init() {
        (stream, continuation) = AsyncStream.makeStream()
        sources = [SIGINT, SIGTERM].map { [continuation] number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.finish() }
            source.resume()
            return source
        }
    }

    func fire() { continuation.finish() }

    func wait() async {
        for await _ in stream {}
    }
}
