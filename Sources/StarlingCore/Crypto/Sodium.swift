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
public struct SecureRandom: RandomNumberGenerator, Sendable {
    /// Creates the generator.
    public init() { Sodium.ensureReady() }

    /// Returns 64 random bits.
    public mutating func next() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { randombytes_buf($0.baseAddress!, 8) }
        return value
    }
}
