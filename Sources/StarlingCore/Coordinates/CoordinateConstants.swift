/// The numbers of Starling's network coordinates: Vivaldi (Dabek, Cox, Kaashoek and
/// Morris, 2004) with height vectors, plus the adjustment term and gravity of Ledlie,
/// Gardner and Seltzer, "Network Coordinates in the Wild" (2007), the shape Serf and
/// Consul carry.
///
/// Distances are in seconds throughout.
public enum CoordinateConstants {
    // MARK: Specification

    /// Components of a coordinate's Euclidean part; fixed, since it is on the wire.
    public static let dimensions = 8
    /// Bytes of a coordinate on the wire: eight components, the height, the error and
    /// the adjustment, each an IEEE 754 binary32.
    public static let encodedSize = (dimensions + 3) * 4
    /// The largest round trip a sample or an estimate may stand for: anything longer is
    /// not a network delay (a stalled peer, a clock jump, a lie) and is refused.
    public static let maximumRoundTrip = 10.0
    /// The farthest a coordinate's Euclidean part may lie from the origin, and the
    /// tallest height; coordinates beyond are refused on receipt.
    public static let maximumMagnitude = 10.0
    /// The largest adjustment a coordinate may carry, either way.
    public static let maximumAdjustment = 1.0
    /// The error estimate a new coordinate starts with, and the most any may carry.
    public static let maximumError = 1.5
    /// The smallest height, 2⁻¹⁷ s (about 7.6 µs), so that two coordinates never quite
    /// coincide; a power of two, so that it survives the wire's binary32 exactly.
    public static let minimumHeight = 1.0 / 131_072
    /// The smallest error a coordinate keeps, 2⁻²⁰: a perfect fit does not drive it to
    /// zero, which the wire refuses.
    public static let minimumError = 1.0 / 1_048_576

    // MARK: Implementation choices

    /// Vivaldi's c_e: how fast the error estimate follows new samples.
    static let errorGain = 0.25
    /// Vivaldi's c_c: the largest fraction of a sample's error one update moves by.
    static let moveGain = 0.25
    /// Euclidean parts closer than this (1 ns) coincide: a move between them takes a
    /// direction of its own and leaves the heights. Peers that share a site come close
    /// to coinciding, and their heights must still move (to stand for the site's own
    /// delay), so this is far below any real distance.
    static let coincidence = 1e-9
    /// Samples of (measured − estimated) the adjustment term averages.
    static let adjustmentWindow = 20
    /// Gravity's ρ, in seconds: a coordinate `d` from the origin is pulled back by
    /// `(d / ρ)²` per update, a few nanoseconds at Internet distances, yet enough over
    /// time that the whole system cannot drift away.
    static let gravityRho = 150.0
    /// Samples per peer whose median stands for its round trip (a moving median
    /// filter drops a lone outlier: a retransmission, a GC pause).
    static let latencyFilterSize = 3
    /// Peers whose coordinates and round trips are kept at most; a peer beyond is not
    /// remembered (it still moves this peer's own coordinate).
    public static let maximumPeers = 65_536
    /// How long a measured round trip stays the estimate of its peer; after that the
    /// peer's coordinate is used instead.
    public static let measuredLifetime = Duration.seconds(120)
}
