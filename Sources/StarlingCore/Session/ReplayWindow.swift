/// The receive side's record of which transport counters it has accepted, as a sliding
/// window (RFC 6479, "IPsec Anti-Replay Algorithm without Bit Shifting").
///
/// ### Purpose
/// A counter is accepted once, and only if it is not too far below the highest one
/// accepted so far. The bitmap is a ring of 64-bit words: moving the window forward
/// clears whole words instead of shifting bits, so a jump of any size costs at most
/// ``ringWords`` stores. One word more than the window needs is kept, so that the
/// window is exactly ``size`` (2048) counters deep whatever the position inside the
/// highest word.
///
/// ### Usage
/// Check first, decrypt, then commit, so that a forged packet cannot move the window:
///
/// ```swift
/// guard window.check(header.counter) else { return drop(.replayed) }
/// guard let plaintext = open(...) else { return drop(.decryptionFailed) }
/// window.commit(header.counter)
/// ```
///
/// Counters at or above ``SessionConstants/rejectAfterMessages`` are never accepted.
struct ReplayWindow: Equatable, Sendable {
    /// Bits per ring word.
    static let wordBits: UInt64 = 64

    /// Words in the ring: the window's words plus one for the partly used highest word.
    static let ringWords = Int(SessionConstants.replayWindowSize / wordBits) + 1

    /// How far below the highest accepted counter a counter may be and still be
    /// accepted: `(ringWords - 1) × 64` = 2048.
    static let size = UInt64(ringWords - 1) * wordBits

    /// The first counter that is never accepted.
    static let limit = SessionConstants.rejectAfterMessages

    /// The highest counter committed so far (0 before any).
    private(set) var highest: UInt64 = 0

    /// The bitmap; counter `c` is bit `c % 64` of word `(c / 64) % ringWords`.
    private var ring: [UInt64]

    /// Creates an empty window, as for a new session.
    init() {
        ring = [UInt64](repeating: 0, count: Self.ringWords)
    }

    /// Whether a packet with `counter` may be accepted: below the limit, not too old,
    /// and not accepted before. Changes nothing.
    ///
    /// - Parameter counter: the counter from the transport header, not yet authenticated.
    /// - Returns: `true` when the packet is worth decrypting.
    func check(_ counter: UInt64) -> Bool {
        guard counter < Self.limit else { return false }
        if counter > highest { return true }
        guard highest - counter <= Self.size else { return false }
        return ring[Self.word(counter / Self.wordBits)] & Self.bit(counter) == 0
    }

    /// Marks `counter` as accepted, moving the window forward when it is the new highest.
    ///
    /// A counter that ``check(_:)`` would refuse changes nothing.
    /// - Parameter counter: a counter whose packet passed ``check(_:)`` and then the AEAD check.
    /// - Warning: call this only after the packet authenticated; committing an
    ///   unauthenticated counter lets a forger slide the window past real packets.
    mutating func commit(_ counter: UInt64) {
        guard counter < Self.limit else { return }
        if counter > highest {
            let current = highest / Self.wordBits
            let target = counter / Self.wordBits
            let cleared = min(target - current, UInt64(Self.ringWords))
            var block = current
            for _ in 0..<cleared {
                block += 1
                ring[Self.word(block)] = 0
            }
            highest = counter
        } else if highest - counter > Self.size {
            return
        }
        ring[Self.word(counter / Self.wordBits)] |= Self.bit(counter)
    }

    /// Checks and, when accepted, commits `counter` in one step.
    ///
    /// - Parameter counter: the counter of a packet that has *already* authenticated.
    /// - Returns: whether it was accepted.
    /// - Warning: for authenticated packets only; on the receive path use
    ///   ``check(_:)`` before decrypting and ``commit(_:)`` after.
    mutating func checkAndCommit(_ counter: UInt64) -> Bool {
        guard check(counter) else { return false }
        commit(counter)
        return true
    }

    /// The ring index of block `block` (a counter divided by 64).
    private static func word(_ block: UInt64) -> Int {
        Int(block % UInt64(ringWords))
    }

    /// The mask of `counter`'s bit inside its word.
    private static func bit(_ counter: UInt64) -> UInt64 {
        1 << (counter % wordBits)
    }
}
