/// Cuts a byte stream into frames that all have one fixed length.
///
/// ```
/// +-------------+-------------+-----
/// | frameLength | frameLength | ...
/// +-------------+-------------+-----
/// ```
///
/// The framing adds no bytes: the length is agreed on out of band. See ``FrameDecoder`` for
/// how to drive the decoder and for its failed state.
public struct FixedLengthFramer: FrameDecoder, Sendable {
    /// The length of every frame, in bytes.
    public let frameLength: Int

    /// The buffered stream.
    private(set) var buffer = FrameBuffer()

    /// Creates a framer whose frames are all `frameLength` bytes long.
    /// - Parameter frameLength: the length of every frame; at least 1.
    /// - Throws: ``FramingError/invalidConfiguration(_:)`` when `frameLength` is below 1.
    public init(frameLength: Int) throws(FramingError) {
        guard frameLength >= 1 else {
            throw .invalidConfiguration("fixed frame length \(frameLength) is below 1")
        }
        self.frameLength = frameLength
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

    /// Returns the next ``frameLength`` bytes as a frame, or ``DecodeResult/needMoreData``.
    /// - Throws: only the error this decoder threw before (from ``finish()``).
    public mutating func next() throws(FramingError) -> DecodeResult {
        try buffer.checkHealthy()
        guard buffer.count >= frameLength else { return .needMoreData }
        return .frame(buffer.read(frameLength))
    }

    /// Reports the end of the stream.
    /// - Returns: a whole frame still buffered, or `nil` when nothing is left.
    /// - Throws: ``FramingError/truncated(remaining:)`` when fewer than ``frameLength``
    ///   bytes are left, or the error this decoder threw before.
    public mutating func finish() throws(FramingError) -> [UInt8]? {
        if case .frame(let frame) = try next() { return frame }
        guard buffer.count == 0 else { throw buffer.fail(.truncated(remaining: buffer.count)) }
        return nil
    }

    /// Appends `payload` to `output` unchanged, after checking its length.
    /// - Parameters:
    ///   - payload: exactly ``frameLength`` bytes.
    ///   - output: the stream bytes to append to; unchanged on error.
    /// - Throws: ``FramingError/lengthMismatch(length:expected:)`` for any other length.
    public func encode(_ payload: some Collection<UInt8>, into output: inout [UInt8]) throws(FramingError) {
        guard payload.count == frameLength else {
            throw .lengthMismatch(length: payload.count, expected: frameLength)
        }
        output.append(contentsOf: payload)
    }
}
