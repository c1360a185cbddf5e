/// The byte store behind every framer: appended bytes plus a read index.
///
/// Offsets are counted from the first unread byte. Consumed bytes stay in place until an
/// append finds at least as many consumed bytes as live ones (and at least
/// ``compactionThreshold``); only then are the live bytes moved to the front. Each move
/// copies no more bytes than were consumed since the last one, so feeding a stream one byte
/// at a time costs amortised O(1) per byte.
struct FrameBuffer: Sendable {
    /// Consumed bytes to accumulate before moving live bytes to the front.
    static let compactionThreshold = 1024

    /// Every byte appended since the last compaction, consumed or not.
    private(set) var storage: [UInt8] = []
    /// Index in ``storage`` of the first unread byte.
    private(set) var readIndex = 0
    /// The error the owning decoder failed with. Once set, appended bytes are discarded
    /// and ``checkHealthy()`` throws it again: a failed stream stays failed.
    private(set) var failure: FramingError?

    /// The number of unread bytes.
    var count: Int { storage.count - readIndex }

    /// The unread byte at `offset`, which must be below ``count``.
    subscript(offset: Int) -> UInt8 { storage[readIndex + offset] }

    /// Buffers `bytes` after the unread ones; a failed buffer discards them.
    mutating func append(_ bytes: some Collection<UInt8>) {
        guard failure == nil else { return }
        compactIfWorthwhile()
        storage.append(contentsOf: bytes)
    }

    /// Buffers borrowed `bytes` after the unread ones; a failed buffer discards them.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        compactIfWorthwhile()
        storage.append(contentsOf: bytes)
    }

    /// Removes and returns the first `length` unread bytes; `length` must not exceed ``count``.
    mutating func read(_ length: Int) -> [UInt8] {
        let frame = Array(storage[readIndex..<(readIndex + length)])
        skip(length)
        return frame
    }

    /// Removes the first `length` unread bytes; `length` must not exceed ``count``.
    mutating func skip(_ length: Int) {
        readIndex += length
        if readIndex == storage.count {
            storage.removeAll(keepingCapacity: true)
            readIndex = 0
        }
    }

    /// Throws the error the decoder failed with, if it has failed.
    func checkHealthy() throws(FramingError) {
        if let failure { throw failure }
    }

    /// Records `error` as the decoder's permanent failure, drops every byte and the
    /// storage behind them, and returns the error for the caller to throw.
    mutating func fail(_ error: FramingError) -> FramingError {
        failure = error
        storage = []
        readIndex = 0
        return error
    }

    /// The offset of the first occurrence of `pattern` that starts at or after `start` and
    /// ends at or before `end` (both offsets into the unread bytes), if any.
    func firstOffset(of pattern: [UInt8], from start: Int, to end: Int) -> Int? {
        let found = Self.firstIndex(of: pattern, in: storage, from: readIndex + start, to: readIndex + end)
        return found.map { $0 - readIndex }
    }

    /// The index of the first occurrence of `pattern` in `bytes[start..<end]`, if any.
    static func firstIndex(of pattern: [UInt8], in bytes: [UInt8], from start: Int, to end: Int) -> Int? {
        guard let first = pattern.first, start >= 0, end <= bytes.count else { return nil }
        var candidate = start
        while candidate + pattern.count <= end {
            if bytes[candidate] == first && bytes[candidate..<(candidate + pattern.count)].elementsEqual(pattern) {
                return candidate
            }
            candidate += 1
        }
        return nil
    }

    private mutating func compactIfWorthwhile() {
        guard readIndex >= Self.compactionThreshold, readIndex >= count else { return }
        storage.removeSubrange(0..<readIndex)
        readIndex = 0
    }
}
