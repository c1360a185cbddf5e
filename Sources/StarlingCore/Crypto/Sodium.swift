internal import CSodium

/// The one place StarlingCore makes sure libsodium is initialised.
///
/// `sodium_init()` is idempotent and thread-safe; it picks the fastest primitives for
/// the CPU. Every type that calls into libsodium touches ``ready`` first.
enum Sodium {
    /// True once libsodium is initialised; evaluated once, lazily.
    static let ready: Bool = sodium_init() >= 0

    /// Traps if libsodium could not be initialised: without it no key can be made or
    /// checked, and continuing would be unsafe.
    static func ensureReady() {
        precondition(ready, "libsodium failed to initialise")
    }
}

/// A cryptographically secure generator backed by libsodium's `randombytes_buf`.
///
/// StarlingCore never reads randomness on its own: callers pass a generator in. Pass
/// this one wherever keys or nonces are made for real; tests and the simulator pass a
/// seeded generator instead.
///
/// It draws ``blockSize`` bytes at a time into a block held inline (one system call per
/// 32 values rather than one per value) and wipes each word as it hands it out.
///
/// - Warning: a value type: a copy made after some draws holds the rest of the same
///   block, so two copies would return the same values until they refill. Create a
///   generator for each user rather than copying one that has been used.
public struct SecureRandom: RandomNumberGenerator, Sendable {
    /// Bytes drawn from libsodium at a time.
    public static let blockSize = 256

    private typealias Block = (
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
    )

    private static let wordsPerBlock = blockSize / MemoryLayout<UInt64>.size

    /// Random words not yet returned, from `position` on.
    private var block: Block = (
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    )
    /// The next word of ``block`` to return; ``wordsPerBlock`` when it is used up.
    private var position = SecureRandom.wordsPerBlock

    /// Creates the generator; it draws its first block on first use.
    public init() { Sodium.ensureReady() }

    /// Returns 64 random bits.
    public mutating func next() -> UInt64 {
        let refill = position == Self.wordsPerBlock
        let index = refill ? 0 : position
        position = index + 1
        return withUnsafeMutableBytes(of: &block) { raw in
            if refill { randombytes_buf(raw.baseAddress!, Self.blockSize) }
            let words = raw.bindMemory(to: UInt64.self)
            defer { words[index] = 0 }
            return words[index]
        }
    }
}
