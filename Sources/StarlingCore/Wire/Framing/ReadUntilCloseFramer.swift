/// Treats a whole stream, up to the moment it closes, as one frame.
///
/// ```
/// +------------------------------------+
/// | body (every byte until the close)  |
/// +------------------------------------+
/// ```
///
/// ``next()`` never yields a frame; ``finish()`` returns the body once the stream has
/// closed. The body may not exceed ``maximum``, which is checked on every ``next()`` while
/// the body is still arriving. See ``FrameDecoder`` for how to drive the decoder and for
/// its failed state.
public struct ReadUntilCloseFramer: FrameDecoder, Sendable {
    /// The longest body accepted or produced, in bytes.
    public let maximum: Int

    /// The buffered stream.
    private(set) var buffer = FrameBuffer()
    /// Whether ``finish()`` has returned the body and no byte has been appended since.
    private(set) var bodyReturned = false

    /// Creates a read-until-close framer.
    /// - Parameter maximum: the longest body accepted; at least 0. The decoder buffers up
    ///   to this much (plus one chunk).
    /// - Throws: ``FramingError/invalidConfiguration(_:)`` for a negative maximum.
    public init(maximum: Int) throws(FramingError) {
        guard maximum >= 0 else { throw .invalidConfiguration("maximum \(maximum) is negative") }
        self.maximum = maximum
    }

    /// Buffers bytes received from the stream; a failed decoder discards them.
    /// - Parameter bytes: the next bytes of the stream, in order; may be empty.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        guard !bytes.isEmpty else { return }
        bodyReturned = false
        buffer.append(bytes)
    }

    /// Buffers borrowed bytes received from the stream; a failed decoder discards them.
    /// - Parameter bytes: the next bytes of the stream, in order; only read during the call.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        bodyReturned = false
        buffer.append(bytes)
    }

    /// Checks the body so far against ``maximum``; the body itself only comes from ``finish()``.
    /// - Returns: always ``DecodeResult/needMoreData``.
    /// - Throws: ``FramingError/frameTooLarge(length:maximum:)`` with `length` equal to
    ///   `maximum + 1` once more than ``maximum`` bytes are buffered, or the error this
    ///   decoder threw before.
    public mutating func next() throws(FramingError) -> DecodeResult {
        try buffer.checkHealthy()
        guard buffer.count <= maximum else {
            throw buffer.fail(.frameTooLarge(length: maximum + 1, maximum: maximum))
        }
        return .needMoreData
    }

    /// Reports the end of the stream and returns the body.
    /// - Returns: the whole body (empty if the stream was), then `nil` on later calls until
    ///   more bytes are appended.
    /// - Throws: ``FramingError/frameTooLarge(length:maximum:)`` when the body exceeds
    ///   ``maximum``, or the error this decoder threw before.
    public mutating func finish() throws(FramingError) -> [UInt8]? {
        _ = try next()
        guard !bodyReturned else { return nil }
        bodyReturned = true
        return buffer.read(buffer.count)
    }

    /// Appends `payload` to `output` unchanged; the sender then closes the stream.
    /// - Parameters:
    ///   - payload: the body; at most ``maximum`` bytes.
    ///   - output: the stream bytes to append to; unchanged on error.
    /// - Throws: ``FramingError/frameTooLarge(length:maximum:)`` when `payload` is longer
    ///   than ``maximum``.
    public func encode(_ payload: some Collection<UInt8>, into output: inout [UInt8]) throws(FramingError) {
        let length = payload.count
        guard length <= maximum else { throw .frameTooLarge(length: length, maximum: maximum) }
        output.append(contentsOf: payload)
    }
}
