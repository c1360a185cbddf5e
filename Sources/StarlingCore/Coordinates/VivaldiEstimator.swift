/// One peer's own coordinate, moved by each round trip it measures to a peer whose
/// coordinate it knows (Vivaldi with height vectors, an adjustment term and gravity).
///
/// ### The update, for a sample `rtt` to a peer at `remote`
/// - `w = error / (error + remote.error)`: a peer sure of itself moves less, and one
///   unsure of the other believes it less.
/// - The error follows the sample's relative error `|dist − rtt| / rtt`, at gain
///   `c_e·w`, bounded by ``CoordinateConstants/minimumError`` and
///   ``CoordinateConstants/maximumError``.
/// - The Euclidean part moves by `step = c_c·w·(rtt − dist)` along the unit vector from
///   `remote` to this peer (too far apart pulls closer, too close pushes apart), and the
///   height by `step·(height + remote.height) / ‖x − remote.x‖`, as Serf moves it. The
///   step is at most `rtt` long, whatever the remote coordinate claims, so one lying
///   peer shifts this peer by no more than the round trip it really has to it, per
///   sample. `dist` includes both adjustments.
/// - The adjustment is half the mean of the last
///   ``CoordinateConstants/adjustmentWindow`` values of `rtt − dist` after the move:
///   what the Euclidean model cannot express (a triangle inequality the network breaks).
/// - Gravity pulls the Euclidean part back towards the origin by `(‖x‖ / ρ)²`, so
///   coordinates do not drift as a whole.
///
/// Samples and coordinates that could not be real are refused before any of this:
/// a round trip that is not positive or longer than
/// ``CoordinateConstants/maximumRoundTrip``, and a remote coordinate that is not
/// ``NetworkCoordinate/isValid``. If rounding ever made the coordinate invalid anyway,
/// it starts again from the origin.
public struct VivaldiEstimator: Sendable {
    /// This peer's coordinate.
    public private(set) var coordinate = NetworkCoordinate.origin
    /// Samples refused as impossible (see the type).
    public private(set) var refusedSamples = 0
    /// Times the coordinate was found invalid after an update and reset.
    public private(set) var resets = 0
    private var adjustmentSamples = [Double](repeating: 0, count: CoordinateConstants.adjustmentWindow)
    private var adjustmentIndex = 0

    /// An estimator at the origin.
    public init() {}

    /// Moves the coordinate by one sample.
    /// - Parameters:
    ///   - rtt: the measured round trip, in seconds (already filtered, if at all).
    ///   - remote: the coordinate the other peer reported.
    ///   - apart: the direction to move in when the two coordinates coincide (two
    ///     fresh peers at the origin); any that is not zero, best one that differs
    ///     from peer to peer (``PeerDistances`` derives it from the remote peer's ID).
    /// - Returns: whether the sample was used (false if refused).
    @discardableResult
    public mutating func update(rtt: Double, remote: NetworkCoordinate, apart: SIMD8<Double>) -> Bool {
        guard rtt > 0, rtt <= CoordinateConstants.maximumRoundTrip, remote.isValid else {
            refusedSamples += 1
            return false
        }
        var next = coordinate
        let distance = next.distance(to: remote)
        let weight = next.error / (next.error + remote.error)
        let sampleError = abs(distance - rtt) / rtt
        let errorGain = CoordinateConstants.errorGain * weight
        next.error = min(
            CoordinateConstants.maximumError,
            max(CoordinateConstants.minimumError, sampleError * errorGain + next.error * (1 - errorGain)))

        var step = CoordinateConstants.moveGain * weight * (rtt - distance)
        step = min(rtt, max(-rtt, step))
        next.move(by: step, awayFrom: remote, apart: apart)

        adjustmentSamples[adjustmentIndex] = rtt - next.rawDistance(to: remote)
        adjustmentIndex = (adjustmentIndex + 1) % adjustmentSamples.count
        let adjustment = adjustmentSamples.reduce(0, +) / Double(2 * adjustmentSamples.count)
        next.adjustment = min(
            CoordinateConstants.maximumAdjustment, max(-CoordinateConstants.maximumAdjustment, adjustment))

        next.applyGravity()
        if next.isValid {
            coordinate = next
        } else {
            resets += 1
            coordinate = .origin
            adjustmentSamples = adjustmentSamples.map { _ in 0 }
        }
        return true
    }
}

extension NetworkCoordinate {
    /// Moves the Euclidean part by `step` seconds along the unit vector from `other` to
    /// this coordinate, and the height by `step·(height + other.height)` over the
    /// Euclidean distance, but by no more than `step` (so that a remote coordinate
    /// placed just beside this one cannot fling the height up): a positive step raises
    /// it as it moves the point away. Where
    /// the points coincide (within ``CoordinateConstants/coincidence``), `apart` gives the
    /// direction and the height stays.
    mutating func move(by step: Double, awayFrom other: NetworkCoordinate, apart: SIMD8<Double>) {
        let direction = vector - other.vector
        let length = (direction * direction).sum().squareRoot()
        if length < CoordinateConstants.coincidence {
            let spread = (apart * apart).sum().squareRoot()
            guard spread > 0 else { return }
            vector += apart * (step / spread)
            return
        }
        vector += direction * (step / length)
        let rise = min(abs(step), abs(step) * (height + other.height) / length)
        height = max(CoordinateConstants.minimumHeight, height + (step < 0 ? -rise : rise))
    }

    /// Pulls the Euclidean part towards the origin by `(‖x‖ / ρ)²` seconds (never past
    /// it), and keeps it within the wire's bound.
    mutating func applyGravity() {
        let magnitude = (vector * vector).sum().squareRoot()
        guard magnitude > 0 else { return }
        let pull = min(
            magnitude, (magnitude / CoordinateConstants.gravityRho) * (magnitude / CoordinateConstants.gravityRho))
        let kept = min(magnitude - pull, CoordinateConstants.maximumMagnitude * 0.99)
        vector *= kept / magnitude
        height = min(height, CoordinateConstants.maximumMagnitude * 0.99)
    }
}
