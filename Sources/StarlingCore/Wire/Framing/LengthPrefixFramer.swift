/// Cuts a byte stream into frames that each follow a big-endian length prefix.
///
/// ```
/// +--------------+----------------+--------------+-----
/// | length (u16  | body           | length       | ...
/// | or u32, BE)  | (length bytes) |              |
/// +--------------+----------------+--------------+-----
/// ```
///
/// The prefix counts the body only, not itself; the decoded frame is the body. A prefix
/// above ``maximum`` throws as soon as it is read, before any of the body arrives. See
/// ``FrameDecoder`` for how to drive the decoder and for its failed state.
public struct LengthPrefixFramer: FrameDecoder, Sendable {
    /// The width of the length prefix.
    public enum Width: Equatable, Sendable, CaseIterable {
        /// A two-byte prefix: bodies of up to 65,535 bytes.
        case u16
        /// A four-byte prefix: bodies of up to 4,294,967,295 bytes.
        case u32

        /// The number of bytes the prefix takes on the wire.
        public var byteCount: Int {
            switch self {
            case .u16: 2
            case .u32: 4
            }
        }

        /// The longest body the prefix can describe (clamped to `Int.max` on 32-bit platforms).
        public var maximumLength: Int {
            switch self {
            case .u16: Int(UInt16.max)
            case .u32: Int(clamping: UInt32.max)
            }
        }
    }

    /// The width of the length prefix.
    public let width: Width
    /// The longest body accepted or produced, in bytes.
    public let maximum: Int

    /// The buffered stream.
    private(set) var buffer = FrameBuffer()

    /// Creates a length-prefix framer.
    /// - Parameters:
    ///   - width: the width of the prefix.
    ///   - maximum: the longest body accepted, from 0 to `width.maximumLength`. Each
    ///     decoder may buffer this much (plus one chunk) per stream, so keep it near the
    ///     largest real message.
    /// - Throws: ``FramingError/invalidConfiguration(_:)`` when `maximum` is negative or
    ///   more than the prefix can carry.
    public init(width: Width, maximum: Int) throws(FramingError) {
        guard maximum >= 0, maximum <= width.maximumLength else {
            throw .invalidConfiguration(
                "maximum \(maximum) is outside 0...\(width.maximumLength) for a \(width) length prefix"
            )
        }
        self.width = width
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

    /// Returns the next body, or ``DecodeResult/needMoreData``.
    /// - Throws: ``FramingError/frameTooLarge(length:maximum:)`` as soon as a prefix above
    ///   ``maximum`` is buffered, or the error this decoder threw before.
    public mutating func next() throws(FramingError) -> DecodeResult {
        try buffer.checkHealthy()
        let prefixSize = width.byteCount
        guard buffer.count >= prefixSize else { return .needMoreData }
        var declared: UInt64 = 0
        for offset in 0..<prefixSize {
            declared = declared << 8 | UInt64(buffer[offset])
        }
        let length = Int(clamping: declared)
        guard length <= maximum else { throw buffer.fail(.frameTooLarge(length: length, maximum: maximum)) }
        guard buffer.count - prefixSize >= length else { return .needMoreData }
        buffer.skip(prefixSize)
        return .frame(buffer.read(length))
    }

    /// Reports the end of the stream.
    /// - Returns: a whole frame still buffered, or `nil` when nothing is left.
    /// - Throws: ``FramingError/truncated(remaining:)`` when a partial prefix or body is
    ///   left, ``FramingError/frameTooLarge(length:maximum:)``, or the error this decoder
    ///   threw before.
    public mutating func finish() throws(FramingError) -> [UInt8]? {
        if case .frame(let frame) = try next() { return frame }
        guard buffer.count == 0 else { throw buffer.fail(.truncated(remaining: buffer.count)) }
        return nil
    }

    /// Appends a big-endian length prefix and then `payload` to `output`.
    /// - Parameters:
    ///   - payload: the body; at most ``maximum`` bytes.
    ///   - output: the stream bytes to append to; unchanged on error.
    /// - Throws: ``FramingError/frameTooLarge(length:maximum:)`` when `payload` is longer
    ///   than ``maximum``.
    public func encode(_ payload: some Collection<UInt8>, into output: inout [UInt8]) throws(FramingError) {
        let length = payload.count
        guard length <= maximum else { throw .frameTooLarge(length: length, maximum: maximum) }
        var shift = (width.byteCount - 1) * 8
        while shift >= 0 {
            output.append(UInt8(truncatingIfNeeded: length >> shift))
            shift -= 8
        }
        output.append(contentsOf: payload)
    }
}
