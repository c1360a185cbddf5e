/// A fast, seedable random number generator: xoshiro256** seeded through SplitMix64.
///
/// ### Purpose
/// The simulator and tests pass this wherever StarlingCore asks for randomness, so
/// that one seed always gives the same run. It is not for keys that guard anything
/// real; use `SecureRandom` for those.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Creates a generator whose whole output follows from `seed`.
    public init(seed: UInt64) {
        var mixer = seed
        func splitMix() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            var z = mixer
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        // SplitMix64 never yields four zero words in a row, the one state xoshiro forbids.
        (s0, s1, s2, s3) = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// Returns the next 64 bits.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, by: 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, by: 45)
        return result
    }

    /// Returns a new generator, independent of this one, and advances this one.
    ///
    /// Give each simulated peer its own split so that adding a peer does not change
    /// the random choices of the others.
    public mutating func split() -> SeededGenerator {
        SeededGenerator(seed: next())
    }

    private func rotateLeft(_ value: UInt64, by amount: UInt64) -> UInt64 {
        (value << amount) | (value >> (64 - amount))
    }
}
