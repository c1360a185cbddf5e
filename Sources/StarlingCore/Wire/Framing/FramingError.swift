/// Why a stream framer could not cut a byte stream into frames, or could not frame a payload.
///
/// Every ``FrameDecoder`` reports bad input with one of these cases and never traps,
/// whatever the bytes and however they are chunked. A decoder that has thrown stays failed
/// and throws the same error again (see ``FrameDecoder``).
public enum FramingError: Error, Equatable, Sendable {
    /// A frame is longer than the framer's maximum.
    ///
    /// A length-prefix decoder reports the declared `length` as soon as it has read the
    /// prefix. Framers that learn a frame's length only at its end (delimiter,
    /// read-until-close) report `maximum + 1`: the frame is at least that long, and the
    /// value does not depend on how the stream was chunked. Encoders report the payload's
    /// length.
    case frameTooLarge(length: Int, maximum: Int)
    /// The stream ended inside a frame: `remaining` buffered bytes do not form a whole frame.
    case truncated(remaining: Int)
    /// A fixed-length encoder was given a payload of `length` bytes instead of `expected`.
    case lengthMismatch(length: Int, expected: Int)
    /// A delimiter encoder was given a payload whose frame would end early, because an
    /// occurrence of the delimiter starts at `offset` inside it (or straddles its end).
    case delimiterInPayload(offset: Int)
    /// A framer was created with settings it cannot honour; the text says which.
    case invalidConfiguration(String)
}
