import Testing

@testable import Starling

/// The latency plot of `starling mcast listen --plot`: what the SVG holds, the bounded
/// series, and the round axis ticks.
@Suite struct McastProbeLatencyPlotTests {
    static func series(_ label: String, _ points: [(Double, Double)]) -> ProbeLatencyPlot.Series {
        var series = ProbeLatencyPlot.Series(label: label)
        for (seconds, milliseconds) in points {
            series.add(ProbeLatencyPlot.Point(seconds: seconds, milliseconds: milliseconds))
        }
        return series
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    @Test func probeLatencyPlot_svg_drawsOnePolylinePerSenderWithPoints() {
        let plot = ProbeLatencyPlot(series: [
            Self.series("aaaa", [(0, 0.2), (0.5, 0.3), (1, 0.25)]),
            Self.series("bbbb", [(0.1, 1.5), (0.9, 2.5)]),
            Self.series("silent", []),
        ])
        let svg = plot.svg()
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(Self.count("<polyline", in: svg) == 2)
        #expect(svg.contains("<title>aaaa</title>"))
        #expect(svg.contains("3 senders"))
        #expect(svg.contains("latency (ms)"))
        #expect(!svg.contains("no probes received"))
        // The first point of "aaaa" sits at the origin of the frame: x 72, y at 0 ms.
        #expect(svg.contains("points=\"72.0,"))
        #expect(plot.svg() == svg, "the same plot gives the same document")
    }

    @Test func probeLatencyPlot_svg_withoutPoints_stillDrawsAxesAndSaysSo() {
        let svg = ProbeLatencyPlot(series: []).svg(width: 10, height: 10)
        #expect(svg.contains("width=\"\(ProbeLatencyPlot.minimumImageSize)\""))
        #expect(svg.contains("no probes received"))
        #expect(Self.count("<polyline", in: svg) == 0)
        #expect(Self.count("<line", in: svg) >= 2)
    }

    @Test func probeLatencyPlot_svg_escapesLabels() {
        let svg = ProbeLatencyPlot(series: [Self.series("<a&b>", [(0, 1)])]).svg()
        #expect(svg.contains("&lt;a&amp;b&gt;"))
        #expect(!svg.contains("<a&b>"))
    }

    @Test func probeLatencyPlotSeries_add_staysBoundedAndEvenlyThinned() {
        let maximum = ProbeLatencyPlot.Series.maximumPoints
        var series = ProbeLatencyPlot.Series(label: "x")
        for index in 0..<(maximum * 5) {
            series.add(ProbeLatencyPlot.Point(seconds: Double(index), milliseconds: 1))
        }
        #expect(series.points.count <= maximum)
        #expect(series.points.count >= maximum / 2)
        #expect(series.stride == 8)
        let gaps = Set(zip(series.points, series.points.dropFirst()).map { $1.seconds - $0.seconds })
        #expect(gaps == [Double(series.stride)])
        #expect(series.points.first?.seconds == 0)
    }

    @Test(arguments: [
        (0.3, 0.5), (1.0, 1.0), (1.1, 2.0), (2.0, 2.0), (2.1, 5.0), (7.0, 10.0), (0.012, 0.02), (450.0, 500.0),
    ])
    func plotAxis_niceStep_isOneTwoOrFiveTimesAPowerOfTen(_ rough: Double, _ expected: Double) {
        #expect(abs(PlotAxis.niceStep(rough) - expected) < 1e-12)
    }

    @Test func plotAxis_init_widensToRoundTicks() {
        let axis = PlotAxis(lower: 0, upper: 3.4)
        #expect(axis.step == 1)
        #expect(axis.ticks == [0, 1, 2, 3, 4])
        #expect(axis.label(2) == "2")
        let fine = PlotAxis(lower: 0, upper: 0.042)
        #expect(abs(fine.step - 0.01) < 1e-12)
        #expect(fine.label(0.03) == "0.03")
        let empty = PlotAxis(lower: 5, upper: 5)
        #expect(empty.upper > empty.lower)
    }
}
