import StarlingTestSupport
import Testing

@testable import StarlingCore

@Suite struct NetworkCoordinateTests {
    static func id(_ index: Int) -> PeerID { MembershipCoreTests.id(index) }

    static let sample = NetworkCoordinate(
        vector: [0.5, -0.25, 0, 0, 0, 0, 0, 0.125], height: 0.001, error: 0.75, adjustment: -0.0625)

    @Test func wire_roundTrips_in44Bytes() throws {
        var writer = ByteWriter()
        Self.sample.encode(into: &writer)
        #expect(writer.bytes.count == CoordinateConstants.encodedSize)
        var reader = ByteReader(writer.bytes[...])
        let decoded = try NetworkCoordinate.decode(from: &reader)
        #expect(abs(decoded.height - 0.001) < 1e-9)
        #expect(decoded.vector == Self.sample.vector && decoded.error == 0.75 && decoded.adjustment == -0.0625)
    }

    @Test(arguments: [
        NetworkCoordinate(vector: [.nan, 0, 0, 0, 0, 0, 0, 0], height: 0.001, error: 1, adjustment: 0),
        NetworkCoordinate(vector: [.infinity, 0, 0, 0, 0, 0, 0, 0], height: 0.001, error: 1, adjustment: 0),
        NetworkCoordinate(vector: [11, 0, 0, 0, 0, 0, 0, 0], height: 0.001, error: 1, adjustment: 0),
        NetworkCoordinate(vector: .zero, height: 0, error: 1, adjustment: 0),
        NetworkCoordinate(vector: .zero, height: 11, error: 1, adjustment: 0),
        NetworkCoordinate(vector: .zero, height: 0.001, error: 0, adjustment: 0),
        NetworkCoordinate(vector: .zero, height: 0.001, error: 2, adjustment: 0),
        NetworkCoordinate(vector: .zero, height: 0.001, error: 1, adjustment: -2),
    ])
    func wire_refusesImpossibleCoordinates(coordinate: NetworkCoordinate) {
        var writer = ByteWriter()
        coordinate.encode(into: &writer)
        var reader = ByteReader(writer.bytes[...])
        #expect(throws: WireError.invalidValue(offset: 0, field: "network coordinate")) {
            try NetworkCoordinate.decode(from: &reader)
        }
    }

    @Test func distance_addsHeights_andAdjustmentsOnlyWhenPositive() {
        var a = NetworkCoordinate(vector: [0.003, 0, 0, 0, 0, 0, 0, 0], height: 0.001, error: 1, adjustment: 0)
        var b = NetworkCoordinate(vector: [0, 0.004, 0, 0, 0, 0, 0, 0], height: 0.002, error: 1, adjustment: 0)
        #expect(abs(a.distance(to: b) - 0.008) < 1e-12)
        a.adjustment = 0.001
        #expect(abs(a.distance(to: b) - 0.009) < 1e-12)
        b.adjustment = -0.02
        #expect(abs(a.distance(to: b) - 0.008) < 1e-12)
    }

    @Test func latencyFilter_takesTheMedianOfThree() {
        var filter = LatencyFilter()
        #expect(filter.add(0.010) == 0.010)
        #expect(filter.add(0.024) == 0.010)
        #expect(filter.add(0.012) == 0.012)
        #expect(filter.add(0.500) == 0.024)
        #expect(filter.add(0.011) == 0.012)
    }

    @Test func estimator_refusesImpossibleRoundTrips_andMovesOnRealOnes() {
        var estimator = VivaldiEstimator()
        let remote = NetworkCoordinate(vector: [0.01, 0, 0, 0, 0, 0, 0, 0], height: 0.001, error: 0.2, adjustment: 0)
        for rtt in [0, -0.001, 10.5, .nan, .infinity] {
            let used = estimator.update(rtt: rtt, remote: remote, apart: .one)
            #expect(!used)
        }
        #expect(estimator.refusedSamples == 5 && estimator.coordinate == .origin)
        let used = estimator.update(rtt: 0.050, remote: remote, apart: .one)
        #expect(used)
        #expect(estimator.coordinate != .origin && estimator.coordinate.isValid)
    }

    /// A peer that reports a coordinate at the far edge of the space with a tiny error
    /// (so that it is believed) moves this peer by no more than the round trip it really
    /// has, per sample, and the coordinate stays valid.
    @Test func estimator_boundsWhatALyingPeerCanDo() {
        var estimator = VivaldiEstimator()
        let liar = NetworkCoordinate(vector: [9.9, 0, 0, 0, 0, 0, 0, 0], height: 9.9, error: 1e-6, adjustment: 1)
        let rtt = 0.020
        for _ in 0..<100 {
            let before = estimator.coordinate
            estimator.update(rtt: rtt, remote: liar, apart: .one)
            let after = estimator.coordinate
            let moved = ((after.vector - before.vector) * (after.vector - before.vector)).sum().squareRoot()
            #expect(moved <= rtt * (1 + 1e-9))
            #expect(abs(after.height - before.height) <= rtt * (1 + 1e-9))
            #expect(after.isValid)
        }
    }

    @Test func peerDistances_measuredFirst_thenCoordinates_andForgets() {
        var distances = PeerDistances()
        let remote = NetworkCoordinate(vector: [0.02, 0, 0, 0, 0, 0, 0, 0], height: 0.001, error: 0.5, adjustment: 0)
        distances.observe(rtt: .milliseconds(30), of: Self.id(1), coordinate: remote, now: .zero)
        #expect(
            distances.estimate(to: Self.id(1), now: .zero)
                == DistanceEstimate(roundTrip: .milliseconds(30), basis: .measured))
        let later = Instant.zero + CoordinateConstants.measuredLifetime
        #expect(distances.estimate(to: Self.id(1), now: later)?.basis == .coordinates)
        #expect(distances.estimate(to: Self.id(2), now: .zero) == nil)
        distances.observe(rtt: .seconds(11), of: Self.id(2), coordinate: remote, now: .zero)
        #expect(distances.refusedSamples == 1 && distances.count == 1)
        distances.forget(Self.id(1))
        #expect(distances.count == 0 && distances.coordinate(of: Self.id(1)) == nil)
    }

    @Test func peerDistances_ranksNearestFirst_unknownLast() {
        var distances = PeerDistances()
        distances.observe(rtt: .milliseconds(40), of: Self.id(1), coordinate: nil, now: .zero)
        distances.observe(rtt: .milliseconds(10), of: Self.id(2), coordinate: nil, now: .zero)
        distances.observe(rtt: .milliseconds(25), of: Self.id(3), coordinate: nil, now: .zero)
        let ranked = distances.ranked([Self.id(4), Self.id(1), Self.id(2), Self.id(3)], now: .zero)
        #expect(ranked.map(\.id) == [Self.id(2), Self.id(3), Self.id(1), Self.id(4)])
        #expect(ranked.last?.estimate == nil)
    }
}
