/// Which of the most recent sequence numbers of one sender have arrived: the memory
/// that tells a duplicate from a late packet.
///
/// A ring bitmap of ``ProbeConstants/sequenceWindow`` bits: sequence `s` is bit `s % 64`
/// of word `(s / 64) % ringWords`. The window covers the highest sequence number seen and
/// the `sequenceWindow − 1` below it; moving the highest up clears the words it passes.
/// Its memory is fixed whatever sequence numbers arrive.
struct SequenceWindow: Sendable, Equatable {
    /// Bits per ring word.
    static let wordBits: UInt64 = 64
    /// Words in the ring: the window's words plus one for the partly used highest word.
    static let ringWords = Int(ProbeConstants.sequenceWindow / wordBits) + 1

    /// What the window made of a sequence number.
    enum Verdict: Equatable {
        /// Above every sequence number seen so far (or the first one).
        case newHighest
        /// Below the highest, inside the window, not seen before.
        case late
        /// Seen before.
        case duplicate
        /// So far below the highest that the window no longer knows whether it was seen.
        case tooOld
    }

    /// The highest sequence number seen, or nil before the first.
    private(set) var highest: UInt64?

    private var ring = [UInt64](repeating: 0, count: ringWords)

    /// Records `sequence` and says what it was.
    mutating func insert(_ sequence: UInt64) -> Verdict {
        guard let top = highest else {
            highest = sequence
            set(sequence)
            return .newHighest
        }
        if sequence > top {
            let fromWord = top / Self.wordBits
            let toWord = sequence / Self.wordBits
            let cleared = min(toWord - fromWord, UInt64(Self.ringWords))
            var word = toWord
            for _ in 0..<cleared {
                ring[Int(word % UInt64(Self.ringWords))] = 0
                word &-= 1
            }
            highest = sequence
            set(sequence)
            return .newHighest
        }
        guard top - sequence < ProbeConstants.sequenceWindow else { return .tooOld }
        let index = Int(sequence / Self.wordBits % UInt64(Self.ringWords))
        let bit = UInt64(1) << (sequence % Self.wordBits)
        if ring[index] & bit != 0 { return .duplicate }
        ring[index] |= bit
        return .late
    }

    private mutating func set(_ sequence: UInt64) {
        ring[Int(sequence / Self.wordBits % UInt64(Self.ringWords))] |= UInt64(1) << (sequence % Self.wordBits)
    }
}
