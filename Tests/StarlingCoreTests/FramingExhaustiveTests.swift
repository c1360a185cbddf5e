import Testing

@testable import StarlingCore

/// Every framer, on a short stream, under literally every chunking of it.
@Suite struct FramingExhaustiveChunkingTests {
    @Test func chunkings_exhaustive_countIsTwoToTheNMinusOne() {
        #expect(Chunkings.exhaustive(1) == [[1]])
        #expect(Set(Chunkings.exhaustive(3)) == [[3], [1, 2], [2, 1], [1, 1, 1]])
        #expect(Chunkings.exhaustive(12).count == 2048)
        #expect(Chunkings.exhaustive(12).allSatisfy { $0.reduce(0, +) == 12 && !$0.contains(0) })
    }

    @Test func fixedLength_everyChunking_sameFrames() throws {
        let stream = bytes("abcdefghijkl")
        let expected = Decoded(frames: [bytes("abcd"), bytes("efgh"), bytes("ijkl")])
        expectDecoding(try FixedLengthFramer(frameLength: 4), stream, as: expected, chunkings: Chunkings.exhaustive)
    }

    @Test func delimiter_everyChunking_sameFrames() throws {
        let stream = bytes("ab\r\n\r\nc\r\r\n")
        let expected = Decoded(frames: [bytes("ab"), [], bytes("c\r")])
        let framer = try DelimiterFramer(delimiter: bytes("\r\n"), maximum: 8)
        expectDecoding(framer, stream, as: expected, chunkings: Chunkings.exhaustive)
    }

    @Test func lengthPrefix_everyChunking_sameFramesAndSameErrors() throws {
        let u16: [UInt8] = [0, 0] + [0, 3, 1, 2, 3] + [0, 1, 0xFF] + [0, 2, 7, 8]
        let u16Frames = Decoded(frames: [[], [1, 2, 3], [0xFF], [7, 8]])
        expectDecoding(
            try LengthPrefixFramer(width: .u16, maximum: 3), u16, as: u16Frames, chunkings: Chunkings.exhaustive)

        let u32: [UInt8] = [0, 0, 0, 2, 0xAA, 0xBB] + [0, 0, 0, 1, 0xCC] + [0, 0, 1]
        let truncated = Decoded(frames: [[0xAA, 0xBB], [0xCC]], error: .truncated(remaining: 3))
        expectDecoding(
            try LengthPrefixFramer(width: .u32, maximum: 2), u32, as: truncated, chunkings: Chunkings.exhaustive)

        let hostile: [UInt8] = [0, 0, 0, 1, 0x11] + [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0]
        let tooLarge = Decoded(frames: [[0x11]], error: .frameTooLarge(length: 0xFFFF_FFFF, maximum: 2))
        expectDecoding(
            try LengthPrefixFramer(width: .u32, maximum: 2), hostile, as: tooLarge, chunkings: Chunkings.exhaustive)
    }

    @Test func readUntilClose_everyChunking_sameBody() throws {
        let stream = bytes("whole body!!")
        expectDecoding(
            try ReadUntilCloseFramer(maximum: 12), stream, as: Decoded(frames: [stream]),
            chunkings: Chunkings.exhaustive)
        expectDecoding(
            try ReadUntilCloseFramer(maximum: 11), stream,
            as: Decoded(frames: [], error: .frameTooLarge(length: 12, maximum: 11)), chunkings: Chunkings.exhaustive)
    }
}
