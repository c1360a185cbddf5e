import Foundation

/// The lines of standard input as an asynchronous sequence, read on a thread of their own
/// so that a slow or idle terminal never blocks a thread of Swift's cooperative pool.
enum StandardInputLines {
    /// Starts reading; the stream ends at end of input.
    ///
    /// Each element is one line without its newline (a final line without one counts too).
    static func stream() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1_024))
        let reader = Thread {
            while let line = readLine(strippingNewline: true) {
                continuation.yield(line)
            }
            continuation.finish()
        }
        reader.start()
        return stream
    }
}
