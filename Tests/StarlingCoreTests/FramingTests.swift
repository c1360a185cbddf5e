import StarlingTestSupport
import Testing

@testable import StarlingCore

@Suite struct FramingTests {
    // MARK: Fixed length

    private static let fixedStream = bytes("abcdefghi")
    private static let fixedFrames = Decoded(frames: [bytes("abc"), bytes("def"), bytes("ghi")])

    private static func fixedFramer() throws -> FixedLengthFramer { try FixedLengthFramer(frameLength: 3) }

    @Test func fixedLength_decode_oneChunk() throws {
        expectDecoding(try Self.fixedFramer(), Self.fixedStream, as: Self.fixedFrames, chunkings: Chunkings.oneChunk)
    }

    @Test func fixedLength_decode_oneByteAtATime() throws {
        expectDecoding(
            try Self.fixedFramer(), Self.fixedStream, as: Self.fixedFrames, chunkings: Chunkings.oneByteAtATime)
    }

    @Test func fixedLength_decode_everyTwoChunkSplit() throws {
        expectDecoding(
            try Self.fixedFramer(), Self.fixedStream, as: Self.fixedFrames, chunkings: Chunkings.everyTwoChunkSplit)
    }

    @Test func fixedLength_decode_randomChunkings() throws {
        expectDecoding(try Self.fixedFramer(), Self.fixedStream, as: Self.fixedFrames, chunkings: Chunkings.random)
    }

    @Test func fixedLength_finish_partialFrame_isTruncated() throws {
        let expected = Decoded(frames: [bytes("abc")], error: .truncated(remaining: 2))
        expectDecoding(try Self.fixedFramer(), bytes("abcde"), as: expected, chunkings: Chunkings.all)
        var decoder = try Self.fixedFramer()
        decoder.append(bytes("ab"))
        #expect(throws: FramingError.truncated(remaining: 2)) { try decoder.finish() }
        expectFailed(&decoder, with: .truncated(remaining: 2))
    }

    @Test func fixedLength_encode_wrongLength_throwsAndLeavesOutputAlone() throws {
        let framer = try Self.fixedFramer()
        var output: [UInt8] = [9]
        #expect(throws: FramingError.lengthMismatch(length: 2, expected: 3)) {
            try framer.encode([1, 2], into: &output)
        }
        #expect(throws: FramingError.lengthMismatch(length: 4, expected: 3)) {
            try framer.encode([1, 2, 3, 4], into: &output)
        }
        #expect(output == [9])
    }

    @Test func fixedLength_encode_roundTrip() throws {
        let framer = try Self.fixedFramer()
        let payloads = [bytes("one"), bytes("two"), [0, 0, 0], [255, 13, 10]]
        var stream: [UInt8] = []
        for payload in payloads { try framer.encode(payload, into: &stream) }
        expectDecoding(framer, stream, as: Decoded(frames: payloads), chunkings: Chunkings.all)
    }

    @Test func fixedLength_init_lengthBelowOne_isInvalidConfiguration() {
        for length in [0, -1, Int.min] {
            let error = #expect(throws: FramingError.self) { try FixedLengthFramer(frameLength: length) }
            #expect(isInvalidConfiguration(error))
        }
    }

    // MARK: Delimiter

    /// Four frames, one empty and one ending in half a delimiter.
    private static let lineStream = bytes("hello\r\n\r\nworld\r\nx\r\r\n")
    private static let lineFrames = Decoded(frames: [bytes("hello"), [], bytes("world"), bytes("x\r")])

    private static func lineFramer(maximum: Int = 16) throws -> DelimiterFramer {
        try DelimiterFramer(delimiter: bytes("\r\n"), maximum: maximum)
    }

    @Test func delimiter_decode_oneChunk() throws {
        expectDecoding(try Self.lineFramer(), Self.lineStream, as: Self.lineFrames, chunkings: Chunkings.oneChunk)
    }

    @Test func delimiter_decode_oneByteAtATime() throws {
        expectDecoding(
            try Self.lineFramer(), Self.lineStream, as: Self.lineFrames, chunkings: Chunkings.oneByteAtATime)
    }

    @Test func delimiter_decode_everyTwoChunkSplit() throws {
        expectDecoding(
            try Self.lineFramer(), Self.lineStream, as: Self.lineFrames, chunkings: Chunkings.everyTwoChunkSplit)
    }

    @Test func delimiter_decode_randomChunkings() throws {
        expectDecoding(try Self.lineFramer(), Self.lineStream, as: Self.lineFrames, chunkings: Chunkings.random)
    }

    @Test func delimiter_decode_partialDelimiterMatch_restartsInsideIt() throws {
        let framer = try DelimiterFramer(delimiter: bytes("\r\n\r\n"), maximum: 16)
        let expected = Decoded(frames: [bytes("a\r\n\r"), bytes("b")])
        expectDecoding(framer, bytes("a\r\n\r\r\n\r\nb\r\n\r\n"), as: expected, chunkings: Chunkings.all)
    }

    @Test func delimiter_decode_frameOfExactlyMaximum_isAccepted() throws {
        expectDecoding(
            try Self.lineFramer(maximum: 4), bytes("abcd\r\n"), as: Decoded(frames: [bytes("abcd")]),
            chunkings: Chunkings.all)
    }

    @Test func delimiter_decode_oversized_throwsBeforeDelimiterArrives() throws {
        var decoder = try Self.lineFramer(maximum: 4)
        for byte in bytes("abcde") {
            decoder.append([byte])
            #expect(try decoder.next() == .needMoreData)
        }
        // "abcde\r" can no longer end within 4 bytes, whatever follows.
        decoder.append(bytes("\r"))
        #expect(throws: FramingError.frameTooLarge(length: 5, maximum: 4)) { try decoder.next() }
        expectFailed(&decoder, with: .frameTooLarge(length: 5, maximum: 4))
        #expect(decoder.buffer.storage.isEmpty)  // dropped on failure; later bytes discarded
    }

    @Test func delimiter_decode_oversized_sameErrorUnderEveryChunking() throws {
        let expected = Decoded(frames: [bytes("ok")], error: .frameTooLarge(length: 5, maximum: 4))
        expectDecoding(
            try Self.lineFramer(maximum: 4), bytes("ok\r\nabcdefgh\r\nzz\r\n"), as: expected, chunkings: Chunkings.all)
    }

    @Test func delimiter_decode_longFrame_resumesScanWhereItStopped() throws {
        var decoder = try Self.lineFramer(maximum: 100)
        decoder.append(bytes("abcdefgh\r"))
        #expect(try decoder.next() == .needMoreData)
        #expect(decoder.scanStart == 8)  // only the "\r" can still begin a delimiter
        decoder.append(bytes("\n"))
        #expect(try decoder.next() == .frame(bytes("abcdefgh")))
        #expect(decoder.scanStart == 0)
    }

    @Test func delimiter_finish_noTrailingDelimiter_isTruncated() throws {
        let expected = Decoded(frames: [bytes("one")], error: .truncated(remaining: 4))
        expectDecoding(try Self.lineFramer(), bytes("one\r\ntwo\r"), as: expected, chunkings: Chunkings.all)
    }

    @Test func delimiter_encode_payloadContainingDelimiter_throws() throws {
        let framer = try Self.lineFramer()
        var output: [UInt8] = [9]
        #expect(throws: FramingError.delimiterInPayload(offset: 1)) {
            try framer.encode(bytes("a\r\nb"), into: &output)
        }
        #expect(output == [9])
    }

    @Test func delimiter_encode_payloadEndingInsideOverlappingDelimiter_throws() throws {
        // "xa" + "aa" = "xaaa": the first "aa" starts at offset 1, so "x" would be decoded instead.
        let framer = try DelimiterFramer(delimiter: bytes("aa"), maximum: 16)
        var output: [UInt8] = []
        #expect(throws: FramingError.delimiterInPayload(offset: 1)) { try framer.encode(bytes("xa"), into: &output) }
        #expect(output.isEmpty)
    }

    @Test func delimiter_encode_aboveMaximum_throws() throws {
        var output: [UInt8] = []
        #expect(throws: FramingError.frameTooLarge(length: 5, maximum: 4)) {
            try Self.lineFramer(maximum: 4).encode(bytes("abcde"), into: &output)
        }
        #expect(output.isEmpty)
    }

    @Test func delimiter_encode_roundTrip() throws {
        let framer = try Self.lineFramer()
        let payloads = [bytes("x\r"), [], bytes("\n\n"), bytes("sixteen bytes!!!")]
        var stream: [UInt8] = []
        for payload in payloads { try framer.encode(payload, into: &stream) }
        #expect(stream == bytes("x\r\r\n\r\n\n\n\r\nsixteen bytes!!!\r\n"))
        expectDecoding(framer, stream, as: Decoded(frames: payloads), chunkings: Chunkings.all)
    }

    @Test func delimiter_init_badSettings_areInvalidConfiguration() {
        let empty = #expect(throws: FramingError.self) { try DelimiterFramer(delimiter: [], maximum: 4) }
        #expect(isInvalidConfiguration(empty))
        let negative = #expect(throws: FramingError.self) { try DelimiterFramer(delimiter: [0], maximum: -1) }
        #expect(isInvalidConfiguration(negative))
    }

    // MARK: Length prefix

    private static let body256 = (0..<256).map { UInt8($0) }
    private static let body300 = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    /// u16 prefixes: an empty body, three bytes, 256 bytes (prefix 0x0100) and one byte.
    private static let u16Stream: [UInt8] = [0, 0] + [0, 3, 1, 2, 3] + [0x01, 0x00] + body256 + [0, 1, 0xFF]
    private static let u16Frames = Decoded(frames: [[], [1, 2, 3], body256, [0xFF]])

    private static func u16Framer(maximum: Int = 300) throws -> LengthPrefixFramer {
        try LengthPrefixFramer(width: .u16, maximum: maximum)
    }

    @Test func lengthPrefix_decode_oneChunk() throws {
        expectDecoding(try Self.u16Framer(), Self.u16Stream, as: Self.u16Frames, chunkings: Chunkings.oneChunk)
    }

    @Test func lengthPrefix_decode_oneByteAtATime() throws {
        expectDecoding(try Self.u16Framer(), Self.u16Stream, as: Self.u16Frames, chunkings: Chunkings.oneByteAtATime)
    }

    @Test func lengthPrefix_decode_everyTwoChunkSplit() throws {
        expectDecoding(
            try Self.u16Framer(), Self.u16Stream, as: Self.u16Frames, chunkings: Chunkings.everyTwoChunkSplit)
    }

    @Test func lengthPrefix_decode_randomChunkings() throws {
        expectDecoding(try Self.u16Framer(), Self.u16Stream, as: Self.u16Frames, chunkings: Chunkings.random)
    }

    @Test func lengthPrefix_u32_decode_everyChunking() throws {
        let stream: [UInt8] =
            [0, 0, 0, 2, 9, 8] + [0, 0, 0, 0] + [0, 0, 0x01, 0x2C] + Self.body300 + [0, 0, 0, 1, 7]
        let framer = try LengthPrefixFramer(width: .u32, maximum: 1000)
        expectDecoding(framer, stream, as: Decoded(frames: [[9, 8], [], Self.body300, [7]]), chunkings: Chunkings.all)
    }

    @Test func lengthPrefix_decode_hostileLength_throwsBeforeBody() throws {
        var decoder = try LengthPrefixFramer(width: .u32, maximum: 1024)
        for byte: UInt8 in [0xFF, 0xFF, 0xFF] {
            decoder.append([byte])
            #expect(try decoder.next() == .needMoreData)
        }
        decoder.append([0xFF])
        let error = FramingError.frameTooLarge(length: Int(UInt32.max), maximum: 1024)
        #expect(throws: error) { try decoder.next() }
        expectFailed(&decoder, with: error)
        #expect(decoder.buffer.storage.isEmpty)  // dropped on failure; later bytes discarded
    }

    @Test func lengthPrefix_decode_oneAboveMaximum_throwsAtMaximumWaits() throws {
        var atMaximum = try Self.u16Framer()
        atMaximum.append([0x01, 0x2C])  // 300
        #expect(try atMaximum.next() == .needMoreData)
        var aboveMaximum = try Self.u16Framer()
        aboveMaximum.append([0x01, 0x2D])  // 301
        #expect(throws: FramingError.frameTooLarge(length: 301, maximum: 300)) { try aboveMaximum.next() }
    }

    @Test func lengthPrefix_decode_oversized_sameErrorUnderEveryChunking() throws {
        let expected = Decoded(frames: [[7]], error: .frameTooLarge(length: 5, maximum: 4))
        expectDecoding(
            try Self.u16Framer(maximum: 4), [0, 1, 7, 0, 5, 1, 2, 3, 4, 5, 0, 0], as: expected,
            chunkings: Chunkings.all)
    }

    @Test func lengthPrefix_finish_partialBodyOrPrefix_isTruncated() throws {
        let partialBody = Decoded(frames: [[1]], error: .truncated(remaining: 4))
        expectDecoding(try Self.u16Framer(), [0, 1, 1, 0, 5, 1, 2], as: partialBody, chunkings: Chunkings.all)
        let partialPrefix = Decoded(frames: [], error: .truncated(remaining: 3))
        expectDecoding(
            try LengthPrefixFramer(width: .u32, maximum: 9), [0, 0, 0], as: partialPrefix, chunkings: Chunkings.all)
    }

    @Test func lengthPrefix_encode_writesBigEndianPrefix() throws {
        var u16: [UInt8] = []
        try Self.u16Framer().encode(Self.body256, into: &u16)
        #expect(u16 == [0x01, 0x00] + Self.body256)
        var u32: [UInt8] = [9]
        try LengthPrefixFramer(width: .u32, maximum: 1000).encode(Self.body300, into: &u32)
        #expect(u32 == [9, 0, 0, 0x01, 0x2C] + Self.body300)
    }

    @Test func lengthPrefix_encode_aboveMaximum_throws() throws {
        var output: [UInt8] = []
        #expect(throws: FramingError.frameTooLarge(length: 301, maximum: 300)) {
            try Self.u16Framer().encode([UInt8](repeating: 1, count: 301), into: &output)
        }
        #expect(output.isEmpty)
    }

    @Test func lengthPrefix_encode_roundTripAtWidthLimit() throws {
        let framer = try LengthPrefixFramer(width: .u16, maximum: 65_535)
        let payloads = [[], [UInt8](repeating: 0xAB, count: 65_535), [1, 2]]
        var stream: [UInt8] = []
        for payload in payloads { try framer.encode(payload, into: &stream) }
        #expect(Array(stream[2..<4]) == [0xFF, 0xFF])
        let chunkings = { (count: Int) in Chunkings.oneChunk(count) + Chunkings.random(count, seed: 7, trials: 20) }
        expectDecoding(framer, stream, as: Decoded(frames: payloads), chunkings: chunkings)
    }

    @Test func lengthPrefix_init_maximumOutsideWidth_isInvalidConfiguration() throws {
        for (width, maximum) in [(LengthPrefixFramer.Width.u16, 65_536), (.u16, -1), (.u32, -1)] {
            let error = #expect(throws: FramingError.self) { try LengthPrefixFramer(width: width, maximum: maximum) }
            #expect(isInvalidConfiguration(error))
        }
    }

    @Test func lengthPrefix_buffer_compactsWhenNeverEmpty() throws {
        // One byte ahead of the frame boundary, so the buffer is never fully consumed and
        // only compaction keeps the storage from holding the whole stream.
        let frame: [UInt8] = [0, 5, 1, 2, 3, 4, 5]
        let stream = Array([[UInt8]](repeating: frame, count: 10_000).joined())
        var decoder = try Self.u16Framer()
        var frames = 0
        var largestStorage = 0
        var start = 0
        for end in [1] + Array(stride(from: 8, to: stream.count, by: 7)) + [stream.count] {
            decoder.append(stream[start..<end])
            start = end
            largestStorage = max(largestStorage, decoder.buffer.storage.count)
            while case .frame(let body) = try decoder.next() {
                #expect(body == [1, 2, 3, 4, 5])
                frames += 1
            }
        }
        #expect(frames == 10_000)
        #expect(largestStorage <= FrameBuffer.compactionThreshold + 2 * frame.count)
    }

    // MARK: Read until close

    private static let bodyStream = bytes("the whole body, whatever the chunking")
    private static let bodyFrames = Decoded(frames: [bytes("the whole body, whatever the chunking")])

    @Test func readUntilClose_decode_oneChunk() throws {
        expectDecoding(
            try ReadUntilCloseFramer(maximum: 64), Self.bodyStream, as: Self.bodyFrames, chunkings: Chunkings.oneChunk)
    }

    @Test func readUntilClose_decode_oneByteAtATime() throws {
        expectDecoding(
            try ReadUntilCloseFramer(maximum: 64), Self.bodyStream, as: Self.bodyFrames,
            chunkings: Chunkings.oneByteAtATime)
    }

    @Test func readUntilClose_decode_everyTwoChunkSplit() throws {
        expectDecoding(
            try ReadUntilCloseFramer(maximum: 64), Self.bodyStream, as: Self.bodyFrames,
            chunkings: Chunkings.everyTwoChunkSplit)
    }

    @Test func readUntilClose_decode_randomChunkings() throws {
        expectDecoding(
            try ReadUntilCloseFramer(maximum: 64), Self.bodyStream, as: Self.bodyFrames, chunkings: Chunkings.random)
    }

    @Test func readUntilClose_finish_emptyStream_returnsEmptyBodyOnce() throws {
        var decoder = try ReadUntilCloseFramer(maximum: 4)
        #expect(try decoder.next() == .needMoreData)
        #expect(try decoder.finish() == [])
        #expect(try decoder.finish() == nil)
    }

    @Test func readUntilClose_decode_oversized_throwsBeforeClose() throws {
        var decoder = try ReadUntilCloseFramer(maximum: 4)
        for byte in bytes("abcd") {
            decoder.append([byte])
            #expect(try decoder.next() == .needMoreData)
        }
        decoder.append(bytes("e"))
        #expect(throws: FramingError.frameTooLarge(length: 5, maximum: 4)) { try decoder.next() }
        expectFailed(&decoder, with: .frameTooLarge(length: 5, maximum: 4))
        let expected = Decoded(frames: [], error: .frameTooLarge(length: 5, maximum: 4))
        expectDecoding(try ReadUntilCloseFramer(maximum: 4), bytes("abcdefg"), as: expected, chunkings: Chunkings.all)
    }

    @Test func readUntilClose_encode_checksMaximumAndRoundTrips() throws {
        let framer = try ReadUntilCloseFramer(maximum: 64)
        var output: [UInt8] = []
        #expect(throws: FramingError.frameTooLarge(length: 65, maximum: 64)) {
            try framer.encode([UInt8](repeating: 0, count: 65), into: &output)
        }
        #expect(output.isEmpty)
        try framer.encode(Self.bodyStream, into: &output)
        expectDecoding(framer, output, as: Self.bodyFrames, chunkings: Chunkings.all)
        let negative = #expect(throws: FramingError.self) { try ReadUntilCloseFramer(maximum: -1) }
        #expect(isInvalidConfiguration(negative))
    }

    // MARK: Arbitrary input

    @Test func allFramers_decode_randomBytes_sameOutcomeUnderEveryChunking() throws {
        var rng = TestRandom(seed: 42)
        let decoders: [any FrameDecoder] = [
            try FixedLengthFramer(frameLength: 3),
            try DelimiterFramer(delimiter: [1, 2], maximum: 6),
            try LengthPrefixFramer(width: .u16, maximum: 8),
            try LengthPrefixFramer(width: .u32, maximum: 8),
            try ReadUntilCloseFramer(maximum: 100),
        ]
        for trial in 0..<200 {
            // Small byte values make valid frames as likely as oversized or truncated ones.
            let stream = (0..<Int.random(in: 0...120, using: &rng)).map { _ in UInt8.random(in: 0...3, using: &rng) }
            for decoder in decoders {
                let reference = decode(decoder, stream, chunkSizes: [stream.count])
                #expect(reference.frames.reduce(0) { $0 + $1.count } <= stream.count)
                let chunkings =
                    Chunkings.oneByteAtATime(stream.count)
                    + Chunkings.random(stream.count, seed: UInt64(trial), trials: 10)
                for sizes in chunkings {
                    #expect(decode(decoder, stream, chunkSizes: sizes) == reference, "\(decoder) \(sizes)")
                }
            }
        }
    }
}
