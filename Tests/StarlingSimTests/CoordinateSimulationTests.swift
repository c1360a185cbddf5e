import StarlingCore
import StarlingSim
import Testing

/// Network coordinates on Serf's synthetic topologies, 1,000 cycles each, held to the
/// average accuracy Serf's own tests demand of its implementation (and the random
/// topology to 5 %, where Serf accepts 7.5 %), and to Serf's maximum where it is met.
@Suite struct CoordinateSimulationTests {
    static func converged(_ truth: LatencyMatrix, cycles: Int = 1_000) -> CoordinateSimulation {
        var simulation = CoordinateSimulation(truth: truth, seed: 1)
        simulation.run(cycles: cycles)
        return simulation
    }

    @Test func line_tenPeers10msApart() {
        let accuracy = Self.converged(.line(nodes: 10, spacing: 0.010)).evaluate()
        #expect(accuracy.average <= 0.0031, "\(accuracy)")
    }

    @Test func grid_25Peers10msApart() {
        let accuracy = Self.converged(.grid(nodes: 25, spacing: 0.010)).evaluate()
        #expect(accuracy.average <= 0.0016 && accuracy.maximum <= 0.0230, "\(accuracy)")
    }

    @Test func split_lan1ms_wan10ms() {
        let accuracy = Self.converged(.split(nodes: 25, lan: 0.001, wan: 0.010)).evaluate()
        #expect(accuracy.average <= 0.000060 && accuracy.maximum <= 0.00048, "\(accuracy)")
    }

    @Test func random_25Peers_100ms_plusMinus10ms() {
        let accuracy = Self.converged(.random(nodes: 25, mean: 0.100, deviation: 0.010, seed: 1)).evaluate()
        #expect(accuracy.average <= 0.05 && accuracy.maximum <= 0.33, "\(accuracy)")
    }

    /// A circle with a peer equidistant from all the others (in eight dimensions that
    /// peer fits without height, so only the accuracy is held to Serf's).
    @Test func circle_withARaisedCentre() {
        let accuracy = Self.converged(.circle(nodes: 25, radius: 0.100)).evaluate()
        #expect(accuracy.average <= 0.0028 && accuracy.maximum <= 0.064, "\(accuracy)")
    }
}
