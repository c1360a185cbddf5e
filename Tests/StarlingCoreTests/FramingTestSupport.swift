import StarlingTestSupport
import Testing

@testable import StarlingCore

/// Ways to cut a stream of `count` bytes into chunks; each chunking is a list of chunk sizes.
enum Chunkings {
    static func oneChunk(_ count: Int) -> [[Int]] { [[count]] }

    static func oneByteAtATime(_ count: Int) -> [[Int]] { [Array(repeating: 1, count: count)] }

    /// Every split into two chunks, including the empty first and last chunk.
    static func everyTwoChunkSplit(_ count: Int) -> [[Int]] { (0...count).map { [$0, count - $0] } }

    /// A few hundred random chunkings from a fixed seed; chunks may be empty.
    static func random(_ count: Int) -> [[Int]] { random(count, seed: 0x5354_4152, trials: 300) }

    static func random(_ count: Int, seed: UInt64, trials: Int) -> [[Int]] {
        var rng = TestRandom(seed: seed)
        return (0..<trials).map { _ in
            let largest = Int.random(in: 1...max(1, count), using: &rng)
            var sizes: [Int] = []
            var left = count
            while left > 0 {
                let size = min(left, Int.random(in: 0...largest, using: &rng))
                sizes.append(size)
                left -= size
            }
            return sizes
        }
    }

    /// Literally every way to cut `count` bytes into non-empty chunks: 2^(count-1) of them.
    static func exhaustive(_ count: Int) -> [[Int]] {
        precondition(count <= 16, "2^(count-1) chunkings; keep exhaustive streams short")
        guard count > 0 else { return [[]] }
        // Bit i of `cuts` set means "cut after byte i + 1".
        return (0..<(1 << (count - 1))).map { cuts in
            var sizes: [Int] = []
            var current = 0
            for position in 1...count {
                current += 1
                if position == count || cuts & (1 << (position - 1)) != 0 {
                    sizes.append(current)
                    current = 0
                }
            }
            return sizes
        }
    }

    static func all(_ count: Int) -> [[Int]] {
        oneChunk(count) + oneByteAtATime(count) + everyTwoChunkSplit(count) + random(count)
    }
}

/// What a decoder made of a whole stream: its frames, then the error that stopped it, if any.
struct Decoded: Equatable {
    var frames: [[UInt8]]
    var error: FramingError?
}

/// Feeds `stream` in chunks of `chunkSizes` (alternating the two `append` overloads),
/// drains `next()` after each chunk, then drains `finish()`.
func decode(_ decoder: some FrameDecoder, _ stream: [UInt8], chunkSizes: [Int]) -> Decoded {
    var decoder = decoder
    var result = Decoded(frames: [], error: nil)
    var start = 0
    do throws(FramingError) {
        for (index, size) in chunkSizes.enumerated() {
            let chunk = stream[start..<(start + size)]
            start += size
            if index.isMultiple(of: 2) {
                decoder.append(chunk)
            } else {
                chunk.withUnsafeBytes { decoder.append($0) }
            }
            while case .frame(let frame) = try decoder.next() { result.frames.append(frame) }
        }
        while let frame = try decoder.finish() { result.frames.append(frame) }
    } catch {
        result.error = error
    }
    return result
}

/// Expects `decoder` to make `expected` of `stream` under every chunking `chunkings` gives.
func expectDecoding(
    _ decoder: some FrameDecoder, _ stream: [UInt8], as expected: Decoded,
    chunkings: (Int) -> [[Int]], sourceLocation: SourceLocation = #_sourceLocation
) {
    for sizes in chunkings(stream.count) {
        let decoded = decode(decoder, stream, chunkSizes: sizes)
        #expect(decoded == expected, "chunk sizes \(sizes)", sourceLocation: sourceLocation)
    }
}

/// Expects a decoder that has thrown `error` to keep throwing it and to ignore new bytes.
func expectFailed(
    _ decoder: inout some FrameDecoder, with error: FramingError, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(throws: error, sourceLocation: sourceLocation) { try decoder.next() }
    decoder.append([0, 0, 0, 0, 0, 0, 0, 0])
    #expect(throws: error, sourceLocation: sourceLocation) { try decoder.next() }
    #expect(throws: error, sourceLocation: sourceLocation) { try decoder.finish() }
}

func isInvalidConfiguration(_ error: FramingError?) -> Bool {
    if case .invalidConfiguration? = error { true } else { false }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
