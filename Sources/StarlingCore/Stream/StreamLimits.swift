/// What remote peers can make one peer's streams hold, and what happens at each limit.
///
/// | limit | default | when reached |
/// | --- | --- | --- |
/// | ``maximumOpenStreams`` | 1,024 | a new stream is refused (closed), counted in ``StreamCalls/refusedStreams`` |
/// | ``maximumStreamsPerPeer`` | 4 | a new stream from that peer is refused, counted in ``StreamCalls/refusedStreamsPerPeer`` |
/// | ``idleTimeout`` | 120 s | a stream with no message either way, no request waiting and nothing unsent is closed, counted in ``StreamCalls/idleClosedStreams`` |
/// | ``maximumUnsentBytesPerStream`` | 32 MiB | the next request or message on the stream closes it (the peer does not read what it asked for), counted in ``StreamCalls/overloadedStreams`` |
/// | ``maximumUnsentBytes`` | 256 MiB | the same, for the stream whose message arrives while all streams' unsent bytes are over it |
///
/// Unsent bytes are those the core queued on a stream (requests and responses) that
/// the driver has not yet reported written (``StreamCalls/streamWritten(_:count:)``).
/// With the receive side's reservations growing with received data
/// (``StreamSession``), what a peer makes this side hold is bounded by what it sends:
/// at most ``maximumStreamsPerPeer`` streams, each reassembling one message and
/// queueing a few whole ones for the application, and at most
/// ``maximumUnsentBytesPerStream`` of answers it does not read.
public struct StreamLimits: Sendable, Equatable {
    /// The most streams open at once.
    public var maximumOpenStreams: Int
    /// The most streams open at once with one peer.
    public var maximumStreamsPerPeer: Int
    /// How long a stream may sit unused before it is closed.
    public var idleTimeout: Duration
    /// The most bytes queued on one stream and not yet written.
    public var maximumUnsentBytesPerStream: Int
    /// The most bytes queued on all streams and not yet written.
    public var maximumUnsentBytes: Int

    /// Limits with the defaults of the table above.
    public init(
        maximumOpenStreams: Int = StreamConstants.maximumOpenStreams,
        maximumStreamsPerPeer: Int = StreamConstants.maximumStreamsPerPeer,
        idleTimeout: Duration = StreamConstants.idleTimeout,
        maximumUnsentBytesPerStream: Int = 2 * StreamConstants.defaultMaximumMessageSize,
        maximumUnsentBytes: Int = 16 * StreamConstants.defaultMaximumMessageSize
    ) {
        self.maximumOpenStreams = max(1, maximumOpenStreams)
        self.maximumStreamsPerPeer = max(1, maximumStreamsPerPeer)
        self.idleTimeout = max(.milliseconds(1), idleTimeout)
        self.maximumUnsentBytesPerStream = max(1, maximumUnsentBytesPerStream)
        self.maximumUnsentBytes = max(1, maximumUnsentBytes)
    }
}
