/// Cuts a byte stream into frames that each end with a delimiter, such as `"\r\n"`.
///
/// ```
/// +----------------------+-----------+----------------------+-----
/// | frame (no delimiter) | delimiter | frame (no delimiter) | ...
/// +----------------------+-----------+----------------------+-----
/// ```
///
/// The decoded frame excludes its delimiter; a frame may be empty. The delimiter may be
/// several bytes long and may arrive split across chunks. Each search resumes where the
/// last one stopped, and never looks further than ``maximum`` plus the delimiter into the
/// buffer, so a stream costs time linear in its length. See ``FrameDecoder`` for how to
/// drive the decoder and for its failed state.
public struct DelimiterFramer: FrameDecoder, Sendable {
    /// The bytes that end every frame.
    public let delimiter: [UInt8]
    /// The longest frame accepted or produced, in bytes, not counting the delimiter.
    public let maximum: Int

    /// The buffered stream.
    private(set) var buffer = FrameBuffer()
    /// The first offset in ``buffer`` at which the delimiter could still start.
    private(set) var scanStart = 0

    /// Creates a delimiter framer.
    /// - Parameters:
    ///   - delimiter: the bytes that end every frame; at least one byte.
    ///   - maximum: the longest frame accepted, not counting the delimiter; at least 0.
    ///     Each decoder may buffer this much (plus one chunk) per stream.
    /// - Throws: ``FramingError/invalidConfiguration(_:)`` for an empty delimiter or a
    ///   negative maximum.
    public init(delimiter: some Collection<UInt8>, maximum: Int) throws(FramingError) {
        guard !delimiter.isEmpty else { throw .invalidConfiguration("the delimiter is empty") }
        guard maximum >= 0 else { throw .invalidConfiguration("maximum \(maximum) is negative") }
        self.delimiter = Array(delimiter)
        self.maximum = maximum
    }

    /// Buffers bytes received from the stream; a failed decoder discards them.
    /// - Parameter bytes: the next bytes of the stream, in order; may be empty.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        buffer.append(bytes)
    }

    /// Buffers borrowed bytes received from the stream; a failed decoder discards them.
    /// - Parameter bytes: the next bytes of the stream, in order; only read during the call.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(bytes)
    }

    /// Returns the next frame without its delimiter, or ``DecodeResult/needMoreData``.
    /// - Throws: ``FramingError/frameTooLarge(length:maximum:)`` with `length` equal to
    ///   `maximum + 1` as soon as ``maximum`` bytes plus the delimiter's length are buffered
    ///   with no delimiter among them, or the error this decoder threw before.
    public mutating func next() throws(FramingError) -> DecodeResult {
        try buffer.checkHealthy()
        // A delimiter that starts after `maximum` would end a frame that is too long, so
        // there is no need to look beyond `maximum + delimiter.count`.
        let searchEnd = maximum < buffer.count - delimiter.count ? maximum + delimiter.count : buffer.count
        if let end = buffer.firstOffset(of: delimiter, from: scanStart, to: searchEnd) {
            let frame = buffer.read(end)
            buffer.skip(delimiter.count)
            scanStart = 0
            return .frame(frame)
        }
        // The last `delimiter.count - 1` bytes searched may begin a delimiter; look again there.
        scanStart = max(scanStart, searchEnd - delimiter.count + 1)
        if scanStart > maximum {
            throw buffer.fail(.frameTooLarge(length: maximum + 1, maximum: maximum))
        }
        return .needMoreData
    }

    /// Reports the end of the stream.
    /// - Returns: a whole frame still buffered, or `nil` when nothing is left.
    /// - Throws: ``FramingError/truncated(remaining:)`` when bytes are left with no
    ///   delimiter after them, ``FramingError/frameTooLarge(length:maximum:)``, or the error
    ///   this decoder threw before.
    public mutating func finish() throws(FramingError) -> [UInt8]? {
        if case .frame(let frame) = try next() { return frame }
        guard buffer.count == 0 else { throw buffer.fail(.truncated(remaining: buffer.count)) }
        return nil
    }

    /// Appends `payload` and then the delimiter to `output`.
    /// - Parameters:
    ///   - payload: the frame; at most ``maximum`` bytes, and such that the first
    ///     delimiter in `payload` + ``delimiter`` is the appended one.
    ///   - output: the stream bytes to append to; unchanged on error.
    /// - Throws: ``FramingError/frameTooLarge(length:maximum:)`` when `payload` is longer
    ///   than ``maximum``; ``FramingError/delimiterInPayload(offset:)`` when the delimiter
    ///   occurs inside `payload` or starts in its last bytes (as `"a"` before `"aa"`), so
    ///   the decoder would end the frame early.
    public func encode(_ payload: some Collection<UInt8>, into output: inout [UInt8]) throws(FramingError) {
        var framed = Array(payload)
        let length = framed.count
        guard length <= maximum else { throw .frameTooLarge(length: length, maximum: maximum) }
        framed.append(contentsOf: delimiter)
        let first = FrameBuffer.firstIndex(of: delimiter, in: framed, from: 0, to: framed.count) ?? length
        guard first == length else { throw .delimiterInPayload(offset: first) }
        output.append(contentsOf: framed)
    }
}
