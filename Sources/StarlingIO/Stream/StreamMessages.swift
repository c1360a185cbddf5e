/// The messages a ``StreamConnection`` receives, in order.
///
/// The sequence finishes when the stream closes cleanly (either side's
/// ``StreamConnection/close()``, answered by the other) and throws a
/// ``StreamConnectionError`` when it fails: ``StreamConnectionError/stream(_:)`` for a
/// protocol failure such as ``StarlingCore/StreamError/truncated``, or
/// ``StreamConnectionError/connectionLost(reason:)``.
///
/// It is back-pressured: while ``StreamConfiguration/receiveQueueLength`` messages wait
/// here, the connection stops reading from its socket and TCP flow control slows the
/// sender.
///
/// - Warning: iterate it once, from one task. After an iteration ends early (a `break`,
///   or the task's cancellation), later messages are discarded.
public struct StreamMessages: AsyncSequence, Sendable {
    /// One whole application message.
    public typealias Element = [UInt8]
    /// The error that ends an iteration of a failed connection.
    public typealias Failure = StreamConnectionError

    let base: StreamSessionHandler.Producer

    /// Creates the one iterator this sequence supports.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator())
    }

    /// Iterates the messages; see ``StreamMessages``.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let base: StreamSessionHandler.Producer.AsyncIterator

        /// The next message, or nil once the stream has closed cleanly.
        /// - Throws: the ``StreamConnectionError`` the connection failed with.
        public mutating func next() async throws(StreamConnectionError) -> [UInt8]? {
            do {
                return try await base.next()
            } catch {
                throw StreamConnectionError(lost: error)
            }
        }
    }
}
