import StarlingCore

/// `starling bench framing`: length-prefixed frames decoded per second from a stream.
///
/// Starling: a u32 ``LengthPrefixFramer`` fed a 1 MiB stream of 1,200-byte frames in
/// 64 KiB chunks, as TCP reads arrive. Baseline: a direct loop over the same whole
/// buffer that reads each prefix and copies the frame out, with no incremental
/// buffering. The ratio is the cost of accepting any chunking.
enum FramingBench {
    static let frameSize = 1200
    static let chunkSize = 64 * 1024

    static func run(seconds: Double) -> BenchResult {
        let framer = try! LengthPrefixFramer(width: .u32, maximum: 16 * 1024 * 1024)
        var stream: [UInt8] = []
        let payload = [UInt8](repeating: 0xAB, count: frameSize)
        while stream.count < 1024 * 1024 { try! framer.encode(payload, into: &stream) }
        let framesPerStream = stream.count / (frameSize + 4)
        let megabytesPerStream = Double(stream.count) / 1_000_000

        let starlingStreams = measureRate(seconds: seconds, batch: 1) {
            var decoder = try! LengthPrefixFramer(width: .u32, maximum: 16 * 1024 * 1024)
            var frames = 0
            var start = 0
            while start < stream.count {
                let end = min(start + chunkSize, stream.count)
                decoder.append(stream[start..<end])
                while case .frame(let frame) = try! decoder.next() { frames += frame.count > 0 ? 1 : 0 }
                start = end
            }
            precondition(frames == framesPerStream)
            return frames
        }

        let baselineStreams = measureRate(seconds: seconds, batch: 1) {
            var frames = 0
            var offset = 0
            while offset + 4 <= stream.count {
                let length =
                    Int(stream[offset]) << 24 | Int(stream[offset + 1]) << 16 | Int(stream[offset + 2]) << 8
                    | Int(stream[offset + 3])
                let frame = Array(stream[(offset + 4)..<(offset + 4 + length)])
                frames += frame.count > 0 ? 1 : 0
                offset += 4 + length
            }
            return frames
        }
        return BenchResult(
            name: "framing", starling: starlingStreams * megabytesPerStream,
            baseline: baselineStreams * megabytesPerStream, unit: "MB/s",
            detail: "u32 length-prefix decode of \(frameSize)-byte frames in \(chunkSize / 1024) KiB chunks "
                + "vs a direct whole-buffer loop")
    }
}
