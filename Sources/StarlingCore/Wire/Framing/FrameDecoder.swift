/// What ``FrameDecoder/next()`` found in the buffered bytes.
public enum DecodeResult: Equatable, Sendable {
    /// One whole frame, without any framing bytes (prefix or delimiter).
    case frame([UInt8])
    /// No whole frame is buffered yet; append more bytes and call ``FrameDecoder/next()`` again.
    case needMoreData
}

/// An incremental decoder that cuts a byte stream into whole frames, paired with its encoder.
///
/// ### Purpose
/// A stream transport such as TCP delivers bytes in arbitrary chunks. A frame decoder
/// buffers them and hands back whole frames; the frames do not depend on the chunking, so
/// a stream fed in one piece, one byte at a time, or split anywhere else decodes the same.
/// Decoders do no I/O, read no clock and never trap: truncated, oversized and malformed
/// input gives a ``FramingError``. ``encode(_:into:)`` writes the framing that the decoder
/// reads back.
///
/// ### Usage
/// After each chunk read from the stream, `append(_:)` it, then call
/// ``next()`` until it returns ``DecodeResult/needMoreData``. When the stream closes,
/// call ``finish()`` until it returns `nil`.
///
/// ```swift
/// var decoder = try LengthPrefixFramer(width: .u32, maximum: 1 << 20)
/// decoder.append(chunk)
/// while case .frame(let frame) = try decoder.next() { handle(frame) }
/// // … at end of stream:
/// while let frame = try decoder.finish() { handle(frame) }
/// ```
///
/// ### Errors
/// A decoder enforces its maximum while buffering: it throws
/// ``FramingError/frameTooLarge(length:maximum:)`` as soon as the buffered bytes prove a
/// frame too long, without waiting for the rest of it. Frames before the bad one are
/// returned first. After a decoder has thrown, it is failed for good: it discards appended
/// bytes, and ``next()`` and ``finish()`` throw the same error again. Use a new decoder
/// for a new stream.
///
/// - Warning: The maximum is checked in ``next()``, not in `append(_:)`,
///   which cannot throw. Drain ``next()`` after every append so that the buffer never holds
///   much more than one maximum-sized frame plus one chunk. Decoders are value types; use
///   each from one task at a time.
public protocol FrameDecoder {
    /// Buffers bytes received from the stream.
    /// - Parameter bytes: the next bytes of the stream, in order; may be empty.
    mutating func append(_ bytes: some Collection<UInt8>)

    /// Buffers bytes received from the stream, copying them out of borrowed memory.
    /// - Parameter bytes: the next bytes of the stream, in order; only read during the call.
    mutating func append(_ bytes: UnsafeRawBufferPointer)

    /// Returns the next whole frame, or ``DecodeResult/needMoreData``.
    ///
    /// Call repeatedly after each append until it returns ``DecodeResult/needMoreData``.
    /// - Returns: one frame, without its framing bytes, or ``DecodeResult/needMoreData``.
    /// - Throws: ``FramingError/frameTooLarge(length:maximum:)`` when the buffered bytes
    ///   prove the next frame too long, or the error this decoder threw before.
    mutating func next() throws(FramingError) -> DecodeResult

    /// Reports the end of the stream and returns what the framing makes of the rest.
    ///
    /// A read-until-close decoder returns its whole body, then `nil`. The other decoders
    /// return any whole frame still buffered (one per call), then `nil`.
    /// - Returns: a final frame, or `nil` when nothing is left.
    /// - Throws: ``FramingError/truncated(remaining:)`` when the stream stopped inside a
    ///   frame, ``FramingError/frameTooLarge(length:maximum:)``, or the error this decoder
    ///   threw before.
    mutating func finish() throws(FramingError) -> [UInt8]?

    /// Appends `payload` to `output`, framed so that this decoder reads it back as one frame.
    ///
    /// On error `output` is left as it was.
    /// - Parameters:
    ///   - payload: the frame's content.
    ///   - output: the stream bytes to append to.
    /// - Throws: a ``FramingError`` when this framing cannot carry `payload`.
    func encode(_ payload: some Collection<UInt8>, into output: inout [UInt8]) throws(FramingError)
}
