#if canImport(Glibc)
    import Glibc
#endif

/// The true round trips between simulated peers, in seconds: the ground truth that
/// network coordinates estimate, and the delays a simulation may impose.
///
/// The generators are the synthetic topologies Serf measures its coordinates on (a
/// line, a grid, a LAN/WAN split, a circle with a raised centre, random delays), plus
/// a larger ``heterogeneous(nodes:seed:)`` one of regions and access links.
public struct LatencyMatrix: Sendable {
    /// Peers in the matrix.
    public let count: Int
    private var values: [Double]

    /// A matrix of `count` peers with every round trip 0.
    init(count: Int) {
        self.count = count
        values = [Double](repeating: 0, count: count * count)
    }

    /// The round trip between peers `i` and `j`, in seconds.
    public subscript(i: Int, j: Int) -> Double {
        get { values[i * count + j] }
        set {
            values[i * count + j] = newValue
            values[j * count + i] = newValue
        }
    }

    /// A matrix whose round trip between `i` and `j` is `rtt(i, j)` (for `i < j`).
    static func symmetric(nodes: Int, _ rtt: (Int, Int) -> Double) -> LatencyMatrix {
        var matrix = LatencyMatrix(count: nodes)
        for i in 0..<nodes {
            for j in (i + 1)..<max(i + 1, nodes) { matrix[i, j] = rtt(i, j) }
        }
        return matrix
    }

    /// Peers on a straight line, `spacing` seconds apart.
    public static func line(nodes: Int, spacing: Double) -> LatencyMatrix {
        symmetric(nodes: nodes) { i, j in Double(j - i) * spacing }
    }

    /// Peers on a square grid (side √nodes), `spacing` seconds apart.
    public static func grid(nodes: Int, spacing: Double) -> LatencyMatrix {
        let side = Int(Double(nodes).squareRoot())
        return symmetric(nodes: nodes) { i, j in
            let dx = Double(i % side - j % side)
            let dy = Double(i / side - j / side)
            return (dx * dx + dy * dy).squareRoot() * spacing
        }
    }

    /// Two sites: every round trip is `lan`, plus `wan` between the sites (peers up to
    /// `nodes / 2` on one side, the rest on the other).
    public static func split(nodes: Int, lan: Double, wan: Double) -> LatencyMatrix {
        let split = nodes / 2
        return symmetric(nodes: nodes) { i, j in (i <= split) == (j <= split) ? lan : lan + wan }
    }

    /// Peers evenly on a circle of `radius` seconds, except peer 0, which is `2 × radius`
    /// from every other: equidistant like a centre, so its coordinate should rise in
    /// height above the others.
    public static func circle(nodes: Int, radius: Double) -> LatencyMatrix {
        symmetric(nodes: nodes) { i, j in
            guard i != 0 else { return 2 * radius }
            let a = 2 * Double.pi * Double(i) / Double(nodes)
            let b = 2 * Double.pi * Double(j) / Double(nodes)
            let dx = cos(a) - cos(b)
            let dy = sin(a) - sin(b)
            return (dx * dx + dy * dy).squareRoot() * radius
        }
    }

    /// Round trips drawn from a normal distribution of `mean` and `deviation` seconds
    /// (no geometry at all: the hardest case for coordinates).
    public static func random(nodes: Int, mean: Double, deviation: Double, seed: UInt64) -> LatencyMatrix {
        var random = SeededGenerator(seed: seed)
        return symmetric(nodes: nodes) { _, _ in max(1e-4, mean + deviation * random.nextGaussian()) }
    }

    /// A world of `nodes` peers in six regions: each region a centre on a plane about
    /// 150 ms across, its peers spread up to 15 ms around it; each peer an access link of
    /// 0.5–20 ms (paid on every path, as a coordinate's height models); and each path
    /// ±5 % of noise, so that the triangle inequality sometimes fails, as on the Internet.
    public static func heterogeneous(nodes: Int, seed: UInt64) -> LatencyMatrix {
        var random = SeededGenerator(seed: seed)
        let regions = (0..<6).map { _ in
            SIMD2<Double>(Double.random(in: 0...0.150, using: &random), Double.random(in: 0...0.150, using: &random))
        }
        let places = (0..<nodes).map { peer in
            regions[peer % regions.count]
                + SIMD2<Double>(
                    Double.random(in: -0.015...0.015, using: &random), Double.random(in: -0.015...0.015, using: &random)
                )
        }
        let access = (0..<nodes).map { _ in Double.random(in: 0.0005...0.020, using: &random) }
        return symmetric(nodes: nodes) { i, j in
            let d = places[i] - places[j]
            let base = (d * d).sum().squareRoot() + access[i] + access[j]
            return base * Double.random(in: 0.95...1.05, using: &random)
        }
    }
}

extension SeededGenerator {
    /// A standard normal draw (Box–Muller).
    mutating func nextGaussian() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let v = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
