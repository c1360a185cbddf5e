internal import CSodium
internal import Synchronization

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
/// It draws ``blockSize`` bytes at a time into a block it holds (one system call per
/// 32 values rather than one per value) and wipes each word as it hands it out.
///
/// ### Why a class
/// A value type would be copied with its block, and the copies would return the same
/// values until they refilled. It cannot be non-copyable (`~Copyable`) either: the
/// standard `RandomNumberGenerator` protocol, which every `using:` parameter and the
/// cores' stored generators need, requires copyable conformers. So it is a final class:
/// every copy of a reference draws from the one block, under a lock, and no two draws
/// return the same word, whichever copies or threads make them.
public final class SecureRandom: RandomNumberGenerator, Sendable {
    /// Bytes drawn from libsodium at a time.
    public static let blockSize = 256

    private static let wordsPerBlock = blockSize / MemoryLayout<UInt64>.size

    /// The drawn block and how much of it is used, behind the lock.
    private struct State {
        /// Random words not yet returned, from `position` on.
        var block:
            (
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
            ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        /// The next word of `block` to return; ``wordsPerBlock`` when it is used up.
        var position = SecureRandom.wordsPerBlock
    }

    private let state = Mutex(State())

    /// Creates the generator; it draws its first block on first use.
    public init() { Sodium.ensureReady() }

    /// Returns 64 random bits.
    public func next() -> UInt64 {
        state.withLock { state in
            let refill = state.position == Self.wordsPerBlock
            let index = refill ? 0 : state.position
            state.position = index + 1
            return withUnsafeMutableBytes(of: &state.block) { raw in
                if refill { randombytes_buf(raw.baseAddress!, Self.blockSize) }
                let words = raw.bindMemory(to: UInt64.self)
                defer { words[index] = 0 }
                return words[index]
            }
        }
    }
}
