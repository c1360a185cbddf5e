/// A point in Vivaldi's coordinate space: the round trip between two peers is
/// estimated from their coordinates alone, without measuring it.
///
/// A coordinate is a Euclidean part (``CoordinateConstants/dimensions`` components)
/// plus a height, the delay of a peer's own access link, which every path to it pays.
/// The estimated round trip between `a` and `b` is `‖a.vector − b.vector‖ + a.height +
/// b.height`, plus both ``adjustment``s when that sum is positive. ``error`` is the
/// peer's own estimate of its relative error, which weights how much it trusts others
/// and they it. All values are seconds.
///
/// ### Wire format (``CoordinateConstants/encodedSize`` = 44 bytes)
/// ```
/// 8 × component f32 | height f32 | error f32 | adjustment f32
/// ```
/// IEEE 754 binary32, big-endian. A coordinate is refused (``WireError/invalidValue(offset:field:)``)
/// unless every value is finite, the Euclidean part lies within
/// ``CoordinateConstants/maximumMagnitude`` of the origin, the height is between
/// ``CoordinateConstants/minimumHeight`` and that magnitude, the error is positive and
/// at most ``CoordinateConstants/maximumError``, and the adjustment at most
/// ``CoordinateConstants/maximumAdjustment`` either way.
public struct NetworkCoordinate: Equatable, Sendable {
    /// The Euclidean part.
    public var vector: SIMD8<Double>
    /// The access-link delay.
    public var height: Double
    /// The relative error this peer believes its coordinate has.
    public var error: Double
    /// The mean of the (measured − estimated) round trips this peer saw lately, halved.
    public var adjustment: Double

    /// The coordinate of a peer that has measured nothing: the origin, at the least
    /// height, with the greatest error.
    public static let origin = NetworkCoordinate(
        vector: .zero, height: CoordinateConstants.minimumHeight, error: CoordinateConstants.maximumError,
        adjustment: 0)

    /// A coordinate from its parts.
    public init(vector: SIMD8<Double>, height: Double, error: Double, adjustment: Double) {
        self.vector = vector
        self.height = height
        self.error = error
        self.adjustment = adjustment
    }

    /// The estimated round trip to `other`, in seconds, without the adjustments.
    public func rawDistance(to other: NetworkCoordinate) -> Double {
        let difference = vector - other.vector
        return (difference * difference).sum().squareRoot() + height + other.height
    }

    /// The estimated round trip to `other`, in seconds: the raw distance plus both
    /// adjustments, unless that would not be positive.
    public func distance(to other: NetworkCoordinate) -> Double {
        let raw = rawDistance(to: other)
        let adjusted = raw + adjustment + other.adjustment
        return adjusted > 0 ? adjusted : raw
    }

    /// Whether every value is finite and within the bounds the wire format allows.
    public var isValid: Bool {
        let magnitude = (vector * vector).sum().squareRoot()
        return magnitude.isFinite && magnitude <= CoordinateConstants.maximumMagnitude
            && height.isFinite && height >= CoordinateConstants.minimumHeight
            && height <= CoordinateConstants.maximumMagnitude
            && error.isFinite && error > 0 && error <= CoordinateConstants.maximumError
            && adjustment.isFinite && abs(adjustment) <= CoordinateConstants.maximumAdjustment
    }

    /// Appends the 44-byte wire form.
    public func encode(into writer: inout ByteWriter) {
        for index in 0..<CoordinateConstants.dimensions { writer.write(Float(vector[index]).bitPattern) }
        writer.write(Float(height).bitPattern)
        writer.write(Float(error).bitPattern)
        writer.write(Float(adjustment).bitPattern)
    }

    /// Reads a coordinate and checks it (see the type's wire format).
    /// - Throws: ``WireError/truncated(offset:needed:)`` or
    ///   ``WireError/invalidValue(offset:field:)``.
    public static func decode(from reader: inout ByteReader) throws(WireError) -> NetworkCoordinate {
        let start = reader.offset
        var vector = SIMD8<Double>.zero
        for index in 0..<CoordinateConstants.dimensions {
            vector[index] = Double(Float(bitPattern: try reader.readUInt32()))
        }
        let height = Double(Float(bitPattern: try reader.readUInt32()))
        let error = Double(Float(bitPattern: try reader.readUInt32()))
        let adjustment = Double(Float(bitPattern: try reader.readUInt32()))
        let coordinate = NetworkCoordinate(vector: vector, height: height, error: error, adjustment: adjustment)
        guard coordinate.isValid else { throw .invalidValue(offset: start, field: "network coordinate") }
        return coordinate
    }
}
